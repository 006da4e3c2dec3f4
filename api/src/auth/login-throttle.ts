import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterRedis } from 'rate-limiter-flexible';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { AppError } from '../shared/errors';
import { insuredLimiter, redisFallbackWarner } from '../security/rate-limits';

export type LoginThrottleConfig = Pick<Config, 'LOGIN_MAX_FAILURES' | 'LOGIN_LOCKOUT_SECONDS' | 'RATE_LIMIT_KEY_PREFIX'>;

/**
 * Locks an email and client IP pair out for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES failed logins within that
 * period. A successful login clears the count. Keys are hashed so Redis never holds an email address.
 */
export class LoginThrottle {
  private readonly failures: RateLimiterRedis;
  private readonly warnIfDegraded: () => void;
  private readonly lockoutSeconds: number;

  constructor(redis: Redis, config: LoginThrottleConfig, log: Logger) {
    this.failures = insuredLimiter(
      redis,
      `${config.RATE_LIMIT_KEY_PREFIX}:login`,
      config.LOGIN_MAX_FAILURES,
      config.LOGIN_LOCKOUT_SECONDS,
    );
    this.lockoutSeconds = config.LOGIN_LOCKOUT_SECONDS;
    this.warnIfDegraded = redisFallbackWarner(redis, log, 'login_throttle');
  }

  /** Throws RATE_LIMITED while the pair is locked out. */
  async assertAllowed(email: string, clientIp: string): Promise<void> {
    this.warnIfDegraded();
    const res = await this.failures.get(keyOf(email, clientIp));
    if (res && res.consumedPoints >= this.failures.points) throw lockedOut(res.msBeforeNext);
  }

  /** Counts a failure; the failure that reaches the limit starts a full lockout period. */
  async recordFailure(email: string, clientIp: string): Promise<void> {
    const key = keyOf(email, clientIp);
    let consumed: number;
    try {
      consumed = (await this.failures.consume(key)).consumedPoints;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      consumed = rejection.consumedPoints;
    }
    if (consumed >= this.failures.points) await this.failures.block(key, this.lockoutSeconds);
  }

  async recordSuccess(email: string, clientIp: string): Promise<void> {
    await this.failures.delete(keyOf(email, clientIp));
  }
}

function keyOf(email: string, clientIp: string): string {
  return createHash('sha256').update(`${email.trim().toLowerCase()}\n${clientIp}`).digest('base64url');
}

function lockedOut(msBeforeNext: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', 'Too many failed logins; try again later', {
    retryAfter,
    http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
  });
}
