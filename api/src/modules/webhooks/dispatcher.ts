import { once } from 'node:events';
import { withTimeout } from '../../base/timeout';
import Queue from 'bull';
import { openQueue } from '@loyalty/jobs';
import type { Config } from '../../base/config';
import { hostProblem, publicOnlyAgent, systemResolve, type ResolveHost } from './address-guard';
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../../base/logger';
import type { Orm } from '../../base/database';
import { newId } from '../../base/ids';
import { DeliveryStatus, type WebhookAttempt } from './webhook.entity';
import { sign } from './signature';
import type { WebhookDeliveryPayload } from './webhook.types';
import type { WebhookMetrics } from './webhook.metrics';
import { MINUTE_MS } from '../../base/time';

export const WEBHOOK_DELIVERY_QUEUE = 'api.webhook-delivery';
const SWEEP_BATCH = 200;
const ENQUEUE_TIMEOUT_MS = 3000;
const ORPHAN_CHECK_EVERY_MS = MINUTE_MS;
/** Older than this and still PENDING without a job: its job was lost with Redis's data. */
const ORPHAN_AFTER_MS = MINUTE_MS;
const MAX_ERROR_LENGTH = 500;

export type DispatcherConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'REDIS_CLUSTER_NODES'
  | 'QUEUE_PREFIX'
  | 'WEBHOOK_SWEEP_MS'
  | 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES'
  | 'WEBHOOK_MAX_ATTEMPTS'
  | 'WEBHOOK_BACKOFF_MS'
  | 'WEBHOOK_TIMEOUT_MS'
  | 'WEBHOOK_DISABLE_AFTER'
  | 'WEBHOOK_CONCURRENCY'
>;

interface DeliveryRow {
  status: DeliveryStatus;
  event_type: string;
  webhook_id: string;
  url: string;
  secret: string;
  is_active: boolean;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const detail = e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return String(detail).slice(0, MAX_ERROR_LENGTH);
}

/**
 * Moves outbox events to webhook deliveries and delivers them. Each sweep claims pending outbox rows with
 * `FOR UPDATE SKIP LOCKED` (several processes never claim one row twice), writes one delivery per subscribed active
 * endpoint, enqueues one Bull job per delivery and marks the rows dispatched, all in one transaction: if Redis cannot
 * take the jobs the transaction rolls back and the rows stay pending for the next sweep. Delivery is at least once;
 * `x-loyalty-delivery` lets a receiver drop a repeat.
 */
