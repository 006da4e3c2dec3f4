import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';

export enum TierMetric {
  /** Points earned from orders (net of returns) in the window. */
  POINTS_EARNED = 'POINTS_EARNED',
  /** Money spent (net of returns) in the window, in minor units of the programme currency. */
  SPEND_MINOR = 'SPEND_MINOR',
}
registerEnumType(TierMetric, { name: 'TierMetric' });

/** The programme's knobs. One row (id 1), created by the migration and changed by ADMIN. */
@ObjectType({ description: 'Programme-wide settings.' })
@Entity({ tableName: 'programme_settings' })
export class ProgrammeSettings {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id = 1;

  @Field(() => Int, { description: 'Days earned points stay pending (the return window) before they can be spent.' })
  @Property({ type: 'integer' })
  pendingDays: number;

  @Field(() => Int, { description: 'Months after earning when a lot of points expires.' })
  @Property({ type: 'integer' })
  lotExpiryMonths: number;

  @Field(() => TierMetric)
  @Enum({ items: () => TierMetric })
  tierMetric: TierMetric;

  @Field(() => Int, { description: 'Rolling qualification window for tiers, in days.' })
  @Property({ type: 'integer' })
  tierWindowDays: number;

  @Field(() => Int, { description: 'Days a voucher stays usable after redemption.' })
  @Property({ type: 'integer' })
  voucherValidDays: number;

  @Field(() => Int, { description: 'Money value of one point in minor units of pointValueCurrency (for liability).' })
  @Property({ type: 'integer' })
  pointValueMinor: number;

  @Field(() => String)
  @Property({ type: 'string', length: 3 })
  pointValueCurrency: string;

  @Field(() => Int, { description: 'Points a referrer gets when a member they referred places a first qualifying order.' })
  @Property({ type: 'integer', default: 500 })
  referralReferrerPoints: number;

  @Field(() => Int, { description: 'Points the referred member gets for that order, on top of its own points.' })
  @Property({ type: 'integer', default: 500 })
  referralReferredPoints: number;

  @Field(() => Int, { description: 'Smallest order total (minor units of pointValueCurrency) that qualifies a referral.' })
  @Property({ type: 'integer', default: 2000 })
  referralMinOrderMinor: number;

  @Field(() => String, {
    description: "The programme's IANA time zone (Europe/London): where a member's day and week begin, for daily and weekly caps, streaks and goals.",
  })
  @Property({ type: 'string', length: 64, default: 'UTC' })
  timeZone: string = 'UTC';

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
