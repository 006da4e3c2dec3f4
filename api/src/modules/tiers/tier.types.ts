import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { ArrayMaxSize, IsInt, Length, Matches, Max, Min } from 'class-validator';
import { TierMetric } from '../programme/programme-settings.entity';
import { Tier } from './tier.entity';
import { MAX_EARN_MULTIPLIER_PERCENT, MAX_TIER_THRESHOLD, grouped } from '../../base/bounds';

@InputType({ description: 'Creates the tier, or changes the one with this code.' })
export class UpsertTierInput {
  @Field(() => String)
  @Matches(/^[A-Z][A-Z0-9_]{0,31}$/, { message: 'must be upper-case letters, digits and _ (e.g. GOLD)' })
  code: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => Int, { description: `Points or minor units of spend in the tier window (programme tierMetric), 0 to ${grouped(MAX_TIER_THRESHOLD)}.` })
  @IsInt()
  @Min(0)
  @Max(MAX_TIER_THRESHOLD)
  threshold: number;

  @Field(() => Int, { defaultValue: 100, description: `Percent of the base points, 0 to ${grouped(MAX_EARN_MULTIPLIER_PERCENT)} (150: half as many again).` })
  @IsInt()
  @Min(0)
  @Max(MAX_EARN_MULTIPLIER_PERCENT)
  earnMultiplierPercent: number;

  @Field(() => [String], { defaultValue: [] })
  @ArrayMaxSize(20)
  @Matches(/^[A-Z][A-Z0-9_]{0,39}$/, { each: true, message: 'flags are upper-case words such as FREE_DELIVERY' })
  benefitFlags: string[];
}

@ObjectType({ description: "Where the member stands, and what is missing for the next tier." })
export class TierProgress {
  @Field(() => Tier, { nullable: true })
  tier: Tier | null;

  @Field(() => Tier, { nullable: true })
  nextTier: Tier | null;

  @Field(() => TierMetric)
  metric: TierMetric;

  @Field(() => Float, { description: 'Points earned or spend in the rolling window: a whole number, Float as it can pass 2^31.' })
  current: number;

  @Field(() => Int, { nullable: true, description: 'How much more is needed for nextTier.' })
  missing: number | null;

  @Field(() => Int)
  windowDays: number;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'The current tier is kept at least until then.' })
  retainUntil: Date | null;
}

@ObjectType({ description: "The member's tier and paid-plan benefits combined." })
export class MemberBenefits {
  @Field(() => Int, { description: 'Extra earn percentages add up: tier 150 and plan 200 give 250.' })
  earnMultiplierPercent: number;

  @Field(() => [String])
  flags: string[];
}
