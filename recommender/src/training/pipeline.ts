import { DAY_MS } from '../time';
import { churnTask, evaluateChurnModel, evaluateScores, evaluateValueModel, valueTask, type ChurnMetrics, type RecsMetrics } from '../eval/evaluate';
import { topK } from '../eval/metrics';
import { REGISTRY, TASK_OF_KIND, type RegistryEntry } from '../eval/registry';
import { churnFeatureLabel } from '../models/churn-features';
import { recsSplit } from '../eval/split';
import type { ChurnDriver, ChurnModel, FitHooks, HasItemEmbeddings, HasParams, ExplainsChurn, ExplainsValue, RecsModel, RescoresChurn, RescoresValue, ReusesChoice, RecsTrainSet, Txn, ValueContext, ValueDriver, ValueModel, ValuePrediction } from '../eval/types';
import type { GateDecision, GateInput, Window } from './gate-types';
import { fitPReturnByAmount, pReturnByAmount, type PReturnByAmount } from './p-return';

export type { GateDecision, GateInput, Window } from './gate-types';
import type { ValueMetrics, ValueOutput } from './value-output';

export type ModelKind = 'RECOMMENDER' | 'CHURN' | 'VALUE';

/** Drivers stored per member and score, strongest first (the member 360 shows them). */
export const DRIVERS_KEPT = 3;
export type Phase = 'loading' | 'evaluating-baselines' | 'training' | 'evaluating' | 'refitting' | 'scoring' | 'writing' | 'gate' | 'done';

export interface Progress {
  phase: Phase;
  percent: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
}

export interface PipelineOptions {
  kind: ModelKind;
  /** Holdout window at the end of the history. */
  horizonDays: number;
  maxEpochs?: number;
  /** How many recommendations to keep per member, and similar items per item. */
  topN?: number;
  similarN?: number;
  /** Registry entry to train; defaults to the production model of the kind. */
  modelName?: string;
  /** Where `modelName` and the baselines are looked up: the built-in registry and the model plugins' (registryWith). */
  registry?: readonly RegistryEntry[];
  onProgress?(p: Progress): void | Promise<void>;
  /** VALUE only: the source's cancellation lines, if it has them (readClean's `returns`), for the returns features. */
  context?: ValueContext;
}


/** The model of each kind to train: `name`'s entry, or else the first `model` entry of its task (the built-in one). */
export function productionEntry(kind: ModelKind, name?: string, registry: readonly RegistryEntry[] = REGISTRY): RegistryEntry {
  const task = TASK_OF_KIND[kind];
  const entry = registry.find((e) => e.task === task && (name ? e.name === name : e.kind === 'model'));
  if (!entry) throw new Error(`no ${name ?? 'TensorFlow.js'} ${task} model is registered (recommender/src/eval/registry.ts, or a model plugin's)`);
  return entry;
}

/**
 * The baselines the gate compares a version of this kind with: every baseline of its task, plugins' included, except
 * the one being trained (a baseline served in place of a model kept out is compared with the others).
 */
export function baselineEntries(kind: ModelKind, registry: readonly RegistryEntry[] = REGISTRY, trained?: string): RegistryEntry[] {
  const task = TASK_OF_KIND[kind];
  return registry.filter((e) => e.task === task && e.kind === 'baseline' && e.name !== trained);
}

/** The metrics the gate compares for each kind, and where each sits in a version's metrics. */
const GATE_METRICS: Record<ModelKind, { metric: string; path: string[] }[]> = {
  RECOMMENDER: [
    { metric: 'ndcg@10 (all)', path: ['all', 'ndcg@10'] },
    { metric: 'ndcg@10 (new)', path: ['new', 'ndcg@10'] },
  ],
  CHURN: [{ metric: 'rocAuc', path: ['rocAuc'] }],
  VALUE: [
    { metric: 'gini', path: ['gini'] },
    { metric: 'topDecileCapture', path: ['topDecileCapture'] },
  ],
};

