import { randomBytes } from 'node:crypto';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createLogger } from '../../api/src/base/logger';
import { createRedis, type RedisClient } from '../../api/src/base/redis';
import { RequestRateLimiter, type RateLimitState } from '../../api/src/modules/security/rate-limits';
import type { Principal } from '../../api/src/modules/auth/principal';
import { redisUrl } from '../support/databases';

// A caller's concurrent requests share Redis increments (api/src/modules/security/rate-limits.ts); each must still get
// the count it would have had alone.
const BUDGET = 20;
let redis: RedisClient;
let prefix: string;

beforeAll(async () => {
  redis = createRedis(redisUrl, createLogger('silent'));
  await new Promise((resolve) => (redis.status === 'ready' ? resolve(null) : redis.once('ready', resolve)));
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = `test-batches-${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
});

const limiter = () =>
  new RequestRateLimiter(
    redis,
    { RATE_LIMIT_WINDOW_SECONDS: 60, RATE_LIMIT_API_KEY_REQUESTS: BUDGET, RATE_LIMIT_ADMIN_REQUESTS: BUDGET, RATE_LIMIT_KEY_PREFIX: prefix },
    createLogger('silent'),
  );
const apiKey = (apiKeyId: string) => ({ kind: 'channel', apiKeyId }) as unknown as Principal;

describe('request rate limits under concurrent requests', () => {
  it('admits exactly the budget, each with its own remaining count, in fewer Redis round trips than requests', async () => {
    const increments = jest.spyOn(RateLimiterRedis.prototype, 'consume');
    const limits = limiter();
    const states = (await Promise.all(Array.from({ length: 30 }, () => limits.consume(apiKey('till'))))) as RateLimitState[];
    const admitted = states.filter((s) => !s.isLimited);
    expect(admitted).toHaveLength(BUDGET);
    // Remaining counts are 19 … 0, once each, in the order the requests arrived; the ten after them are refused.
    expect(states.slice(0, BUDGET).map((s) => s.remaining)).toEqual(Array.from({ length: BUDGET }, (_, i) => BUDGET - 1 - i));
    expect(states.slice(BUDGET).every((s) => s.isLimited && s.remaining === 0 && s.resetSeconds >= 1)).toBe(true);
    expect(Number(await redis.get(`${prefix}:apikey:till`))).toBe(30);
    expect(increments.mock.calls.length).toBeLessThan(30);
    expect(increments.mock.calls.length).toBeGreaterThanOrEqual(2);
    increments.mockRestore();
  });

  it('counts units of several sizes and keeps callers apart', async () => {
    const limits = limiter();
    const [a, b, c, other] = (await Promise.all([
      limits.consume(apiKey('pos'), 1),
      limits.consume(apiKey('pos'), 12),
      limits.consume(apiKey('pos'), 8),
      limits.consume(apiKey('web'), 3),
    ])) as RateLimitState[];
    // 1, then 13, then 21 > 20: the third is refused, as it would be one request at a time.
    expect([a.remaining, a.isLimited]).toEqual([19, false]);
    expect([b.remaining, b.isLimited]).toEqual([7, false]);
    expect([c.remaining, c.isLimited]).toEqual([0, true]);
    expect([other.remaining, other.isLimited]).toEqual([17, false]);
  });
});
