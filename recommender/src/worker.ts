import Queue from 'bull';
import type { Logger } from 'pino';
import { keepScheduled, openQueue, QUEUES, RETRY, TRAIN_QUEUE, type ModelKind, type QueueName, type Schedule, type ScheduleKeeper, type ScorePayload, type TrainPayload } from '@loyalty/jobs';
import type { Config } from './config';
import { handleHeartbeat } from './jobs/heartbeat';
import { handleScore } from './jobs/score';
import { handleTrain } from './jobs/train';
import { initBackend } from './tf/backend';
import { bootstrapModels } from './training/bootstrap';
import { ModelStore } from './training/store';
import { serveMetrics, WorkerMetrics } from './metrics';
import { servedModels } from './model-plugins';

export interface Worker {
  queues: Record<QueueName, Queue.Queue>;
  metrics: WorkerMetrics;
  /** With WORKER_METRICS_PORT: the port GET /metrics listens on, once it does (rejects if it cannot). */
  metricsListening: Promise<number> | null;
  /** Stops taking jobs, waits for active ones to finish, then disconnects from Redis. */
  close(): Promise<void>;
}

const KINDS: ModelKind[] = ['RECOMMENDER', 'CHURN', 'VALUE'];

/** Throws ModelPluginError, before it connects anywhere, when LOYALTY_MODEL_PLUGINS or a *_MODEL name is wrong. */
export function startWorker(config: Config, log: Logger): Worker {
  const models = servedModels(config);
  const names = Object.values(QUEUES);
  // Training blocks the event loop in stretches; the lock must outlast them, or Bull would take a live job for stalled.
  const settings = { lockDuration: config.TRAIN_LOCK_MS, lockRenewTime: Math.floor(config.TRAIN_LOCK_MS / 4), stalledInterval: Math.min(30_000, config.TRAIN_LOCK_MS), maxStalledCount: 2 };
  const queues = Object.fromEntries(
    names.map((name) => [name, openQueue(name, config, name === QUEUES.heartbeat ? undefined : settings)]),
  ) as Worker['queues'];
  const store = config.DATABASE_URL ? new ModelStore(config.DATABASE_URL) : null;
  const redis = redisOutageLogger(log);
  let schedules: ScheduleKeeper | null = null;
  const metrics = new WorkerMetrics();
  const exporter = config.WORKER_METRICS_PORT
    ? serveMetrics(metrics, { port: config.WORKER_METRICS_PORT, host: config.WORKER_METRICS_HOST, token: config.METRICS_TOKEN })
    : null;

  for (const [name, queue] of Object.entries(queues)) {
    queue.on('error', (err: Error) => redis.onError(err) || log.error({ queue: name, err }, 'queue.error'));
    queue.client.on('ready', redis.onReady);
    queue.on('failed', (job, err) => log.error({ queue: name, jobId: job.id, attemptsMade: job.attemptsMade, err }, 'job.failed'));
  }

  const processing = (queue: QueueName) => (err: unknown) => log.error({ queue, err }, 'worker.processor_stopped');
  queues[QUEUES.heartbeat].process(metrics.timed(QUEUES.heartbeat, handleHeartbeat(log))).catch(processing(QUEUES.heartbeat));
  if (config.DATABASE_URL && store) {
    initBackend({ log: (choice) => log.info(choice, 'tf.backend') }).catch((err: unknown) => log.error({ err }, 'tf.backend_failed'));
    const deps = {
      databaseUrl: config.DATABASE_URL,
      store,
      bands: { medium: config.CHURN_BAND_MEDIUM, high: config.CHURN_BAND_HIGH },
      valueBands: { medium: config.VALUE_BAND_MEDIUM_QUANTILE, high: config.VALUE_BAND_HIGH_QUANTILE },
      log,
      models,
    };
    // One CPU-bound job at a time per worker, whatever its queue: TensorFlow.js is single-threaded here, and two
    // interleaved trainings would each take twice as long and starve their lock renewals.
    const oneAtATime = serialiser();
    for (const kind of KINDS) {
      const train = metrics.timed(TRAIN_QUEUE[kind], metrics.timedTraining(kind, handleTrain(kind, deps)));
      queues[TRAIN_QUEUE[kind]].process(1, oneAtATime(train)).catch(processing(TRAIN_QUEUE[kind]));
    }
    queues[QUEUES.score].process(1, oneAtATime(metrics.timed(QUEUES.score, handleScore(deps)))).catch(processing(QUEUES.score));
    schedules = schedule(queues, config, log);
    if (config.MODEL_BOOTSTRAP) {
      const trainQueues = Object.fromEntries(KINDS.map((kind) => [kind, queues[TRAIN_QUEUE[kind]]])) as Record<ModelKind, Queue.Queue>;
      bootstrapModels(trainQueues, store, log).catch((err: unknown) => log.warn({ err }, 'train.bootstrap_failed'));
    }
  } else {
    log.warn('worker.no_database: set DATABASE_URL to train models; training jobs wait in Redis until then');
  }

  log.info({ queues: names }, 'worker.ready');
  return {
    queues,
    metrics,
    metricsListening: exporter?.listening ?? null,
    async close() {
      exporter?.server.close();
      exporter?.server.closeAllConnections();
      schedules?.close();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      await store?.close();
    },
  };
}

/** Wraps handlers so that at most one of them runs at a time; the others wait their turn in order. */
function serialiser() {
  let tail: Promise<unknown> = Promise.resolve();
  return <A extends unknown[], R>(handler: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const run = tail.then(() => handler(...args));
      tail = run.catch(() => undefined);
      return run;
    };
}

/**
 * Nightly retrain of each kind and periodic churn and value re-scoring, as Bull repeatable jobs: Bull keeps one per schedule
 * however many workers start; a changed cron replaces the old schedule and `off` removes it. Registered again when
 * Redis comes back without them (schedules.ts).
 */
function schedule(queues: Worker['queues'], config: Config, log: Logger): ScheduleKeeper {
  const { MODEL_RETRAIN_CRON: retrainCron, MODEL_SCORE_CRON: scoreCron } = config;
  const schedules: Schedule[] = [
    ...KINDS.map((kind) => ({
      queue: queues[TRAIN_QUEUE[kind]],
      id: `nightly-${kind}`,
      cron: retrainCron,
      payload: { v: 1, kind, requestedAt: 'schedule', requestedBy: 'schedule' } as TrainPayload,
      options: { ...RETRY(60_000), removeOnComplete: 100, removeOnFail: 100 },
    })),
    ...(['CHURN', 'VALUE'] as const).map((kind) => ({
      queue: queues[QUEUES.score],
      id: `scheduled-${kind}`,
      cron: scoreCron,
      payload: { v: 1, kind, requestedAt: 'schedule', requestedBy: 'schedule' } satisfies ScorePayload,
      options: { ...RETRY(30_000), removeOnComplete: 100, removeOnFail: 100 },
    })),
  ];
  const keeper = keepScheduled(schedules, { checkEveryMs: config.SCHEDULE_CHECK_SECONDS * 1000, log });
  keeper.registered.then(
    () => log.info({ retrainCron, scoreCron }, 'jobs.scheduled'),
    (err: unknown) => log.warn({ err }, 'jobs.not_scheduled'),
  );
  return keeper;
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