const numberAt = (metrics: unknown, path: string[]): number | null => {
  const v = path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), metrics);
  return typeof v === 'number' ? v : null;
};

/**
 * The gate's inputs from a version's metrics, its baselines' and the active version's: a run's, or a stored version's
 * (`model_version.metrics`, `baseline_metrics`). A metric the active version lacks is not compared with it.
 */
export function gateChecksFor(kind: ModelKind, metrics: unknown, baselineMetrics: Record<string, unknown>, active: Record<string, unknown> | null): GateInput[] {
  return GATE_METRICS[kind].map(({ metric, path }) => ({
    metric,
    model: numberAt(metrics, path) ?? NaN,
    baselines: Object.fromEntries(Object.entries(baselineMetrics).map(([name, m]) => [name, numberAt(m, path) ?? NaN])),
    active: active ? numberAt(active, path) : null,
  }));
}

/**
 * The baseline that would pass the gate against the other baselines: better than each of them on every metric the
 * gate compares. Null when none is (a tie, or one baseline best on one metric and another on the next).
 */
export function dominantBaseline(checks: GateInput[]): string | null {
  const names = Object.keys(checks[0]?.baselines ?? {});
  return (
    names.find((name) =>
      // A baseline without a figure for a metric competes on the others only.
      checks.every(
        (c) => Number.isFinite(c.baselines[name]) && Object.entries(c.baselines).every(([other, value]) => other === name || !Number.isFinite(value) || c.baselines[name] > value),
      ),
    ) ?? null
  );
}

export function windowOf(rows: readonly Txn[], horizonDays: number): Window {
  let dataFrom = Infinity;
  let dataTo = -Infinity;
  for (const t of rows) {
    if (t.time < dataFrom) dataFrom = t.time;
    if (t.time > dataTo) dataTo = t.time;
  }
  if (!Number.isFinite(dataFrom)) throw new Error('there is no purchase history to train on');
  const servingCutoff = Math.floor(dataTo / DAY_MS) * DAY_MS + DAY_MS;
  return { dataFrom, dataTo, cutoff: servingCutoff - horizonDays * DAY_MS, servingCutoff };
}

/** A version is served only if it beats every baseline and the active version on its metric(s). */
export function decideGate(checks: GateInput[]): GateDecision {
  const failures: string[] = [];
  const wins: string[] = [];
  for (const c of checks) {
    // Ties name the alphabetically first baseline, so the recorded reason does not depend on key order.
    const [bestName, best] = Object.entries(c.baselines)
      .sort(([a], [b]) => a.localeCompare(b))
      .reduce((a, b) => (b[1] > a[1] ? b : a), ['none', -Infinity] as [string, number]);
    if (!(c.model > best)) failures.push(`${c.metric} ${c.model.toFixed(4)} does not beat ${bestName} ${best.toFixed(4)}`);
    else wins.push(`${c.metric} ${c.model.toFixed(4)} > ${bestName} ${best.toFixed(4)}`);
    if (c.active !== null) {
      if (!(c.model > c.active)) failures.push(`${c.metric} ${c.model.toFixed(4)} does not beat the active version's ${c.active.toFixed(4)}`);
      else wins.push(`active ${c.active.toFixed(4)}`);
    }
  }
  return failures.length
    ? { isPromoted: false, reason: `kept out: ${failures.join('; ')}` }
    : { isPromoted: true, reason: `promoted: ${wins.join('; ')}` };
}

