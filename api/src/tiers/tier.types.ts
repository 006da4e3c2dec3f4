import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { ArrayMaxSize, IsInt, Length, Matches, Max, Min } from 'class-validator';
import { TierMetric } from '../programme/programme-settings.entity';
import { Tier } from './tier.entity';

@InputType({ description: 'Creates the tier, or changes the one with this code.' })
export class UpsertTierInput {
  @Field(() => String)
  @Matches(/^[A-Z][A-Z0-9_]{0,31}$/, { message: 'must be upper-case letters, digits and _ (e.g. GOLD)' })
  code: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => Int)
  @IsInt()
  @Min(0)
  threshold: number;

  @Field(() => Int, { defaultValue: 100 })
  @Min(0)
  @Max(10_000)
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

  @Field(() => Int, { description: 'Points earned or spend in the rolling window.' })
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
