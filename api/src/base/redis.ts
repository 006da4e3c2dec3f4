import { Cluster, Redis } from 'ioredis';
import type { RedisNode } from '@loyalty/jobs';
import type { Logger } from './logger';

/** The API's shared client (rate limits, login throttle, readiness): one server, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Fails fast rather than queueing commands while Redis is away, so callers can degrade. */
export function createRedis(url: string, log: Logger, clusterNodes: readonly RedisNode[] | null = null): RedisClient {
  const redis = clusterNodes
    ? new Cluster(clusterNodes.map((n) => ({ ...n })), { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } })
    : new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  let warned = false;
  redis.on('error', (err: Error) => {
    if (!warned) log.warn({ err: err.message }, 'redis.unavailable');
    warned = true;
  });
  redis.on('ready', () => {
    warned = false;
  });
  return redis;
}
