import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsOptional, IsUUID, Matches } from 'class-validator';
import { SalesChannelKind } from '../../base/enums';

/** The classic RFM segments; the R × FM mapping is in docs/concepts/analytics.md and in SQL `analytics_rfm_segment`. */
export enum RfmSegment {
  CHAMPIONS = 'CHAMPIONS',
  LOYAL_CUSTOMERS = 'LOYAL_CUSTOMERS',
  POTENTIAL_LOYALISTS = 'POTENTIAL_LOYALISTS',
  NEW_CUSTOMERS = 'NEW_CUSTOMERS',
  PROMISING = 'PROMISING',
  NEED_ATTENTION = 'NEED_ATTENTION',
  ABOUT_TO_SLEEP = 'ABOUT_TO_SLEEP',
  AT_RISK = 'AT_RISK',
  CANT_LOSE_THEM = 'CANT_LOSE_THEM',
  HIBERNATING = 'HIBERNATING',
  LOST = 'LOST',
}
registerEnumType(RfmSegment, { name: 'RfmSegment', description: 'Named RFM segment (R × FM grid, see docs/concepts/analytics.md).' });

@InputType({ description: 'A half-open date range [from, to), optionally narrowed to one channel and/or one member country.' })
export class AnalyticsFilterInput {
  @Field(() => DateTimeISOResolver)
  from: Date;

  @Field(() => DateTimeISOResolver, { description: 'Exclusive; must be after `from`.' })
  to: Date;

  @Field(() => SalesChannelKind, { nullable: true, description: 'Orders of channels of this kind; new members enrolled through it.' })
  @IsOptional()
  channelKind?: SalesChannelKind | null;

  @Field(() => ID, { nullable: true, description: 'Orders of this one sales channel.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  channelId?: string | null;

  @Field(() => String, { nullable: true, description: "Members whose country (ISO 3166-1 alpha-2) is this." })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'must be an ISO 3166-1 alpha-2 code such as GB' })
  country?: string | null;
}

@ObjectType({ description: 'Order figures of one slice (a channel or a country) of the range.' })
export class KpiBreakdownRow {
  @Field(() => String, { nullable: true, description: 'Channel id, or country code (null: members without a country).' })
  key: string | null;

  @Field(() => String, { description: 'Channel name, or country code ("unknown" when none).' })
  label: string;

  @Field(() => SalesChannelKind, { nullable: true })
  channelKind: SalesChannelKind | null;

  @Field(() => Int)
  activeMembers: number;

  @Field(() => Int)
  orders: number;

  @Field(() => Float, { description: 'Orders placed in range, minus what was returned of them (minor units).' })
  netRevenueMinor: number;

  @Field(() => Float, { nullable: true, description: 'netRevenueMinor / orders, 2 decimals.' })
  averageOrderValueMinor: number | null;

  @Field(() => Float, { nullable: true, description: 'Share of active members with ≥ 2 orders, 4 decimals.' })
  repeatPurchaseRate: number | null;
}

@ObjectType({ description: 'Programme KPIs over [from, to). Every definition is in docs/concepts/analytics.md.' })
export class AnalyticsKpis {
  @Field(() => DateTimeISOResolver)
  from: Date;

  @Field(() => DateTimeISOResolver)
  to: Date;

  @Field(() => String, { description: 'Currency of the money figures: the programme point-value currency.' })
  currency: string;

  @Field(() => Int, { description: 'Members with at least one order placed in range.' })
  activeMembers: number;

  @Field(() => Int, { description: 'Members enrolled in range (merged-away records excluded).' })
  newMembers: number;

  @Field(() => Int, { description: 'Member orders placed in range (guest orders excluded).' })
  orders: number;

  @Field(() => Float, { nullable: true, description: 'Active members with ≥ 2 orders in range / active members (4 decimals).' })
  repeatPurchaseRate: number | null;

  @Field(() => Float, { nullable: true, description: 'Orders / active members (4 decimals).' })
  purchaseFrequency: number | null;

  @Field(() => Float, { description: 'Σ order totals (minor units).' })
  grossRevenueMinor: number;

  @Field(() => Float, { description: 'Σ returned value of those orders, whenever returned (minor units).' })
  returnedMinor: number;

  @Field(() => Float, { description: 'grossRevenueMinor − returnedMinor.' })
  netRevenueMinor: number;

  @Field(() => Float, { nullable: true, description: 'netRevenueMinor / orders (2 decimals).' })
  averageOrderValueMinor: number | null;

  @Field(() => Float, { nullable: true, description: 'netRevenueMinor / activeMembers (2 decimals), net of returns.' })
  revenuePerActiveMemberMinor: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Points credited in range (order earnings and positive adjustments). Null with a channel filter. The point figures are whole numbers, Float as they pass 2^31.',
  })
  pointsIssued: number | null;

  @Field(() => Float, { nullable: true, description: 'Points taken back by returns in range. Null with a channel filter.' })
  pointsClawedBack: number | null;

  @Field(() => Float, { nullable: true, description: 'Points spent on rewards in range, net of cancelled redemptions. Null with a channel filter.' })
  pointsRedeemed: number | null;

  @Field(() => Float, { nullable: true, description: 'Points expired in range. Null with a channel filter.' })
  pointsExpired: number | null;

  @Field(() => Float, { nullable: true, description: 'Points owed at `to`: Σ members (max(available, 0) + pending). Null with a channel filter.' })
  liabilityPoints: number | null;

  @Field(() => Float, { nullable: true, description: 'liabilityPoints × programme point value (minor units).' })
  liabilityMinor: number | null;

  @Field(() => Float, { nullable: true, description: 'pointsRedeemed / pointsIssued (4 decimals).' })
  redemptionRate: number | null;

  @Field(() => Float, { nullable: true, description: 'pointsExpired / pointsIssued (4 decimals).' })
  breakage: number | null;

  @Field(() => [KpiBreakdownRow])
  byChannel: KpiBreakdownRow[];

  @Field(() => [KpiBreakdownRow])
  byCountry: KpiBreakdownRow[];
}

