import type { GraphQLError } from 'graphql';
import type { CombinedError } from 'urql';

/** The `extensions.code` values in api/src/base/errors.ts (exported to schema/error-codes.json). */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INSUFFICIENT_POINTS'
  | 'REWARD_UNAVAILABLE'
  | 'REWARD_OUT_OF_STOCK'
  | 'REWARD_LIMIT_REACHED'
  | 'VOUCHER_UNUSABLE'
  | 'CAMPAIGN_NOT_EDITABLE'
  | 'REFERRAL_NOT_ALLOWED'
  | 'EARNING_FAILED'
  | 'SERVICE_UNAVAILABLE'
  | 'QUERY_TOO_COMPLEX'
  | 'TOO_MANY_ROOT_FIELDS'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'PERSISTED_OPERATION_NOT_ALLOWED'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'INTERNAL_SERVER_ERROR'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'GRAPHQL_PARSE_FAILED'
  | 'BAD_REQUEST'
  // Declared by the activities plugin.
  | 'ACTIVITY_TYPE_UNKNOWN'
  | 'ACTIVITY_CHANNEL_NOT_ALLOWED'
  | 'ACTIVITY_ATTRIBUTES_TOO_LARGE'
  // Declared by the challenges plugin.
  | 'CHALLENGE_WINDOW_INVALID'
  | 'CHALLENGE_CODE_TAKEN'
  | 'CHALLENGE_NOT_EDITABLE';

export interface FieldError {
  path: string;
  message: string;
}

const messages = {
  BAD_USER_INPUT: 'Some of the values you entered are not valid.',
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'Your role does not allow this.',
  NOT_FOUND: 'That record no longer exists.',
  CONFLICT: 'Someone else changed this at the same time. Reload and try again.',
  INSUFFICIENT_POINTS: 'The member does not have enough available points.',
  REWARD_UNAVAILABLE: 'That reward cannot be redeemed now.',
  REWARD_OUT_OF_STOCK: 'That reward is out of stock.',
  REWARD_LIMIT_REACHED: 'The member already holds as many of that reward as it allows.',
  VOUCHER_UNUSABLE: 'That voucher cannot be used.',
  CAMPAIGN_NOT_EDITABLE: 'Only a draft campaign can be changed or launched, and an ended or cancelled one cannot be cancelled.',
  REFERRAL_NOT_ALLOWED: 'That referral code cannot be used for this member.',
  EARNING_FAILED: 'A plugin that credits points failed. Nothing was saved; try again once it is fixed.',
  SERVICE_UNAVAILABLE: 'A service the server needs is unavailable. Nothing was saved; try again shortly.',
  QUERY_TOO_COMPLEX: 'That request asks for too much at once. Narrow it down and try again.',
  TOO_MANY_ROOT_FIELDS: 'That request does too many things at once. Send them in smaller groups.',
  RATE_LIMITED: 'Too many requests or failed sign-ins. Wait a few minutes and try again.',
  PAYLOAD_TOO_LARGE: 'That request is too large. Send less at once.',
  PERSISTED_OPERATION_NOT_ALLOWED: 'The server does not allow this request. Reload the page.',
  PERSISTED_QUERY_NOT_FOUND: 'The server did not recognise this request. Reload the page.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on our side.',
  GRAPHQL_VALIDATION_FAILED: 'This page is out of date with the server. Reload the page.',
  GRAPHQL_PARSE_FAILED: 'This page is out of date with the server. Reload the page.',
  BAD_REQUEST: 'The server could not read that request. Reload the page and try again.',
  ACTIVITY_TYPE_UNKNOWN: 'That activity type does not exist or is switched off.',
  ACTIVITY_CHANNEL_NOT_ALLOWED: 'That sales channel may not record this type of activity.',
  ACTIVITY_ATTRIBUTES_TOO_LARGE: "The activity's attributes are too large or nested too deeply.",
  CHALLENGE_WINDOW_INVALID: 'The challenge must end after it starts, at most 366 days later.',
  CHALLENGE_CODE_TAKEN: 'Another challenge has that code. Choose another.',
  CHALLENGE_NOT_EDITABLE: 'Members already have progress in this challenge: only its name, description, end and whether it is active can change.',
} satisfies Record<ErrorCode, string>;

