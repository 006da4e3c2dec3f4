import Queue from 'bull';
import { countWorkers, openQueue, QUEUES } from '@loyalty/jobs';
import type { Config } from '../../base/config';
import { unavailableUnlessRedisAnswers } from '../../base/timeout';
import { POINTS_JOBS_QUEUE } from '../jobs/points-scheduler';
import { WEBHOOK_DELIVERY_QUEUE } from '../webhooks/dispatcher';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxSubscriber } from '../events/subscribers';
import type { OutboxSubscriberHealth, QueueHealth } from './queue-health.types';

/** Every queue the platform uses, with who processes it. */
export const KNOWN_QUEUES: readonly { name: string; description: string }[] = [
  { name: QUEUES.trainRecommender, description: 'Recommender worker: trains the recommender, evaluates it, writes its scores and applies the promotion gate.' },
  { name: QUEUES.trainChurn, description: 'Recommender worker: trains the churn model, evaluates it, writes its scores and applies the promotion gate.' },
  { name: QUEUES.trainValue, description: 'Recommender worker: trains the customer-value model, evaluates it, writes its predicted values and applies the promotion gate.' },
  { name: QUEUES.score, description: "Recommender worker: scores every member's churn risk or predicted value again with a trained version's weights." },
  { name: QUEUES.heartbeat, description: 'Recommender worker: answers liveness probes.' },
  { name: WEBHOOK_DELIVERY_QUEUE, description: 'API: delivers signed webhooks, with retries.' },
  { name: POINTS_JOBS_QUEUE, description: 'API: the scheduled points jobs (release, expiry, tier periods, ledger check).' },
];

const TIMEOUT_MS = 3000;
/** Lag is counted up to here: enough to see a subscriber is far behind, without counting a whole backlog. */
const LAG_COUNT_LIMIT = 10_000;

interface CursorRow {
  last_tx_id: string;
  last_event_id: string;
  attempts: number;
  failing_event_id: string | null;
  last_error: string | null;
  last_error_at: string | Date | null;
  next_attempt_at: string | Date | null;
  updated_at: string | Date;
}

/** Raw rows carry timestamps as the driver gives them. */
const asDate = (value: string | Date | null | undefined): Date | null => (value == null ? null : new Date(value));

/** Job counts and connected workers per queue, read from Redis through Bull; outbox subscribers' cursors, from PostgreSQL. */
export class QueueHealthService {
  private readonly queues = new Map<string, Queue.Queue>();

  constructor(
    private readonly config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX' | 'SUBSCRIBERS_REPORT_AFTER'>,
    private readonly outboxSubscribers: readonly OutboxSubscriber[] = [],
  ) {}

  /** Opened on first use and kept: the models page polls this. */
  private queue(name: string): Queue.Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = openQueue(name, this.config);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async health(): Promise<QueueHealth[]> {
    return unavailableAfterTimeout(() =>
      Promise.all(
        KNOWN_QUEUES.map(async ({ name, description }) => {
          const queue = this.queue(name);
          const [counts, workers] = await Promise.all([queue.getJobCounts(), countWorkers(queue)]);
          const c = counts as Queue.JobCounts & { paused?: number };
          return {
            name,
            description,
            waiting: c.waiting,
            active: c.active,
            completed: c.completed,
            failed: c.failed,
            delayed: c.delayed,
            paused: c.paused ?? 0,
            workers,
            isWorkerAlive: workers > 0,
            checkedAt: new Date(),
          };
        }),
      ),
    );
  }

  /** Each subscriber registered in this process, with its stored cursor; needs no Redis. */
  async subscribers(em: EntityManager): Promise<OutboxSubscriberHealth[]> {
    if (this.outboxSubscribers.length === 0) return [];
    const rows = await em.execute<(CursorRow & { name: string })[]>(
      `select name, last_tx_id::text as last_tx_id, last_event_id, attempts, failing_event_id, last_error, last_error_at, next_attempt_at, updated_at
       from outbox_subscriber_cursor where name in (?)`,
      [this.outboxSubscribers.map((s) => s.name)],
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    return Promise.all(
      this.outboxSubscribers.map(async (s) => {
        const cursor = byName.get(s.name) ?? null;
        return {
          name: s.name,
          eventTypes: s.eventTypes ? [...s.eventTypes] : null,
          lag: cursor ? await this.lag(em, cursor, s.eventTypes ?? null) : null,
          attempts: cursor?.attempts ?? 0,
          isStuck: (cursor?.attempts ?? 0) >= this.config.SUBSCRIBERS_REPORT_AFTER,
          failingEventId: cursor?.failing_event_id ?? null,
          lastError: cursor?.last_error ?? null,
          lastErrorAt: asDate(cursor?.last_error_at),
          nextAttemptAt: asDate(cursor?.next_attempt_at),
          updatedAt: asDate(cursor?.updated_at),
        };
      }),
    );
  }

  private async lag(em: EntityManager, cursor: CursorRow, eventTypes: readonly string[] | null): Promise<number> {
    const types = eventTypes ? JSON.stringify(eventTypes) : null;
    const [row] = await em.execute<{ n: number }[]>(
      `select count(*)::int as n from (
         select 1 from event_outbox where (tx_id, id) > (?::xid8, ?::uuid) and (?::jsonb is null or jsonb_exists(?::jsonb, type)) limit ?
       ) behind`,
      [cursor.last_tx_id, cursor.last_event_id, types, types, LAG_COUNT_LIMIT],
    );
    return row?.n ?? 0;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }
}

/** ioredis retries while Redis is away; the caller gets SERVICE_UNAVAILABLE after a few seconds instead. */
function unavailableAfterTimeout<T>(work: () => Promise<T>): Promise<T> {
  return unavailableUnlessRedisAnswers(work, TIMEOUT_MS, 'The job queues (Redis) are unreachable; try again shortly');
}
