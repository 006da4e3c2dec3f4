import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../base/config';
import type { Logger } from '../../base/logger';
import type { Orm } from '../../base/database';
import type { OutboxEvent, OutboxSubscriber } from './subscribers';

export type SubscriberRunnerConfig = Pick<
  Config,
  'SUBSCRIBERS_POLL_MS' | 'SUBSCRIBERS_BATCH_SIZE' | 'SUBSCRIBERS_BACKOFF_MS' | 'SUBSCRIBERS_BACKOFF_MAX_MS' | 'SUBSCRIBERS_REPORT_AFTER'
>;

const NO_EVENT_ID = '00000000-0000-0000-0000-000000000000';
const MAX_ERROR_LENGTH = 500;

/**
 * The horizon: every transaction older than the oldest one still running has committed or rolled back, so no event
 * below it can appear later. Evaluated in the reading statement, so it is that statement's own snapshot.
 */
const SETTLED = 'tx_id < pg_snapshot_xmin(pg_current_snapshot())';

interface CursorRow {
  last_tx_id: string;
  last_event_id: string;
  attempts: number;
  failing_event_id: string | null;
}

interface EventRow {
  id: string;
  tx_id: string;
  type: string;
  member_id: string | null;
  payload: Record<string, unknown> | null;
  occurred_at: Date;
}

function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Runs the outbox subscribers of this process (main.ts starts it next to the webhook dispatcher, on the same kind of
 * polling loop). Each subscriber has a cursor row, `outbox_subscriber_cursor`, holding the (tx_id, id) of the last event
 * it handled. One batch is one transaction: lock the cursor row `FOR UPDATE SKIP LOCKED` (another process running the
 * same subscriber skips it), read the next events in (tx_id, id) order below the settled horizon, call the handler for
 * each in a savepoint, and move the cursor, all committed together.
 *
 * Guarantees (docs/guides/extending.md, "Outbox subscribers"):
 * - No event is skipped. Ids are taken in the API before their transaction commits, so an id-ordered cursor could pass
 *   an event that commits late with a smaller id. The cursor orders by the writer's transaction id instead and reads
 *   only below the oldest transaction still running: nothing can commit behind it. A transaction left open delays every
 *   subscriber (lag grows) and never makes one skip.
 * - At least once, in order: a failing handler is retried from the same event with exponential back-off, for ever;
 *   after SUBSCRIBERS_REPORT_AFTER attempts each failure is logged as an error and queue health shows it. Handler
 *   writes through `tools.em` commit with the cursor, so for them delivery is effectively once.
 * - One process at a time per subscriber; several API processes share the work by subscriber.
 */
