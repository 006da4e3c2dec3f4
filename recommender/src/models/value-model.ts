import type { ExplainsValue, FitHooks, HasParams, RescoresValue, ReusesChoice, StoredValueScores, Txn, ValueContext, ValueDriver, ValueModel, ValuePrediction } from '../eval/types';
import { normalisedGini, topDecileCapture } from '../eval/value-metrics';
import { initBackend, tf } from '../tf/backend';
import { Rng } from '../tf/random';
import { DAY_MS } from '../time';
import { mostCommonCountry } from './churn-features';
import { productGroups, valueFeatures, VALUE_FEATURES, VF, type FeatureContext } from './value-features';

export interface ValueOptions {
  /** Candidate hidden sizes (0 = a linear layer to the three outputs) and L2 strengths, chosen on the inner split. */
  hidden: number[];
  l2s: number[];
  /** Candidate σ heads: per customer (a function of the features) or one σ shared by everyone. */
  sharedSigma: boolean[];
  /**
   * Candidate input scalings: `pooled` standardises with the training rows' mean and spread, `snapshot` each snapshot
   * (and the customers scored) with its own, so a season that lowers everyone's recent spend shifts nobody's inputs.
   */
  scalings: Scaling[];
  /** Most epochs; each configuration's count is chosen on the inner split among every `checkpointEvery`-th and the last. */
  epochs: number;
  checkpointEvery: number;
  learningRate: number;
  /** Training snapshots stacked, `snapshotStepDays` apart, the latest at cutoff − horizon. */
  snapshots: number;
  snapshotStepDays: number;
  /** A choice made before (an earlier fit's `params().choice`): refitted as it is, without the inner split. */
  choice?: ValueChoice;
  /** With `choice`: the inner-split scores that chose it, kept in params for the registry. */
  chosenBy?: Record<string, number>;
  /** Largest ensemble of the best inner-split configurations tried (the size is chosen on the inner split). */
  maxEnsemble: number;
  /**
   * Candidate weights of BG/NBD × Gamma-Gamma in the final blend, log1p(E) = (1 − w)·log1p(network) + w·log1p(BG/NBD-GG),
   * chosen on the inner split (0 = the networks alone).
   */
  bgnbdWeights: number[];
  topDrivers: number;
  seed: number;
}

export type Scaling = 'pooled' | 'snapshot';

export const VALUE_DEFAULTS: ValueOptions = { hidden: [0, 16], l2s: [1e-3, 1e-2], sharedSigma: [false, true], scalings: ['pooled', 'snapshot'], maxEnsemble: 3, bgnbdWeights: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], epochs: 400, checkpointEvery: 0, learningRate: 0.02, snapshots: 4, snapshotStepDays: 30, topDrivers: 3, seed: 19 };

/** Lognormal scale bounds: σ below the floor makes the loss spiky, above the cap exp(σ²/2) dominates the ranking. */
const SIGMA_MIN = 0.05;
const SIGMA_MAX = 3;
const MIN_HISTORY_DAYS = 30;

/** One stored network (σ's column already zero when σ is shared). */
interface Net {
  hidden: number;
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
}

/** The column holding log1p(BG/NBD × Gamma-Gamma expected spend), fitted at the feature date: the blend's partner. */
const BGNBD_COLUMN = VALUE_FEATURES.indexOf('log_bgnbd_gg_value');

/**
 * What the inner split chose, plain JSON (stored in `params().choice`): the ensemble's configurations and the blend
 * weight of BG/NBD × Gamma-Gamma. Refitting these needs no inner split.
 */
export interface ValueChoice {
  members: { hidden: number; l2: number; shared: boolean; epochs: number; scaling: Scaling }[];
  bgnbdWeight: number;
}

/** TF-VALUE's artefact: enough to score again later without training. */
export interface ValueWeights {
  format: 'tf-value/2';
  features: string[];
  /** The ensemble's networks; predictions are averaged. `scaling` absent: `pooled` (mean and std below). */
  nets: { hidden: number; scaling?: 'snapshot'; w1: number[]; b1: number[]; w2: number[]; b2: number[] }[];
  mean: number[];
  std: number[];
  homeCountry: string | null;
  groups: string[];
  horizonDays: number;
  /** The blend weight of the BG/NBD × Gamma-Gamma column (absent in weights stored before it: 0). */
  bgnbdWeight?: number;
}

