import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver, JSONResolver } from 'graphql-scalars';
import { ArrayMaxSize, IsEnum, IsInt, IsOptional, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { SalesChannelKind } from '../../base/enums';
import { EarningRuleKind } from './earning-rule.entity';
import { MAX_EARN_MULTIPLIER_PERCENT, MAX_POINTS_PER_ORDER, MAX_RULE_POINTS, grouped } from '../../base/bounds';

@InputType({ description: 'Which fields matter depends on kind: see EarningRuleKind.' })
export class EarningRuleInput {
  @Field(() => String)
  @Length(1, 100)
  name: string;

  // The enum of the running schema holds the plugins' kinds too; the rule service checks the kind's arguments.
  @Field(() => EarningRuleKind)
  kind: EarningRuleKind | string;

  @Field(() => JSONResolver, { nullable: true, description: "A plugin kind's arguments, an object checked against the kind's params (earningRuleKinds); errors name them as input.params.<name>. Left out for the built-in kinds." })
  @IsOptional()
  params?: unknown;

  @Field(() => Int, { defaultValue: 0 })
  @IsInt()
  priority: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as GBP' })
  currency?: string | null;

  @Field(() => Int, { nullable: true, description: `BASE_RATE: points per perMinor minor units, 1 to ${grouped(MAX_RULE_POINTS)} and at most perMinor (1 point per minor unit).` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RULE_POINTS)
  points?: number | null;

  @Field(() => Int, { nullable: true, description: 'BASE_RATE: minor units, 1 to 1,000,000,000.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  perMinor?: number | null;

  @Field(() => Int, { nullable: true, description: `Percent of the base points, 0 to ${grouped(MAX_EARN_MULTIPLIER_PERCENT)} (200: double points).` })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_EARN_MULTIPLIER_PERCENT)
  multiplierPercent?: number | null;

  @Field(() => Int, { nullable: true, description: `BONUS: points added to the order, 1 to ${grouped(MAX_RULE_POINTS)}.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RULE_POINTS)
  fixedPoints?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  category?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 64)
  sku?: string | null;

  @Field(() => SalesChannelKind, { nullable: true })
  @IsOptional()
  @IsEnum(SalesChannelKind)
  channelKind?: SalesChannelKind | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  startsAt?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @IsOptional()
  endsAt?: Date | null;

  @Field(() => [Int], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(7)
  @Min(0, { each: true })
  @Max(6, { each: true })
  daysOfWeek?: number[] | null;

  @Field(() => Int, { nullable: true, description: `ORDER_CAP, DAILY_CAP: 0 to ${grouped(MAX_POINTS_PER_ORDER)} points.` })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_POINTS_PER_ORDER)
  capPoints?: number | null;
}

@InputType()
export class UpdateEarningRuleInput extends EarningRuleInput {
  @Field(() => ID, { description: 'The ruleKey: every version shares it.' })
  @IsUUID('all', { message: 'must be an id' })
  ruleKey: string;

  @Field(() => Boolean, { defaultValue: true })
  isActive: boolean;
}

@ObjectType({ description: 'Points from one rule: support can explain every point.' })
export class PointsBreakdownItem {
  @Field(() => String, { description: 'BASE_RATE, CATEGORY_MULTIPLIER, ..., TIER, PLAN, ORDER_CAP, DAILY_CAP, CAMPAIGN_BONUS, ORDER_LIMIT (the most an order can earn)' })
  kind: string;

  @Field(() => String)
  label: string;

  @Field(() => ID, { nullable: true })
  ruleId: string | null;

  @Field(() => Int, { nullable: true })
  ruleVersion: number | null;

  @Field(() => Float, { description: 'Negative for caps. A whole number; Float as a multiplier line of a large order may pass 2^31 (the order total never does).' })
  points: number;
}

@ObjectType({ description: "One argument of an earning-rule kind: a plugin kind's is input.params.<name>, a built-in kind's the input field <name>." })
export class RuleParam {
  @Field(() => String)
  name: string;

  @Field(() => String)
  label: string;

  @Field(() => String, { description: 'string, integer, percent (200 doubles), date (ISO 8601) or enum (one of options).' })
  type: string;

  @Field(() => Boolean)
  required: boolean;

  @Field(() => Float, { nullable: true })
  min: number | null;

  @Field(() => Float, { nullable: true })
  max: number | null;

  @Field(() => Int, { nullable: true, description: 'string: most characters.' })
  maxLength: number | null;

  @Field(() => [String], { nullable: true })
  options: string[] | null;

  @Field(() => String, { nullable: true })
  description: string | null;
}

@ObjectType({ description: 'An earning-rule kind, built in or added by a plugin, with the arguments a rule of it takes.' })
export class EarningRuleKindInfo {
  @Field(() => EarningRuleKind)
  kind: string;

  @Field(() => String)
  label: string;

  @Field(() => String)
  description: string;

  @Field(() => Boolean, { description: "Built-in kinds take their arguments as fields of EarningRuleInput; plugins' kinds in its params." })
  isBuiltIn: boolean;

  @Field(() => [RuleParam])
  params: RuleParam[];
}
