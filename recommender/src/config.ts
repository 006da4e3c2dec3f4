import { z } from 'zod';
import { clusterNodesSchema, queuePrefixSchema, resolveQueuePrefix } from '@loyalty/jobs';

/** Every environment variable the worker reads, with its default. `sensitive` ones are redacted in logs. */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Seed nodes of a Redis Cluster, `host:port,host:port`; set, every queue connection is a cluster client and REDIS_URL is unused. */
  REDIS_CLUSTER_NODES: clusterNodesSchema,
  /** Training reads orders and members here and writes model versions and scores; without it only heartbeats run. */
  DATABASE_URL: z.string().url().optional(),
  /** Key prefix of the Bull queues shared with the API (tests isolate runs with their own); `bull` by default. With
   * REDIS_CLUSTER_NODES it must be a hash tag such as `{loyalty}` (default `{bull}`), so that every key of every queue
   * lands in one slot (Bull's scripts touch several keys). */
  QUEUE_PREFIX: queuePrefixSchema,
  /** Nightly retrain of every model kind (Bull repeatable jobs); `off` turns it off. */
  MODEL_RETRAIN_CRON: z.string().default('0 3 * * *'),
  /** Re-scoring of every member with the active churn and value models' weights (Bull repeatable jobs); `off` turns it off. */
  MODEL_SCORE_CRON: z.string().default('0 */6 * * *'),
  /** How often the worker registers its schedules again if Redis lost them (they are also registered on every
   * reconnect); a check that finds them in place changes nothing. */
  SCHEDULE_CHECK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** On start, train each model that has never been trained (so a new install serves recommendations). */
  MODEL_BOOTSTRAP: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** How long a training job's lock lasts without renewal before Bull treats its worker as dead (stalled). */
  TRAIN_LOCK_MS: z.coerce.number().int().min(1000).default(300_000),
  /** Churn probabilities at or above these are MEDIUM and HIGH risk. */
  CHURN_BAND_MEDIUM: z.coerce.number().min(0).max(1).default(0.3),
  CHURN_BAND_HIGH: z.coerce.number().min(0).max(1).default(0.6),
  /** Quantiles of a customer-value version's predictions from which members are MEDIUM and HIGH value (the top 20% HIGH by default). */
  VALUE_BAND_MEDIUM_QUANTILE: z.coerce.number().gt(0).lt(1).default(0.5),
  VALUE_BAND_HIGH_QUANTILE: z.coerce.number().gt(0).lt(1).default(0.8),
  /** Port of the worker's HTTP listener for Prometheus (GET /metrics alone); unset: the worker listens on no port. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Address that listener binds to. */
  WORKER_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** Set: GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`, as on the API. Unset: it is open. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Model plugins (model-plugins.ts): module paths or package names, comma-separated; `npm run eval` reads it too. */
  LOYALTY_MODEL_PLUGINS: z.string().optional(),
  /** The registry entry each kind trains and serves: a built-in model or a model plugin's. */
  RECOMMENDER_MODEL: z.string().default('TF-HYBRID'),
  CHURN_MODEL: z.string().default('TF-CHURN'),
  VALUE_MODEL: z.string().default('TF-VALUE'),
});

/** The variables the worker reads; docs/operations/configuration.md names each (a test holds it to this). */
export const configSchema = schema;

export type Config = Omit<z.infer<typeof schema>, 'QUEUE_PREFIX'> & { QUEUE_PREFIX: string; isProduction: boolean };

export const sensitiveKeys = ['REDIS_URL', 'DATABASE_URL', 'METRICS_TOKEN'] as const;

export class ConfigError extends Error {}

/** Parses the environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // An empty variable means "use the default", as in the API's config.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.VALUE_BAND_MEDIUM_QUANTILE >= parsed.data.VALUE_BAND_HIGH_QUANTILE) {
    throw new ConfigError('Invalid configuration:\n  VALUE_BAND_MEDIUM_QUANTILE: must be below VALUE_BAND_HIGH_QUANTILE');
  }
  const queue = resolveQueuePrefix(parsed.data.QUEUE_PREFIX, parsed.data.REDIS_CLUSTER_NODES);
  if ('error' in queue) throw new ConfigError(`Invalid configuration:\n  QUEUE_PREFIX: ${queue.error}`);
  return Object.freeze({ ...parsed.data, QUEUE_PREFIX: queue.prefix, isProduction: parsed.data.NODE_ENV === 'production' });
}

/** Config safe to log: secrets replaced. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of sensitiveKeys) if (out[key] !== undefined) out[key] = '[redacted]';
  return out;
}
