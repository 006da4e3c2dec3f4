import { createHash } from 'node:crypto';

/**
 * Queue names, `<app>.<action>`. Producers (the API) and this worker both use these. Each model kind trains on its
 * own queue, so a long recommender run never holds up a churn retrain in the queue, and each has its own retry and
 * stall settings; batch scoring is a third queue.
 */
export const QUEUES = {
  trainRecommender: 'recommender.train-recommender',
  trainChurn: 'recommender.train-churn',
  trainValue: 'recommender.train-value',
  score: 'recommender.score',
  heartbeat: 'recommender.heartbeat',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export type ModelKind = 'RECOMMENDER' | 'CHURN' | 'VALUE';

/** The training queue of each model kind. */
export const TRAIN_QUEUE = { RECOMMENDER: QUEUES.trainRecommender, CHURN: QUEUES.trainChurn, VALUE: QUEUES.trainValue } as const satisfies Record<ModelKind, QueueName>;

/**
 * Bull options of every queue, in the API and in this worker: the shared key prefix (a `{hash tag}` on Redis
 * Cluster) and a reconnect at most 2 s apart while Redis is away (Bull's own backoff grows to 20 s between attempts).
 */
export function queueOptions(prefix: string) {
  return { prefix, redis: { retryStrategy: (times: number) => Math.min(times * 200, 2000) } };
}

/** Liveness probe: the API or an operator enqueues one and waits for the result. */
export interface HeartbeatPayload {
  v: 1;
  requestedAt: string;
}

/**
 * Train one model on the purchase history in PostgreSQL, evaluate it on the latest `horizonDays` against the
 * baselines and the active version, write its scores, and activate it only if it beats both (the promotion gate).
 */
interface TrainPayloadV1<K extends ModelKind> {
  v: 1;
  /** Redundant with the queue, kept so that a job read on its own says what it trains. */
  kind: K;
  requestedAt: string;
  /** `admin:<id>`, `schedule` for the nightly retrain, or `bootstrap`. */
  requestedBy: string;
  /** Holdout window at the end of the history; the protocol's default is 90 days. */
  horizonDays?: number;
  /** Caps training epochs (tests and demos train on tiny data). */
  maxEpochs?: number;
}

export type TrainRecommenderPayload = TrainPayloadV1<'RECOMMENDER'>;
export type TrainChurnPayload = TrainPayloadV1<'CHURN'>;
/** The customer-value model: `horizonDays` is also the span its predicted spend covers. */
export type TrainValuePayload = TrainPayloadV1<'VALUE'>;
export type TrainPayload = TrainRecommenderPayload | TrainChurnPayload | TrainValuePayload;

/**
 * Re-score every member with a trained churn or customer-value version's stored weights, on today's history, without
 * retraining: recency-driven risk and value stay current between retrains. Not RECOMMENDER: the recommender's scores
 * come from models refitted on the whole history (EASE, BPR, the ranker), so its training job writes them and
 * re-scoring it is retraining.
 */
export interface ScorePayload {
  v: 1;
  kind: 'CHURN' | 'VALUE';
  requestedAt: string;
  requestedBy: string;
  /** Defaults to the active version of the kind. */
  modelVersionId?: string;
}

export interface PayloadByQueue {
  'recommender.train-recommender': TrainRecommenderPayload;
  'recommender.train-churn': TrainChurnPayload;
  'recommender.train-value': TrainValuePayload;
  'recommender.score': ScorePayload;
  'recommender.heartbeat': HeartbeatPayload;
}

export class UnknownPayloadVersionError extends Error {
  constructor(queue: QueueName, v: unknown) {
    super(`${queue}: unknown payload version ${JSON.stringify(v)}; this worker reads only the versions in payloads.ts`);
    this.name = 'UnknownPayloadVersionError';
  }
}

/** Returns `data` typed by its version; throws on anything else, so handlers can switch on `v` exhaustively. */
export function readPayload<Q extends QueueName>(
  queue: Q,
  data: unknown,
  knownVersions: readonly PayloadByQueue[Q]['v'][],
): PayloadByQueue[Q] {
  const v = typeof data === 'object' && data !== null ? (data as { v?: unknown }).v : undefined;
  if (!knownVersions.includes(v as PayloadByQueue[Q]['v'])) throw new UnknownPayloadVersionError(queue, v);
  return data as PayloadByQueue[Q];
}

/** Bull jobId derived from the content, so that a duplicate enqueue collapses into the job already waiting. */
export function jobIdFor<Q extends QueueName>(queue: Q, payload: PayloadByQueue[Q]): string {
  const canonical = JSON.stringify(payload, Object.keys(payload).sort());
  return `${queue}:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** Retry policy of training and scoring jobs: three attempts, backing off exponentially from `delayMs`. */
export const RETRY = (delayMs: number) => ({ attempts: 3, backoff: { type: 'exponential', delay: delayMs } }) as const;
