import { Cluster } from 'ioredis';
import type { Logger } from '../../base/logger';
import type { RedisClient } from '../../base/redis';
import type { ApiKeyService } from './api-key.service';

/**
 * Revocations and rotations reach every API process through Redis pub/sub, so a key cached by another process stops
 * working at once. Messages sent while a subscriber was disconnected are lost, so each (re)connection empties the cache;
 * while Redis is down the cache's TTL (API_KEY_CACHE_SECONDS) is the bound.
 */
export function connectKeyBroadcast(redis: RedisClient, channel: string, apiKeys: ApiKeyService, log: Logger): { close(): Promise<void> } {
  // A cluster client takes no options here; subscribing again on 'ready' is harmless there.
  const subscriber = redis instanceof Cluster ? redis.duplicate() : redis.duplicate({ autoResubscribe: false });
  subscriber.on('error', (err) => log.debug({ err }, 'apiKey.broadcast.subscriber_error'));
  subscriber.on('ready', () => {
    apiKeys.forgetAll();
    subscriber.subscribe(channel).catch((err) => log.warn({ err }, 'apiKey.broadcast.subscribe_failed'));
  });
  subscriber.on('message', (from: string, prefix: string) => {
    if (from === channel) apiKeys.forget(prefix);
  });
  apiKeys.setBroadcast({
    publish: (prefix) => {
      redis.publish(channel, prefix).catch((err) => log.warn({ err }, 'apiKey.broadcast.publish_failed'));
    },
  });
  return {
    close: async () => {
      apiKeys.setBroadcast(null);
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
