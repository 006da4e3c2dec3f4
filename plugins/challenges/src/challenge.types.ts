import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { RateInterval, UpliftEstimate } from '@loyalty/api/extension-api';
import { ChallengeRewardKind } from './challenge.entity';
import { ChallengeGoalKind, ChallengePersonalisation, MAX_WINDOW_DAYS } from './goals';
import { BOUNDS } from './challenge-input';

@InputType({ description: 'POINTS needs points; REWARD a catalogue rewardId; BADGE a badgeCode and badgeName. Nothing else of another kind.' })
export class ChallengeRewardInput {
  @Field(() => ChallengeRewardKind)
  kind: ChallengeRewardKind;

  @Field(() => Int, { nullable: true, description: `POINTS: 1 to ${BOUNDS.points.toLocaleString('en-GB')}, available at once.` })
  points?: number | null;

  @Field(() => ID, { nullable: true, description: 'REWARD: granted for 0 points; when the catalogue cannot give it then, the completion is recorded as REWARD_UNAVAILABLE.' })
  rewardId?: string | null;

  @Field(() => String, { nullable: true, description: 'BADGE: lower snake case, 2 to 40 characters.' })
  badgeCode?: string | null;

  @Field(() => String, { nullable: true, description: 'BADGE: 1 to 100 characters.' })
  badgeName?: string | null;
}

@InputType({ description: 'A challenge; created inactive unless isActive is true (docs/concepts/challenges.md).' })
export class CreateChallengeInput {
  @Field(() => String, { description: 'Lower snake case, 2 to 40 characters; unique.' })
  code: string;

  @Field(() => String, { description: '1 to 100 characters.' })
  name: string;

  @Field(() => String, { nullable: true, description: 'At most 1000 characters.' })
  description?: string | null;

  @Field(() => ChallengeGoalKind)
  goalKind: ChallengeGoalKind;

  @Field(() => Float, { description: 'A whole number from 1: at most 1000 orders or activities, 10^12 minor units, 100 categories, 366 days, 53 weeks (and what the window holds).' })
  target: number;

  @Field(() => String, { nullable: true, description: 'ACTIVITY_COUNT (required) and streaks (optional): an activity type code, lower snake case.' })
  activityType?: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217; default the programme’s point value currency.' })
  currency?: string | null;

  @Field(() => ChallengePersonalisation, { nullable: true, defaultValue: ChallengePersonalisation.NONE })
  personalisation?: ChallengePersonalisation | null;

  @Field(() => Float, { nullable: true, description: 'PERSONAL_PLUS: added to the member’s usual (whole number, 0 to the kind’s largest target).' })
  personalDelta?: number | null;

  @Field(() => Int, { nullable: true, description: 'PERSONAL_PLUS: 1 to 52 weeks of history before the start (default 8).' })
  personalLookbackWeeks?: number | null;

  @Field(() => ID, { nullable: true, description: 'A saved segment; omitted or null: everyone.' })
  audienceSegmentId?: string | null;

  @Field(() => DateTimeISOResolver)
  startsAt: Date;

  @Field(() => DateTimeISOResolver, { description: `Exclusive; after startsAt, at most ${MAX_WINDOW_DAYS} days later (CHALLENGE_WINDOW_INVALID).` })
  endsAt: Date;

  @Field(() => ChallengeRewardInput)
  reward: ChallengeRewardInput;

  @Field(() => Int, { nullable: true, defaultValue: 0, description: 'Percent of the audience held out, 0 to 50.' })
  holdoutPercent?: number | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  isActive?: boolean | null;
}

@InputType({
  description:
    'Changes the given fields. Once members have progress only name, description, endsAt and isActive may change (CHALLENGE_NOT_EDITABLE). audienceSegmentId: null means everyone; omitted leaves it.',
})
export class UpdateChallengeInput {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ChallengeGoalKind, { nullable: true })
  goalKind?: ChallengeGoalKind | null;

  @Field(() => Float, { nullable: true })
  target?: number | null;

  @Field(() => String, { nullable: true })
  activityType?: string | null;

  @Field(() => String, { nullable: true })
  currency?: string | null;

  @Field(() => ChallengePersonalisation, { nullable: true })
  personalisation?: ChallengePersonalisation | null;

  @Field(() => Float, { nullable: true })
  personalDelta?: number | null;

  @Field(() => Int, { nullable: true })
  personalLookbackWeeks?: number | null;

  @Field(() => ID, { nullable: true })
  audienceSegmentId?: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  startsAt?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  endsAt?: Date | null;

  @Field(() => ChallengeRewardInput, { nullable: true })
  reward?: ChallengeRewardInput | null;

  @Field(() => Int, { nullable: true })
  holdoutPercent?: number | null;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean | null;
}

@ObjectType('ChallengeResults', {
  description:
    'Participants and completions, and spend in the window of the audience’s members against the holdout’s (docs/concepts/challenges.md). Holdout members are tracked, never rewarded.',
})
export class ChallengeResults {
  @Field(() => Int, { description: 'Members (not held out) with a qualifying event in the window.' })
  joined: number;

  @Field(() => Int)
  completed: number;

  @Field(() => Float, { nullable: true, description: 'completed / joined; null before anyone joined.' })
  completionRate: number | null;

  @Field(() => RateInterval, { nullable: true, description: 'completionRate’s 95% interval (Wilson score, over the members who joined); null before anyone joined.' })
  completionRateInterval: RateInterval | null;

  @Field(() => Int, { description: 'Held-out members with a qualifying event in the window.' })
  holdoutMembers: number;

  @Field(() => Int, { description: 'Members in the audience now (everyone active, or the segment), holdout included.' })
  audienceMembers: number;

  @Field(() => Int, { description: 'Of them, in the holdout.' })
  audienceHoldoutMembers: number;

  @Field(() => String)
  currency: string;

  @Field(() => Float, { description: 'Net spend in the window of participants (not held out), minor units of currency.' })
  participantSpendMinor: number;

  @Field(() => Float, { description: 'Net spend in the window of held-out members.' })
  holdoutSpendMinor: number;

  @Field(() => Float, { nullable: true, description: 'participantSpendMinor per audience member not held out; null when there is none.' })
  spendPerMemberMinor: number | null;

  @Field(() => Float, { nullable: true, description: 'holdoutSpendMinor per held-out audience member; null without a holdout.' })
  holdoutSpendPerMemberMinor: number | null;

  @Field(() => Float, { nullable: true, description: 'spendPerMemberMinor − holdoutSpendPerMemberMinor: spend the challenge added per member; null without a holdout.' })
  incrementalSpendPerMemberMinor: number | null;

  @Field(() => UpliftEstimate, {
    nullable: true,
    description:
      'incrementalSpendPerMemberMinor with its 95% interval (Welch’s t over each group’s audience members, those without spend counting as 0), in fractional minor units; null when a group has under 2 members, no member spent differently from their group, or more members have progress than the audience holds now.',
  })
  spendPerMemberUplift: UpliftEstimate | null;

  @Field(() => Boolean, { description: 'Spend per member differs from the holdout’s at the 95% level (spendPerMemberUplift excludes 0).' })
  significant: boolean;

  @Field(() => String, { description: 'A plain-language reading of the numbers, or why no uplift can be measured.' })
  verdict: string;

  @Field(() => Int, { description: 'Completions whose catalogue reward could not be granted (REWARD_UNAVAILABLE).' })
  rewardsUnavailable: number;
}
