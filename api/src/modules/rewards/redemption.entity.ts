import { Entity, Enum, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { RedactedUnless } from '../auth/field-permissions';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { Reward } from './reward.entity';

export enum RedemptionStatus {
  ISSUED = 'ISSUED',
  CONSUMED = 'CONSUMED',
  CANCELLED = 'CANCELLED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(RedemptionStatus, { name: 'RedemptionStatus' });

export interface LotAllocation {
  lotId: string;
  points: number;
}

@ObjectType({ description: 'Points spent on a reward, with its voucher.' })
@Entity({ tableName: 'redemption' })
export class Redemption {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => Member, { ref: true, index: true })
  member: Ref<Member>;

  @ManyToOne(() => Reward, { ref: true, index: true })
  reward: Ref<Reward>;

  @Field(() => Int)
  @Property({ type: 'integer' })
  points: number;

  @Field(() => RedemptionStatus)
  @Enum({ items: () => RedemptionStatus })
  status: RedemptionStatus;

  /** A bearer secret: whoever holds it can spend it at a checkout that does not name the member. */
  @RedactedUnless(Permission.REWARDS_REDEEM)
  @Field(() => String, {
    nullable: true,
    description: 'Null for donations, and for callers who may not redeem rewards (only ADMIN, MARKETER and API keys with rewards:redeem read it).',
  })
  @Property({ type: 'string', length: 32, nullable: true, unique: true })
  voucherCode: string | null = null;

  /** What the reward kind's `fulfil` returned (reward-kinds.ts); may be as much a bearer secret as the voucher code. */
  @RedactedUnless(Permission.REWARDS_REDEEM)
  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: "What the reward kind's fulfilment returned (a plugin's kinds); null for the built-in kinds and for callers who may not redeem rewards.",
  })
  @Property({ type: 'json', nullable: true })
  fulfilment: Opt<Record<string, unknown>> | null = null;

  @Field(() => String, {
    nullable: true,
    description: 'Set when the reward was granted rather than bought with points (`points` 0): what earned it, such as `challenge:<id>`.',
  })
  @Property({ type: 'string', length: 120, nullable: true })
  grantedBy: Opt<string> | null = null;

  /** Given by the caller; a retry with the same key returns this redemption. */
  @Property({ type: 'string', length: 120, unique: true })
  idempotencyKey: string;

  /** Which lots paid for it, so a cancellation gives the points back with their own expiry dates. */
  @Property({ type: 'json' })
  lotAllocations: LotAllocation[];

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true, index: true })
  expiresAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  consumedAt: Date | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  consumedOrderRef: string | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  cancelledAt: Date | null = null;
}
