import Queue from 'bull';
import type { Logger } from 'pino';
import type { Config } from './config';
import { handleHeartbeat } from './jobs/heartbeat';
import { handleTrain } from './jobs/train';
import { QUEUES, queueOptions, type ModelKind, type QueueName, type TrainPayload } from './payloads';
import { initBackend } from './tf/backend';
import { ModelStore } from './training/store';

export interface Worker {
  queues: Record<QueueName, Queue.Queue>;
  /** Stops taking jobs, waits for active ones to finish, then disconnects from Redis. */
  close(): Promise<void>;
}

export function startWorker(config: Config, log: Logger): Worker {
  const names = Object.values(QUEUES);
  // Training blocks the event loop in stretches; the lock must outlast them, or Bull would take a live job for stalled.
  const settings = { lockDuration: config.TRAIN_LOCK_MS, lockRenewTime: Math.floor(config.TRAIN_LOCK_MS / 4), stalledInterval: Math.min(30_000, config.TRAIN_LOCK_MS), maxStalledCount: 2 };
  const queues = Object.fromEntries(
    names.map((name) => [name, new Queue(name, config.REDIS_URL, { ...queueOptions(config.QUEUE_PREFIX), ...(name === QUEUES.train ? { settings } : {}) })]),
  ) as Worker['queues'];
  const store = config.DATABASE_URL ? new ModelStore(config.DATABASE_URL) : null;
  const redis = redisOutageLogger(log);

  for (const [name, queue] of Object.entries(queues)) {
    queue.on('error', (err: Error) => redis.onError(err) || log.error({ queue: name, err }, 'queue.error'));
    queue.client.on('ready', redis.onReady);
    queue.on('failed', (job, err) => log.error({ queue: name, jobId: job.id, err }, 'job.failed'));
  }

  queues[QUEUES.heartbeat].process(handleHeartbeat(log)).catch((err: unknown) => {
    log.error({ queue: QUEUES.heartbeat, err }, 'worker.processor_stopped');
  });
  if (config.DATABASE_URL && store) {
    initBackend({ log: (choice) => log.info(choice, 'tf.backend') }).catch((err: unknown) => log.error({ err }, 'tf.backend_failed'));
    const bands = { medium: config.CHURN_BAND_MEDIUM, high: config.CHURN_BAND_HIGH };
    // One training at a time per worker: it is CPU-bound and TensorFlow.js is single-threaded here.
    queues[QUEUES.train].process(1, handleTrain({ databaseUrl: config.DATABASE_URL, store, bands, log })).catch((err: unknown) => {
      log.error({ queue: QUEUES.train, err }, 'worker.processor_stopped');
    });
    scheduleNightlyRetrain(queues[QUEUES.train], config.MODEL_RETRAIN_CRON, log);
    if (config.MODEL_BOOTSTRAP) bootstrapModels(queues[QUEUES.train], store, log);
  } else {
    log.warn('worker.no_database: set DATABASE_URL to train models; training jobs wait in Redis until then');
  }

  log.info({ queues: names }, 'worker.ready');
  return {
    queues,
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      await store?.close();
    },
  };
}

/** Bull keeps one repeatable job per kind however many workers start; `off` removes the schedule. */
function scheduleNightlyRetrain(queue: Queue.Queue, cron: string, log: Logger) {
  const kinds: ModelKind[] = ['RECOMMENDER', 'CHURN'];
  (async () => {
    for (const r of await queue.getRepeatableJobs()) if (r.id?.startsWith('nightly-') && r.cron !== cron) await queue.removeRepeatableByKey(r.key);
    if (cron === 'off') return;
    for (const kind of kinds) {
      const payload: TrainPayload = { v: 1, kind, requestedAt: 'schedule', requestedBy: 'schedule' };
      await queue.add(payload, { repeat: { cron }, jobId: `nightly-${kind}`, attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 100, removeOnFail: 100 });
    }
    log.info({ cron }, 'train.nightly_scheduled');
  })().catch((err: unknown) => log.warn({ err }, 'train.nightly_not_scheduled'));
}

/** A model kind never trained gets one training job now; the fixed jobId collapses duplicates from several workers. */
function bootstrapModels(queue: Queue.Queue, store: ModelStore, log: Logger) {
  (async () => {
    for (const kind of ['RECOMMENDER', 'CHURN'] as ModelKind[]) {
      if (await store.hasVersion(kind)) continue;
      const payload: TrainPayload = { v: 1, kind, requestedAt: new Date().toISOString(), requestedBy: 'bootstrap' };
      await queue.add(payload, { jobId: `bootstrap-${kind}`, attempts: 2, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 100, removeOnFail: 100 });
      log.info({ kind }, 'train.bootstrap_queued');
    }
  })().catch((err: unknown) => log.warn({ err }, 'train.bootstrap_failed'));
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
