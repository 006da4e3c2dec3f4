import type { Counter, Histogram } from 'prom-client';
import type { Orm } from '../../base/database';
import { ageSeconds, probeQuery, type MetricsRegistry } from '../telemetry/metrics-registry';
import { OUTBOX_COUNT_LIMIT } from '../events/outbox.metrics';

/** How one delivery attempt ended: delivered, failed with retries left, or failed for good (its last attempt). */
export type AttemptOutcome = 'delivered' | 'retrying' | 'failed';

/** Delivery attempts as the dispatcher makes them, and the pending deliveries and disabled endpoints at scrape time. */
export class WebhookMetrics {
  private readonly attempts: Counter<'outcome'>;
  private readonly attemptSeconds: Histogram<'outcome'>;

  constructor(metrics: MetricsRegistry, orm: Orm) {
    this.attempts = metrics.counter({
      name: 'loyalty_webhook_attempts_total',
      help: 'Webhook delivery attempts made by this process, by outcome: delivered, retrying (failed, retries left), failed (last attempt failed).',
      labelNames: ['outcome'],
    });
    this.attemptSeconds = metrics.histogram({
      name: 'loyalty_webhook_attempt_duration_seconds',
      help: 'Time from sending a webhook to its answer (or timeout), by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
    const pending = metrics.gauge({
      name: 'loyalty_webhook_pending_deliveries',
      help: `Webhook deliveries still PENDING, first tries and retries waiting for their backoff (counted up to ${OUTBOX_COUNT_LIMIT}).`,
    });
    const oldestAge = metrics.gauge({
      name: 'loyalty_webhook_oldest_pending_delivery_age_seconds',
      help: 'Age of the oldest PENDING webhook delivery; 0 when none waits.',
    });
    const disabled = metrics.gauge({
      name: 'loyalty_webhook_disabled_endpoints',
      help: 'Disabled webhook endpoints, by who disabled them: failures (the dispatcher, after WEBHOOK_DISABLE_AFTER failed deliveries in a row) or operator.',
      labelNames: ['disabled_by'],
    });
    metrics.addProbe({
      name: 'webhooks',
      gauges: [pending, oldestAge, disabled],
      read: async () => {
        // Both delivery figures read the partial index of PENDING deliveries (webhook_delivery_pending_index).
        const [row] = await probeQuery(orm.em, (tx) =>
          // An operator's disabling is recorded as "disabled by <actor>" (WebhookService.update).
          tx.execute<{ pending: number; oldest: Date | null; by_failures: number; by_operator: number }[]>(
            `select (select count(*) from (select 1 from webhook_delivery where status = 'PENDING' limit ?) p)::int as pending,
                    (select min(created_at) from webhook_delivery where status = 'PENDING') as oldest,
                    (select count(*) from webhook where not is_active and coalesce(disabled_reason, '') not like 'disabled by %')::int as by_failures,
                    (select count(*) from webhook where not is_active and disabled_reason like 'disabled by %')::int as by_operator`,
            [OUTBOX_COUNT_LIMIT],
          ),
        );
        pending.set(row?.pending ?? 0);
        oldestAge.set(ageSeconds(row?.oldest));
        disabled.set({ disabled_by: 'failures' }, row?.by_failures ?? 0);
        disabled.set({ disabled_by: 'operator' }, row?.by_operator ?? 0);
      },
    });
  }

  recordAttempt(outcome: AttemptOutcome, seconds: number): void {
    this.attempts.inc({ outcome });
    this.attemptSeconds.observe({ outcome }, seconds);
  }
}
