import Queue from 'bull';
import type { Logger } from 'pino';
import type { Config } from './config';
import { handleHeartbeat } from './jobs/heartbeat';
import { QUEUES, type QueueName } from './payloads';

export interface Worker {
  queues: Record<QueueName, Queue.Queue>;
  /** Stops taking jobs, waits for active ones to finish, then disconnects from Redis. */
  close(): Promise<void>;
}

export function startWorker(config: Config, log: Logger): Worker {
  const names = Object.values(QUEUES);
  const queues = Object.fromEntries(names.map((name) => [name, new Queue(name, config.REDIS_URL)])) as Worker['queues'];
  const redis = redisOutageLogger(log);

  for (const [name, queue] of Object.entries(queues)) {
    queue.on('error', (err: Error) => redis.onError(err) || log.error({ queue: name, err }, 'queue.error'));
    queue.client.on('ready', redis.onReady);
    queue.on('failed', (job, err) => log.error({ queue: name, jobId: job.id, err }, 'job.failed'));
  }

  // Train and score-churn get processors with the model issue; until then their jobs wait in Redis.
  queues[QUEUES.heartbeat].process(handleHeartbeat(log)).catch((err: unknown) => {
    log.error({ queue: QUEUES.heartbeat, err }, 'worker.processor_stopped');
  });

  log.info({ queues: names }, 'worker.ready');
  return {
    queues,
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

/** One warning per outage, not one per retry per connection: ioredis keeps reconnecting by itself. */
function redisOutageLogger(log: Logger) {
  let isDown = false;
  return {
    /** True if the error belongs to an outage (and is handled here); during one, every error is a consequence of it. */
    onError(err: Error & { code?: string }): boolean {
      if (isDown) return true;
      if (!CONNECTION_ERRORS.has(err.code ?? '')) return false;
      isDown = true;
      log.warn({ err: err.message }, 'redis.unavailable');
      return true;
    },
    onReady() {
      if (!isDown) return;
      isDown = false;
      log.info('redis.reconnected');
    },
  };
}