export interface RecsOutput {
  kind: 'RECOMMENDER';
  algorithm: string;
  params: Record<string, unknown>;
  window: Window;
  trainRows: number;
  metrics: { all: RecsMetrics; new: RecsMetrics };
  baselineMetrics: Record<string, { all: RecsMetrics; new: RecsMetrics }>;
  gateChecks(active: Record<string, unknown> | null): GateInput[];
  /** Serving: fitted on the whole history. */
  serving: {
    train: RecsTrainSet;
    /** Per user (train.users order): top item indices, scores, and whether the user bought it before. */
    top: { items: Int32Array; scores: Float32Array; isRepeat: Uint8Array; because: Int32Array }[];
    /** Popular items per country ('' = everyone), most popular first. */
    popular: Map<string, { items: number[]; scores: number[] }>;
    /** Per item: nearest items by embedding cosine, or null when the model has none. */
    similar: { items: Int32Array; scores: Float32Array }[] | null;
  };
}

export interface ChurnOutput {
  kind: 'CHURN';
  algorithm: string;
  params: Record<string, unknown>;
  window: Window;
  trainRows: number;
  metrics: ChurnMetrics;
  baselineMetrics: Record<string, ChurnMetrics>;
  gateChecks(active: Record<string, unknown> | null): GateInput[];
  serving: { population: string[]; scores: Float64Array; drivers: ChurnDriver[][] };
  /** What the batch-scoring queue needs to score again without training (TF-CHURN's weights), if the model has it. */
  weights: unknown;
}

const hasEmbeddings = (m: unknown): m is HasItemEmbeddings => typeof (m as HasItemEmbeddings).itemEmbeddings === 'function';
const hasParams = (m: unknown): m is HasParams => typeof (m as HasParams).params === 'function';
const reusesChoice = <M>(m: M): m is M & ReusesChoice<M> => typeof (m as ReusesChoice<M>).withSameChoice === 'function';
const explains = (m: unknown): m is ExplainsChurn => typeof (m as ExplainsChurn).drivers === 'function';
const explainsValue = (m: unknown): m is ExplainsValue => typeof (m as ExplainsValue).valueDrivers === 'function';
/** A churn or value model the re-scoring job can score from stored weights (RescoresChurn, RescoresValue): only its weights are stored. */
export const rescores = (m: unknown): m is RescoresChurn & RescoresValue =>
  typeof (m as RescoresChurn).scoreStored === 'function' && typeof (m as RescoresChurn).exportWeights === 'function';

/** Trains one model on cleaned rows, evaluates it and the baselines on the holdout, then refits it for serving. */
export function runPipeline(rows: Txn[], options: PipelineOptions & { kind: 'VALUE' }): Promise<ValueOutput>;
export function runPipeline(rows: Txn[], options: PipelineOptions & { kind: 'RECOMMENDER' | 'CHURN' }): Promise<RecsOutput | ChurnOutput>;
export function runPipeline(rows: Txn[], options: PipelineOptions): Promise<RecsOutput | ChurnOutput | ValueOutput>;
export async function runPipeline(rows: Txn[], options: PipelineOptions): Promise<RecsOutput | ChurnOutput | ValueOutput> {
  if (options.kind === 'VALUE') return runValue(rows, options);
  return options.kind === 'RECOMMENDER' ? runRecs(rows, options) : runChurn(rows, options);
}

function hooksFor(options: PipelineOptions, phase: Phase, from: number, to: number): FitHooks {
  return {
    maxEpochs: options.maxEpochs,
    onEpoch: (epoch, epochs, loss) => options.onProgress?.({ phase, epoch, epochs, loss, percent: from + ((to - from) * epoch) / Math.max(1, epochs) }),
  };
}