export class WebhookDispatcher {
  readonly queue: Queue.Queue<WebhookDeliveryPayload>;
  private timer: NodeJS.Timeout | null = null;
  private orphanTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private readonly log: Logger;
  /** Connects only to public addresses unless private ones are allowed (address-guard.ts); undefined: undici's own. */
  private readonly agent: Dispatcher | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly config: DispatcherConfig,
    log: Logger,
    /** The app's (App.telemetry.webhooks), so /metrics counts this dispatcher's attempts. */
    private readonly metrics?: WebhookMetrics,
    /** How endpoint names are resolved, before a delivery and for its connection: the system's resolver. */
    private readonly resolve: ResolveHost = systemResolve,
  ) {
    this.log = log.child({ queue: WEBHOOK_DELIVERY_QUEUE });
    this.agent = config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES ? undefined : publicOnlyAgent(resolve);
    this.queue = openQueue<WebhookDeliveryPayload>(WEBHOOK_DELIVERY_QUEUE, config);
    this.queue.on('error', (err) => this.log.warn({ err: err.message }, 'queue.error'));
  }

  /** Starts the delivery worker and the periodic outbox sweep. */
  start(): this {
    this.queue
      .process(this.config.WEBHOOK_CONCURRENCY, (job) => this.deliver(job))
      .catch((err: unknown) => this.log.error({ err }, 'webhook_dispatcher.stopped'));
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'webhook.sweep_failed'));
    }, this.config.WEBHOOK_SWEEP_MS);
    this.timer.unref();
    this.orphanTimer = setInterval(() => {
      this.requeueOrphans().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'webhook.requeue_failed'));
    }, ORPHAN_CHECK_EVERY_MS);
    this.orphanTimer.unref();
    this.log.info({ everyMs: this.config.WEBHOOK_SWEEP_MS }, 'webhook_dispatcher.ready');
    return this;
  }

  /** One pass over the outbox; returns how many events it dispatched. Overlapping calls share the pass under way. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepAll().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.orphanTimer) clearInterval(this.orphanTimer);
    await this.sweeping?.catch(() => undefined);
    await withTimeout(this.queue.close(), 5000, 'queue close').catch(() => undefined);
    // When Redis is unreachable close() gives up without them: drop the connections rather than keep reconnecting.
    for (const client of this.queue.clients) client.disconnect();
    await this.agent?.close().catch(() => undefined);
  }

  /** Batch after batch until the outbox is drained, so a burst (the nightly points.expiring) is not paced by the timer. */
  private async sweepAll(): Promise<number> {
    if (!(await this.isQueueReady())) return 0;
    let total = 0;
    for (;;) {
      const n = await this.sweepOnce();
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  /**
   * While Redis is away the sweep leaves the outbox alone, so events stay pending until it returns. (An enqueue cut
   * off mid-sweep times out and rolls back; if Bull later sends it anyway, its jobs name deliveries that were never
   * committed and end as `gone`.)
   */
  private async isQueueReady(): Promise<boolean> {
    const client = this.queue.client;
    if (client.status === 'ready') return true;
    if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') return false;
    return withTimeout(once(client, 'ready'), ENQUEUE_TIMEOUT_MS, 'connect').then(
      () => true,
      () => false,
    );
  }

  private async sweepOnce(): Promise<number> {
    return this.orm.em.fork().transactional(async (tx) => {
      const events = await tx.execute<{ id: string; type: string }[]>(
        'select id, type from event_outbox where dispatched_at is null order by id limit ? for update skip locked',
        [SWEEP_BATCH],
      );
      if (events.length === 0) return 0;
      const hooks = await tx.execute<{ id: string; event_types: string[] }[]>('select id, event_types from webhook where is_active');
      const wanted = events.flatMap((e) =>
        hooks.filter((h) => h.event_types.includes(e.type)).map((h) => ({ id: newId(), webhook_id: h.id, event_id: e.id, event_type: e.type })),
      );
      if (wanted.length) {
        const created = await tx.execute<{ id: string; event_id: string }[]>(
          `insert into webhook_delivery (id, webhook_id, event_id, event_type, status, attempts, attempt_log, created_at)
           select x.id, x.webhook_id, x.event_id, x.event_type, 'PENDING', 0, '[]'::jsonb, now()
           from jsonb_to_recordset(?::jsonb) as x(id uuid, webhook_id uuid, event_id uuid, event_type text)
           on conflict (event_id, webhook_id) do nothing
           returning id, event_id`,
          [JSON.stringify(wanted)],
        );
        const jobs = created.map((d) => ({ data: { v: 1 as const, deliveryId: d.id, eventId: d.event_id }, opts: this.jobOptions(d.id, this.config.WEBHOOK_MAX_ATTEMPTS) }));
        // Still inside the transaction: a failure here rolls the claim back and the events stay pending.
        await withTimeout(this.queue.addBulk(jobs), ENQUEUE_TIMEOUT_MS, 'enqueue');
      }
      await tx.execute('update event_outbox set dispatched_at = now() where id in (?)', [events.map((e) => e.id)]);
      this.log.debug({ events: events.length, deliveries: wanted.length }, 'webhook.swept');
      return events.length;
    });
  }

  private jobOptions(deliveryId: string, attempts: number): Queue.JobOptions {
    return {
      jobId: deliveryId,
      attempts,
      backoff: { type: 'exponential', delay: this.config.WEBHOOK_BACKOFF_MS },
      removeOnComplete: 1000,
      removeOnFail: 1000,
    };
  }

  /**
   * Queues again each delivery still PENDING whose job Redis no longer has (Redis restarted without its data, or
   * failed over to a replica that had not caught up), with the attempts it has left. Never sends twice: a job id
   * Redis still has is not added again, and `deliver` skips a delivery that is no longer PENDING.
   */
  async requeueOrphans(olderThanMs = ORPHAN_AFTER_MS): Promise<number> {
    if (!(await this.isQueueReady())) return 0;
    const pending = await this.orm.em.fork().execute<{ id: string; event_id: string; attempts: number }[]>(
      `select id, event_id, attempts from webhook_delivery
       where status = 'PENDING' and created_at < now() - ? * interval '1 millisecond' order by created_at limit ?`,
      [olderThanMs, SWEEP_BATCH],
    );
    let requeued = 0;
    for (const d of pending) {
      if (await withTimeout(this.queue.getJob(d.id), ENQUEUE_TIMEOUT_MS, 'getJob')) continue;
      const attemptsLeft = Math.max(1, this.config.WEBHOOK_MAX_ATTEMPTS - d.attempts);
      await withTimeout(this.queue.add({ v: 1, deliveryId: d.id, eventId: d.event_id }, this.jobOptions(d.id, attemptsLeft)), ENQUEUE_TIMEOUT_MS, 'enqueue');
      requeued++;
    }
    if (requeued) this.log.warn({ requeued }, 'webhook.orphans_requeued');
    return requeued;
  }

  /** One attempt of one delivery; throwing hands the retry (with backoff) to Bull. */
  private async deliver(job: Queue.Job<WebhookDeliveryPayload>): Promise<string> {
    if (job.data.v !== 1) throw new Error(`unknown ${WEBHOOK_DELIVERY_QUEUE} payload version ${String(job.data.v)}`);
    const { deliveryId, eventId } = job.data;
    const row = await this.orm.em.fork().transactional(async (tx) => {
      // The sweep that enqueued this job holds the event row until it commits or rolls back: wait for it.
      await tx.execute('select 1 from event_outbox where id = ? for share', [eventId]);
      const [found] = await tx.execute<DeliveryRow[]>(
        `select d.status, d.event_type, w.id as webhook_id, w.url, w.secret, w.is_active, e.payload, e.occurred_at
         from webhook_delivery d join webhook w on w.id = d.webhook_id join event_outbox e on e.id = d.event_id
         where d.id = ?`,
        [deliveryId],
      );
      return found ?? null;
    });
    if (!row) return 'gone';
    if (row.status !== DeliveryStatus.PENDING) return 'already-finished';
    if (!row.is_active) {
      await this.orm.em
        .fork()
        .execute(`update webhook_delivery set status = 'SKIPPED', last_error = 'endpoint disabled', finished_at = now() where id = ? and status = 'PENDING'`, [
          deliveryId,
        ]);
      return 'skipped';
    }

    const body = JSON.stringify({ id: eventId, type: row.event_type, occurredAt: new Date(row.occurred_at).toISOString(), data: row.payload });
    const timestamp = Math.floor(Date.now() / 1000);
    const startedAt = new Date();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // Checked again at each delivery (the name may resolve elsewhere now than when it was registered), and by the
      // agent at the connection itself, which uses the answer it checked (DNS rebinding).
      const refused = this.config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES ? null : await hostProblem(row.url, 'strict', this.resolve);
      if (refused) throw new RefusedAddress(refused);
      // Redirects are not followed (undici's request never does): a 3xx is a failed attempt.
      const res = await request(row.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.config.WEBHOOK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'loyalty-webhooks/1',
          'x-loyalty-event': row.event_type,
          'x-loyalty-delivery': deliveryId,
          'x-loyalty-timestamp': String(timestamp),
          'x-loyalty-signature': sign(row.secret, timestamp, body),
        },
        body,
      });
      statusCode = res.statusCode;
      await res.body.dump().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (err) {
      error = describeError(err);
    }
    const attempt: WebhookAttempt = {
      attempt: job.attemptsMade + 1,
      at: startedAt.toISOString(),
      statusCode,
      durationMs: Math.round(performance.now() - started),
      error,
    };
    const isLast = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const status = error === null ? DeliveryStatus.DELIVERED : isLast ? DeliveryStatus.FAILED : DeliveryStatus.PENDING;
    this.metrics?.recordAttempt(error === null ? 'delivered' : isLast ? 'failed' : 'retrying', attempt.durationMs / 1000);
    const disabled = await this.orm.em.fork().transactional(async (tx) => {
      await tx.execute(
        `update webhook_delivery set attempts = attempts + 1, attempt_log = attempt_log || ?::jsonb, last_status_code = ?, last_error = ?,
           status = ?, finished_at = ? where id = ?`,
        [JSON.stringify([attempt]), statusCode, error, status, status === DeliveryStatus.PENDING ? null : new Date(), deliveryId],
      );
      if (status === DeliveryStatus.DELIVERED) {
        await tx.execute('update webhook set consecutive_failures = 0 where id = ? and consecutive_failures <> 0', [row.webhook_id]);
        return null;
      }
      if (status !== DeliveryStatus.FAILED) return null;
      const [w] = await tx.execute<{ consecutive_failures: number; is_active: boolean }[]>(
        'update webhook set consecutive_failures = consecutive_failures + 1 where id = ? returning consecutive_failures, is_active',
        [row.webhook_id],
      );
      if (!w?.is_active || w.consecutive_failures < this.config.WEBHOOK_DISABLE_AFTER) return null;
      const reason = `${w.consecutive_failures} consecutive deliveries failed; last error: ${error}`;
      await tx.execute('update webhook set is_active = false, disabled_at = now(), disabled_reason = ?, updated_at = now() where id = ?', [reason, row.webhook_id]);
      return { consecutiveFailures: w.consecutive_failures, reason };
    });
    if (disabled) this.log.warn({ webhookId: row.webhook_id, ...disabled }, 'webhook.disabled');
    if (error !== null) {
      this.log.info({ webhookId: row.webhook_id, deliveryId, attempt: attempt.attempt, statusCode, error, isLast }, 'webhook.attempt_failed');
      throw new Error(error);
    }
    return 'delivered';
  }
}

/** A delivery not sent: the URL's host is, or now resolves to, an address webhooks may not reach. */
class RefusedAddress extends Error {}
