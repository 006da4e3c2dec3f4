import type { Orm } from '../../base/database';
import type { Logger } from '../../base/logger';
import { runPeriodically } from '../../base/periodic';
import type { ImportJobs } from './import-jobs';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Deletes uploads older than IMPORT_RETENTION_DAYS at start and then hourly, in this process. Every API process runs
 * it: a delete is the same whoever runs it, and a second one finds nothing.
 */
export function startImportRetention(orm: Orm, imports: ImportJobs, days: number, log: Logger): { close(): Promise<void> } {
  return runPeriodically(
    SWEEP_EVERY_MS,
    () =>
      imports
        .sweep(orm.em.fork(), days)
        .then((deleted) => {
          if (deleted) log.info({ deleted, days }, 'import.retention_swept');
        })
        .catch((err: unknown) => log.error({ err }, 'import.retention_failed')),
    { immediately: true },
  );
}
