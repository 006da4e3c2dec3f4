import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsInt, IsOptional, IsUUID, Length, Max, Min, ValidateNested } from 'class-validator';
import { UpliftEstimate } from '../../base/intervals';
import { connectionOf } from '../../base/pagination';
import { ConsentMedium } from '../members/member-consent.entity';
import { Campaign, CampaignGroup, CampaignMember, CampaignOfferKind, CampaignStatus } from './campaign.entity';
import { MAX_CAMPAIGN_BUDGET_POINTS, grouped } from '../../base/bounds';

export const MAX_BONUS_POINTS = 100_000;
export const MAX_MULTIPLIER_PERCENT = 1000;
export const MAX_HOLDOUT_SHARE = 0.5;
export const MAX_RECOMMENDATIONS_OFFERED = 10;

@InputType({ description: 'Give exactly one of fixedPoints and multiplierPercent.' })
export class CampaignBonusInput {
  @Field(() => Int, { nullable: true, description: `Points added to each order: 1 to ${MAX_BONUS_POINTS}.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BONUS_POINTS)
  fixedPoints?: number | null;

  @Field(() => Int, { nullable: true, description: `Percent of the order's points, 101 to ${MAX_MULTIPLIER_PERCENT} (200: double points).` })
  @IsOptional()
  @IsInt()
  @Min(101)
  @Max(MAX_MULTIPLIER_PERCENT)
  multiplierPercent?: number | null;
}

@InputType({ description: 'REWARD_DISCOUNT needs rewardId and discountPercent; RECOMMENDATIONS needs recommendationCount.' })
export class CampaignOfferInput {
  @Field(() => CampaignOfferKind)
  kind: CampaignOfferKind;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID()
  rewardId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Percent off the points cost, 1 to 100.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  discountPercent?: number | null;

  @Field(() => Int, { nullable: true, description: `How many top recommendations, 1 to ${MAX_RECOMMENDATIONS_OFFERED}.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RECOMMENDATIONS_OFFERED)
  recommendationCount?: number | null;
}

@InputType({ description: 'Sent only to treated members who consent to the medium.' })
export class CampaignMessageInput {
  @Field(() => ConsentMedium)
  medium: ConsentMedium;

  @Field(() => String, { nullable: true, description: 'Required for EMAIL, refused for SMS and PUSH.' })
  @IsOptional()
  @Length(1, 200)
  subject?: string | null;

  @Field(() => String, { description: '1 to 2000 characters (SMS: 1 to 480).' })
  @Length(1, 2000)
  body: string;
}

@InputType({ description: 'A draft campaign; give at least one of bonus, offer and message: treated members get each one given (docs/concepts/campaigns.md).' })
export class CreateCampaignInput {
  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;

  @Field(() => ID, { description: 'A saved segment; evaluated (DYNAMIC) or read (SNAPSHOT) at launch.' })
  segmentId: string;

  @Field(() => CampaignBonusInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  bonus?: CampaignBonusInput | null;

  @Field(() => CampaignOfferInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  offer?: CampaignOfferInput | null;

  @Field(() => CampaignMessageInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  message?: CampaignMessageInput | null;

  @Field(() => Float, { defaultValue: 0.1, description: `Share held out as the control group, 0 to ${MAX_HOLDOUT_SHARE}.` })
  @Min(0)
  @Max(MAX_HOLDOUT_SHARE)
  holdoutShare: number;

  @Field(() => Int, { nullable: true, description: `With a bonus only: most bonus points given in all, 1 to ${grouped(MAX_CAMPAIGN_BUDGET_POINTS)}; null for no cap.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAMPAIGN_BUDGET_POINTS)
  budgetPoints?: number | null;

  @Field(() => DateTimeISOResolver)
  startsAt: Date;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Exclusive; after startsAt. Null: runs until cancelled.' })
  @IsOptional()
  endsAt?: Date | null;
}

@InputType({
  description:
    'Changes the given fields of a DRAFT; a field left out stays. An action given (bonus, offer or message) adds it or replaces that action whole; one given as null removes it, while at least one action remains.',
})
export class UpdateCampaignInput {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  segmentId?: string | null;

  @Field(() => CampaignBonusInput, { nullable: true, description: 'Adds or replaces the bonus; null removes it with its budget.' })
  @IsOptional()
  @ValidateNested()
  bonus?: CampaignBonusInput | null;

  @Field(() => CampaignOfferInput, { nullable: true, description: 'Adds or replaces the offer; null removes it.' })
  @IsOptional()
  @ValidateNested()
  offer?: CampaignOfferInput | null;

  @Field(() => CampaignMessageInput, { nullable: true, description: 'Adds or replaces the message; null removes it.' })
  @IsOptional()
  @ValidateNested()
  message?: CampaignMessageInput | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(MAX_HOLDOUT_SHARE)
  holdoutShare?: number | null;

  @Field(() => Int, { nullable: true, description: `1 to ${grouped(MAX_CAMPAIGN_BUDGET_POINTS)}; give 0 to remove the cap.` })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CAMPAIGN_BUDGET_POINTS)
  budgetPoints?: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  startsAt?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  endsAt?: Date | null;
}

@ObjectType()
export class CampaignConnection extends connectionOf(Campaign, 'Campaign') {
  /** Runs only when totalCount is asked for. */
  countTotal: () => Promise<number>;
}

@ObjectType()
export class CampaignMemberConnection extends connectionOf(CampaignMember, 'CampaignMember') {}

@ObjectType({ description: 'How many members the campaign reached, by group.' })
export class CampaignCounts {
  @Field(() => Int)
  treated: number;

  @Field(() => Int)
  holdout: number;

  @Field(() => Int, { description: 'Treated members reached by at least one action (bonus eligibility, an offer recorded, or a message written).' })
  contacted: number;

  @Field(() => Int, { description: 'Treated members who received bonus points.' })
  bonused: number;

  @Field(() => Int)
  messagesPending: number;

  @Field(() => Int)
  messagesSent: number;

  @Field(() => Int, { description: 'Consent withdrawn or member erased before delivery.' })
  messagesSkipped: number;

  @Field(() => Int)
  messagesFailed: number;
}

@ObjectType({ description: 'One group over the campaign window.' })
export class CampaignGroupMetrics {
  @Field(() => CampaignGroup)
  group: CampaignGroup;

  @Field(() => Int)
  members: number;

  @Field(() => Int, { description: 'Members with at least one order placed in the window.' })
  buyers: number;

  @Field(() => Float, { description: 'buyers / members (0 when there are no members).' })
  purchaseRate: number;

  @Field(() => Float, { description: 'Order totals net of returns, in the reporting currency, summed over the group.' })
  revenueMinor: number;

  @Field(() => Float, { description: 'revenueMinor / members: members who bought nothing count as 0.' })
  revenuePerMemberMinor: number;

  @Field(() => Float, { description: 'Bonus points given to the group (0 for the holdout); a whole number, Float as it may pass 2^31.' })
  pointsCost: number;

  @Field(() => Float)
  pointsCostPerMember: number;
}

@ObjectType({ description: 'Treated vs holdout over the campaign window.' })
export class CampaignResults {
  @Field(() => DateTimeISOResolver)
  windowStart: Date;

  @Field(() => DateTimeISOResolver, { description: 'The end, the cancellation or now, whichever is first.' })
  windowEnd: Date;

  @Field(() => String, { description: "Revenue counts orders in the programme's currency (programme settings) only." })
  currency: string;

  @Field(() => CampaignGroupMetrics)
  treated: CampaignGroupMetrics;

  @Field(() => CampaignGroupMetrics)
  holdout: CampaignGroupMetrics;

  @Field(() => UpliftEstimate, { nullable: true, description: 'Difference of proportions (Wald); null when it cannot be estimated.' })
  purchaseRateUplift: UpliftEstimate | null;

  @Field(() => UpliftEstimate, { nullable: true, description: "Welch's t interval; null when it cannot be estimated." })
  revenuePerMemberUplift: UpliftEstimate | null;

  @Field(() => UpliftEstimate, { nullable: true, description: "Welch's t interval of the points cost per member." })
  pointsCostPerMemberUplift: UpliftEstimate | null;

  @Field(() => Float, { nullable: true, description: 'purchaseRateUplift.difference × treated members.' })
  incrementalBuyers: number | null;

  @Field(() => Float, { nullable: true, description: 'revenuePerMemberUplift.difference × treated members.' })
  incrementalRevenueMinor: number | null;

  @Field(() => Boolean, { description: 'The purchase rate or revenue per member differs at the 95% level.' })
  significant: boolean;

  @Field(() => String, { description: 'A plain-language reading of the numbers.' })
  verdict: string;
}

export interface CampaignListFilter {
  first: number;
  after?: string | null;
  status?: CampaignStatus | null;
}