/**
 * TF-VALUE: a zero-inflated lognormal network (Wang, Liu and Miao 2019) with three outputs — the logit of P(the
 * customer buys in the horizon), μ and σ of the lognormal spend given that they do — trained with the ZILN loss and
 * predicting E[spend] = p·exp(μ + σ²/2). Features: the churn features, the spend trajectory, basket behaviour, returns,
 * BG/NBD and Gamma-Gamma quantities and the product mix. Trained strictly in the past like TF-CHURN (features at
 * cutoff − horizon and earlier snapshots, targets from the horizon after each), with the hidden size and L2 chosen on
 * the inner split (the same fit one horizon earlier, scored on [cutoff − horizon, cutoff)) by normalised Gini plus
 * top-decile capture.
 */
export class ValueTfModel implements ValueModel, ExplainsValue, HasParams, ReusesChoice<ValueTfModel>, RescoresValue<ValueWeights> {
  readonly name = 'TF-VALUE';
  readonly kind = 'model' as const;
  private readonly o: ValueOptions;
  private info: Record<string, unknown> = {};
  private lastDrivers: ValueDriver[][] = [];
  private weights: ValueWeights | null = null;

  constructor(options: Partial<ValueOptions> = {}) {
    this.o = { ...VALUE_DEFAULTS, ...options };
  }

  params(): Record<string, unknown> {
    return this.info;
  }

  /** After fitPredict: a fresh model that trains the ensemble and blend this fit chose, without the inner split. */
  withSameChoice(): ValueTfModel {
    const choice = this.info.choice as ValueChoice | undefined;
    if (!choice) throw new Error('TF-VALUE has not been fitted: fitPredict first');
    return new ValueTfModel({ ...this.o, choice, chosenBy: this.info.innerChoice as Record<string, number> });
  }

  valueDrivers(index: number, k: number): ValueDriver[] {
    return this.lastDrivers[index].slice(0, k);
  }

  exportWeights(): ValueWeights {
    if (!this.weights) throw new Error('TF-VALUE has not been fitted');
    return this.weights;
  }