async function runRecs(rows: Txn[], options: PipelineOptions): Promise<RecsOutput> {
  const report = (phase: Phase, percent: number) => options.onProgress?.({ phase, percent });
  const productRows = rows.filter((t) => t.stockCode !== null);
  const window = windowOf(productRows, options.horizonDays);
  const split = recsSplit(productRows, window.cutoff, options.horizonDays);
  if (split.testUsers.length === 0) throw new Error(`no customer bought both before and after the holdout cutoff; use a shorter horizon than ${options.horizonDays} days`);

  const entry = productionEntry('RECOMMENDER', options.modelName, options.registry);
  await report('evaluating-baselines', 5);
  const baselineMetrics: RecsOutput['baselineMetrics'] = {};
  for (const baseline of baselineEntries('RECOMMENDER', options.registry, entry.name)) {
    const model = baseline.create() as RecsModel;
    await model.fit(split.train);
    baselineMetrics[baseline.name] = evaluateScores(split, (u) => model.score(u)) as RecsOutput['metrics'];
  }

  const candidate = entry.create() as RecsModel;
  await report('training', 20);
  await candidate.fit(split.train, hooksFor(options, 'training', 20, 50));
  await report('evaluating', 50);
  const metrics = evaluateScores(split, (u) => candidate.score(u)) as RecsOutput['metrics'];

  await report('refitting', 55);
  const all = recsSplit(productRows, window.servingCutoff, options.horizonDays).train;
  // As for churn and value: the refit keeps what the evaluation fit chose on its inner split (TF-HYBRID's EASE λ).
  const model = reusesChoice(candidate) ? candidate.withSameChoice() : (entry.create() as RecsModel);
  await model.fit(all, hooksFor(options, 'refitting', 55, 80));
  await report('scoring', 80);
  const serving = await scoreRecs(model, all, options.topN ?? 50, options.similarN ?? 20);

  return {
    kind: 'RECOMMENDER',
    algorithm: entry.name,
    params: hasParams(model) ? model.params() : {},
    window,
    trainRows: all.events.user.length,
    metrics,
    baselineMetrics,
    gateChecks: (active) => gateChecksFor('RECOMMENDER', metrics, baselineMetrics, active),
    serving,
  };
}

/** Lets timers run between stretches of scoring: Bull renews the job's lock on a timer, and a lock that lapses makes another worker run the job again. */
const yieldToTimers = () => new Promise<void>((resolve) => setImmediate(resolve));

async function scoreRecs(model: RecsModel, train: RecsTrainSet, topN: number, similarN: number): Promise<RecsOutput['serving']> {
  const nItems = train.items.length;
  const nUsers = train.users.length;
  const bought: Set<number>[] = Array.from({ length: nUsers }, () => new Set());
  for (let e = 0; e < train.events.user.length; e++) bought[train.events.user[e]].add(train.events.item[e]);

  const embeddings = hasEmbeddings(model) ? model.itemEmbeddings() : null;
  const unit = embeddings ? normalise(embeddings.vectors, embeddings.dim, nItems) : null;
  const cosine = (a: number, b: number) => {
    let s = 0;
    for (let d = 0, dim = embeddings!.dim; d < dim; d++) s += unit![a * dim + d] * unit![b * dim + d];
    return s;
  };

  const top: RecsOutput['serving']['top'] = [];
  const k = Math.min(topN, nItems);
  for (let start = 0; start < nUsers; start += 256) {
    await yieldToTimers();
    const users = Int32Array.from({ length: Math.min(256, nUsers - start) }, (_, i) => start + i);
    const scores = model.score(users);
    for (let b = 0; b < users.length; b++) {
      const items = Int32Array.from(topK(scores, b * nItems, nItems, k));
      const mine = bought[users[b]];
      const because = new Int32Array(items.length).fill(-1);
      if (unit) {
        items.forEach((j, r) => {
          if (mine.has(j)) return;
          let best = -Infinity;
          for (const i of mine) {
            const s = cosine(i, j);
            if (s > best) (best = s), (because[r] = i);
          }
        });
      }
      top.push({
        items,
        scores: Float32Array.from(items, (j) => scores[b * nItems + j]),
        isRepeat: Uint8Array.from(items, (j) => (mine.has(j) ? 1 : 0)),
        because,
      });
    }
  }

  // Popularity by country over the last 90 days of the history: the cold-start answer for new members.
  const since = train.cutoff - 90 * DAY_MS;
  const buyers = new Map<string, Map<number, Set<number>>>();
  for (let e = 0; e < train.events.user.length; e++) {
    if (train.events.time[e] < since) continue;
    const u = train.events.user[e];
    for (const country of ['', train.userCountry[u] ?? '']) {
      const byItem = buyers.get(country) ?? buyers.set(country, new Map()).get(country)!;
      (byItem.get(train.events.item[e]) ?? byItem.set(train.events.item[e], new Set()).get(train.events.item[e])!).add(u);
    }
  }
  const popular = new Map<string, { items: number[]; scores: number[] }>();
  for (const [country, byItem] of buyers) {
    const ranked = [...byItem].map(([i, us]) => [i, us.size] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topN);
    popular.set(country, { items: ranked.map((r) => r[0]), scores: ranked.map((r) => r[1]) });
  }

  let similar: RecsOutput['serving']['similar'] = null;
  if (unit) {
    similar = [];
    const sims = new Float64Array(nItems);
    for (let i = 0; i < nItems; i++) {
      if (i % 100 === 0) await yieldToTimers();
      for (let j = 0; j < nItems; j++) sims[j] = j === i ? -Infinity : cosine(i, j);
      const items = Int32Array.from(topK(sims, 0, nItems, Math.min(similarN, nItems - 1)));
      similar.push({ items, scores: Float32Array.from(items, (j) => sims[j]) });
    }
  }
  return { train, top, popular, similar };
}

