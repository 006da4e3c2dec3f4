import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '@loyalty/api/extension-api';
import { ChallengeGoalKind, ChallengePersonalisation } from './goals';

export enum ChallengeRewardKind {
  /** Points, available at once (ledger reason BONUS, source `challenge`). */
  POINTS = 'POINTS',
  /** A reward from the catalogue, granted for 0 points (a redemption with grantedBy `challenge:<code>`). */
  REWARD = 'REWARD',
  /** A badge (code and name) the member keeps; a member holds each badge once. */
  BADGE = 'BADGE',
}
registerEnumType(ChallengeRewardKind, { name: 'ChallengeRewardKind', description: 'What completing a challenge gives (challenges plugin).' });

/** Where a challenge stands now, from isActive and its window. */
export enum ChallengeStatus {
  /** Not active: built, or paused; no progress is counted. */
  DRAFT = 'DRAFT',
  SCHEDULED = 'SCHEDULED',
  RUNNING = 'RUNNING',
  ENDED = 'ENDED',
}
registerEnumType(ChallengeStatus, {
  name: 'ChallengeStatus',
  description: 'DRAFT: not active (nothing counts); SCHEDULED, RUNNING, ENDED: active, before, in and after its window.',
});

/** What became of a completion's reward. */
export enum ChallengeRewardStatus {
  GRANTED = 'GRANTED',
  /**
   * A REWARD the catalogue could not give when the member completed (inactive, out of its dates or stock, unknown):
   * the completion stands and `challenge.completed` says so; an admin grants a replacement by hand.
   */
  REWARD_UNAVAILABLE = 'REWARD_UNAVAILABLE',
}
registerEnumType(ChallengeRewardStatus, { name: 'ChallengeRewardStatus' });

@ObjectType({ description: 'A goal members reach within a window for a reward (challenges plugin).' })
@Entity({ tableName: 'challenge' })
export class Challenge {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @Field(() => String, { description: 'Unique, lower snake case; segment conditions name the challenge by it.' })
  @Property({ type: 'string', length: 40, unique: 'challenge_code_unique' })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 1000, nullable: true })
  description: string | null = null;

  @Field(() => ChallengeGoalKind)
  @Enum({ items: () => ChallengeGoalKind, type: 'string', length: 32 })
  goalKind: ChallengeGoalKind;

  @Field(() => Float, { description: 'Orders, minor units (SPEND), categories, activities, days or weeks; the floor of a personal goal.' })
  @Property({ type: new BigIntType('number') })
  target: number;

  @Field(() => String, { nullable: true, description: 'ACTIVITY_COUNT: the activity type counted; streaks: when set, only activities of it qualify (not orders).' })
  @Property({ type: 'string', length: 64, nullable: true })
  activityType: string | null = null;

  @Field(() => String, { description: 'Currency of SPEND goals and of the spend results (ISO 4217); orders in others are not counted as spend.' })
  @Property({ type: 'string', length: 3 })
  currency: string;

  @Field(() => ChallengePersonalisation)
  @Enum({ items: () => ChallengePersonalisation, type: 'string', length: 32 })
  personalisation: ChallengePersonalisation & Opt = ChallengePersonalisation.NONE;

  @Field(() => Float, { description: 'PERSONAL_PLUS: added to the member’s usual count or spend per window.' })
  @Property({ type: new BigIntType('number') })
  personalDelta: number & Opt = 0;

  @Field(() => Int, { description: 'PERSONAL_PLUS: weeks before the start that make a member’s usual.' })
  @Property({ type: 'integer' })
  personalLookbackWeeks: number & Opt = 8;

  @Field(() => ID, { nullable: true, description: 'A saved segment; null: everyone. Checked when a member first qualifies.' })
  @Property({ type: 'uuid', nullable: true })
  audienceSegmentId: string | null = null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  startsAt: Date;

  @Field(() => DateTimeISOResolver, { description: 'Exclusive.' })
  @Property({ type: 'timestamptz' })
  endsAt: Date;

  @Field(() => ChallengeRewardKind)
  @Enum({ items: () => ChallengeRewardKind, type: 'string', length: 16 })
  rewardKind: ChallengeRewardKind;

  @Field(() => Int, { nullable: true, description: 'POINTS: how many.' })
  @Property({ type: 'integer', nullable: true })
  rewardPoints: number | null = null;

  @Field(() => ID, { nullable: true, description: 'REWARD: the catalogue reward granted.' })
  @Property({ type: 'uuid', nullable: true })
  rewardId: string | null = null;

  @Field(() => String, { nullable: true, description: 'BADGE: its code (lower snake case).' })
  @Property({ type: 'string', length: 40, nullable: true })
  badgeCode: string | null = null;

  @Field(() => String, { nullable: true, description: 'BADGE: its name as members see it.' })
  @Property({ type: 'string', length: 100, nullable: true })
  badgeName: string | null = null;

  @Field(() => Int, { description: 'Percent of the audience held out (0 to 50): tracked for the results, never rewarded.' })
  @Property({ type: 'integer' })
  holdoutPercent: number & Opt = 0;

  @Field(() => Boolean, { description: 'Only active challenges count progress.' })
  @Property({ type: 'boolean' })
  isActive: boolean & Opt = false;

  @Property({ type: 'string', length: 120 })
  createdBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  createdAt: Date & Opt = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  updatedAt: Date & Opt = new Date();

  statusAt(now: Date): ChallengeStatus {
    if (!this.isActive) return ChallengeStatus.DRAFT;
    if (now < this.startsAt) return ChallengeStatus.SCHEDULED;
    return now < this.endsAt ? ChallengeStatus.RUNNING : ChallengeStatus.ENDED;
  }
}

