import type { Orm } from '../../base/database';
import { ageSeconds, probeQuery, type MetricsRegistry } from '../telemetry/metrics-registry';

/** Pending events are counted up to here: enough to see a backlog grow, without counting all of a large one. */
export const OUTBOX_COUNT_LIMIT = 10_000;

/**
 * The outbox backlog at scrape time: events not yet dispatched to webhooks, and how long the oldest has waited. Both
 * read the partial index of pending events (event_outbox_pending_index), so the cost does not grow with the table.
 */
export function registerOutboxMetrics(metrics: MetricsRegistry, orm: Orm): void {
  const pending = metrics.gauge({
    name: 'loyalty_outbox_pending_events',
    help: `Events in the outbox not yet dispatched to webhooks (counted up to ${OUTBOX_COUNT_LIMIT}).`,
  });
  const oldestAge = metrics.gauge({
    name: 'loyalty_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest event not yet dispatched to webhooks; 0 when none waits.',
  });
  metrics.addProbe({
    name: 'outbox',
    gauges: [pending, oldestAge],
    read: async () => {
      const [row] = await probeQuery(orm.em, (tx) =>
        tx.execute<{ pending: number; oldest: Date | null }[]>(
          `select (select count(*) from (select 1 from event_outbox where dispatched_at is null limit ?) p)::int as pending,
                  (select created_at from event_outbox where dispatched_at is null order by id limit 1) as oldest`,
          [OUTBOX_COUNT_LIMIT],
        ),
      );
      pending.set(row?.pending ?? 0);
      oldestAge.set(ageSeconds(row?.oldest));
    },
  });
}