  /** The re-scoring job's path: the weights carry their own horizon, home country and product groups. */
  scoreStored(weights: ValueWeights, rows: Txn[], population: string[], cutoff: number, _horizonDays: number, context: ValueContext = {}): StoredValueScores {
    const out = scoreValueWithWeights(weights, rows, population, cutoff, context.returns);
    return { predictions: out.expected, pReturn: out.pReturn, drivers: out.drivers };
  }

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number, hooks: FitHooks = {}, context: ValueContext = {}): Promise<ValuePrediction> {
    const { backend } = await initBackend();
    const past = rows.filter((r) => r.time < cutoff);
    const returns = context.returns?.filter((r) => r.time < cutoff);
    const ctx: FeatureContext = { horizonDays, homeCountry: mostCommonCountry(past), groups: productGroups(past), returns };
    const everyone = [...new Set(past.map((r) => r.customerId))].sort();
    const h = horizonDays * DAY_MS;
    const cache = new Map<number, ReturnType<typeof valueFeatures>>();
    let featureSeconds = 0;
    const featuresAt = (at: number) => {
      let f = cache.get(at);
      if (!f) {
        const t0 = performance.now();
        cache.set(at, (f = valueFeatures(past, everyone, at, ctx)));
        featureSeconds += (performance.now() - t0) / 1000;
      }
      return f;
    };
    const epochs = Math.min(this.o.epochs, hooks.maxEpochs ?? Infinity);

    // Every choice on the inner split, unless a choice made before is given to refit.
    const d = cutoff - h;
    const { choice, grid } = this.o.choice ? { choice: this.o.choice, grid: { ...this.o.chosenBy } } : await this.chooseOnInnerSplit(past, everyone, cutoff, horizonDays, featuresAt, epochs, hooks);
    const { bgnbdWeight } = choice;
    const chosen = choice.members.map((m) => ({ ...m, epochs: Math.min(m.epochs, epochs) }));

    // The chosen configurations, refitted on snapshots ending at the cutoff.
    const train = this.stack(past, everyone, d, horizonDays, featuresAt);
    if (train.n === 0) throw new Error('no customer bought before cutoff − horizon: nothing to train on');
    const { mean, std } = standardiser(train.x, train.n);
    const nets: ValueWeights['nets'] = new Array(chosen.length);
    // Members of one scaling and hidden size train together as columns; each is kept at its own chosen epoch.
    for (const key of new Set(chosen.map((c) => `${c.scaling} ${c.hidden}`))) {
      const group = chosen.flatMap((c, i) => (`${c.scaling} ${c.hidden}` === key ? [i] : []));
      const { scaling, hidden } = chosen[group[0]];
      const xs = scaling === 'pooled' ? standardise(train.x, train.n, mean, std) : scaleEach(train.x, train.bounds);
      const last = Math.max(...group.map((i) => chosen[i].epochs));
      await trainColumns(xs, train.y, train.n, hidden, group.map((i) => chosen[i]), last, this.o.learningRate, this.o.seed, hooks, new Set(group.map((i) => chosen[i].epochs)), (epoch, net) => {
        group.forEach((i, c) => {
          if (chosen[i].epochs === epoch) nets[i] = { ...exportColumn(net, c), ...(scaling === 'snapshot' ? { scaling } : {}) };
        });
      });
    }
    this.weights = {
      format: 'tf-value/2',
      features: [...VALUE_FEATURES],
      nets,
      mean: Array.from(mean),
      std: Array.from(std),
      homeCountry: ctx.homeCountry,
      groups: [...ctx.groups],
      horizonDays,
      bgnbdWeight,
    };

    this.info = {
      backend, ensemble: chosen.map((c) => `hidden ${c.hidden}, l2 ${c.l2}${c.shared ? ', shared σ' : ''}${c.scaling === 'snapshot' ? ', scaled per snapshot' : ''}, ${c.epochs} epochs`).join(' + '), bgnbdWeight, choice: { members: chosen, bgnbdWeight }, ...(this.o.choice ? { choiceReused: true } : {}), epochs, featureSeconds: Number(featureSeconds.toFixed(1)), snapshots: this.o.snapshots, innerChoice: grid, trainRows: train.n,
      trainReturnRate: Number((train.y.reduce((s, v) => s + (v > 0 ? 1 : 0), 0) / train.n).toFixed(4)),
      groups: ctx.groups.join(' '), returns: returns ? returns.length : 'none in the source',
    };
    const now = valueFeatures(past, population, cutoff, ctx);
    const out = scoreFeatures(this.weights, now.x, now.present, population.length);
    this.lastDrivers = out.drivers;
    return { predictions: out.expected, pReturn: out.pReturn };
  }

  /**
   * The inner split: every candidate trained on snapshots ending one horizon earlier and scored on [cutoff − horizon,
   * cutoff) by normalised Gini + top-decile capture; then the ensemble's size and the blend weight, scored there too.
   */
  private async chooseOnInnerSplit(
    past: Txn[], everyone: string[], cutoff: number, horizonDays: number, featuresAt: (at: number) => ReturnType<typeof valueFeatures>, epochs: number, hooks: FitHooks,
  ): Promise<{ choice: ValueChoice; grid: Record<string, number> }> {
    const h = horizonDays * DAY_MS;
    const d = cutoff - h;
    const inner = this.stack(past, everyone, d - h, horizonDays, featuresAt);
    const check = featuresAt(d);
    const checkRows = everyone.flatMap((_, k) => (check.present[k] ? [k] : []));
    const target = spendIn(past, d, cutoff);
    const checkActual = checkRows.map((k) => target.get(everyone[k]) ?? 0);
    const checkIds = checkRows.map((k) => everyone[k]);
    type Config = ValueChoice['members'][number] & { score: number; pred: Float64Array };
    const tried: Config[] = [];
    const grid: Record<string, number> = {};
    const scoreOf = (pred: ArrayLike<number>) => normalisedGini(checkActual, pred) + topDecileCapture(checkActual, pred, checkIds);
    if (inner.n >= 20 && checkRows.length >= 10 && checkActual.some((v) => v > 0)) {
      const pooled = standardiser(inner.x, inner.n);
      const checkX = gather(check.x, checkRows);
      const checkpoints = new Set([...Array.from({ length: Math.floor(epochs / (this.o.checkpointEvery || epochs)) }, (_, i) => (i + 1) * (this.o.checkpointEvery || epochs)), epochs]);
      for (const scaling of this.o.scalings) {
        const xs = scaling === 'pooled' ? standardise(inner.x, inner.n, pooled.mean, pooled.std) : scaleEach(inner.x, inner.bounds);
        const xCheck = scaling === 'pooled' ? standardise(checkX, checkRows.length, pooled.mean, pooled.std) : scaleEach(checkX, [0, checkRows.length]);
        for (const hidden of this.o.hidden) {
          // Every L2 × σ head of one hidden size trains at once, as independent columns of one network.
          const columns = this.o.l2s.flatMap((l2) => this.o.sharedSigma.map((shared) => ({ l2, shared })));
          const best: Config[] = [];
          await trainColumns(xs, inner.y, inner.n, hidden, columns, epochs, this.o.learningRate, this.o.seed, hooks, checkpoints, (epoch, net) => {
            predictColumns(net, xCheck, checkRows.length).forEach((pred, c) => {
              const score = scoreOf(pred);
              const { l2, shared } = columns[c];
              grid[`h${hidden}_l2_${l2}${shared ? '_sharedSigma' : ''}${scaling === 'snapshot' ? '_snapshotScaled' : ''}_e${epoch}`] = Number(score.toFixed(4));
              // Early stopping on the inner split: a later checkpoint replaces an earlier one only if it scores higher.
              if (!best[c] || score > best[c].score) best[c] = { hidden, l2, shared, epochs: epoch, scaling, score, pred };
            });
          });
          tried.push(...best);
        }
      }
    }
    // The ensemble: the k best configurations on the inner split, their predictions averaged, k chosen there too.
    tried.sort((p, q) => q.score - p.score);
    let members = tried.length ? 1 : 0;
    let bestScore = tried[0]?.score ?? -Infinity;
    for (let k = 2; k <= Math.min(this.o.maxEnsemble, tried.length); k++) {
      const avg = new Float64Array(checkRows.length);
      for (const c of tried.slice(0, k)) c.pred.forEach((v, i) => (avg[i] += v / k));
      const score = scoreOf(avg);
      grid[`ensemble_of_${k}`] = Number(score.toFixed(4));
      if (score > bestScore) (bestScore = score), (members = k);
    }
    const chosen: ValueChoice['members'] = members
      ? tried.slice(0, members).map(({ hidden, l2, shared, epochs, scaling }) => ({ hidden, l2, shared, epochs, scaling }))
      : [{ hidden: this.o.hidden[0], l2: this.o.l2s[0], shared: this.o.sharedSigma[0], epochs, scaling: this.o.scalings[0] }];
    // Then the blend with BG/NBD × Gamma-Gamma as fitted at the inner feature date (the baseline's own inner-split
    // forecast), its weight chosen there too; ties keep the smaller weight.
    let bgnbdWeight = 0;
    if (members) {
      const avg = new Float64Array(checkRows.length);
      for (const c of tried.slice(0, members)) c.pred.forEach((v, i) => (avg[i] += v / members));
      const partner = Float64Array.from(checkRows, (k) => check.x[k * VF + BGNBD_COLUMN]);
      let best = -Infinity;
      for (const w of this.o.bgnbdWeights) {
        const score = scoreOf(blend(avg, partner, w));
        grid[`bgnbd_weight_${w}`] = Number(score.toFixed(4));
        if (score > best) (best = score), (bgnbdWeight = w);
      }
    }
    return { choice: { members: chosen, bgnbdWeight }, grid };
  }

  /** Snapshots at `latest`, latest − step, …: features at each, target = spend in the horizon after it. */
  private stack(past: Txn[], everyone: string[], latest: number, horizonDays: number, featuresAt: (at: number) => ReturnType<typeof valueFeatures>) {
    const parts: Float32Array[] = [];
    const ys: number[] = [];
    const bounds = [0];
    const start = past.reduce((m, r) => Math.min(m, r.time), Infinity);
    for (let s = 0; s < this.o.snapshots; s++) {
      const at = latest - s * this.o.snapshotStepDays * DAY_MS;
      // A snapshot needs some history behind it: features of customers a few days old describe no one at the cutoff.
      if (at - start < MIN_HISTORY_DAYS * DAY_MS && s > 0) break;
      const f = featuresAt(at);
      const spend = spendIn(past, at, at + horizonDays * DAY_MS);
      everyone.forEach((c, k) => {
        if (!f.present[k]) return;
        parts.push(f.x.subarray(k * VF, (k + 1) * VF));
        ys.push(spend.get(c) ?? 0);
      });
      bounds.push(ys.length);
    }
    const x = new Float32Array(ys.length * VF);
    parts.forEach((row, r) => x.set(row, r * VF));
    /** Row offsets of the snapshots: snapshot s is rows [bounds[s], bounds[s + 1]). */
    return { x, y: Float32Array.from(ys), n: ys.length, bounds };
  }
}

