import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { ArrayMaxSize, IsOptional, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { RewardKind } from './reward.entity';
import { MAX_REWARD_COST_POINTS, MAX_REWARD_UNITS, MAX_UNIT_PRICE_MINOR, grouped } from '../../base/bounds';

@InputType({ description: 'Creates the reward, or changes the one with this code.' })
export class UpsertRewardInput {
  @Field(() => String)
  @Matches(/^[A-Z0-9][A-Z0-9_-]{0,31}$/, { message: 'must be upper-case letters, digits, _ and - (e.g. FREE-COFFEE)' })
  code: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  /** Checked against the registry by the service (the GraphQL enum already holds only registered kinds). */
  @Field(() => RewardKind)
  kind: string;

  @Field(() => Int, { description: `1 to ${grouped(MAX_REWARD_COST_POINTS)} points.` })
  @Min(1, { message: 'must be at least 1 point' })
  @Max(MAX_REWARD_COST_POINTS)
  costPoints: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 64)
  sku?: string | null;

  @Field(() => Int, { nullable: true, description: `Minor units, 1 to ${grouped(MAX_UNIT_PRICE_MINOR)}.` })
  @IsOptional()
  @Min(1)
  @Max(MAX_UNIT_PRICE_MINOR)
  valueMinor?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as GBP' })
  currency?: string | null;

  @Field(() => Int, { nullable: true, description: '1 to 100.' })
  @IsOptional()
  @Min(1)
  @Max(100)
  percentOff?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  partner?: string | null;

  @Field(() => Int, { nullable: true, description: `0 to ${grouped(MAX_REWARD_UNITS)}; null: unlimited.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_REWARD_UNITS)
  stock?: number | null;

  @Field(() => Int, { nullable: true, description: `1 to ${grouped(MAX_REWARD_UNITS)}; null: unlimited.` })
  @IsOptional()
  @Min(1)
  @Max(MAX_REWARD_UNITS)
  perMemberLimit?: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  validFrom?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  validTo?: Date | null;

  @Field(() => [String], { defaultValue: [] })
  @ArrayMaxSize(20)
  tierCodes: string[];

  @Field(() => Boolean, { defaultValue: true })
  isActive: boolean;
}

@InputType()
export class RedeemRewardInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  rewardId: string;

  @Field(() => String, { description: 'A retry with the same key returns the first redemption.' })
  @Length(1, 100)
  idempotencyKey: string;
}

@InputType()
export class ConsumeVoucherInput {
  @Field(() => String)
  @Length(4, 32)
  voucherCode: string;

  @Field(() => ID, { nullable: true, description: 'The member at the checkout; a voucher of someone else is refused.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  memberId?: string | null;

  @Field(() => String, { nullable: true, description: "The channel's order id it was used on." })
  @IsOptional()
  @Length(1, 100)
  orderRef?: string | null;
}

@InputType()
export class CancelRedemptionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  redemptionId: string;
}

@ObjectType({ description: 'A kind of reward: built in, or added by a plugin.' })
export class RewardKindInfo {
  @Field(() => RewardKind)
  kind: string;

  @Field(() => String)
  label: string;

  @Field(() => String)
  description: string;

  @Field(() => String, { description: 'VOUCHER: issued with a voucher to use at a checkout; AT_ONCE: completed when redeemed.' })
  completion: string;

  @Field(() => [String], { description: 'Fields of UpsertRewardInput a reward of this kind must set.' })
  requires: string[];
}
