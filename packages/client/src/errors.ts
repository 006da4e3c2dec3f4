import type { ErrorCode } from './generated/error-codes';

/** Failures the client itself detects, when there is no GraphQL answer to read a code from. */
export type ClientErrorCode =
  /** fetch threw: the API could not be reached (DNS, refused connection, TLS, aborted). */
  | 'NETWORK_ERROR'
  /** The answer is not GraphQL JSON (a proxy's error page, an empty body) or has neither data nor errors. */
  | 'UNEXPECTED_RESPONSE';

/** One entry of a GraphQL response's `errors`. */
export interface GraphqlError {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/**
 * An operation that failed. `code` is the first error's `extensions.code` (see `errorCodes` for each meaning), or a
 * ClientErrorCode; `extensions` carries its details (`available` and `required` for INSUFFICIENT_POINTS, `reason` for
 * CONFLICT, `retryAfter` for RATE_LIMITED, ...).
 */
export class LoyaltyApiError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Every error of the response, the first one being this error's. */
  readonly errors: readonly GraphqlError[];
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** The API's x-request-id for this call: quote it when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    details: { extensions?: Record<string, unknown>; errors?: readonly GraphqlError[]; status?: number; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LoyaltyApiError';
    this.code = code;
    this.extensions = details.extensions ?? {};
    this.errors = details.errors ?? [];
    this.status = details.status;
    this.requestId = details.requestId;
  }
}
