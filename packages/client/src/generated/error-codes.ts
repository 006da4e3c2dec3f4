/** Every `extensions.code` the API documents, with its meaning (from schema/error-codes.json). */
export const errorCodes = {
  BAD_USER_INPUT: "An argument is invalid; `extensions.fields` lists each bad field as { path, message }. A string with a control character other than tab, newline and carriage return, or an unpaired UTF-16 surrogate, is refused in any argument (HTTP 400, before anything runs).",
  UNAUTHENTICATED: "No valid credentials: missing, expired or revoked token or API key, or a failed login.",
  FORBIDDEN: "The caller is authenticated but its role or API-key scopes do not allow this field or mutation.",
  NOT_FOUND: "The referenced record does not exist; `extensions.entity` names its type.",
  CONFLICT: "The request contradicts stored state; `extensions.reason` says how (IDENTIFIER_TAKEN, MEMBER_ERASED, MEMBER_MERGED, SAME_MEMBER, EMAIL_TAKEN, API_KEY_REVOKED, IDEMPOTENCY_KEY_REUSED, ORDER_ALREADY_CLAIMED, ORDER_FULLY_RETURNED, REDEMPTION_NOT_CANCELLABLE, MODEL_NOT_ACTIVATABLE, ORDER_OF_ANOTHER_MEMBER, FEEDBACK_ALREADY_RECORDED, CAMPAIGN_TARGETS_NO_MEMBERS, POINTS_LIMIT_REACHED: the change would take the available, pending or lifetime points of the member beyond ±10^15, `extensions.limit`).",
  INSUFFICIENT_POINTS: "The member has fewer available points than the operation needs; `extensions.available` and `required` say how many.",
  REWARD_UNAVAILABLE: "The reward cannot be redeemed now; `extensions.reason` is INACTIVE, NOT_STARTED, ENDED, TIER_REQUIRED or UNKNOWN_KIND (a plugin that added its kind is no longer installed).",
  REWARD_OUT_OF_STOCK: "Every unit of the reward has been redeemed.",
  REWARD_LIMIT_REACHED: "The member already holds as many redemptions of this reward as it allows.",
  REFERRAL_NOT_ALLOWED: "The referral code cannot be used by this member; `extensions.reason` is SELF_REFERRAL, SAME_IDENTIFIER, CIRCULAR, REFERRER_INACTIVE, ALREADY_REFERRED or ALREADY_ORDERED.",
  VOUCHER_UNUSABLE: "The voucher cannot be used; `extensions.reason` is CONSUMED, CANCELLED, EXPIRED or OTHER_MEMBER.",
  CAMPAIGN_NOT_EDITABLE: "The campaign's status does not allow this: update and launch need a DRAFT, cancel one not ENDED or CANCELLED; `extensions.status` is the status now.",
  EARNING_FAILED: "An earning contributor a plugin added failed while crediting (a bug of the plugin, logged as earning.contributor_failed); the whole write was rolled back: no order, return, points or plugin rows; `extensions.contributor` names it. A retry with the same idempotency key is safe once the plugin is fixed or removed. The importer stops at that batch (nothing of it written); a re-run resumes it.",
  SERVICE_UNAVAILABLE: "A dependency the operation needs (`extensions.dependency`: redis for the job queue, database for PostgreSQL) is unreachable; retry later. A write is not applied, or if the connection broke during its commit, a retry with the same idempotency key returns what was applied.",
  QUERY_TOO_COMPLEX: "The operation exceeds the complexity budget; ask for fewer items or fields.",
  TOO_MANY_ROOT_FIELDS: "The operation has more root fields (aliases included) than one request may run; HTTP 400, nothing runs, `extensions.rootFields` and `limit` say how many. Each root field counts as one request against the rate limit.",
  RATE_LIMITED: "Too many requests from this API key or admin user, or too many failed logins (for this email from this address, for this email from any address, or from this address for any email); HTTP 429, `extensions.retryAfter` (and the Retry-After header) says how many seconds to wait.",
  PAYLOAD_TOO_LARGE: "The request body is larger than GRAPHQL_MAX_BODY_BYTES; HTTP 413, `extensions.limitBytes` gives the limit.",
  PERSISTED_OPERATION_NOT_ALLOWED: "This caller may only run allow-listed operations (PERSISTED_OPERATIONS) and this one is not on the list, or its hash does not match its text.",
  GRAPHQL_VALIDATION_FAILED: "The operation is not valid against the schema (includes exceeding the depth limit).",
  GRAPHQL_PARSE_FAILED: "The operation text is not valid GraphQL, or has more than GRAPHQL_MAX_TOKENS tokens.",
  BAD_REQUEST: "The HTTP request is malformed (e.g. a body that is not JSON, no query, an operationName the document lacks, or a GET that the CSRF guard refuses).",
  INTERNAL_SERVER_ERROR: "An unexpected failure; nothing was written. The message is always \"Internal server error\" (never SQL, values or a stack trace); `extensions.requestId` identifies it in the logs.",
} as const;

export type ErrorCode = keyof typeof errorCodes;
