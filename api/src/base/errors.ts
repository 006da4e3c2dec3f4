import { UniqueConstraintViolationException } from '@mikro-orm/core';

/**
 * Every `extensions.code` the API returns, with its meaning. `npm run schema` exports this list to
 * schema/error-codes.json; the admin app keys its messages on it.
 */
export const errorCodes = {
  BAD_USER_INPUT:
    'An argument is invalid; `extensions.fields` lists each problem as { path, message } (path `input.email`, say); a variable of the wrong type, missing or null is named too: `input`, `input.scopes[0]`, or `input.z` for a field its input type lacks or requires. Checked before anything runs (HTTP 400), fragments included: every id is a UUID (except modelJob\'s, the queue\'s job number), and a malformed one is `must be an id` on its argument or input field; a string with a control character other than tab, newline and carriage return, or an unpaired UTF-16 surrogate, is refused on its path. Money, quantities and points are bounded (docs/reference/input-bounds.md), and every DateTimeISO to years 0001–9999.',
  UNAUTHENTICATED: 'No valid credentials: missing, expired or revoked token or API key, or a failed login.',
  FORBIDDEN: 'The caller is authenticated but its role or API-key scopes do not allow this field or mutation.',
  NOT_FOUND: 'The referenced record does not exist; `extensions.entity` names its type.',
  CONFLICT:
    'The request contradicts stored state; `extensions.reason` says how: IDENTIFIER_TAKEN (with `field`, and `memberId` for callers who may read members), MEMBER_ERASED, MEMBER_MERGED (with `survivorId`), SAME_MEMBER, EMAIL_TAKEN, API_KEY_REVOKED, IDEMPOTENCY_KEY_REUSED (a replay with different contents), ORDER_ALREADY_CLAIMED, ORDER_FULLY_RETURNED, REDEMPTION_NOT_CANCELLABLE, MODEL_NOT_ACTIVATABLE (a version still training or failed), ORDER_OF_ANOTHER_MEMBER (feedback about an order that is not the member\'s), FEEDBACK_ALREADY_RECORDED (the order has an answer of that kind; with `feedbackId`), CAMPAIGN_TARGETS_NO_MEMBERS (a campaign launched at a segment with no active members), LAST_ADMIN (the change would leave no active ADMIN user), IMPORT_RUNNING (another import is running in this API process), IMPORT_STATE (the import\'s `extensions.state` does not allow this), POINTS_LIMIT_REACHED (the change would take the available, pending or lifetime points of the member beyond ±10^15; `extensions.limit`), POINTS_JOBS_RUNNING (another run of the points jobs is under way, from any process; with `runId` when it is recorded).',
  INSUFFICIENT_POINTS: 'The member has fewer available points than the operation needs; `extensions.available` and `required` say how many.',
  REWARD_UNAVAILABLE:
    'The reward cannot be redeemed now; `extensions.reason` is INACTIVE, NOT_STARTED, ENDED, TIER_REQUIRED or UNKNOWN_KIND (a plugin that added its kind is no longer installed).',
  REWARD_OUT_OF_STOCK: 'Every unit of the reward has been redeemed.',
  REWARD_LIMIT_REACHED: 'The member already holds as many redemptions of this reward as it allows.',
  REFERRAL_NOT_ALLOWED:
    'The referral code cannot be used by this member; `extensions.reason` is SELF_REFERRAL, SAME_IDENTIFIER, CIRCULAR, REFERRER_INACTIVE, ALREADY_REFERRED or ALREADY_ORDERED.',
  VOUCHER_UNUSABLE:
    'The voucher cannot be used; `extensions.reason` is CONSUMED, CANCELLED, EXPIRED or OTHER_MEMBER.',
  CAMPAIGN_NOT_EDITABLE:
    "The campaign's status does not allow this: update and launch need a DRAFT, cancel one not ENDED or CANCELLED; `extensions.status` is the status now.",
  EARNING_FAILED:
    "An earning contributor a plugin added failed while crediting (a bug of the plugin, logged as earning.contributor_failed); the whole write was rolled back: no order, return, points or plugin rows; `extensions.contributor` names it. A retry with the same idempotency key is safe once the plugin is fixed or removed. The importer stops at that batch (nothing of it written); a re-run resumes it.",
  SERVICE_UNAVAILABLE:
    'A dependency the operation needs (`extensions.dependency`: redis for the job queue, database while PostgreSQL restarts or fails over) is unreachable; HTTP 503 when it failed before any resolver ran. Retry later: a write is not applied, or if the connection broke during its commit, a retry with the same idempotency key returns what was applied.',
  QUERY_TOO_COMPLEX: 'The operation exceeds the complexity budget (GRAPHQL_MAX_COMPLEXITY); ask for fewer items or fields.',
  TOO_MANY_ROOT_FIELDS:
    'The operation has more root fields (aliases included) than one request may run; HTTP 400, nothing runs, `extensions.rootFields` and `limit` say how many. Each root field counts as one request against the rate limit.',
  RATE_LIMITED:
    'Too many requests from this API key or admin user, or too many failed logins (for this email from this address, for this email from any address, or from this address for any email); HTTP 429, `extensions.retryAfter` (and the Retry-After header) says how many seconds to wait.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than GRAPHQL_MAX_BODY_BYTES; HTTP 413, `extensions.limitBytes` gives the limit.',
  PERSISTED_OPERATION_NOT_ALLOWED:
    'This caller may only run allow-listed operations (PERSISTED_OPERATIONS) and this one is not on the list, or its hash does not match its text; HTTP 400.',
  PERSISTED_QUERY_NOT_FOUND:
    "The request sent only a hash (`extensions.persistedQuery.sha256Hash`) that this API does not know: with PERSISTED_OPERATIONS=off there is no allow-list to look it up in. Send the operation's text; the storefront client does so by itself.",
  GRAPHQL_VALIDATION_FAILED: 'The operation is not valid against the schema, or is nested deeper than GRAPHQL_MAX_DEPTH.',
  GRAPHQL_PARSE_FAILED: 'The operation text is not valid GraphQL, or has more than GRAPHQL_MAX_TOKENS tokens.',
  BAD_REQUEST: 'The HTTP request is malformed (e.g. a body that is not JSON, no query, an operationName the document lacks or several operations and none named, or a GET that the CSRF guard refuses: send POST).',
  INTERNAL_SERVER_ERROR:
    'An unexpected failure; nothing was written. The message is always "Internal server error" (never SQL, values or a stack trace); `extensions.requestId` identifies it in the logs.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** An error code a plugin declares (`defineErrorCode`), documented with the core's in schema/error-codes.json. */
export type DeclaredErrorCode = string & { readonly __declaredErrorCode: true };

/** A plugin's error code and what it means; list it in the plugin's `errorCodes`. */
export interface ErrorCodeDefinition {
  code: DeclaredErrorCode;
  description: string;
}

const DECLARED_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** Declares a plugin's error code (UPPER_SNAKE, not one of the core's); throw it as `new AppError(def.code, …)`. */
export function defineErrorCode(code: string, description: string): ErrorCodeDefinition {
  if (!DECLARED_CODE.test(code) || code.length > 64) throw new Error(`error code ${JSON.stringify(code)} must be UPPER_SNAKE_CASE, at most 64 characters`);
  if (code in errorCodes) throw new Error(`error code ${code} is the core's`);
  return { code: code as DeclaredErrorCode, description };
}

