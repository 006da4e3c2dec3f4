import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { Member } from '../members/member.entity';

export enum LedgerReason {
  /** Points for an order, pending until the return window closes. */
  ORDER_EARN = 'ORDER_EARN',
  /** Pending points becoming available. */
  RELEASE = 'RELEASE',
  RETURN_CLAWBACK = 'RETURN_CLAWBACK',
  REDEMPTION = 'REDEMPTION',
  REDEMPTION_CANCEL = 'REDEMPTION_CANCEL',
  EXPIRY = 'EXPIRY',
  ADJUSTMENT = 'ADJUSTMENT',
  MERGE_OUT = 'MERGE_OUT',
  MERGE_IN = 'MERGE_IN',
  /** A referral bonus, to the referrer or the referred member, pending like order points. */
  REFERRAL = 'REFERRAL',
  /** A referral bonus taken back: the qualifying order was returned within the return window. */
  REFERRAL_REVERSAL = 'REFERRAL_REVERSAL',
  /** Points for a member's non-purchase activity (a review, a store visit), credited by a plugin through the earning pipeline. */
  ACTIVITY = 'ACTIVITY',
  /** A bonus the member earned outside an order's own points: a goal reached (a plugin's challenge, say). */
  BONUS = 'BONUS',
  /**
   * What an erased member's account still held (available and pending, or a debt), written off when the erasure closed
   * it; or a later credit to the closed account (a voucher cancelled after the erasure), forfeited at once.
   */
  ERASURE_FORFEIT = 'ERASURE_FORFEIT',
}
registerEnumType(LedgerReason, { name: 'LedgerReason' });

/**
 * One change to a member's points. Rows are never updated or deleted (a database trigger refuses it);
 * a correction is a new row. Balances are the sums of `pendingDelta` and `availableDelta`.
 *
 * Deltas are bigint (JS numbers, within ±MAX_MEMBER_POINTS; Float in GraphQL, whole numbers): a merge moves a whole
 * balance in one row.
 */
@ObjectType()
@Entity({ tableName: 'ledger_entry' })
@Index({ properties: ['member', 'createdAt'] })
@Index({ properties: ['sourceType', 'sourceId'] })
export class LedgerEntry {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne('Member', { ref: true })
  member: Ref<Member>;

  @Field(() => LedgerReason)
  @Enum({ items: () => LedgerReason })
  reason: LedgerReason;

  @Field(() => Float)
  @Property({ type: new BigIntType('number') })
  pendingDelta: number;

  @Field(() => Float)
  @Property({ type: new BigIntType('number') })
  availableDelta: number;

  @Field(() => Float, { description: 'Change to lifetime points (earned net of returns), so that total is provable too.' })
  @Property({ type: new BigIntType('number'), default: 0 })
  lifetimeDelta: Opt<number> = 0;

  @Field(() => String, { description: 'What caused it: order, return, redemption, lot, adjustment, merge, erasure.' })
  @Property({ type: 'string', length: 32 })
  sourceType: string;

  @Field(() => ID)
  @Property({ type: 'uuid' })
  sourceId: string;

  /** Makes each cause write its row once, even when a job or request is retried. */
  @Property({ type: 'string', length: 120, unique: true })
  idempotencyKey: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  note: string | null = null;

  @Field(() => String)
  @Property({ type: 'string', length: 80 })
  actor: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}
