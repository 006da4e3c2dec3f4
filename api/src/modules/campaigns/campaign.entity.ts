import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { ConsentMedium } from '../members/member-consent.entity';
import type { Segment } from '../segments/segment.entity';

/**
 * DRAFT → (launch) SCHEDULED or ACTIVE → ENDED; any but ENDED → CANCELLED. SCHEDULED, ACTIVE and ENDED follow from
 * the clock once launched (`statusAt`), so the API never shows a stale one between the runner's sweeps.
 */
export enum CampaignStatus {
  DRAFT = 'DRAFT',
  SCHEDULED = 'SCHEDULED',
  ACTIVE = 'ACTIVE',
  ENDED = 'ENDED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(CampaignStatus, { name: 'CampaignStatus' });

export enum CampaignActionKind {
  /** Extra points on orders placed in the window: fixed per order, or a multiplier of the order's points. */
  BONUS_POINTS = 'BONUS_POINTS',
  /** A personalised offer recorded per treated member: a reward at a discount, or their top recommendations. */
  OFFER = 'OFFER',
  /** A message to treated members who consent to its medium, through the message outbox. */
  MESSAGE = 'MESSAGE',
}
registerEnumType(CampaignActionKind, { name: 'CampaignActionKind' });

export enum CampaignOfferKind {
  REWARD_DISCOUNT = 'REWARD_DISCOUNT',
  RECOMMENDATIONS = 'RECOMMENDATIONS',
}
registerEnumType(CampaignOfferKind, { name: 'CampaignOfferKind' });

export enum CampaignGroup {
  TREATED = 'TREATED',
  /** The control group: gets nothing from the campaign, so that its uplift can be measured. */
  HOLDOUT = 'HOLDOUT',
}
registerEnumType(CampaignGroup, { name: 'CampaignGroup' });

export enum CampaignMessageStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  /** Consent was withdrawn, or the member erased, before delivery. */
  SKIPPED = 'SKIPPED',
  /** Every attempt failed; `lastError` says why. */
  FAILED = 'FAILED',
  /** The campaign was cancelled before delivery. */
  CANCELLED = 'CANCELLED',
}
registerEnumType(CampaignMessageStatus, { name: 'CampaignMessageStatus' });

@ObjectType({ description: 'Bonus points on each order a treated member places in the window.' })
export class CampaignBonusAction {
  @Field(() => Int, { nullable: true, description: 'Points added to each order.' })
  fixedPoints: number | null;

  @Field(() => Int, { nullable: true, description: "Percent of the order's points (200: double points); the extra is the bonus." })
  multiplierPercent: number | null;
}

@ObjectType({ description: 'A personalised offer recorded for each treated member when the campaign starts.' })
export class CampaignOfferAction {
  @Field(() => CampaignOfferKind)
  kind: CampaignOfferKind;

  @Field(() => ID, { nullable: true, description: 'REWARD_DISCOUNT: the reward offered.' })
  rewardId: string | null;

  @Field(() => Int, { nullable: true, description: "REWARD_DISCOUNT: percent off the reward's points cost." })
  discountPercent: number | null;

  @Field(() => Int, { nullable: true, description: 'RECOMMENDATIONS: how many of the top products.' })
  recommendationCount: number | null;
}

@ObjectType({ description: 'A message written to the outbox for each treated member with consent to its medium.' })
export class CampaignMessageAction {
  @Field(() => ConsentMedium)
  medium: ConsentMedium;

  @Field(() => String, { nullable: true, description: 'EMAIL only.' })
  subject: string | null;

  @Field(() => String)
  body: string;
}

@ObjectType({ description: 'A segment targeted with one or more actions (bonus points, an offer, a message) under one holdout group (docs/concepts/campaigns.md).' })
@Entity({ tableName: 'campaign' })
@Index({ properties: ['createdAt'] })
export class Campaign {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  @ManyToOne('Segment', { ref: true })
  segment: Ref<Segment>;

  /** As written by the last mutation or runner sweep; the API shows `statusAt(now)`. */
  @Enum({ items: () => CampaignStatus, fieldName: 'status' })
  storedStatus: Opt<CampaignStatus> = CampaignStatus.DRAFT;