/** Scores feature rows already computed with the weights' own context (features, groups, horizon). */
export function scoreFeatures(w: ValueWeights, x: Float32Array, present: Uint8Array, n: number, topDrivers = VALUE_DEFAULTS.topDrivers) {
  if (w.format !== 'tf-value/2' || w.features.join() !== VALUE_FEATURES.join()) {
    throw new Error('these TF-VALUE weights were trained on another feature list; retrain the value model');
  }
  const pooled = standardise(x, n, Float32Array.from(w.mean), Float32Array.from(w.std));
  // A network scaled per snapshot reads the scored customers standardised among themselves (the present ones).
  let own: Float32Array | null = null;
  const ownScaled = () => {
    if (own) return own;
    const rows = Array.from({ length: n }, (_, k) => k).filter((k) => present[k]);
    const { mean, std } = rows.length ? standardiser(gather(x, rows), rows.length) : { mean: new Float32Array(VF), std: new Float32Array(VF).fill(1) };
    return (own = standardise(x, n, mean, std));
  };
  const expected = new Float64Array(n), pReturn = new Float64Array(n), contributions = new Float64Array(n * VF);
  for (const stored of w.nets) {
    const net: Net = {
      hidden: stored.hidden,
      w1: tf.tensor2d(stored.w1, stored.hidden ? [VF, stored.hidden] : [1, 1]),
      b1: tf.tensor1d(stored.b1),
      w2: tf.tensor2d(stored.w2, [stored.hidden || VF, 3]),
      b2: tf.tensor1d(stored.b2),
    };
    const xs = stored.scaling === 'snapshot' ? ownScaled() : pooled;
    try {
      const out = predict(net, xs, n);
      const c = driverContributions(net, xs, n);
      for (let k = 0; k < n; k++) (expected[k] += out.expected[k] / w.nets.length), (pReturn[k] += out.pReturn[k] / w.nets.length);
      for (let i = 0; i < n * VF; i++) contributions[i] += c[i] / w.nets.length;
    } finally {
      disposeNet(net);
    }
  }
  // The blend with BG/NBD × Gamma-Gamma is linear in log1p space: the networks' drivers scale by 1 − w, and the
  // column's own contribution is w × its distance from the training mean, as a linear term's is.
  const bw = w.bgnbdWeight ?? 0;
  if (bw > 0) {
    expected.set(blend(expected, Float64Array.from({ length: n }, (_, k) => x[k * VF + BGNBD_COLUMN]), bw));
    for (let k = 0; k < n; k++) {
      for (let f = 0; f < VF; f++) contributions[k * VF + f] *= 1 - bw;
      contributions[k * VF + BGNBD_COLUMN] += bw * (x[k * VF + BGNBD_COLUMN] - w.mean[BGNBD_COLUMN]);
    }
  }
  const drivers = Array.from({ length: n }, (_, k) => {
    if (!present[k]) return [];
    const row = VALUE_FEATURES.map((feature, f) => ({ feature, value: Number(x[k * VF + f].toFixed(4)), contribution: Number(contributions[k * VF + f].toFixed(4)) }));
    return row.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, topDrivers);
  });
  for (let k = 0; k < n; k++) if (!present[k]) (expected[k] = 0), (pReturn[k] = 0);
  return { expected, pReturn, drivers };
}