export class OutboxSubscriberRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private cursorsReady: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly logs: Map<string, Logger>;

  constructor(
    private readonly orm: Orm,
    private readonly subscribers: readonly OutboxSubscriber[],
    private readonly config: SubscriberRunnerConfig,
    log: Logger,
  ) {
    this.log = log.child({ component: 'outbox-subscribers' });
    this.logs = new Map(subscribers.map((s) => [s.name, this.log.child({ subscriber: s.name })]));
  }

  start(): this {
    if (this.subscribers.length === 0) return this;
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.log.warn({ err: describeError(err) }, 'outbox_subscribers.pass_failed'));
    }, this.config.SUBSCRIBERS_POLL_MS);
    this.timer.unref();
    this.log.info({ subscribers: this.subscribers.map((s) => s.name), everyMs: this.config.SUBSCRIBERS_POLL_MS }, 'outbox_subscribers.ready');
    return this;
  }

  /**
   * One pass: each subscriber (concurrently) handles what is settled, batch after batch, until it is caught up, fails,
   * or is being run by another process. Returns how many events handlers were called for. Overlapping calls share it.
   */
  runOnce(): Promise<number> {
    this.running ??= this.runAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async runAll(): Promise<number> {
    if (this.subscribers.length === 0) return 0;
    await this.ensureCursors();
    const handled = await Promise.all(this.subscribers.map((s) => this.drain(s)));
    return handled.reduce((a, b) => a + b, 0);
  }

  /** A new subscriber's cursor: at the settled end of the outbox (`now`), or before its first event (`beginning`). */
  private ensureCursors(): Promise<void> {
    this.cursorsReady ??= (async () => {
      const em = this.orm.em.fork();
      for (const s of this.subscribers) {
        await em.execute(
          `insert into outbox_subscriber_cursor (name, last_tx_id, last_event_id)
           select ?, coalesce(e.tx_id, '0'), coalesce(e.id, ?)
           from (select 1) as one left join lateral (
             select tx_id, id from event_outbox where ? and ${SETTLED} order by tx_id desc, id desc limit 1
           ) e on true
           on conflict (name) do nothing`,
          [s.name, NO_EVENT_ID, (s.startAt ?? 'now') === 'now'],
        );
      }
    })().catch((err: unknown) => {
      this.cursorsReady = null;
      throw err;
    });
    return this.cursorsReady;
  }

  private async drain(subscriber: OutboxSubscriber): Promise<number> {
    let total = 0;
    for (;;) {
      try {
        const { handled, hasMore } = await this.runBatch(subscriber);
        total += handled;
        if (!hasMore) return total;
      } catch (err) {
        // The batch's transaction itself failed (database away): nothing moved; the next pass tries again.
        this.logs.get(subscriber.name)!.warn({ err: describeError(err) }, 'outbox_subscriber.batch_failed');
        return total;
      }
    }
  }

  private runBatch(subscriber: OutboxSubscriber): Promise<{ handled: number; hasMore: boolean }> {
    const log = this.logs.get(subscriber.name)!;
    const wanted = subscriber.eventTypes ? [...subscriber.eventTypes] : null;
    // Only wanted events' payloads are read; the others just move the cursor.
    const wantedJson = wanted ? JSON.stringify(wanted) : null;
    return this.orm.em.fork().transactional(async (tx) => {
      const [cursor] = await tx.execute<CursorRow[]>(
        `select last_tx_id::text as last_tx_id, last_event_id, attempts, failing_event_id from outbox_subscriber_cursor
         where name = ? and (next_attempt_at is null or next_attempt_at <= now()) for update skip locked`,
        [subscriber.name],
      );
      if (!cursor) return { handled: 0, hasMore: false };
      const events = await tx.execute<EventRow[]>(
        `select id, tx_id::text as tx_id, type, member_id, occurred_at,
           case when ?::jsonb is null or jsonb_exists(?::jsonb, type) then payload end as payload
         from event_outbox where (tx_id, id) > (?::xid8, ?::uuid) and ${SETTLED}
         order by tx_id, id limit ?`,
        [wantedJson, wantedJson, cursor.last_tx_id, cursor.last_event_id, this.config.SUBSCRIBERS_BATCH_SIZE],
      );
      let position = { txId: cursor.last_tx_id, eventId: cursor.last_event_id };
      let handled = 0;
      for (const row of events) {
        if (!wanted || wanted.includes(row.type)) {
          const attempt = (row.id === cursor.failing_event_id ? cursor.attempts : 0) + 1;
          try {
            await tx.transactional((em) => subscriber.handle(toEvent(row), { em: em as EntityManager, log, attempt }));
          } catch (err) {
            await this.recordFailure(tx, subscriber.name, position, row, attempt, err);
            return { handled, hasMore: false };
          }
          handled++;
        }
        position = { txId: row.tx_id, eventId: row.id };
      }
      if (events.length > 0 || cursor.attempts > 0) {
        await tx.execute(
          `update outbox_subscriber_cursor set last_tx_id = ?::xid8, last_event_id = ?, attempts = 0, failing_event_id = null,
             next_attempt_at = null, updated_at = now() where name = ?`,
          [position.txId, position.eventId, subscriber.name],
        );
      }
      return { handled, hasMore: events.length === this.config.SUBSCRIBERS_BATCH_SIZE };
    });
  }

  /** Keeps the events handled before the failing one, and waits before offering it again. */
  private async recordFailure(
    tx: EntityManager,
    name: string,
    position: { txId: string; eventId: string },
    row: EventRow,
    attempt: number,
    err: unknown,
  ): Promise<void> {
    const error = describeError(err);
    const delayMs = Math.min(this.config.SUBSCRIBERS_BACKOFF_MS * 2 ** (attempt - 1), this.config.SUBSCRIBERS_BACKOFF_MAX_MS);
    await tx.execute(
      `update outbox_subscriber_cursor set last_tx_id = ?::xid8, last_event_id = ?, attempts = ?, failing_event_id = ?, last_error = ?,
         last_error_at = now(), next_attempt_at = now() + ? * interval '1 millisecond', updated_at = now() where name = ?`,
      [position.txId, position.eventId, attempt, row.id, error, delayMs, name],
    );
    const fields = { eventId: row.id, eventType: row.type, attempt, retryInMs: delayMs, err: error };
    if (attempt >= this.config.SUBSCRIBERS_REPORT_AFTER) this.logs.get(name)!.error(fields, 'outbox_subscriber.stuck');
    else this.logs.get(name)!.warn(fields, 'outbox_subscriber.failed');
  }
}

function toEvent(row: EventRow): OutboxEvent {
  return { id: row.id, type: row.type, memberId: row.member_id, payload: row.payload ?? {}, occurredAt: new Date(row.occurred_at) };
}
