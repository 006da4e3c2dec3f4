import type { RedisClient } from '../../base/redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../base/config';
import type { Logger } from '../../base/logger';
import type { Principal } from '../auth/principal';
import { AppError } from '../../base/errors';
import { MINUTE_MS } from '../../base/time';

export type RateLimitConfig = Pick<
  Config,
  'RATE_LIMIT_WINDOW_SECONDS' | 'RATE_LIMIT_API_KEY_REQUESTS' | 'RATE_LIMIT_ADMIN_REQUESTS' | 'RATE_LIMIT_KEY_PREFIX'
>;

export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  isLimited: boolean;
}

const REDIS_WARNING_EVERY_MS = MINUTE_MS;

/**
 * A Redis counter that falls back to a per-process counter with the same limit while Redis is unreachable:
 * limits keep holding on each replica rather than failing open or refusing every request.
 */
export function insuredLimiter(redis: RedisClient, keyPrefix: string, points: number, duration: number, blockDuration = 0) {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    blockDuration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration, blockDuration }),
  });
}

/** Warns at most once a minute that counters are per process, so a Redis outage shows in the logs without flooding them. */
export function redisFallbackWarner(redis: RedisClient, log: Logger, what: string): () => void {
  let lastWarnedAt = 0;
  return () => {
    if (redis.status === 'ready') return;
    const now = Date.now();
    if (now - lastWarnedAt < REDIS_WARNING_EVERY_MS) return;
    lastWarnedAt = now;
    log.warn({ what, redis: redis.status }, 'ratelimit.redis_unavailable_using_process_counters');
  };
}

/** Per-caller request budgets: one per API key and one per admin user, over a fixed window. */
export class RequestRateLimiter {
  private readonly apiKeys: RateLimiterRedis | null;
  private readonly admins: RateLimiterRedis | null;
  private readonly warnIfDegraded: () => void;

  constructor(redis: RedisClient, private readonly config: RateLimitConfig, log: Logger) {
    const window = config.RATE_LIMIT_WINDOW_SECONDS;
    const prefix = config.RATE_LIMIT_KEY_PREFIX;
    this.apiKeys =
      config.RATE_LIMIT_API_KEY_REQUESTS > 0 ? insuredLimiter(redis, `${prefix}:apikey`, config.RATE_LIMIT_API_KEY_REQUESTS, window) : null;
    this.admins =
      config.RATE_LIMIT_ADMIN_REQUESTS > 0 ? insuredLimiter(redis, `${prefix}:admin`, config.RATE_LIMIT_ADMIN_REQUESTS, window) : null;
    this.warnIfDegraded = redisFallbackWarner(redis, log, 'request_rate_limits');
  }

  /** Counts `units` requests against the caller's budget; null when the caller has no limit. */
  async consume(principal: Principal, units = 1): Promise<RateLimitState | null> {
    const [limiter, key] =
      principal.kind === 'admin' ? [this.admins, principal.adminId] : [this.apiKeys, principal.apiKeyId];
    if (!limiter) return null;
    this.warnIfDegraded();
    try {
      const res = await limiter.consume(key, units);
      return toState(limiter.points, res, false);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return toState(limiter.points, rejection, true);
      throw rejection;
    }
  }
}

function toState(limit: number, res: RateLimiterRes, isLimited: boolean): RateLimitState {
  return { limit, remaining: res.remainingPoints, resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)), isLimited };
}

/** The headers that tell a caller its budget, and when it is spent how long to wait. */
export function rateLimitHeaders(state: RateLimitState): Array<[string, string]> {
  return [
    ['ratelimit-limit', String(state.limit)],
    ['ratelimit-remaining', String(Math.max(0, state.remaining))],
    ['ratelimit-reset', String(state.resetSeconds)],
    ...(state.isLimited ? [['retry-after', String(state.resetSeconds)] as [string, string]] : []),
  ];
}

/** A request over its caller's budget: not run, HTTP 429. */
export function rateLimitedError(state: RateLimitState): AppError {
  return new AppError('RATE_LIMITED', 'Too many requests; retry after the given number of seconds', {
    retryAfter: state.resetSeconds,
    http: { status: 429 },
  });
}
