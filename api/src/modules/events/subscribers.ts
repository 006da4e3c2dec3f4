import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../base/logger';

/** An outbox event as a subscriber receives it. */
export interface OutboxEvent {
  id: string;
  /** `member.enrolled`, `order.recorded`, … (modules/events/event-types.ts). */
  type: string;
  memberId: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface OutboxSubscriberTools {
  /**
   * The transaction that also moves the subscriber's cursor past this event (in a savepoint of its own): what the
   * handler writes with it commits exactly when the event counts as handled, and is undone if the handler throws.
   */
  em: EntityManager;
  log: Logger;
  /** 1 on the first try of this event, then 2, 3, … while it keeps failing. */
  attempt: number;
}

/**
 * An in-process reader of the event outbox (modules/events/subscriber-runner.ts; docs/guides/extending.md, "Outbox subscribers").
 * At least once: an event whose handler threw is offered again, with back-off, and the ones after it wait. In order:
 * by the transaction that wrote them, then by id. A handler with effects outside the database must tolerate a repeat
 * (use `event.id` as the idempotency key).
 */
export interface OutboxSubscriber {
  /** Unique, e.g. `my-plugin.welcome-email`; names the stored cursor, so renaming one starts it afresh. */
  name: string;
  /** Event types it wants; every type when omitted. Others move the cursor without a call. */
  eventTypes?: readonly string[];
  /**
   * Where a new cursor starts: `now` (the default) skips the events already in the outbox, so a subscriber added to a
   * running programme does not act on years of history; `beginning` reads them all (a projection).
   */
  startAt?: 'now' | 'beginning';
  handle(event: OutboxEvent, tools: OutboxSubscriberTools): Promise<void>;
}

const SUBSCRIBER_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Checks names (unique, lower-case, at most 100 characters) when the list is assembled, at boot. */
export function checkSubscribers(subscribers: readonly OutboxSubscriber[]): readonly OutboxSubscriber[] {
  const seen = new Set<string>();
  for (const s of subscribers) {
    if (!SUBSCRIBER_NAME.test(s.name)) throw new Error(`Outbox subscriber name '${s.name}' must be lower-case letters, digits, '.', '_' and '-' (at most 100)`);
    if (seen.has(s.name)) throw new Error(`Two outbox subscribers are named '${s.name}'`);
    seen.add(s.name);
  }
  return Object.freeze([...subscribers]);
}