/**
 * Expected spend, P(return) and drivers for `population` as of `cutoff` from stored weights (the batch-scoring
 * path): BG/NBD is refitted on the rows before `cutoff` as part of the features.
 */
export function scoreValueWithWeights(w: ValueWeights, rows: Txn[], population: string[], cutoff: number, returns?: Txn[]) {
  const ctx: FeatureContext = { horizonDays: w.horizonDays, homeCountry: w.homeCountry, groups: w.groups, returns };
  const f = valueFeatures(rows, population, cutoff, ctx);
  return scoreFeatures(w, f.x, f.present, population.length);
}

/** expm1((1 − w)·log1p(network) + w·logPartner): a weighted geometric mean of the two forecasts (+1). */
export function blend(network: ArrayLike<number>, log1pPartner: ArrayLike<number>, w: number): Float64Array {
  return Float64Array.from({ length: network.length }, (_, i) => (w === 0 ? network[i] : Math.expm1((1 - w) * Math.log1p(Math.max(0, network[i])) + w * log1pPartner[i])));
}

export function spendIn(rows: readonly Txn[], from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of rows) if (t.time >= from && t.time < to) out.set(t.customerId, (out.get(t.customerId) ?? 0) + t.quantity * t.unitPrice);
  return out;
}

function standardiser(x: Float32Array, n: number) {
  const mean = new Float32Array(VF), std = new Float32Array(VF);
  for (let r = 0; r < n; r++) for (let f = 0; f < VF; f++) mean[f] += x[r * VF + f] / n;
  for (let r = 0; r < n; r++) for (let f = 0; f < VF; f++) std[f] += (x[r * VF + f] - mean[f]) ** 2 / n;
  for (let f = 0; f < VF; f++) std[f] = Math.sqrt(std[f]) || 1;
  return { mean, std };
}

