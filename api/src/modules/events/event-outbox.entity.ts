import { Entity, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../../base/ids';

/**
 * A domain event, written in the transaction of its cause (so it exists if and only if the cause committed). The
 * webhook dispatcher turns it into deliveries and sets `dispatchedAt`; rows with none are still to dispatch. Outbox
 * subscribers read it in (txId, id) order from their own cursors (modules/events/subscriber-runner.ts).
 */
@Entity({ tableName: 'event_outbox' })
@Index({ properties: ['memberId'] })
@Index({ name: 'event_outbox_tx_id_id_index', properties: ['txId', 'id'] })
export class EventOutbox {
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Property({ type: 'string', length: 64 })
  type: string;

  @Property({ type: 'uuid', nullable: true })
  memberId: string | null = null;

  @Property({ type: 'json' })
  payload: Record<string, unknown>;

  /** Set for events that must happen once per fact (points.expiring per lot); a second record is ignored. */
  @Property({ type: 'string', length: 200, nullable: true, unique: true })
  dedupeKey: string | null = null;

  @Property({ type: 'datetime' })
  occurredAt: Date;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  dispatchedAt: Date | null = null;

  /** The writing transaction's id (PostgreSQL xid8), set by the database; never written by the API. */
  @Property({ type: 'string', columnType: 'xid8', defaultRaw: 'pg_current_xact_id()', lazy: true })
  txId?: Opt<string>;
}
