import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { IsEnum, IsInt, IsOptional, IsUUID, Length, Matches } from 'class-validator';
import { SalesChannelKind } from '../../base/enums';
import { connectionOf } from '../../base/pagination';
import { Feedback, FeedbackKind } from './feedback.entity';

@InputType({ description: 'An answer about an order (orderId), or about a channel and optionally one of its stores.' })
export class RecordFeedbackInput {
  @Field(() => ID, { description: 'An id absorbed by a merge records for the survivor.' })
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => FeedbackKind)
  @IsEnum(FeedbackKind)
  kind: FeedbackKind;

  @Field(() => Int, { description: 'NPS: 0 to 10. CSAT: 1 to 5.' })
  @IsInt({ message: 'must be a whole number' })
  score: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 2000)
  comment?: string | null;

  @Field(() => ID, { nullable: true, description: "One of the member's orders; the answer is then about that order's channel and store." })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  orderId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Admin callers without an order: the channel the answer is about. Channel callers use their own.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  channelId?: string | null;

  @Field(() => String, { nullable: true, description: "The store's own code, as on orders (e.g. a POS store number)." })
  @IsOptional()
  @Length(1, 64)
  @Matches(/^\S(.*\S)?$/, { message: 'must not start or end with spaces' })
  storeCode?: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the member answered; default now. Not in the future.' })
  @IsOptional()
  givenAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the first answer.' })
  @IsOptional()
  @Length(1, 100)
  idempotencyKey?: string | null;
}

@ObjectType()
export class FeedbackConnection extends connectionOf(Feedback, 'Feedback') {}

export enum TimeBucket {
  DAY = 'DAY',
  /** ISO weeks, starting on Monday. */
  WEEK = 'WEEK',
  MONTH = 'MONTH',
}
registerEnumType(TimeBucket, { name: 'TimeBucket', description: 'UTC calendar buckets; weeks start on Monday.' });

@InputType({ description: 'Answers given in [from, to), optionally of one channel (kind) or store, in time buckets.' })
export class FeedbackAnalyticsInput {
  @Field(() => DateTimeISOResolver)
  from: Date;

  @Field(() => DateTimeISOResolver, { description: 'Exclusive; must be after `from`.' })
  to: Date;

  @Field(() => TimeBucket, { defaultValue: TimeBucket.MONTH })
  @IsEnum(TimeBucket)
  bucket: TimeBucket;

  @Field(() => SalesChannelKind, { nullable: true })
  @IsOptional()
  channelKind?: SalesChannelKind | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  channelId?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 64)
  storeCode?: string | null;
}

@ObjectType({ description: 'NPS = % promoters (9-10) − % detractors (0-6), from −100 to 100.' })
export class NpsFigures {
  @Field(() => Int)
  responses: number;

  @Field(() => Int)
  promoters: number;

  @Field(() => Int)
  passives: number;

  @Field(() => Int)
  detractors: number;

  @Field(() => Float, { nullable: true, description: '(promoters − detractors) × 100 ÷ responses, 2 decimals; null without responses.' })
  score: number | null;

  @Field(() => Float, { nullable: true, description: 'promoters ÷ responses, 4 decimals.' })
  promoterRate: number | null;

  @Field(() => Float, { nullable: true, description: 'detractors ÷ responses, 4 decimals.' })
  detractorRate: number | null;
}

@ObjectType({ description: 'CSAT answers (1-5); satisfied means 4 or 5.' })
export class CsatFigures {
  @Field(() => Int)
  responses: number;

  @Field(() => Float, { nullable: true, description: 'Mean score, 2 decimals; null without responses.' })
  mean: number | null;

  @Field(() => Int)
  satisfied: number;

  @Field(() => Float, { nullable: true, description: 'satisfied ÷ responses, 4 decimals.' })
  satisfiedRate: number | null;
}

@ObjectType()
export class FeedbackChannelRow {
  @Field(() => ID)
  channelId: string;

  @Field(() => String)
  label: string;

  @Field(() => SalesChannelKind)
  channelKind: SalesChannelKind;

  @Field(() => NpsFigures)
  nps: NpsFigures;

  @Field(() => CsatFigures)
  csat: CsatFigures;
}

@ObjectType({ description: 'One time bucket; buckets without answers are listed with zero responses.' })
export class FeedbackBucketRow {
  @Field(() => DateTimeISOResolver, { description: 'Start of the bucket (UTC); the first one may start before `from`, but counts only answers from `from`.' })
  start: Date;

  @Field(() => NpsFigures)
  nps: NpsFigures;

  @Field(() => CsatFigures)
  csat: CsatFigures;
}

@ObjectType({ description: 'NPS and CSAT over a range: overall, per channel and per time bucket (docs/concepts/feedback.md).' })
export class FeedbackAnalytics {
  @Field(() => DateTimeISOResolver)
  from: Date;

  @Field(() => DateTimeISOResolver)
  to: Date;

  @Field(() => TimeBucket)
  bucket: TimeBucket;

  @Field(() => NpsFigures)
  nps: NpsFigures;

  @Field(() => CsatFigures)
  csat: CsatFigures;

  @Field(() => [FeedbackChannelRow], { description: 'Channels with at least one answer in range, by most responses first.' })
  byChannel: FeedbackChannelRow[];

  @Field(() => [FeedbackBucketRow], { description: 'Every bucket from the one holding `from` to the one holding the last moment before `to`.' })
  series: FeedbackBucketRow[];
}
