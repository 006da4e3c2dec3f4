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

/** A request waiting for its units to be counted. */
interface Waiting {
  units: number;
  settle: (state: RateLimitState) => void;
  fail: (err: unknown) => void;
}

/**
 * Per-caller request budgets: one per API key and one per admin user, over a fixed window.
 *
 * The count is the same as one Redis increment per request, but a caller's concurrent requests share round trips:
 * while a caller's increment is in flight, its next requests wait and are then counted by one increment of their sum
 * (a till with many lanes on one key sends many at once; each round trip cost about 8 % of a member lookup's CPU).
 * The increment is atomic, so the total it returns gives each request of the batch, in arrival order, the count it
 * would have had alone: the same `RateLimit-Remaining`, and the same requests refused, as one at a time.
 */
export class RequestRateLimiter {
  private readonly apiKeys: RateLimiterRedis | null;
  private readonly admins: RateLimiterRedis | null;
  private readonly warnIfDegraded: () => void;
  /** Per limiter key with an increment in flight: the requests that arrived since, for the next increment. */
  private readonly queued = new Map<string, Waiting[]>();

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
    return new Promise((settle, fail) => {
      const waiting = { units, settle, fail };
      const slot = `${principal.kind}:${key}`;
      const queue = this.queued.get(slot);
      if (queue) queue.push(waiting);
      else this.increment(limiter, key, slot, [waiting]);
    });
  }

  private increment(limiter: RateLimiterRedis, key: string, slot: string, batch: Waiting[]): void {
    this.queued.set(slot, []);
    const total = batch.reduce((sum, w) => sum + w.units, 0);
    limiter
      .consume(key, total)
      .then(
        (res) => settleBatch(limiter.points, res, batch),
        (rejection) => (rejection instanceof RateLimiterRes ? settleBatch(limiter.points, rejection, batch) : batch.forEach((w) => w.fail(rejection))),
      )
      .finally(() => {
        const next = this.queued.get(slot)!;
        if (next.length) this.increment(limiter, key, slot, next);
        else this.queued.delete(slot);
      });
  }
}

/** Each request of a batch gets the count it would have had alone: the total less the units of those after it. */
function settleBatch(limit: number, res: RateLimiterRes, batch: Waiting[]): void {
  let consumed = res.consumedPoints;
  for (let i = batch.length - 1; i >= 0; i--) {
    const { units, settle } = batch[i];
    settle(toState(limit, consumed, res.msBeforeNext));
    consumed -= units;
  }
}

/** A request refused at `consumed` > `limit`, as rate-limiter-flexible refuses one (its blocks are not used here). */
function toState(limit: number, consumed: number, msBeforeNext: number): RateLimitState {
  return { limit, remaining: Math.max(limit - consumed, 0), resetSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), isLimited: consumed > limit };
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