@ObjectType('MemberChallenge', { description: 'A member’s progress in a challenge, from their first qualifying event in its window.' })
@Entity({ tableName: 'challenge_progress' })
export class ChallengeProgress {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Challenge, { ref: true, deleteRule: 'cascade' })
  challenge: Ref<Challenge>;

  @Field(() => ID)
  @Property({ type: 'uuid' })
  memberId: string;

  @Field(() => Float, { description: 'The member’s own goal, fixed when they joined (the target, or a personal goal).' })
  @Property({ type: new BigIntType('number') })
  goal: number;

  @Field(() => Float, { description: 'Towards the goal; a streak’s is its longest run in the window.' })
  @Property({ type: new BigIntType('number') })
  progress: number;

  @Property({ type: 'jsonb' })
  state: Record<string, unknown>;

  /** Net spend in the challenge's currency on orders placed in the window (results: participants against the holdout). */
  @Property({ type: new BigIntType('number') })
  spendMinor: number;

  @Property({ type: 'integer' })
  orders: number;

  @Property({ type: 'boolean' })
  isHoldout: boolean;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  joinedAt: Date;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Field(() => ChallengeRewardStatus, { nullable: true, description: 'Once completed.' })
  @Enum({ items: () => ChallengeRewardStatus, type: 'string', length: 24, nullable: true })
  rewardStatus: ChallengeRewardStatus | null;

  @Field(() => String, { nullable: true, description: 'What was given: the points lot, the redemption or the badge id.' })
  @Property({ type: 'string', length: 120, nullable: true })
  rewardRef: string | null;

  @Property({ type: 'timestamptz' })
  updatedAt: Date;
}

@ObjectType('MemberBadge', { description: 'A badge a member earned by completing a challenge (challenges plugin).' })
@Entity({ tableName: 'challenge_badge' })
export class ChallengeBadge {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @Field(() => ID)
  @Property({ type: 'uuid' })
  memberId: string;

  @Field(() => String)
  @Property({ type: 'string', length: 40 })
  code: string;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => ID, { nullable: true, description: 'The challenge that awarded it.' })
  @Property({ type: 'uuid', nullable: true })
  challengeId: string | null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'timestamptz' })
  awardedAt: Date;
}
