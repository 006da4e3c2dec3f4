import path from 'node:path';
import { repoRoot, type Config } from '../base/config';
import type { Logger } from '../base/logger';
import type { Orm } from '../base/database';
import type { Services } from './services';
import { MetricsRegistry } from '../modules/telemetry/metrics-registry';
import { registerDatabasePoolMetrics } from '../modules/telemetry/database.metrics';
import { registerQueueMetrics } from '../modules/queues/queue.metrics';
import { registerOutboxMetrics } from '../modules/events/outbox.metrics';
import { registerImportMetrics } from '../modules/import/import.metrics';
import { WebhookMetrics } from '../modules/webhooks/webhook.metrics';
import { PointsJobsMetrics } from '../modules/jobs/points-jobs.metrics';
import { GraphqlRequestMetrics, knownOperationNames } from '../graphql/request-metrics';
import { MemberLockHoldTimer } from '../modules/ledger/member-lock';

/** Member lock hold times run from under a millisecond (one write) to a second (a merge under load). */
export const MEMBER_LOCK_HOLD_BUCKETS = [0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1];

/** What /metrics shows (docs/operations/metrics.md), with the instruments the API's long-running loops record into. */
export interface Telemetry {
  metrics: MetricsRegistry;
  graphql: GraphqlRequestMetrics;
  /** For the WebhookDispatcher this process runs. */
  webhooks: WebhookMetrics;
  /** For the points scheduler this process runs. */
  pointsJobs: PointsJobsMetrics;
}

export function createTelemetry(deps: { config: Config; orm: Orm; readOrm?: Orm; services: Services; log: Logger; errorCodes?: readonly string[] }): Telemetry {
  const { config, orm, readOrm, services, log } = deps;
  const metrics = new MetricsRegistry(log);
  registerDatabasePoolMetrics(metrics, readOrm ? { primary: orm, read: readOrm } : { primary: orm });
  registerQueueMetrics(metrics, services.queueHealth, orm, services.events.subscribers.length > 0);
  registerOutboxMetrics(metrics, orm);
  registerImportMetrics(metrics, orm);
  const operations = knownOperationNames(path.join(repoRoot, 'schema', 'operations'), config.PERSISTED_OPERATIONS_FILE, (file, err) =>
    log.warn({ file, err: (err as Error).message }, 'metrics.operations_unreadable'),
  );
  const lockHold = metrics.histogram({
    name: 'loyalty_member_lock_hold_seconds',
    help: "How long a transaction held a member's balance lock: from the lock statement's answer to the end of its commit or rollback, by outcome; a redemption written in one statement counts its share of that statement's hold.",
    labelNames: ['outcome'],
    buckets: MEMBER_LOCK_HOLD_BUCKETS,
  });
  orm.em.getEventManager().registerSubscriber(new MemberLockHoldTimer((seconds, outcome) => lockHold.observe({ outcome }, seconds)));
  return {
    metrics,
    graphql: new GraphqlRequestMetrics(metrics, operations, deps.errorCodes),
    webhooks: new WebhookMetrics(metrics, orm),
    pointsJobs: new PointsJobsMetrics(metrics),
  };
}