function standardise(x: Float32Array, n: number, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(n * VF);
  for (let r = 0; r < n; r++) for (let f = 0; f < VF; f++) out[r * VF + f] = (x[r * VF + f] - mean[f]) / std[f];
  return out;
}

/** Each block [bounds[s], bounds[s + 1]) of rows standardised with its own mean and spread. */
function scaleEach(x: Float32Array, bounds: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let s = 0; s + 1 < bounds.length; s++) {
    const block = x.subarray(bounds[s] * VF, bounds[s + 1] * VF), n = bounds[s + 1] - bounds[s];
    if (!n) continue;
    const { mean, std } = standardiser(block, n);
    out.set(standardise(block, n, mean, std), bounds[s] * VF);
  }
  return out;
}

function gather(x: Float32Array, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * VF);
  rows.forEach((r, q) => out.set(x.subarray(r * VF, (r + 1) * VF), q * VF));
  return out;
}

function forward(net: Net, x: tf.Tensor2D): tf.Tensor2D {
  const h = net.hidden ? tf.relu(tf.add(tf.matMul(x, net.w1), net.b1)) : x;
  return tf.add(tf.matMul(h as tf.Tensor2D, net.w2), net.b2) as tf.Tensor2D;
}

/** The three heads: logit of P(return), μ, and σ = softplus, kept in [SIGMA_MIN, SIGMA_MAX]. */
function heads(o: tf.Tensor2D) {
  const [logit, mu, raw] = tf.split(o, 3, 1).map((t) => tf.reshape(t, [-1]) as tf.Tensor1D);
  const sigma = tf.clipByValue(tf.add(tf.softplus(raw), SIGMA_MIN), SIGMA_MIN, SIGMA_MAX) as tf.Tensor1D;
  return { logit, mu, sigma };
}

/** log E[spend] = log σ(logit) + μ + σ²/2: what the drivers explain. */
function logExpected(net: Net, x: tf.Tensor2D): tf.Tensor1D {
  const { logit, mu, sigma } = heads(forward(net, x));
  // log σ(z) = −softplus(−z), written out: tf.logSigmoid's custom gradient fails under tf.grad on the wasm backend.
  return tf.add(tf.sub(mu, tf.softplus(tf.neg(logit))), tf.mul(0.5, tf.square(sigma))) as tf.Tensor1D;
}

/**
 * Configurations of one hidden size as C independent columns of one network: w1 [VF, C·H] (block c is column c's
 * hidden layer), w2 [C, H or VF, 3], b2 [C, 1, 3]. The loss is the sum of the columns' own losses (each with its own
 * L2), so every column's gradient, and so its Adam step, is what it would be trained alone; one pass costs about as
 * much as one configuration's.
 */
interface Columns {
  hidden: number;
  count: number;
  /** [C, 1, 3]: [1, 1, 0] for a column with shared σ (its σ is the bias alone). */
  mask: tf.Tensor3D;
  l2: tf.Tensor1D;
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor3D;
  b2: tf.Tensor3D;
}

