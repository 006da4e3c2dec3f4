import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../base/config';
import { newId } from '../../base/ids';
import { EventTypes, type EventPayloads, type EventType, type EventTypeDefinition } from './event-types';
import type { OutboxSubscriber } from './subscribers';

export interface RecordOptions {
  memberId?: string | null;
  occurredAt: Date;
  /** Makes the event happen once per fact: a second record with the same key is ignored. */
  dedupeKey?: string;
}

/** Writes domain events to the outbox; the webhook dispatcher and the outbox subscribers read them. */
export class EventService {
  /** How many days ahead the points jobs announce a lot's expiry (points.expiring). */
  readonly pointsExpiringDays: number;
  /** How many days before a qualification period ends the nightly tier pass warns of a downgrade (tier.at_risk). */
  readonly tierAtRiskDays: number;

  constructor(
    config: Pick<Config, 'EVENTS_POINTS_EXPIRING_DAYS' | 'EVENTS_TIER_AT_RISK_DAYS'>,
    /** The core's event types and the plugins'. */
    readonly types: EventTypes = new EventTypes(),
    /** The in-process readers plugins registered (modules/events/subscriber-runner.ts runs them). */
    readonly subscribers: readonly OutboxSubscriber[] = [],
  ) {
    this.pointsExpiringDays = config.EVENTS_POINTS_EXPIRING_DAYS;
    this.tierAtRiskDays = config.EVENTS_TIER_AT_RISK_DAYS;
  }

  /**
   * Adds the event to the caller's transaction: pass the `em` its cause is written with, so that the event commits
   * and rolls back with it. Never opens a transaction of its own. Returns false when `dedupeKey` was already recorded.
   */
  async record<T extends EventType>(em: EntityManager, type: T, payload: EventPayloads[T], options: RecordOptions): Promise<boolean> {
    return this.insert(em, type, payload, options);
  }

  /**
   * `record` for a plugin's event type (defineEventType): same transaction rules, same dedupe. A type the app did not
   * register is a programming error, thrown before anything is written.
   */
  async recordEvent<P extends object>(em: EntityManager, type: EventTypeDefinition<P>, payload: P, options: RecordOptions): Promise<boolean> {
    if (!this.types.has(type.name)) throw new Error(`event type ${type.name} is not registered: declare it in the plugin's eventTypes`);
    return this.insert(em, type.name, payload, options);
  }

  private async insert(em: EntityManager, type: string, payload: unknown, options: RecordOptions): Promise<boolean> {
    const res = await em.execute(
      `insert into event_outbox (id, type, member_id, payload, dedupe_key, occurred_at, created_at)
       values (?, ?, ?, ?::jsonb, ?, ?, now()) on conflict (dedupe_key) do nothing`,
      [newId(), type, options.memberId ?? null, JSON.stringify(payload), options.dedupeKey ?? null, options.occurredAt],
      'run',
    );
    return (res as { affectedRows?: number }).affectedRows !== 0;
  }

  /**
   * An event to write later with others in one statement (`recordAll`); its id is taken now, so the outbox keeps
   * the order in which the facts happened.
   */
  pending<T extends EventType>(type: T, payload: EventPayloads[T], options: RecordOptions): PendingEvent {
    return { id: newId(), type, payload, options };
  }

  /** `pending` for a plugin's event type (defineEventType); unregistered types throw before anything is written. */
  pendingEvent<P extends object>(type: EventTypeDefinition<P>, payload: P, options: RecordOptions): PendingEvent {
    if (!this.types.has(type.name)) throw new Error(`event type ${type.name} is not registered: declare it in the plugin's eventTypes`);
    return { id: newId(), type: type.name, payload, options };
  }

  /** `record` for several events in one statement, in the caller's transaction. */
  async recordAll(em: EntityManager, events: readonly PendingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await em.execute(RECORD_ALL_SQL, [eventsParam(events)], 'run');
  }

  /**
   * `recordAll` as a data-modifying CTE (`outbox_events as (...)`) for a hot path's one write statement, with its one
   * parameter: the same rows.
   */
  recordAllCte(events: readonly PendingEvent[]): { sql: string; param: string } {
    return { sql: `outbox_events as (${RECORD_ALL_SQL})`, param: eventsParam(events) };
  }
}

const RECORD_ALL_SQL = `insert into event_outbox (id, type, member_id, payload, dedupe_key, occurred_at, created_at)
       select x.id, x.type, x.member_id, x.payload, x.dedupe_key, x.occurred_at, now()
       from jsonb_to_recordset(?::jsonb) as x(id uuid, type text, member_id uuid, payload jsonb, dedupe_key text, occurred_at timestamptz)
       order by x.id
       on conflict (dedupe_key) do nothing`;

/** The outbox rows of pending events, as RECORD_ALL_SQL (and redeem_rewards_locked, a migration's function) read them. */
export const outboxRows = (events: readonly PendingEvent[]) =>
  events.map((e) => ({
    id: e.id,
    type: e.type,
    member_id: e.options.memberId ?? null,
    payload: e.payload,
    dedupe_key: e.options.dedupeKey ?? null,
    occurred_at: e.options.occurredAt.toISOString(),
  }));

const eventsParam = (events: readonly PendingEvent[]) => JSON.stringify(outboxRows(events));

export interface PendingEvent {
  id: string;
  /** A core EventType or a plugin's registered wire name. */
  type: EventType | string;
  payload: unknown;
  options: RecordOptions;
}
