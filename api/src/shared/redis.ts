import { Redis } from 'ioredis';
import type { Logger } from './logger';

/** Fails fast rather than queueing commands while Redis is away, so callers can degrade. */
export function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  let warned = false;
  redis.on('error', (err) => {
    if (!warned) log.warn({ err: err.message }, 'redis.unavailable');
    warned = true;
  });
  redis.on('ready', () => {
    warned = false;
  });
  return redis;
}