function normalise(vectors: Float32Array, dim: number, n: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += vectors[i * dim + d] ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) out[i * dim + d] = vectors[i * dim + d] * inv;
  }
  return out;
}

async function runChurn(rows: Txn[], options: PipelineOptions): Promise<ChurnOutput> {
  const report = (phase: Phase, percent: number) => options.onProgress?.({ phase, percent });
  const window = windowOf(rows, options.horizonDays);
  const task = churnTask(rows, window.cutoff, options.horizonDays);
  if (task.population.length === 0) throw new Error('nobody bought anything before the holdout cutoff; use a shorter horizon');
  const churners = task.labels.reduce((s, y) => s + y, 0);
  if (churners === 0 || churners === task.labels.length) throw new Error('the holdout has only one class (everyone churned or nobody did); use another horizon');

  const entry = productionEntry('CHURN', options.modelName, options.registry);
  await report('evaluating-baselines', 5);
  const baselineMetrics: Record<string, ChurnMetrics> = {};
  for (const baseline of baselineEntries('CHURN', options.registry, entry.name)) {
    baselineMetrics[baseline.name] = (await evaluateChurnModel(baseline.create() as ChurnModel, task)).metrics;
  }

  await report('training', 20);
  const candidate = entry.create() as ChurnModel;
  const t = await candidate.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays, hooksFor(options, 'training', 20, 50));
  await report('evaluating', 50);
  const metrics = (await evaluateChurnModel({ name: entry.name, kind: 'model', fitPredict: async () => t }, task)).metrics;

  await report('refitting', 55);
  const population = [...new Set(rows.map((r) => r.customerId))].sort();
  // The refit trains the candidate the evaluation fit chose instead of searching again (the search is most of the cost).
  const model = reusesChoice(candidate) ? candidate.withSameChoice() : (entry.create() as ChurnModel);
  const served = await model.fitPredict(rows, population, window.servingCutoff, options.horizonDays, hooksFor(options, 'refitting', 55, 85));
  const drivers = population.map((_, i) =>
    // A model that names a feature but not in words (a baseline, a plugin) gets TF-CHURN's words for it, where it has them.
    (served.drivers?.[i]?.slice(0, DRIVERS_KEPT) ?? (explains(model) ? model.drivers(i, DRIVERS_KEPT) : [])).map((d) => ({ ...d, label: d.label ?? churnFeatureLabel(d.feature) })),
  );

  return {
    kind: 'CHURN',
    algorithm: entry.name,
    params: hasParams(model) ? model.params() : {},
    window,
    trainRows: rows.length,
    metrics,
    baselineMetrics,
    gateChecks: (active) => gateChecksFor('CHURN', metrics, baselineMetrics, active),
    serving: { population, scores: served.scores, drivers },
    weights: rescores(model) ? model.exportWeights() : null,
  };
}