/** Socket errors, and PostgreSQL's shutdown (57P..) and connection (08...) classes: a restart or failover, not a bug. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
// knex completes a transaction early when its connection fails; a later query in it then reports it complete.
// node-postgres refuses a query on a client whose connection already failed or closed (a prepared statement sent on
// the transaction's connection after PostgreSQL went away).
const CONNECTION_MESSAGES =
  /ECONNREFUSED|Connection terminated|Connection ended unexpectedly|Timeout acquiring a connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Transaction query already complete|Client has encountered a connection error and is not queryable|Client was closed and is not queryable/i;

/** True when the error, or one it wraps, says the connection to PostgreSQL was refused or lost. */
export function isDatabaseUnreachable(err: unknown): boolean {
  type Wrapped = { code?: unknown; message?: unknown; cause?: unknown; previous?: unknown; originalError?: unknown };
  let e = err as Wrapped | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
    e = (e.originalError ?? e.previous ?? e.cause) as Wrapped | undefined;
  }
  return false;
}

export type ConflictReason =
  | 'IDENTIFIER_TAKEN'
  | 'MEMBER_ERASED'
  | 'MEMBER_MERGED'
  | 'SAME_MEMBER'
  | 'EMAIL_TAKEN'
  | 'API_KEY_REVOKED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'ORDER_ALREADY_CLAIMED'
  | 'ORDER_FULLY_RETURNED'
  | 'REDEMPTION_NOT_CANCELLABLE'
  | 'MODEL_NOT_ACTIVATABLE'
  | 'ORDER_OF_ANOTHER_MEMBER'
  | 'FEEDBACK_ALREADY_RECORDED'
  | 'CAMPAIGN_TARGETS_NO_MEMBERS'
  | 'LAST_ADMIN'
  | 'IMPORT_RUNNING'
  | 'IMPORT_STATE'
  | 'POINTS_LIMIT_REACHED'
  | 'POINTS_JOBS_RUNNING';

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * An expected failure of the platform's own, free of any transport: domain code throws it, and the GraphQL edge
 * (graphql/format-error.ts, app.ts) turns it into an error with `extensions.code`. graphql-js copies an original error's
 * `extensions` onto the GraphQL error it wraps it in, which is why the details live under that name.
 */
