import { Field, ID, InputType, Int } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { ArrayMaxSize, IsOptional, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { MAX_EARN_MULTIPLIER_PERCENT, MAX_UNIT_PRICE_MINOR, grouped } from '../../base/bounds';

@InputType({ description: 'Creates the plan, or changes the one with this code.' })
export class UpsertMembershipPlanInput {
  @Field(() => String)
  @Matches(/^[A-Z][A-Z0-9_]{0,31}$/, { message: 'must be upper-case letters, digits and _ (e.g. PLUS)' })
  code: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => Int, { description: `Minor units, 0 to ${grouped(MAX_UNIT_PRICE_MINOR)}.` })
  @Min(0)
  @Max(MAX_UNIT_PRICE_MINOR)
  feeMinor: number;

  @Field(() => String)
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as GBP' })
  currency: string;

  @Field(() => Int, { description: '1 to 3660 days.' })
  @Min(1)
  @Max(3660)
  durationDays: number;

  @Field(() => Int, { defaultValue: 100, description: `Percent of the base points, 0 to ${grouped(MAX_EARN_MULTIPLIER_PERCENT)} (200: double points).` })
  @Min(0)
  @Max(MAX_EARN_MULTIPLIER_PERCENT)
  earnMultiplierPercent: number;

  @Field(() => [String], { defaultValue: [] })
  @ArrayMaxSize(20)
  @Matches(/^[A-Z][A-Z0-9_]{0,39}$/, { each: true, message: 'flags are upper-case words such as FREE_DELIVERY' })
  benefitFlags: string[];

  @Field(() => Boolean, { defaultValue: true })
  isActive: boolean;
}

@InputType()
export class SubscribeMemberInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => String)
  @Length(1, 32)
  planCode: string;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Default: now, or the end of the same plan still running (a renewal). Within 366 days of now.' })
  @IsOptional()
  startsAt?: Date | null;
}

@InputType()
export class CancelMemberPlanInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberPlanId: string;
}
