import { createHash } from 'node:crypto';
import type { RedisClient } from '../shared/redis';
import { RateLimiterRes, type RateLimiterRedis } from 'rate-limiter-flexible';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { AppError } from '../shared/errors';
import { insuredLimiter, redisFallbackWarner } from '../security/rate-limits';

export type LoginThrottleConfig = Pick<
  Config,
  'LOGIN_MAX_FAILURES' | 'LOGIN_LOCKOUT_SECONDS' | 'LOGIN_MAX_FAILURES_PER_IP' | 'RATE_LIMIT_KEY_PREFIX'
>;

const DAY_SECONDS = 86_400;

/**
 * Locks an email and client IP pair out for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES failed logins within that
 * period; a successful login clears that count. Separately, an IP with LOGIN_MAX_FAILURES_PER_IP failures in a day,
 * whatever the emails, is locked out for a day (password spraying); a success does not clear that one.
 * Keys are hashed so Redis never holds an email address.
 */
export class LoginThrottle {
  private readonly pairs: RateLimiterRedis;
  private readonly addresses: RateLimiterRedis;
  private readonly warnIfDegraded: () => void;

  constructor(redis: RedisClient, private readonly config: LoginThrottleConfig, log: Logger) {
    const prefix = config.RATE_LIMIT_KEY_PREFIX;
    this.pairs = insuredLimiter(redis, `${prefix}:login`, config.LOGIN_MAX_FAILURES, config.LOGIN_LOCKOUT_SECONDS);
    this.addresses = insuredLimiter(redis, `${prefix}:login-ip`, config.LOGIN_MAX_FAILURES_PER_IP, DAY_SECONDS);
    this.warnIfDegraded = redisFallbackWarner(redis, log, 'login_throttle');
  }

  /** Throws RATE_LIMITED while the pair or the address is locked out. */
  async assertAllowed(email: string, clientIp: string): Promise<void> {
    this.warnIfDegraded();
    const [pair, address] = await Promise.all([this.pairs.get(pairKey(email, clientIp)), this.addresses.get(addressKey(clientIp))]);
    for (const [res, limiter] of [[pair, this.pairs], [address, this.addresses]] as const) {
      if (res && res.consumedPoints >= limiter.points) throw lockedOut(res.msBeforeNext);
    }
  }

  /** Counts a failure against both; the failure that reaches a limit starts that limit's full lockout period. */
  async recordFailure(email: string, clientIp: string): Promise<void> {
    await Promise.all([
      countFailure(this.pairs, pairKey(email, clientIp), this.config.LOGIN_LOCKOUT_SECONDS),
      countFailure(this.addresses, addressKey(clientIp), DAY_SECONDS),
    ]);
  }

  async recordSuccess(email: string, clientIp: string): Promise<void> {
    await this.pairs.delete(pairKey(email, clientIp));
  }
}

async function countFailure(limiter: RateLimiterRedis, key: string, lockoutSeconds: number): Promise<void> {
  let consumed: number;
  try {
    consumed = (await limiter.consume(key)).consumedPoints;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    consumed = rejection.consumedPoints;
  }
  if (consumed >= limiter.points) await limiter.block(key, lockoutSeconds);
}

const hash = (text: string) => createHash('sha256').update(text).digest('base64url');
const pairKey = (email: string, clientIp: string) => hash(`${email.trim().toLowerCase()}\n${clientIp}`);
const addressKey = (clientIp: string) => hash(clientIp);

function lockedOut(msBeforeNext: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', 'Too many failed logins; try again later', {
    retryAfter,
    http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
  });
}