export class AppError extends Error {
  readonly code: ErrorCode | DeclaredErrorCode;
  readonly extensions: { code: ErrorCode | DeclaredErrorCode; [detail: string]: unknown };

  constructor(code: ErrorCode | DeclaredErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.extensions = { code, ...details };
  }

  static badInput(fields: FieldProblem[]): AppError {
    const summary = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
    return new AppError('BAD_USER_INPUT', `Invalid input: ${summary}`, { fields });
  }

  static notFound(entity: string, id?: string): AppError {
    return new AppError('NOT_FOUND', `${entity} not found`, { entity, ...(id ? { id } : {}) });
  }

  static conflict(reason: ConflictReason, message: string, details: Record<string, unknown> = {}): AppError {
    return new AppError('CONFLICT', message, { reason, ...details });
  }

  static unauthenticated(message = 'Authentication required'): AppError {
    return new AppError('UNAUTHENTICATED', message);
  }

  static forbidden(message = 'Not allowed for this caller'): AppError {
    return new AppError('FORBIDDEN', message);
  }

  /** The database is unreachable (restart, failover): retryable, and HTTP 503 when no resolver could run. */
  static databaseUnavailable(): AppError {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unreachable; try again shortly', { dependency: 'database', http: { status: 503 } });
  }
}

/** Runs a write whose real guard is a unique index, turning a violation into the caller's CONFLICT. */
export async function conflictOnDuplicate<T>(work: () => Promise<T>, conflict: () => AppError): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw conflict();
    throw err;
  }
}

/**
 * An upsert by a unique key (a code). Two creating the same new key at once: the second's insert fails on the index once
 * the first commits; run again, it finds the first's row and updates it, as if it had come after. A violation on the
 * second run (another key of the row, say) is the caller's CONFLICT.
 */
export async function upsertByKey<T>(work: () => Promise<T>, conflict: () => AppError): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
  return conflictOnDuplicate(work, conflict);
}
