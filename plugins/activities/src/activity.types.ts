import { ArrayMaxSize, IsInt, IsOptional, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { MemberRefInput, SalesChannelKind } from '@loyalty/api/extension-api';
import { Activity } from './activity.entity';
import { MAX_AGE_DAYS, MAX_ATTRIBUTES_BYTES, MAX_ATTRIBUTES_DEPTH, MAX_FUTURE_MINUTES } from './activity-definitions';

export const TYPE_CODE = /^[a-z][a-z0-9_]{1,39}$/;
const TIER_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;
export const MAX_POINTS = 1_000_000;
const MAX_CAP = 1_000_000;
/** A gap of up to a leap year. */
const MAX_GAP_MINUTES = 366 * 24 * 60;

@InputType({ description: 'An activity a channel records for a member.' })
export class RecordActivityInput {
  @Field(() => MemberRefInput, { description: 'By id, or by an identifier; a merged member is credited on the survivor.' })
  @ValidateNested()
  member: MemberRefInput;

  @Field(() => String, { description: 'An active activity type code (activityTypes); otherwise ACTIVITY_TYPE_UNKNOWN.' })
  @Length(1, 64)
  type: string;

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: `When the member did it: now when left out; at most ${MAX_FUTURE_MINUTES} minutes ahead and ${MAX_AGE_DAYS} days back.`,
  })
  occurredAt?: Date | null;

  @Field(() => String, { description: "The channel's own id for this activity (1 to 100 characters): a replay returns the stored activity and credits once." })
  @Length(1, 100)
  idempotencyKey: string;

  @Field(() => JSONObjectResolver, {
    nullable: true,
    description: `What else the channel knows (a review's rating, a store code): at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON, ${MAX_ATTRIBUTES_DEPTH} levels deep.`,
  })
  @IsOptional()
  attributes?: Record<string, unknown> | null;
}

@InputType({ description: 'An activity type and its earning rules.' })
export class CreateActivityTypeInput {
  @Field(() => String, { description: 'lower_snake_case, 2 to 40 characters (store_visit); fixed once created.' })
  @Matches(TYPE_CODE, { message: 'must be lower-case letters, digits and _, starting with a letter, 2 to 40 long (e.g. store_visit)' })
  code: string;

  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Int, { description: `Points per credited activity, 0 to ${MAX_POINTS}.` })
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_POINTS)
  points: number;

  @Field(() => Int, { nullable: true, description: `1 to ${MAX_CAP}; null: no cap.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capPerDay?: number | null;

  @Field(() => Int, { nullable: true, description: `1 to ${MAX_CAP}; null: no cap.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capPerWeek?: number | null;

  @Field(() => Int, { nullable: true, description: `1 to ${MAX_CAP}; null: no cap.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capLifetime?: number | null;

  @Field(() => Int, { nullable: true, description: `1 to ${MAX_GAP_MINUTES} minutes; null: none.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_GAP_MINUTES)
  minGapMinutes?: number | null;

  @Field(() => [String], { nullable: true, description: 'Tier codes; empty or left out: every member.' })
  @IsOptional()
  @ArrayMaxSize(50)
  @Matches(TIER_CODE, { each: true, message: 'each must be a tier code (upper-case letters, digits and _)' })
  tierCodes?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'A saved segment; null: everyone.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  segmentId?: string | null;

  @Field(() => [SalesChannelKind], { nullable: true, description: 'Channel kinds that may record it; empty or left out: every channel.' })
  @IsOptional()
  @ArrayMaxSize(10)
  channelKinds?: SalesChannelKind[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true.' })
  @IsOptional()
  isActive?: boolean | null;
}

@InputType({ description: 'Changes an activity type: fields left out stay as they are; a cap, gap or segment set to null is removed. The code is fixed.' })
export class UpdateActivityTypeInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_POINTS)
  points?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capPerDay?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capPerWeek?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAP)
  capLifetime?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_GAP_MINUTES)
  minGapMinutes?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  @Matches(TIER_CODE, { each: true, message: 'each must be a tier code (upper-case letters, digits and _)' })
  tierCodes?: string[] | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  segmentId?: string | null;

  @Field(() => [SalesChannelKind], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(10)
  channelKinds?: SalesChannelKind[] | null;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  isActive?: boolean | null;
}

@ObjectType('ActivityPage', { description: "A page of a member's activities, newest first (by occurredAt)." })
export class ActivityPage {
  @Field(() => [Activity])
  nodes: Activity[];

  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor: string | null;
}

@ObjectType('ActivityTypeStats', { description: 'What one activity type saw in a span (by occurredAt).' })
export class ActivityTypeStats {
  @Field(() => String)
  type: string;

  @Field(() => String)
  name: string;

  @Field(() => Boolean)
  isActive: boolean;

  @Field(() => Int, { description: 'Activities recorded, credited or not.' })
  recorded: number;

  @Field(() => Int)
  credited: number;

  @Field(() => Float, { description: 'Points credited (Float: a sum may pass 2^31).' })
  points: number;

  @Field(() => Int, { description: 'Distinct members who recorded one.' })
  members: number;
}
