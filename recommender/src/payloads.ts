import { createHash } from 'node:crypto';

/** Queue names, `<app>.<action>`. Producers (the API) and this worker both use these. */
export const QUEUES = {
  train: 'recommender.train',
  scoreChurn: 'recommender.score-churn',
  heartbeat: 'recommender.heartbeat',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

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

export type ModelKind = 'RECOMMENDER' | 'CHURN';

/**
 * Train one model on the purchase history in PostgreSQL, evaluate it on the latest `horizonDays` against the
 * baselines and the active version, and activate it only if it beats both (the promotion gate).
 */
export interface TrainPayload {
  v: 1;
  kind: ModelKind;
  requestedAt: string;
  /** `admin:<id>`, or `schedule` for the nightly retrain. */
  requestedBy: string;
  /** Holdout window at the end of the history; the protocol's default is 90 days. */
  horizonDays?: number;
  /** Caps training epochs (tests and demos train on tiny data). */
  maxEpochs?: number;
}

/** Score churn risk for the given members, or for every member when memberIds is absent. No processor yet. */
export interface ScoreChurnPayload {
  v: 1;
  requestedAt: string;
  memberIds?: string[];
}

export interface PayloadByQueue {
  'recommender.train': TrainPayload;
  'recommender.score-churn': ScoreChurnPayload;
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