/** [C, n, 3]: every column's three outputs. */
function forwardColumns(net: Columns, x: tf.Tensor2D): tf.Tensor3D {
  const { count: c, hidden } = net;
  const w2 = tf.mul(net.w2, net.mask) as tf.Tensor3D;
  if (!hidden) {
    const flat = tf.reshape(tf.transpose(w2, [1, 0, 2]), [VF, c * 3]) as tf.Tensor2D;
    const out = tf.transpose(tf.reshape(tf.matMul(x, flat), [-1, c, 3]), [1, 0, 2]);
    return tf.add(out, net.b2) as tf.Tensor3D;
  }
  const h = tf.transpose(tf.reshape(tf.relu(tf.add(tf.matMul(x, net.w1), net.b1)), [-1, c, hidden]), [1, 0, 2]) as tf.Tensor3D;
  return tf.add(tf.matMul(h, w2), net.b2) as tf.Tensor3D;
}

/** The three heads per column, [C, n] each: logit of P(return), μ, and σ = softplus, kept in [SIGMA_MIN, SIGMA_MAX]. */
function columnHeads(o: tf.Tensor3D) {
  const [logit, mu, raw] = tf.split(o, 3, 2).map((t) => tf.squeeze(t, [2]) as tf.Tensor2D);
  const sigma = tf.clipByValue(tf.add(tf.softplus(raw), SIGMA_MIN), SIGMA_MIN, SIGMA_MAX) as tf.Tensor2D;
  return { logit, mu, sigma };
}

export async function trainColumns(
  xs: Float32Array, y: Float32Array, n: number, hidden: number, columns: { l2: number; shared: boolean }[], epochs: number, learningRate: number, seed: number,
  hooks: FitHooks, checkpoints: ReadonlySet<number>, onCheckpoint: (epoch: number, net: Columns) => void,
): Promise<void> {
  const c = columns.length;
  const inDim = hidden || VF;
  // Start the heads at the training population's return rate and its log-spend mean and spread; every column starts
  // from the same draw (the one a configuration trained alone with this seed would get).
  const positive = Array.from(y).filter((v) => v > 0);
  const rate = Math.min(0.99, Math.max(0.01, positive.length / n));
  const logs = positive.map(Math.log);
  const m = logs.length ? logs.reduce((s, v) => s + v, 0) / logs.length : 0;
  const sd = logs.length > 1 ? Math.sqrt(logs.reduce((s, v) => s + (v - m) ** 2, 0) / logs.length) : 1;
  const softplusInverse = (v: number) => Math.log(Math.expm1(Math.max(v - SIGMA_MIN, 1e-3)));
  const rng = new Rng(seed);
  const net: Columns = tf.tidy(() => ({
    hidden,
    count: c,
    mask: tf.tensor3d(columns.flatMap((col) => [1, 1, col.shared ? 0 : 1]), [c, 1, 3]),
    l2: tf.tensor1d(columns.map((col) => col.l2)),
    w1: tf.variable(hidden ? tf.tile(tf.randomNormal([VF, hidden], 0, Math.sqrt(2 / VF), 'float32', rng.seed()), [1, c]) : tf.zeros([1, 1])) as unknown as tf.Tensor2D,
    b1: tf.variable(tf.zeros([Math.max(hidden * c, 1)])) as unknown as tf.Tensor1D,
    w2: tf.variable(hidden ? tf.tile(tf.randomNormal([1, inDim, 3], 0, Math.sqrt(1 / inDim), 'float32', rng.seed()), [c, 1, 1]) : tf.zeros([c, inDim, 3])) as unknown as tf.Tensor3D,
    b2: tf.variable(tf.tile(tf.tensor3d([Math.log(rate / (1 - rate)), m, softplusInverse(sd)], [1, 1, 3]), [c, 1, 1])) as unknown as tf.Tensor3D,
  }));
  const x = tf.tensor2d(xs, [n, VF]);
  const positiveMask = tf.tensor1d(Float32Array.from(y, (v) => (v > 0 ? 1 : 0)));
  const logY = tf.tensor1d(Float32Array.from(y, (v) => (v > 0 ? Math.log(v) : 0)));
  const optimizer = tf.train.adam(learningRate);
  const trainable = (hidden ? [net.w1, net.b1, net.w2, net.b2] : [net.w2, net.b2]) as unknown as tf.Variable[];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const loss = tf.tidy(() =>
        optimizer.minimize(() => {
          const { logit, mu, sigma } = columnHeads(forwardColumns(net, x));
          // Bernoulli part: binary cross-entropy on "bought at all".
          const bce = tf.sub(tf.add(tf.relu(logit), tf.softplus(tf.neg(tf.abs(logit)))), tf.mul(logit, positiveMask));
          // Lognormal part on buyers only: log σ + (log y − μ)²/(2σ²) (log y and ½·log 2π are constants).
          const z = tf.div(tf.sub(logY, mu), sigma);
          const lognormal = tf.mul(positiveMask, tf.add(tf.log(sigma), tf.mul(0.5, tf.square(z))));
          const squares = hidden ? tf.add(tf.sum(tf.square(net.w2), [1, 2]), tf.sum(tf.reshape(tf.square(net.w1), [VF, c, hidden]), [0, 2])) : tf.sum(tf.square(net.w2), [1, 2]);
          return tf.add(tf.sum(tf.mean(tf.add(bce, lognormal), 1)), tf.sum(tf.mul(net.l2, squares))) as tf.Scalar;
        }, true, trainable) as tf.Scalar,
      );
      if (checkpoints.has(epoch + 1)) onCheckpoint(epoch + 1, net);
      if (epoch % 50 === 49 || epoch === epochs - 1) {
        await hooks.onEpoch?.(epoch + 1, epochs, loss.dataSync()[0] / c);
        await new Promise((r) => setImmediate(r));
      }
      loss.dispose();
    }
  } finally {
    x.dispose(); positiveMask.dispose(); logY.dispose(); optimizer.dispose();
    [net.mask, net.l2, net.w1, net.b1, net.w2, net.b2].forEach((v) => v.dispose());
  }
}