  /**
   * The first of `actionKinds`, kept in step by the service: the actions themselves are known from their own columns
   * (a bonus column set, `offerKind`, `messageMedium`). Answered for clients written when a campaign had one action.
   */
  @Field(() => CampaignActionKind, { deprecationReason: 'A campaign may combine actions: read actionKinds. This is its first one.' })
  @Enum({ items: () => CampaignActionKind })
  actionKind: CampaignActionKind;

  @Property({ type: 'integer', nullable: true })
  bonusFixedPoints: number | null = null;

  @Property({ type: 'integer', nullable: true })
  bonusMultiplierPercent: number | null = null;

  @Enum({ items: () => CampaignOfferKind, nullable: true })
  offerKind: CampaignOfferKind | null = null;

  @Property({ type: 'uuid', nullable: true })
  offerRewardId: string | null = null;

  @Property({ type: 'integer', nullable: true })
  offerDiscountPercent: number | null = null;

  @Property({ type: 'integer', nullable: true })
  offerRecommendationCount: number | null = null;

  @Enum({ items: () => ConsentMedium, nullable: true })
  messageMedium: ConsentMedium | null = null;

  @Property({ type: 'string', length: 200, nullable: true })
  messageSubject: string | null = null;

  @Property({ type: 'text', nullable: true })
  messageBody: string | null = null;

  @Field(() => Float, { description: 'Share of the targeted members held out as the control group (0 to 0.5), fixed at launch.' })
  @Property({ type: 'double' })
  holdoutShare: number;

  @Field(() => Int, { nullable: true, description: 'Most points the campaign may give in all; null: no cap.' })
  @Property({ type: 'integer', nullable: true })
  budgetPoints: number | null = null;

  @Field(() => Float, { description: 'Points given so far (a whole number; Float as it may pass 2^31 without a budget); never above budgetPoints.' })
  @Property({ type: new BigIntType('number'), default: 0 })
  spentPoints: Opt<number> = 0;

  @Field(() => DateTimeISOResolver, { description: 'Start of the window; at launch, a start in the past becomes the launch time.' })
  @Property({ type: 'datetime' })
  startsAt: Date;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'End of the window (exclusive); null: until cancelled.' })
  @Property({ type: 'datetime', nullable: true })
  endsAt: Date | null = null;

  @Field(() => Int, { nullable: true, description: 'Members assigned TREATED at launch.' })
  @Property({ type: 'integer', nullable: true })
  treatedCount: number | null = null;

  @Field(() => Int, { nullable: true, description: 'Members assigned HOLDOUT at launch.' })
  @Property({ type: 'integer', nullable: true })
  holdoutCount: number | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  launchedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When treated members were contacted (offers and messages written).' })
  @Property({ type: 'datetime', nullable: true })
  contactedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  cancelledAt: Date | null = null;

  @Field(() => String, { description: 'admin:<id> of the creator.' })
  @Property({ type: 'string', length: 80 })
  createdBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  updatedAt: Opt<Date> = new Date();

  @Field(() => CampaignStatus, { description: 'Now: SCHEDULED before startsAt, ACTIVE in the window, ENDED after endsAt.' })
  get status(): Opt<CampaignStatus> {
    return this.statusAt(new Date());
  }

  statusAt(now: Date): CampaignStatus {
    if (this.storedStatus === CampaignStatus.DRAFT || this.storedStatus === CampaignStatus.CANCELLED) return this.storedStatus;
    if (now < this.startsAt) return CampaignStatus.SCHEDULED;
    if (this.endsAt && now >= this.endsAt) return CampaignStatus.ENDED;
    return CampaignStatus.ACTIVE;
  }

  /** The end of the measured window: the end, the cancellation or now, whichever is first. */
  windowEnd(now: Date): Date {
    const ends = [now, this.endsAt, this.cancelledAt].filter((d): d is Date => d !== null);
    return new Date(Math.min(...ends.map((d) => d.getTime())));
  }

  /** The campaign's actions, each known from its own columns, in the order BONUS_POINTS, OFFER, MESSAGE. */
  @Field(() => [CampaignActionKind], { description: 'What treated members get: one or more of BONUS_POINTS, OFFER and MESSAGE, each at most once.' })
  get actionKinds(): Opt<CampaignActionKind[]> {
    const kinds: CampaignActionKind[] = [];
    if (this.bonusFixedPoints != null || this.bonusMultiplierPercent != null) kinds.push(CampaignActionKind.BONUS_POINTS);
    if (this.offerKind) kinds.push(CampaignActionKind.OFFER);
    if (this.messageMedium) kinds.push(CampaignActionKind.MESSAGE);
    return kinds;
  }

  @Field(() => CampaignBonusAction, { nullable: true, description: 'Set when the campaign gives bonus points.' })
  get bonus(): Opt<CampaignBonusAction> | null {
    if (this.bonusFixedPoints == null && this.bonusMultiplierPercent == null) return null;
    return { fixedPoints: this.bonusFixedPoints, multiplierPercent: this.bonusMultiplierPercent };
  }

  @Field(() => CampaignOfferAction, { nullable: true, description: 'Set when the campaign makes an offer.' })
  get offer(): Opt<CampaignOfferAction> | null {
    if (!this.offerKind) return null;
    return {
      kind: this.offerKind,
      rewardId: this.offerRewardId,
      discountPercent: this.offerDiscountPercent,
      recommendationCount: this.offerRecommendationCount,
    };
  }

  @Field(() => CampaignMessageAction, { nullable: true, description: 'Set when the campaign sends a message.' })
  get message(): Opt<CampaignMessageAction> | null {
    if (!this.messageMedium) return null;
    return { medium: this.messageMedium, subject: this.messageSubject, body: this.messageBody ?? '' };
  }
}

