import type { Orm } from '../../base/database';
import { ageSeconds, probeQuery, type MetricsRegistry } from '../telemetry/metrics-registry';

/** At scrape time: how long a queued import has waited for a process that runs imports (IMPORT_RUNNER). */
export function registerImportMetrics(metrics: MetricsRegistry, orm: Orm): void {
  const queuedAge = metrics.gauge({
    name: 'loyalty_import_queued_age_seconds',
    help: 'How long the import queued through a process with IMPORT_RUNNER=false has waited for one that runs imports; 0 when none waits. More than a few seconds means no API process runs imports.',
  });
  metrics.addProbe({
    name: 'imports',
    gauges: [queuedAge],
    read: async () => {
      const [row] = await probeQuery(orm.em, (tx) =>
        tx.execute<{ queued_at: string | null }[]>(`select min((job->>'queuedAt')::timestamptz) as queued_at from import_job where state = 'QUEUED'`),
      );
      queuedAge.set(ageSeconds(row?.queued_at));
    },
  });
}
