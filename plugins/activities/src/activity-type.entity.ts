import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId, SalesChannelKind } from '@loyalty/api/extension-api';

/**
 * A kind of activity the programme credits (a review written, a store visit) and its earning rules. The code is the
 * type's identity for channels, segments and challenges, so it never changes once created.
 */
@ObjectType('ActivityType', { description: 'A kind of member activity the programme records and credits (activities plugin).' })
@Entity({ tableName: 'activity_type' })
export class ActivityType {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String, { description: 'lower_snake_case, unique, fixed once created (review_written, store_visit).' })
  @Property({ type: 'string', length: 40, unique: true })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  @Field(() => Int, { description: 'Points credited for each activity that passes the caps, gap and eligibility (0 records without crediting).' })
  @Property({ type: 'integer' })
  points: number;

  @Field(() => Int, { nullable: true, description: "Most activities credited per member in one of the programme's local days; null: no cap." })
  @Property({ type: 'integer', nullable: true })
  capPerDay: number | null = null;

  @Field(() => Int, { nullable: true, description: "Most credited per member in one local week (Monday to Sunday, the programme's time zone); null: no cap." })
  @Property({ type: 'integer', nullable: true })
  capPerWeek: number | null = null;

  @Field(() => Int, { nullable: true, description: 'Most credited per member ever; null: no cap.' })
  @Property({ type: 'integer', nullable: true })
  capLifetime: number | null = null;

  @Field(() => Int, { nullable: true, description: 'Least minutes between two credited activities of a member (by occurredAt); null: none.' })
  @Property({ type: 'integer', nullable: true })
  minGapMinutes: number | null = null;

  @Field(() => [String], { description: 'Tier codes whose members are credited; empty: every member.' })
  @Property({ type: 'text[]' })
  tierCodes: Opt<string[]> = [];

  @Field(() => ID, { nullable: true, description: 'A saved segment whose members are credited; null: everyone.' })
  @Property({ type: 'uuid', nullable: true })
  segmentId: string | null = null;

  @Field(() => [SalesChannelKind], { description: 'Kinds of channel that may record it; empty: every channel. Admins may always record.' })
  @Property({ type: 'text[]' })
  channelKinds: Opt<SalesChannelKind[]> = [];

  @Field(() => Boolean, { description: 'Inactive types are refused (ACTIVITY_TYPE_UNKNOWN); their activities stay.' })
  @Property({ type: 'boolean' })
  isActive: Opt<boolean> = true;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  updatedAt: Opt<Date> = new Date();

  /** Whether a channel of this kind may record it (admins, with no channel, always may). */
  admitsChannel(kind: SalesChannelKind | null): boolean {
    return kind === null || this.channelKinds.length === 0 || this.channelKinds.includes(kind);
  }
}