/** One targeted member, assigned once at launch. */
@ObjectType({ description: "A targeted member's group, and what the campaign gave them." })
@Entity({ tableName: 'campaign_member' })
@Index({ properties: ['memberId'] })
export class CampaignMember {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  campaignId: string;

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  memberId: string;

  @Field(() => CampaignGroup)
  @Enum({ items: () => CampaignGroup, fieldName: 'assigned_group' })
  group: CampaignGroup;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  assignedAt: Date;

  @Field(() => Float, { description: 'Bonus points given to this member by the campaign (a whole number; Float as it may pass 2^31).' })
  @Property({ type: new BigIntType('number'), default: 0 })
  bonusPoints: Opt<number> = 0;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the campaign reached them: bonus eligibility, their offer recorded or a message written (TREATED only).' })
  @Property({ type: 'datetime', nullable: true })
  contactedAt: Date | null = null;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'With an offer: { rewardId, discountPercent, costPoints } or { products: [{ productId, sku, name, rank }] }.' })
  @Property({ type: 'json', nullable: true })
  offer: Record<string, unknown> | null = null;
}

/**
 * The message outbox: one row per treated member with consent, delivered by the configured adapter
 * (campaign-delivery.ts). Rows are written in the transaction that contacts the members.
 */
@ObjectType({ description: 'A campaign message to one member, in the delivery outbox.' })
@Entity({ tableName: 'campaign_message' })
@Index({ properties: ['memberId', 'createdAt'] })
@Index({ properties: ['status', 'createdAt'] })
export class CampaignMessage {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => ID)
  @Property({ type: 'uuid' })
  campaignId: string;

  @Field(() => ID)
  @Property({ type: 'uuid' })
  memberId: string;

  @Field(() => ConsentMedium)
  @Enum({ items: () => ConsentMedium })
  medium: ConsentMedium;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 200, nullable: true })
  subject: string | null = null;

  @Field(() => String)
  @Property({ type: 'text' })
  body: string;

  @Field(() => CampaignMessageStatus)
  @Enum({ items: () => CampaignMessageStatus })
  status: Opt<CampaignMessageStatus> = CampaignMessageStatus.PENDING;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  attempts: Opt<number> = 0;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  lastError: string | null = null;

  @Field(() => String, { nullable: true, description: 'The adapter that delivered it, e.g. logging.' })
  @Property({ type: 'string', length: 40, nullable: true })
  adapter: string | null = null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  sentAt: Date | null = null;
}
