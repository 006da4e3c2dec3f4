import type { Gauge, Histogram } from 'prom-client';
import { clear, type MetricsRegistry } from '../telemetry/metrics-registry';

/** The scheduled points jobs as this process runs them (Bull hands each firing to one API process). */
export class PointsJobsMetrics {
  private readonly duration: Histogram<'outcome'>;
  private readonly lastSuccess: Gauge;
  private readonly inconsistencies: Gauge;

  constructor(metrics: MetricsRegistry) {
    this.duration = metrics.histogram({
      name: 'loyalty_points_jobs_duration_seconds',
      help: 'One run of the points jobs (release, expiry, voucher expiry, tier periods, then the ledger check), by outcome: ok or failed.',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800],
    });
    this.lastSuccess = metrics.gauge({
      name: 'loyalty_points_jobs_last_success_timestamp_seconds',
      help: 'When this process last finished a run of the points jobs (Unix time); absent until it has.',
    });
    this.inconsistencies = metrics.gauge({
      name: 'loyalty_ledger_check_inconsistencies',
      help: "What this process's last ledger check found wrong: members whose cached balance disagrees with their ledger rows, plus holdings left on merged-away members; 0 when consistent, absent until it has run one.",
    });
    // Absent rather than 0 until this process has run the jobs: most firings go to one API process of several.
    clear(this.lastSuccess);
    clear(this.inconsistencies);
  }

  /** Runs one firing, timing it whatever its outcome. */
  async time<T>(run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      this.duration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.lastSuccess.set(Date.now() / 1000);
      return result;
    } catch (err) {
      this.duration.observe({ outcome: 'failed' }, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /** `problems`: ledgerProblemCount of the check (modules/ledger/points.types.ts). */
  recordLedgerCheck(problems: number): void {
    this.inconsistencies.set(problems);
  }
}
