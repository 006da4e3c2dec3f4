import { DAY_MS } from '../time';
import { averagePrecision, brierScore, rankingMetrics, reliability, rocAuc, topK, type Reliability } from './metrics';
import type { RecsSplit } from './split';
import type { ChurnModel, FitHooks, RecsModel, Txn, ValueContext, ValueModel } from './types';
import { valueMetrics, type ValueMetrics } from './value-metrics';

export type View = 'all' | 'new';
export const K = 10;

export interface RecsMetrics {
  'recall@10': number;
  'ndcg@10': number;
  'hitrate@10': number;
  coverage: number;
  users: number;
}

export type ScoreFn = (users: Int32Array) => Float32Array | Float64Array;

/** Full ranking of the catalogue for every test user, in batches; metrics per view as in EVAL-PROTOCOL.md. */
export function evaluateScores(split: RecsSplit, score: ScoreFn, views: readonly View[] = ['all', 'new'], batch = 256) {
  const nItems = split.train.items.length;
  const acc = Object.fromEntries(
    views.map((v) => [v, { recall: 0, ndcg: 0, hit: 0, users: 0, shown: new Uint8Array(nItems) }]),
  ) as Record<View, { recall: number; ndcg: number; hit: number; users: number; shown: Uint8Array }>;
  for (let start = 0; start < split.testUsers.length; start += batch) {
    const users = split.testUsers.subarray(start, Math.min(start + batch, split.testUsers.length));
    const scores = score(users);
    if (scores.length !== users.length * nItems) {
      throw new Error(`score() returned ${scores.length} values for ${users.length} users × ${nItems} items`);
    }
    for (let b = 0; b < users.length; b++) {
      const t = start + b;
      for (const view of views) {
        let gt = split.groundTruth[t];
        let excluded: Int32Array | undefined;
        if (view === 'new') {
          const bought = new Set(Array.from(split.trainItems[t], (i) => split.train.items[i]));
          gt = new Set([...gt].filter((c) => !bought.has(c)));
          if (gt.size === 0) continue;
          excluded = split.trainItems[t];
        }
        const top = topK(scores, b * nItems, nItems, K, excluded);
        const m = rankingMetrics(
          top.map((i) => split.train.items[i]),
          gt,
          K,
        );
        const a = acc[view];
        a.recall += m.recall;
        a.ndcg += m.ndcg;
        a.hit += m.hit;
        a.users++;
        for (const i of top) a.shown[i] = 1;
      }
    }
  }
  return Object.fromEntries(
    views.map((v) => {
      const a = acc[v];
      const shown = a.shown.reduce((s, x) => s + x, 0);
      const metrics: RecsMetrics = {
        'recall@10': a.recall / a.users,
        'ndcg@10': a.ndcg / a.users,
        'hitrate@10': a.hit / a.users,
        coverage: shown / nItems,
        users: a.users,
      };
      return [v, metrics];
    }),
  ) as Record<View, RecsMetrics>;
}

export async function evaluateRecsModel(model: RecsModel, split: RecsSplit, views: readonly View[] = ['all', 'new']) {
  const t0 = performance.now();
  await model.fit(split.train);
  const trainSeconds = (performance.now() - t0) / 1000;
  return { trainSeconds, metrics: evaluateScores(split, (u) => model.score(u), views) };
}

export interface ChurnTask {
  cutoff: number;
  horizonDays: number;
  /** Every cleaned row before the cutoff. */
  rows: Txn[];
  /** Customers with ≥ 1 cleaned row before the cutoff, ascending. */
  population: string[];
  /** 1 = no cleaned row in [cutoff, cutoff + horizon). */
  labels: Uint8Array;
}

export function churnTask(rows: Txn[], cutoff: number, horizonDays: number): ChurnTask {
  const end = cutoff + horizonDays * DAY_MS;
  const past = rows.filter((t) => t.time < cutoff);
  const population = [...new Set(past.map((t) => t.customerId))].sort();
  const active = new Set(rows.filter((t) => t.time >= cutoff && t.time < end).map((t) => t.customerId));
  const labels = Uint8Array.from(population, (c) => (active.has(c) ? 0 : 1));
  return { cutoff, horizonDays, rows: past, population, labels };
}

export interface ChurnMetrics {
  rocAuc: number;
  prAuc: number;
  brier: number | null;
  /** Probabilistic models only: how far predicted probabilities are from observed churn rates. */
  calibration: Reliability | null;
  customers: number;
  churnRate: number;
}

export async function evaluateChurnModel(model: ChurnModel, task: ChurnTask) {
  const t0 = performance.now();
  const { scores, isProbability } = await model.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
  const trainSeconds = (performance.now() - t0) / 1000;
  if (scores.length !== task.population.length) throw new Error(`${model.name} returned ${scores.length} scores for ${task.population.length} customers`);
  const metrics: ChurnMetrics = {
    rocAuc: rocAuc(scores, task.labels),
    prAuc: averagePrecision(scores, task.labels),
    brier: isProbability ? brierScore(scores, task.labels) : null,
    calibration: isProbability ? reliability(scores, task.labels) : null,
    customers: task.population.length,
    churnRate: task.labels.reduce((s, y) => s + y, 0) / task.labels.length,
  };
  return { trainSeconds, metrics, scores: isProbability ? scores : null };
}

export interface ValueTask {
  cutoff: number;
  horizonDays: number;
  /** Every cleaned row before the cutoff. */
  rows: Txn[];
  /** The churn population: customers with ≥ 1 cleaned row before the cutoff, ascending. */
  population: string[];
  /** Spend in [cutoff, cutoff + horizon) per population member (0 for those who did not come back). */
  actual: Float64Array;
  context: ValueContext;
}

export function valueTask(rows: Txn[], cutoff: number, horizonDays: number, context: ValueContext = {}): ValueTask {
  const end = cutoff + horizonDays * DAY_MS;
  const past = rows.filter((t) => t.time < cutoff);
  const population = [...new Set(past.map((t) => t.customerId))].sort();
  const spend = new Map<string, number>();
  for (const t of rows) if (t.time >= cutoff && t.time < end) spend.set(t.customerId, (spend.get(t.customerId) ?? 0) + t.quantity * t.unitPrice);
  const returns = context.returns?.filter((t) => t.time < cutoff);
  return { cutoff, horizonDays, rows: past, population, actual: Float64Array.from(population, (c) => spend.get(c) ?? 0), context: returns ? { returns } : {} };
}

export async function evaluateValueModel(model: ValueModel, task: ValueTask, hooks?: FitHooks) {
  const t0 = performance.now();
  const out = await model.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays, hooks, task.context);
  const trainSeconds = (performance.now() - t0) / 1000;
  if (out.predictions.length !== task.population.length) throw new Error(`${model.name} returned ${out.predictions.length} predictions for ${task.population.length} customers`);
  const metrics: ValueMetrics = valueMetrics(task.actual, out.predictions, task.population);
  return { trainSeconds, metrics, prediction: out };
}