@ObjectType()
export class RfmSegmentSummary {
  @Field(() => RfmSegment)
  segment: RfmSegment;

  @Field(() => Int)
  members: number;

  @Field(() => Float, { description: 'Share of scored members (4 decimals).' })
  share: number;

  @Field(() => Int)
  orders: number;

  @Field(() => Float, { description: 'Σ monetary of its members: order totals net of returns before asOf (minor units).' })
  revenueMinor: number;
}

@ObjectType({ description: 'One cell of the R × FM grid (docs/concepts/analytics.md): its scores decide its segment.' })
export class RfmCell {
  @Field(() => Int, { description: 'Recency score, 1 to 5 (5: ordered most recently).' })
  recencyScore: number;

  @Field(() => Int, { description: 'The mean of the frequency and monetary scores, rounded up: 1 to 5.' })
  frequencyMonetaryScore: number;

  @Field(() => RfmSegment)
  segment: RfmSegment;

  @Field(() => Int)
  members: number;

  @Field(() => Float, { description: 'Share of scored members (4 decimals).' })
  share: number;
}

@ObjectType({ description: 'RFM scoring of every member with an order before asOf.' })
export class RfmSummary {
  @Field(() => DateTimeISOResolver)
  asOf: Date;

  @Field(() => Int)
  scoredMembers: number;

  @Field(() => [RfmSegmentSummary], { description: 'All eleven segments, in enum order, empty ones included.' })
  segments: RfmSegmentSummary[];

  @Field(() => [RfmCell], { description: 'All 25 cells of the R × FM grid, by recency score then FM score, both descending; empty ones included.' })
  cells: RfmCell[];
}

@ObjectType()
export class MemberRfm {
  @Field(() => ID)
  memberId: string;

  @Field(() => DateTimeISOResolver)
  asOf: Date;

  @Field(() => DateTimeISOResolver)
  lastOrderAt: Date;

  @Field(() => Int, { description: 'Whole days from the last order to asOf.' })
  recencyDays: number;

  @Field(() => Int)
  orders: number;

  @Field(() => Float)
  monetaryMinor: number;

  @Field(() => Int)
  recencyScore: number;

  @Field(() => Int)
  frequencyScore: number;

  @Field(() => Int)
  monetaryScore: number;

  @Field(() => String, { description: 'R, F and M scores as digits, e.g. "545".' })
  score: string;

  @Field(() => RfmSegment)
  segment: RfmSegment;
}

@ObjectType()
export class CohortCell {
  @Field(() => Int, { description: '0 = the cohort month itself.' })
  monthOffset: number;

  @Field(() => Int)
  members: number;

  @Field(() => Float, { description: 'members / cohort size (4 decimals).' })
  rate: number;
}

@ObjectType()
export class Cohort {
  @Field(() => String, { description: 'YYYY-MM (UTC) of the first order.' })
  month: string;

  @Field(() => Int)
  size: number;

  @Field(() => [CohortCell], { description: 'One cell per month from the cohort month to the last month before `to`.' })
  cells: CohortCell[];
}

@ObjectType({ description: 'Cohorts of members whose first order falls in [from, to); activity counted until `to`.' })
export class CohortMatrix {
  @Field(() => [Cohort])
  cohorts: Cohort[];
}

@ObjectType()
export class IntervalBucket {
  @Field(() => Int)
  fromDays: number;

  @Field(() => Int, { nullable: true, description: 'Exclusive; null for the open last bucket.' })
  toDays: number | null;

  @Field(() => Int)
  count: number;

  @Field(() => Float, { description: 'count / all intervals (4 decimals).' })
  share: number;
}

@ObjectType({ description: "Days between a member's consecutive orders, both placed in [from, to)." })
export class PurchaseIntervals {
  @Field(() => Int)
  intervals: number;

  @Field(() => Float, { nullable: true, description: 'Median days (2 decimals; the mean of the middle two when even).' })
  medianDays: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean days (2 decimals).' })
  meanDays: number | null;

  @Field(() => [IntervalBucket])
  buckets: IntervalBucket[];
}

@ObjectType()
export class SegmentProduct {
  @Field(() => Int)
  rank: number;

  @Field(() => String)
  sku: string;

  @Field(() => String)
  name: string;

  @Field(() => Float, { description: 'Units bought, net of returns: a whole number, Float as it can pass 2^31.' })
  units: number;

  @Field(() => Float, { description: 'Σ line net value × kept/bought quantity, floored per line (minor units).' })
  revenueMinor: number;

  @Field(() => Int, { description: 'Members of the segment who bought it.' })
  buyers: number;
}

@ObjectType()
export class SegmentProducts {
  @Field(() => RfmSegment)
  segment: RfmSegment;

  @Field(() => [SegmentProduct])
  products: SegmentProduct[];
}

/** The `analytics` entry point; its fields compute on demand. */
@ObjectType({ description: 'CRM analytics, computed in PostgreSQL. ADMIN, MARKETER and ANALYST only.' })
export class Analytics {
  /** Marker so the root resolver has something to return. */
  readonly kind = 'analytics';
}
