import { AdminRole, defineErrorCode, defineEventType } from '@loyalty/api/extension-api';

/** Ids and facts only: receivers look the rest up. */
export interface ChallengeCompletedPayload {
  memberId: string;
  challengeId: string;
  challengeCode: string;
  goal: number;
  progress: number;
  rewardKind: string;
  /** GRANTED, or REWARD_UNAVAILABLE when the catalogue could not give the reward. */
  rewardStatus: string;
  /** POINTS: the points; otherwise null. */
  points: number | null;
  /** What was given: the points lot, the redemption or the badge id. */
  rewardRef: string | null;
  completedAt: string;
}

export interface BadgeAwardedPayload {
  memberId: string;
  badgeId: string;
  badgeCode: string;
  challengeId: string;
  awardedAt: string;
}

export const ChallengeCompleted = defineEventType<ChallengeCompletedPayload>(
  'challenge.completed',
  'A member reached a challenge’s goal; recorded once per member and challenge, with what they were given (challenges plugin).',
);

export const BadgeAwarded = defineEventType<BadgeAwardedPayload>(
  'badge.awarded',
  'A member earned a badge they did not hold, by completing a challenge (challenges plugin).',
);

export const CHALLENGE_WINDOW_INVALID = defineErrorCode(
  'CHALLENGE_WINDOW_INVALID',
  'A challenge’s window must end after it starts and last at most 366 days (`extensions.startsAt`, `endsAt`); nothing was written.',
);

export const CHALLENGE_CODE_TAKEN = defineErrorCode('CHALLENGE_CODE_TAKEN', 'Another challenge has this code (`extensions.challengeCode`); codes are unique. Nothing was written.');

export const CHALLENGE_NOT_EDITABLE = defineErrorCode(
  'CHALLENGE_NOT_EDITABLE',
  'Members have progress in this challenge, so its goal, window start, audience, holdout, personalisation and reward are fixed; `extensions.fields` names what was asked. Name, description, end and isActive can still change.',
);

export const Permissions = {
  READ: 'challenges:read',
  MANAGE: 'challenges:manage',
} as const;

export const permissions = [
  { name: Permissions.READ, description: 'Read challenges and their results.', roles: [AdminRole.MARKETER, AdminRole.ANALYST] },
  { name: Permissions.MANAGE, description: 'Create and change challenges.', roles: [AdminRole.MARKETER] },
];
