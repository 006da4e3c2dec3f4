import { Entity, Enum, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId, SalesChannelKind } from '@loyalty/api/extension-api';

/** What became of a recorded activity: credited, or why not. Every outcome is recorded (and counts for challenges). */
export enum ActivityOutcome {
  CREDITED = 'CREDITED',
  CAPPED_DAY = 'CAPPED_DAY',
  CAPPED_WEEK = 'CAPPED_WEEK',
  CAPPED_LIFETIME = 'CAPPED_LIFETIME',
  TOO_SOON = 'TOO_SOON',
  NOT_ELIGIBLE = 'NOT_ELIGIBLE',
  NO_POINTS = 'NO_POINTS',
}
registerEnumType(ActivityOutcome, {
  name: 'ActivityOutcome',
  description: 'What became of a recorded activity.',
  valuesConfig: {
    CREDITED: { description: "Its type's points were credited." },
    CAPPED_DAY: { description: "The member had as many credited as capPerDay on that local day (the programme's time zone)." },
    CAPPED_WEEK: { description: 'The member had as many credited as capPerWeek in that local Monday-to-Sunday week.' },
    CAPPED_LIFETIME: { description: 'The member had as many credited as capLifetime.' },
    TOO_SOON: { description: 'Another credited activity of the type is less than minGapMinutes away.' },
    NOT_ELIGIBLE: { description: "The member is not in the type's tiers or segment." },
    NO_POINTS: { description: 'The type gives 0 points: recorded only.' },
  },
});

/** A member's activity as a channel recorded it, with what it earned. Rows are never deleted; erasure clears attributes. */
@ObjectType('Activity', { description: 'Something a member did that the programme records (activities plugin).' })
@Entity({ tableName: 'activity_record' })
export class Activity {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => ID, { description: 'The member credited: the survivor when the member named was merged.' })
  @Property({ type: 'uuid' })
  memberId: string;

  @Property({ type: 'uuid' })
  activityTypeId: string;

  @Field(() => String, { description: "The activity type's code." })
  @Property({ type: 'string', length: 40 })
  type: string;

  @Field(() => ID, { nullable: true, description: 'The sales channel that recorded it; null when an admin did.' })
  @Property({ type: 'uuid', nullable: true })
  channelId: string | null = null;

  @Field(() => SalesChannelKind, { nullable: true })
  @Property({ type: 'string', length: 20, nullable: true })
  channelKind: SalesChannelKind | null = null;

  /** `<channel id or "admin">:<caller's idempotency key>`, unique: the guard of exactly-once. */
  @Property({ type: 'string', length: 200, unique: true })
  idempotencyKey: string;

  /** sha256 of the request as sent: a replay with another body is refused. */
  @Property({ type: 'string', length: 64 })
  bodyHash: string;

  @Field(() => DateTimeISOResolver, { description: 'When the member did it (the caller says; now by default).' })
  @Property({ type: 'timestamptz' })
  occurredAt: Date;

  @Field(() => DateTimeISOResolver, { description: 'When the API recorded it.' })
  @Property({ type: 'timestamptz' })
  recordedAt: Date;

  @Field(() => JSONObjectResolver, { description: 'What the caller sent with it (at most 4 KB of JSON, 4 levels deep); {} once the member is erased.' })
  @Property({ type: 'json' })
  attributes: Opt<Record<string, unknown>> = {};

  @Field(() => Int, { description: 'Points credited for it: the type\'s points when CREDITED, else 0.' })
  @Property({ type: 'integer' })
  points: Opt<number> = 0;

  @Field(() => ActivityOutcome)
  @Enum({ items: () => ActivityOutcome })
  outcome: Opt<ActivityOutcome> = ActivityOutcome.NO_POINTS;
}
