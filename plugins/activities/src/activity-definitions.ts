import { defineErrorCode, defineEventType } from '@loyalty/api/extension-api';

/** Limits of what a channel may send with an activity. */
export const MAX_ATTRIBUTES_BYTES = 4096;
export const MAX_ATTRIBUTES_DEPTH = 4;
/** How far from now occurredAt may be: a clock a little ahead, and history no older than this. */
export const MAX_FUTURE_MINUTES = 5;
export const MAX_AGE_DAYS = 90;

export const ActivityErrors = {
  TYPE_UNKNOWN: defineErrorCode('ACTIVITY_TYPE_UNKNOWN', 'recordActivity: no active activity type has this code (activityTypes lists them); nothing was written.'),
  CHANNEL_NOT_ALLOWED: defineErrorCode(
    'ACTIVITY_CHANNEL_NOT_ALLOWED',
    "recordActivity: the API key's channel kind is not among the activity type's channelKinds (`extensions.channelKind`, `allowed`); nothing was written.",
  ),
  ATTRIBUTES_TOO_LARGE: defineErrorCode(
    'ACTIVITY_ATTRIBUTES_TOO_LARGE',
    `recordActivity: attributes are over ${MAX_ATTRIBUTES_BYTES} bytes of JSON or nested deeper than ${MAX_ATTRIBUTES_DEPTH} levels (\`extensions.limitBytes\`, \`maxDepth\`); nothing was written.`,
  ),
};

/** Payload of `activity.recorded`: ids and facts only (the attributes stay in the activity). */
export interface ActivityRecordedPayload {
  memberId: string;
  activityId: string;
  type: string;
  points: number;
  /** An ActivityOutcome: CREDITED, or why not. */
  outcome: string;
  occurredAt: string;
}

export const ActivityRecorded = defineEventType<ActivityRecordedPayload>(
  'activity.recorded',
  'A member activity was recorded (activities plugin): its type, outcome and the points credited (a points.earned follows when credited).',
);