/** Expected spend of every column for standardised rows xs. */
export function predictColumns(net: Columns, xs: Float32Array, n: number): Float64Array[] {
  const e = tf.tidy(() => {
    const { logit, mu, sigma } = columnHeads(forwardColumns(net, tf.tensor2d(xs, [n, VF])));
    return tf.mul(tf.sigmoid(logit), tf.exp(tf.add(mu, tf.mul(0.5, tf.square(sigma)))));
  });
  const flat = e.dataSync();
  e.dispose();
  return Array.from({ length: net.count }, (_, c) => Float64Array.from(flat.subarray(c * n, (c + 1) * n)));
}

/** Column c as one stored network; σ's masked column is stored as the zeros it acts as, so scoring needs no flag. */
function exportColumn(net: Columns, c: number): ValueWeights['nets'][number] {
  const { hidden } = net;
  return tf.tidy(() => ({
    hidden,
    w1: hidden ? Array.from(tf.slice(net.w1, [0, c * hidden], [VF, hidden]).dataSync()) : [0],
    b1: hidden ? Array.from(tf.slice(net.b1, [c * hidden], [hidden]).dataSync()) : [0],
    w2: Array.from(tf.mul(tf.slice(net.w2, [c, 0, 0], [1, hidden || VF, 3]), tf.slice(net.mask, [c, 0, 0], [1, 1, 3])).dataSync()),
    b2: Array.from(tf.slice(net.b2, [c, 0, 0], [1, 1, 3]).dataSync()),
  }));
}

function predict(net: Net, xs: Float32Array, n: number): { expected: Float64Array; pReturn: Float64Array } {
  const [pt, lt] = tf.tidy(() => {
    const { logit, mu, sigma } = heads(forward(net, tf.tensor2d(xs, [n, VF])));
    return [tf.sigmoid(logit), tf.add(mu, tf.mul(0.5, tf.square(sigma)))];
  });
  const p = pt.dataSync(), logE = lt.dataSync();
  pt.dispose(); lt.dispose();
  return { expected: Float64Array.from(p, (v, i) => v * Math.exp(logE[i])), pReturn: Float64Array.from(p) };
}

/** Gradient of log E[spend] times the standardised input (its training mean is 0): per customer and feature. */
function driverContributions(net: Net, xs: Float32Array, n: number): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor2d(xs, [n, VF]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(logExpected(net, v as tf.Tensor2D)))(xt);
    return tf.mul(g, xt).dataSync() as Float32Array;
  });
}

function disposeNet(net: Net) {
  [net.w1, net.b1, net.w2, net.b2].forEach((v) => v.dispose());
}
