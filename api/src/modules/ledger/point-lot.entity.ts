import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { newId } from '../../base/ids';
import type { Member } from '../members/member.entity';

export enum LotState {
  PENDING = 'PENDING',
  AVAILABLE = 'AVAILABLE',
  /** Fully spent, clawed back or expired. */
  CLOSED = 'CLOSED',
}

/**
 * Points earned together, with one expiry date. Spending takes from the lots that expire first.
 * Unlike ledger rows, `remaining` changes; the ledger is the record, lots are the bookkeeping of what is left.
 */
@Entity({ tableName: 'point_lot' })
@Index({ properties: ['member', 'state', 'expiresAt'] })
@Index({ properties: ['state', 'availableAt'] })
export class PointLot {
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne('Member', { ref: true })
  member: Ref<Member>;

  @Property({ type: 'uuid' })
  ledgerEntryId: string;

  @Property({ type: 'string', length: 32 })
  sourceType: string;

  @Property({ type: 'uuid' })
  sourceId: string;

  /**
   * The order whose crediting earned this lot for the order's member (ORDER_EARN: its own points and bonuses on it); a
   * return of the order claws back from these lots first. Null for every other credit.
   */
  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  @Property({ type: 'integer' })
  points: number;

  @Property({ type: 'integer' })
  remaining: number;

  @Enum({ items: () => LotState })
  state: LotState;

  @Property({ type: 'datetime' })
  earnedAt: Date;

  @Property({ type: 'datetime' })
  availableAt: Date;

  @Property({ type: 'datetime' })
  expiresAt: Date;
}
