import type { Orm } from '../../base/database';
import { probeQuery, type MetricsRegistry } from '../telemetry/metrics-registry';
import type { QueueHealthService } from './queue-health.service';

/** Job states reported per queue; completed is left out (each queue keeps only its latest completed jobs). */
const STATES = ['waiting', 'active', 'delayed', 'failed', 'paused'] as const;

/**
 * At scrape time: job counts and connected workers of every Bull queue (read from Redis), and how far each outbox
 * subscriber registered in this process is behind (read from PostgreSQL), as the queue-health page shows them.
 */
export function registerQueueMetrics(metrics: MetricsRegistry, queueHealth: QueueHealthService, orm: Orm, hasSubscribers: boolean): void {
  const jobs = metrics.gauge({
    name: 'loyalty_queue_jobs',
    help: 'Jobs in a Bull queue by state: waiting, active, delayed (back-off or schedule), failed (after their last attempt; the latest few hundred are kept), paused.',
    labelNames: ['queue', 'state'],
  });
  const workers = metrics.gauge({
    name: 'loyalty_queue_workers',
    help: 'Processes connected to Redis with a handler for the queue.',
    labelNames: ['queue'],
  });
  metrics.addProbe({
    name: 'queues',
    gauges: [jobs, workers],
    read: async () => {
      for (const queue of await queueHealth.health()) {
        for (const state of STATES) jobs.set({ queue: queue.name, state }, queue[state]);
        workers.set({ queue: queue.name }, queue.workers);
      }
    },
  });

  // Most installations register no subscriber: no series, and no transaction per scrape.
  if (!hasSubscribers) return;
  const lag = metrics.gauge({
    name: 'loyalty_outbox_subscriber_lag_events',
    help: 'Events of its types after an outbox subscriber\'s cursor (counted up to 10 000); one series per subscriber registered in this process.',
    labelNames: ['subscriber'],
  });
  const failedAttempts = metrics.gauge({
    name: 'loyalty_outbox_subscriber_failed_attempts',
    help: 'Failed attempts in a row at the event an outbox subscriber is stuck on; 0 when its last attempt succeeded.',
    labelNames: ['subscriber'],
  });
  metrics.addProbe({
    name: 'outbox_subscribers',
    gauges: [lag, failedAttempts],
    read: async () => {
      for (const s of await probeQuery(orm.em, (tx) => queueHealth.subscribers(tx))) {
        lag.set({ subscriber: s.name }, s.lag ?? 0);
        failedAttempts.set({ subscriber: s.name }, s.attempts);
      }
    },
  });
}
