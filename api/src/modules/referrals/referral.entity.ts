import { Entity, Enum, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { Member } from '../members/member.entity';

export enum ReferralStatus {
  /** Waiting for the referred member's first qualifying order. */
  PENDING = 'PENDING',
  /** Both members were credited for `orderId`. */
  CREDITED = 'CREDITED',
  /** Will never credit; `voidReason` says why. */
  VOID = 'VOID',
}
registerEnumType(ReferralStatus, { name: 'ReferralStatus' });

/** Why a referral was refused, or voided when its order came. */
export enum ReferralRefusal {
  /** The member's own code, or the two records turned out to be one person (merged). */
  SELF_REFERRAL = 'SELF_REFERRAL',
  /** Referrer and referred share an email (compared canonically) or a phone. */
  SAME_IDENTIFIER = 'SAME_IDENTIFIER',
  /** The referrer was referred by this member, directly or down a chain of referrals (merged records are one person). */
  CIRCULAR = 'CIRCULAR',
  /** The referrer was erased. */
  REFERRER_INACTIVE = 'REFERRER_INACTIVE',
  /** The member was referred already. */
  ALREADY_REFERRED = 'ALREADY_REFERRED',
  /** The member has ordered already: a referral must come before the first order. */
  ALREADY_ORDERED = 'ALREADY_ORDERED',
  /** Two referred records were merged; the survivor keeps its own referral. */
  MERGED = 'MERGED',
}
registerEnumType(ReferralRefusal, { name: 'ReferralRefusal' });

@ObjectType({ description: 'A member brought in by another, and the bonus both get for the first qualifying order.' })
@Entity({ tableName: 'referral' })
export class Referral {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne('Member', { ref: true, index: true })
  referrer: Ref<Member>;

  /** Unique: a member is referred once. */
  @ManyToOne('Member', { ref: true, unique: true })
  referred: Ref<Member>;

  @Field(() => String, { description: 'The code that was given.' })
  @Property({ type: 'string', length: 12 })
  code: string;

  @Field(() => ReferralStatus)
  @Enum({ items: () => ReferralStatus })
  status: ReferralStatus;

  @Field(() => ReferralRefusal, { nullable: true })
  @Enum({ items: () => ReferralRefusal, nullable: true })
  voidReason: ReferralRefusal | null = null;

  @Field(() => ID, { nullable: true, description: 'The qualifying order, once credited.' })
  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  referrerPoints: Opt<number> = 0;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  referredPoints: Opt<number> = 0;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  creditedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  voidedAt: Date | null = null;
}