/** CONFLICT carries `extensions.reason` (schema/error-codes.json); the ones an admin page can run into. */
const conflictMessages = {
  IDEMPOTENCY_KEY_REUSED: 'This request was already sent with different values. Reload and try again.',
  MODEL_NOT_ACTIVATABLE: 'Only a rejected or retired version with complete scores can be activated.',
  MEMBER_ERASED: 'This member has been erased.',
  MEMBER_MERGED: 'This member was merged into another record.',
  EMAIL_TAKEN: 'That email address is already in use.',
  IDENTIFIER_TAKEN: 'That name or code is already in use. Choose another.',
  CAMPAIGN_TARGETS_NO_MEMBERS: 'The segment has no active members right now, so there is no one to launch to.',
  LAST_ADMIN: 'This would leave no active admin. Give another user the Admin role first.',
  API_KEY_REVOKED: 'This key is already revoked or expired.',
  IMPORT_RUNNING: 'Another import is running. Start this one when it has finished.',
  IMPORT_STATE: 'This import cannot do that now. Reload the page to see where it is.',
  POINTS_JOBS_RUNNING: 'The points jobs are running already. Their run is listed below; try again when it has finished.',
  REDEMPTION_NOT_CANCELLABLE: 'This voucher was used, cancelled or expired in the meantime, so its points cannot be returned.',
} as const;

const networkMessage = 'Cannot reach the server. Check your connection and try again.';

export function errorCodes(error: CombinedError | undefined): string[] {
  return error?.graphQLErrors.map(codeOf) ?? [];
}

export function hasErrorCode(error: CombinedError | undefined, code: ErrorCode): boolean {
  return errorCodes(error).includes(code);
}

/** Field messages keyed by the input field they belong to (`input.costPoints` → `costPoints`). */
export function fieldErrorMap(error: CombinedError | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { path, message } of fieldErrors(error)) {
    const key = path.replace(/^input\./, '');
    map[key] = map[key] ? `${map[key]}; ${message}` : message;
  }
  return map;
}

/** Field messages from BAD_USER_INPUT errors, with paths as dotted strings (e.g. `input.email`). */
export function fieldErrors(error: CombinedError | undefined): FieldError[] {
  return (error?.graphQLErrors ?? []).flatMap((e) => {
    const fields = codeOf(e) === 'BAD_USER_INPUT' ? e.extensions?.fields : undefined;
    return Array.isArray(fields) ? fields.flatMap(toFieldError) : [];
  });
}

/**
 * The text to show for a failed operation, keyed by the first error's `extensions.code`. `overrides` lets a page
 * say something more specific (the login page turns UNAUTHENTICATED into "Invalid email or password").
 */
export function errorMessage(
  error: CombinedError | undefined,
  overrides: Partial<Record<ErrorCode, string>> = {},
): string {
  if (!error) return '';
  const first = error.graphQLErrors[0];
  if (!first) return networkMessage;

  const code = codeOf(first);
  const requestId = first.extensions?.requestId;
  const requestIdNote = typeof requestId === 'string' ? ` Request id: ${requestId}.` : '';

  if (!isKnownCode(code)) return `Something went wrong (${code}).${requestIdNote}`;
  if (overrides[code]) return overrides[code];
  const reason = first.extensions?.reason;
  if (code === 'CONFLICT' && typeof reason === 'string' && Object.hasOwn(conflictMessages, reason)) {
    return conflictMessages[reason as keyof typeof conflictMessages];
  }
  if (code === 'INSUFFICIENT_POINTS' && typeof first.extensions?.available === 'number') {
    return `${messages[code]} Available: ${first.extensions.available}.`;
  }
  if (code === 'BAD_USER_INPUT') {
    const fields = fieldErrors(error);
    // The API's field messages read as a predicate ("must be an email address"), so lead with the field name.
    return fields.length ? fields.map((f) => `${f.path.split('.').pop()} ${f.message}`).join('; ') : messages[code];
  }
  return messages[code] + requestIdNote;
}

function codeOf(error: GraphQLError): string {
  return typeof error.extensions?.code === 'string' ? error.extensions.code : 'UNKNOWN';
}

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(messages, code);
}

// The contract doesn't pin `path` to a string or a list of segments, so accept both.
function toFieldError(value: unknown): FieldError[] {
  if (typeof value !== 'object' || value === null) return [];
  const { path, message } = value as { path?: unknown; message?: unknown };
  if (typeof message !== 'string') return [];
  if (typeof path === 'string') return [{ path, message }];
  if (Array.isArray(path)) return [{ path: path.join('.'), message }];
  return [];
}
