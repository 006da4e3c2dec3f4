import { createHash } from 'node:crypto';
import type { RedisClient } from '../../base/redis';
import { RateLimiterRes, type RateLimiterRedis } from 'rate-limiter-flexible';
import type { Config } from '../../base/config';
import type { Logger } from '../../base/logger';
import { AppError } from '../../base/errors';
import { insuredLimiter, redisFallbackWarner } from '../security/rate-limits';

export type LoginThrottleConfig = Pick<
  Config,
  'LOGIN_MAX_FAILURES' | 'LOGIN_LOCKOUT_SECONDS' | 'LOGIN_MAX_FAILURES_PER_EMAIL' | 'LOGIN_MAX_FAILURES_PER_IP' | 'RATE_LIMIT_KEY_PREFIX'
>;

const DAY_SECONDS = 86_400;

/** One counter a login attempt must get a point from, and how long its lockout lasts once its last point is failed. */
interface Counter {
  limiter: RateLimiterRedis;
  key: string;
  lockoutSeconds: number;
}

/** A login attempt that holds its points: the caller checks the password, then says how it went. */
export interface LoginAttempt {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

/**
 * Every login attempt takes a point from three counters BEFORE its password is checked. Redis counts atomically, so
 * however many attempts run in parallel, no more passwords are checked than a counter has points:
 * - the email and client IP pair: LOGIN_MAX_FAILURES per LOGIN_LOCKOUT_SECONDS (guessing one account from one address);
 * - the email from any address: LOGIN_MAX_FAILURES_PER_EMAIL per LOGIN_LOCKOUT_SECONDS (credential stuffing against one
 *   account from many addresses);
 * - the client IP over any emails: LOGIN_MAX_FAILURES_PER_IP per day (password spraying).
 * A failure that spends a counter's last point locks that counter out for its full period. A success clears the pair's
 * count and gives back its own point to the other two. Keys are hashed so Redis never holds an email address.
 */
export class LoginThrottle {
  private readonly pairs: RateLimiterRedis;
  private readonly emails: RateLimiterRedis;
  private readonly addresses: RateLimiterRedis;
  private readonly warnIfDegraded: () => void;

  constructor(redis: RedisClient, private readonly config: LoginThrottleConfig, log: Logger) {
    const prefix = config.RATE_LIMIT_KEY_PREFIX;
    this.pairs = insuredLimiter(redis, `${prefix}:login`, config.LOGIN_MAX_FAILURES, config.LOGIN_LOCKOUT_SECONDS);
    this.emails = insuredLimiter(redis, `${prefix}:login-email`, config.LOGIN_MAX_FAILURES_PER_EMAIL, config.LOGIN_LOCKOUT_SECONDS);
    this.addresses = insuredLimiter(redis, `${prefix}:login-ip`, config.LOGIN_MAX_FAILURES_PER_IP, DAY_SECONDS);
    this.warnIfDegraded = redisFallbackWarner(redis, log, 'login_throttle');
  }

  /** Takes a point from each counter, or throws RATE_LIMITED (giving back the points already taken) when one is spent. */
  async attempt(email: string, clientIp: string): Promise<LoginAttempt> {
    this.warnIfDegraded();
    const normalised = email.trim().toLowerCase();
    const lockout = this.config.LOGIN_LOCKOUT_SECONDS;
    const counters: Counter[] = [
      { limiter: this.pairs, key: hash(`${normalised}\n${clientIp}`), lockoutSeconds: lockout },
      { limiter: this.emails, key: hash(normalised), lockoutSeconds: lockout },
      { limiter: this.addresses, key: hash(clientIp), lockoutSeconds: DAY_SECONDS },
    ];
    const held: Array<{ counter: Counter; isLastPoint: boolean }> = [];
    for (const counter of counters) {
      try {
        const res = await counter.limiter.consume(counter.key);
        held.push({ counter, isLastPoint: res.consumedPoints >= counter.limiter.points });
      } catch (rejection) {
        // A refused attempt checks no password, so it costs the other counters nothing.
        await Promise.all(held.map(({ counter: c }) => c.limiter.reward(c.key)));
        if (rejection instanceof RateLimiterRes) throw lockedOut(rejection.msBeforeNext);
        throw rejection;
      }
    }
    const [pair, ...others] = held.map(({ counter }) => counter);
    return {
      failed: async () => {
        await Promise.all(held.filter((h) => h.isLastPoint).map(({ counter: c }) => c.limiter.block(c.key, c.lockoutSeconds)));
      },
      succeeded: async () => {
        await Promise.all([pair.limiter.delete(pair.key), ...others.map((c) => c.limiter.reward(c.key))]);
      },
    };
  }
}

const hash = (text: string) => createHash('sha256').update(text).digest('base64url');

function lockedOut(msBeforeNext: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', 'Too many failed logins; try again later', {
    retryAfter,
    http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
  });
}
