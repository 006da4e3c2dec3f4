import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * Where one outbox subscriber has got to: the last event it handled, as (transaction id, event id), and the failures
 * of the event it is stuck on. Written by modules/events/subscriber-runner.ts with plain SQL; the entity describes the table.
 */
@Entity({ tableName: 'outbox_subscriber_cursor' })
export class OutboxSubscriberCursor {
  @PrimaryKey({ type: 'string', length: 100 })
  name: string;

  @Property({ type: 'string', columnType: 'xid8', defaultRaw: `'0'` })
  lastTxId: Opt<string> = '0';

  @Property({ type: 'uuid', defaultRaw: `'00000000-0000-0000-0000-000000000000'` })
  lastEventId: Opt<string> = '00000000-0000-0000-0000-000000000000';

  /** Failed attempts at the event after the cursor; 0 when the last attempt succeeded. */
  @Property({ type: 'integer', default: 0 })
  attempts: Opt<number> = 0;

  @Property({ type: 'uuid', nullable: true })
  failingEventId: string | null = null;

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  lastErrorAt: Date | null = null;

  /** Back-off: no attempt before this. */
  @Property({ type: 'datetime', nullable: true })
  nextAttemptAt: Date | null = null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();
}