/**
 * A value model's predictions as the store writes them. A model without P(return) gets it from the step function fitted
 * on its holdout predictions; without one either (a version stored before there was one), it is read as certain to buy
 * when it predicts spend.
 */
export function valueServing(population: string[], served: ValuePrediction, drivers: ValueDriver[][], pReturnFit: PReturnByAmount | null = null): ValueOutput['serving'] {
  const pReturn = served.pReturn ?? (pReturnFit ? pReturnByAmount(pReturnFit, served.predictions) : Float64Array.from(served.predictions, (v) => (v > 0 ? 1 : 0)));
  return { population, amounts: served.predictions, pReturn, drivers };
}

/**
 * VALUE: the baselines and the model predict spend in the holdout [cutoff, cutoff + horizon) from the rows before the
 * cutoff; the gate compares normalised Gini and top-decile capture with every baseline and the active version. Then the
 * model is refitted on the whole history and predicts the next horizon for every customer.
 */
async function runValue(rows: Txn[], options: PipelineOptions): Promise<ValueOutput> {
  const report = (phase: Phase, percent: number) => options.onProgress?.({ phase, percent });
  const window = windowOf(rows, options.horizonDays);
  const task = valueTask(rows, window.cutoff, options.horizonDays, options.context ?? {});
  if (task.population.length === 0) throw new Error('nobody bought anything before the holdout cutoff; use a shorter horizon');
  if (!task.actual.some((v) => v > 0)) throw new Error('nobody bought anything in the holdout; use another horizon');

  const entry = productionEntry('VALUE', options.modelName, options.registry);
  await report('evaluating-baselines', 5);
  const baselineMetrics: Record<string, ValueMetrics> = {};
  for (const b of baselineEntries('VALUE', options.registry, entry.name)) {
    baselineMetrics[b.name] = (await evaluateValueModel(b.create() as ValueModel, task)).metrics;
  }

  await report('training', 20);
  const candidate = entry.create() as ValueModel;
  const { metrics, prediction: holdout } = await evaluateValueModel(candidate, task, hooksFor(options, 'training', 20, 50));
  await report('evaluating', 50);

  await report('refitting', 55);
  const population = [...new Set(rows.map((r) => r.customerId))].sort();
  // As for churn: the refit trains the ensemble the evaluation fit chose on its inner split, without searching again.
  const model = reusesChoice(candidate) ? candidate.withSameChoice() : (entry.create() as ValueModel);
  const served = await model.fitPredict(rows, population, window.servingCutoff, options.horizonDays, hooksFor(options, 'refitting', 55, 85), options.context ?? {});
  await report('scoring', 85);
  const drivers = population.map((_, i) => served.drivers?.[i]?.slice(0, DRIVERS_KEPT) ?? (explainsValue(model) ? model.valueDrivers(i, DRIVERS_KEPT) : []));
  // Out of sample: who bought in the holdout, against what the evaluation fit predicted for them.
  const pReturnFit = served.pReturn ? null : fitPReturnByAmount(holdout.predictions, task.actual);
  return {
    kind: 'VALUE',
    algorithm: entry.name,
    params: hasParams(model) ? model.params() : {},
    window,
    horizonDays: options.horizonDays,
    trainRows: rows.length,
    metrics,
    baselineMetrics,
    gateChecks: (active) => gateChecksFor('VALUE', metrics, baselineMetrics, active),
    serving: valueServing(population, served, drivers, pReturnFit),
    pReturnByAmount: pReturnFit,
    weights: rescores(model) ? model.exportWeights() : null,
  };
}
