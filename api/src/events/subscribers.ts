import type { EntityManager } from '@mikro-orm/postgresql';

/** An outbox event as a subscriber receives it. */
export interface OutboxEvent {
  id: string;
  type: string;
  memberId: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * An in-process reader of the event outbox: at least once, in outbox order, from a cursor stored per subscriber,
 * retried on failure. SKELETON: the outbox-subscribers work fleshes this out (see docs/extending.md).
 */
export interface OutboxSubscriber {
  /** Unique; names the stored cursor. */
  name: string;
  /** Event types it wants; all when omitted. */
  eventTypes?: readonly string[];
  handle(event: OutboxEvent, tools: { em: EntityManager }): Promise<void>;
}
