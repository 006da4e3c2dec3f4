import { DAY_MS, localDayNumber, localWeekNumber, type FieldProblem } from '@loyalty/api/extension-api';
import { ChallengeRewardKind } from './challenge.entity';
import { ChallengeGoalKind, ChallengePersonalisation, isStreak, MAX_TARGET, MAX_WINDOW_DAYS } from './goals';

export const BOUNDS = {
  nameLength: 100,
  descriptionLength: 1000,
  points: 1_000_000,
  holdoutPercent: 50,
  lookbackWeeks: 52,
} as const;

export const CODE = /^[a-z][a-z0-9_]{1,39}$/;
export const ACTIVITY_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
const CURRENCY = /^[A-Z]{3}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

/** A challenge as stored, whole: what create gives, or an update laid over the stored challenge. */
export interface ChallengeSpec {
  code: string;
  name: string;
  description: string | null;
  goalKind: ChallengeGoalKind;
  target: number;
  activityType: string | null;
  currency: string;
  personalisation: ChallengePersonalisation;
  personalDelta: number;
  personalLookbackWeeks: number;
  audienceSegmentId: string | null;
  startsAt: Date;
  endsAt: Date;
  rewardKind: ChallengeRewardKind;
  rewardPoints: number | null;
  rewardId: string | null;
  badgeCode: string | null;
  badgeName: string | null;
  holdoutPercent: number;
  isActive: boolean;
}

/** The fields a challenge's members' progress depends on: fixed once someone has progress. */
export const FIXED_ONCE_JOINED = [
  'goalKind',
  'target',
  'activityType',
  'currency',
  'personalisation',
  'personalDelta',
  'personalLookbackWeeks',
  'audienceSegmentId',
  'startsAt',
  'rewardKind',
  'rewardPoints',
  'rewardId',
  'badgeCode',
  'badgeName',
  'holdoutPercent',
] as const satisfies ReadonlyArray<keyof ChallengeSpec>;

const isWhole = (n: number, min: number, max: number) => Number.isSafeInteger(n) && n >= min && n <= max;

/** Every problem of the spec's fields, each named by its input path; the window itself is `windowProblem`'s. */
export function fieldProblems(s: ChallengeSpec, timeZone: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const bad = (path: string, message: string) => problems.push({ path: `input.${path}`, message });

  if (!CODE.test(s.code)) bad('code', 'must be lower snake case (a-z, 0-9, _), starting with a letter, 2 to 40 characters');
  if (s.name.length === 0 || s.name.length > BOUNDS.nameLength) bad('name', `must be 1 to ${BOUNDS.nameLength} characters`);
  if (s.description !== null && s.description.length > BOUNDS.descriptionLength) bad('description', `must be at most ${BOUNDS.descriptionLength} characters`);
  const max = MAX_TARGET[s.goalKind];
  if (!isWhole(s.target, 1, max)) bad('target', `must be a whole number from 1 to ${max} for ${s.goalKind}`);
  else if (isStreak(s.goalKind) && s.endsAt > s.startsAt) {
    const last = new Date(s.endsAt.getTime() - 1);
    const fits =
      s.goalKind === ChallengeGoalKind.STREAK_DAYS
        ? localDayNumber(last, timeZone) - localDayNumber(s.startsAt, timeZone) + 1
        : localWeekNumber(last, timeZone) - localWeekNumber(s.startsAt, timeZone) + 1;
    if (s.target > fits) bad('target', `a streak of ${s.target} cannot fit in the window, which touches ${fits} ${s.goalKind === ChallengeGoalKind.STREAK_DAYS ? 'days' : 'weeks'} (${timeZone})`);
  }

  if (s.goalKind === ChallengeGoalKind.ACTIVITY_COUNT && s.activityType === null) bad('activityType', 'is required for ACTIVITY_COUNT');
  else if (s.activityType !== null && s.goalKind !== ChallengeGoalKind.ACTIVITY_COUNT && !isStreak(s.goalKind)) bad('activityType', `is only for ACTIVITY_COUNT and streaks, not ${s.goalKind}`);
  else if (s.activityType !== null && !ACTIVITY_TYPE.test(s.activityType)) bad('activityType', 'must be an activity type code: lower snake case, at most 64 characters');
  if (!CURRENCY.test(s.currency)) bad('currency', 'must be an ISO 4217 code such as GBP');

  if (s.personalisation === ChallengePersonalisation.PERSONAL_PLUS) {
    if (s.goalKind !== ChallengeGoalKind.ORDER_COUNT && s.goalKind !== ChallengeGoalKind.SPEND) bad('personalisation', 'PERSONAL_PLUS scales ORDER_COUNT and SPEND goals only');
    if (!isWhole(s.personalDelta, 0, max)) bad('personalDelta', `must be a whole number from 0 to ${max}`);
    if (!isWhole(s.personalLookbackWeeks, 1, BOUNDS.lookbackWeeks)) bad('personalLookbackWeeks', `must be from 1 to ${BOUNDS.lookbackWeeks}`);
  } else if (s.personalDelta !== 0) bad('personalDelta', 'is only for PERSONAL_PLUS');
  if (s.audienceSegmentId !== null && !isUuid(s.audienceSegmentId)) bad('audienceSegmentId', 'must be a segment id');
  if (!isWhole(s.holdoutPercent, 0, BOUNDS.holdoutPercent)) bad('holdoutPercent', `must be a whole number from 0 to ${BOUNDS.holdoutPercent}`);

  const only = (field: 'points' | 'rewardId' | 'badgeCode' | 'badgeName', value: unknown, kind: ChallengeRewardKind) => {
    if (value !== null && s.rewardKind !== kind) bad(`reward.${field}`, `is only for ${kind} rewards`);
  };
  only('points', s.rewardPoints, ChallengeRewardKind.POINTS);
  only('rewardId', s.rewardId, ChallengeRewardKind.REWARD);
  only('badgeCode', s.badgeCode, ChallengeRewardKind.BADGE);
  only('badgeName', s.badgeName, ChallengeRewardKind.BADGE);
  switch (s.rewardKind) {
    case ChallengeRewardKind.POINTS:
      if (s.rewardPoints === null || !isWhole(s.rewardPoints, 1, BOUNDS.points)) bad('reward.points', `must be a whole number from 1 to ${BOUNDS.points}`);
      break;
    case ChallengeRewardKind.REWARD:
      if (s.rewardId === null || !isUuid(s.rewardId)) bad('reward.rewardId', 'must be a reward id');
      break;
    case ChallengeRewardKind.BADGE:
      if (s.badgeCode === null || !CODE.test(s.badgeCode)) bad('reward.badgeCode', 'must be lower snake case, 2 to 40 characters');
      if (s.badgeName === null || s.badgeName.length === 0 || s.badgeName.length > BOUNDS.nameLength) bad('reward.badgeName', `must be 1 to ${BOUNDS.nameLength} characters`);
      break;
  }
  return problems;
}

/** Why the window cannot be, or null: it must end after it starts, within MAX_WINDOW_DAYS. */
export function windowProblem(s: Pick<ChallengeSpec, 'startsAt' | 'endsAt'>): string | null {
  if (!(s.endsAt.getTime() > s.startsAt.getTime())) return 'endsAt must be after startsAt';
  if (s.endsAt.getTime() - s.startsAt.getTime() > MAX_WINDOW_DAYS * DAY_MS) return `the window must last at most ${MAX_WINDOW_DAYS} days`;
  return null;
}

/** Blank optional text is absent; names are trimmed. */
export const optionalText = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
};
