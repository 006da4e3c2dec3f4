import type { ExplainsValue, FitHooks, HasParams, ReusesChoice, Txn, ValueContext, ValueDriver, ValueModel, ValuePrediction } from '../eval/types';
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
  epochs: number;
  learningRate: number;
  /** Training snapshots stacked, `snapshotStepDays` apart, the latest at cutoff − horizon. */
  snapshots: number;
  snapshotStepDays: number;
  /** Largest ensemble of the best inner-split configurations tried (the size is chosen on the inner split). */
  maxEnsemble: number;
  topDrivers: number;
  seed: number;
  /** What an earlier fit chose (withSameChoice): trained as it is, without the inner-split search. */
  choice?: ValueChoice;
}

/** What the inner-split search chose — the ensemble's members — and the scores it chose them by. */
export interface ValueChoice {
  members: { hidden: number; l2: number; shared: boolean }[];
  innerChoice: Record<string, number>;
}

export const VALUE_DEFAULTS: ValueOptions = { hidden: [0, 16], l2s: [1e-3, 1e-2], sharedSigma: [false, true], maxEnsemble: 3, epochs: 400, learningRate: 0.02, snapshots: 4, snapshotStepDays: 30, topDrivers: 3, seed: 19 };

/** Lognormal scale bounds: σ below the floor makes the loss spiky, above the cap exp(σ²/2) dominates the ranking. */
const SIGMA_MIN = 0.05;
const SIGMA_MAX = 3;
const MIN_HISTORY_DAYS = 30;

interface Net {
  hidden: number;
  /** [1, 1, 0] when σ is shared: the σ column of w2 is masked out, so σ is its bias alone. */
  mask?: tf.Tensor2D;
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
}

/** TF-VALUE's artefact: enough to score again later without training. */
export interface ValueWeights {
  format: 'tf-value/2';
  features: string[];
  /** The ensemble's networks; predictions are averaged. */
  nets: { hidden: number; w1: number[]; b1: number[]; w2: number[]; b2: number[] }[];
  mean: number[];
  std: number[];
  homeCountry: string | null;
  groups: string[];
  horizonDays: number;
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
export class ValueTfModel implements ValueModel, ExplainsValue, HasParams, ReusesChoice<ValueTfModel> {
  readonly name = 'TF-VALUE';
  readonly kind = 'model' as const;
  private readonly o: ValueOptions;
  private info: Record<string, unknown> = {};
  private lastDrivers: ValueDriver[][] = [];
  private weights: ValueWeights | null = null;
  private chosen: ValueChoice | null = null;

  constructor(options: Partial<ValueOptions> = {}) {
    this.o = { ...VALUE_DEFAULTS, ...options };
  }

  params(): Record<string, unknown> {
    return this.info;
  }

  valueDrivers(index: number, k: number): ValueDriver[] {
    return this.lastDrivers[index].slice(0, k);
  }

  exportWeights(): ValueWeights {
    if (!this.weights) throw new Error('TF-VALUE has not been fitted');
    return this.weights;
  }

  /** A model that trains what the last fit chose without searching again (the serving refit): the search is most of the cost. */
  withSameChoice(): ValueTfModel {
    if (!this.chosen) throw new Error('TF-VALUE has not been fitted');
    return new ValueTfModel({ ...this.o, choice: this.chosen });
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

    // Inner split: train on snapshots ending one horizon earlier, score on [cutoff − horizon, cutoff).
    const d = cutoff - h;
    const searching = !this.o.choice;
    const inner = searching ? this.stack(past, everyone, d - h, horizonDays, featuresAt) : { x: new Float32Array(0), y: new Float32Array(0), n: 0 };
    const check = featuresAt(d);
    const checkRows = everyone.flatMap((_, k) => (check.present[k] ? [k] : []));
    const target = spendIn(past, d, cutoff);
    const checkActual = checkRows.map((k) => target.get(everyone[k]) ?? 0);
    const checkIds = checkRows.map((k) => everyone[k]);
    type Config = { hidden: number; l2: number; shared: boolean; score: number; pred: Float64Array };
    const tried: Config[] = [];
    const grid: Record<string, number> = { ...this.o.choice?.innerChoice };
    const scoreOf = (pred: ArrayLike<number>) => normalisedGini(checkActual, pred) + topDecileCapture(checkActual, pred, checkIds);
    if (searching && inner.n >= 20 && checkRows.length >= 10 && checkActual.some((v) => v > 0)) {
      const { mean, std } = standardiser(inner.x, inner.n);
      const xs = standardise(inner.x, inner.n, mean, std);
      const xCheck = standardise(gather(check.x, checkRows), checkRows.length, mean, std);
      for (const hidden of this.o.hidden) {
        for (const l2 of this.o.l2s) for (const shared of this.o.sharedSigma) {
          const net = await trainNet(xs, inner.y, inner.n, hidden, l2, shared, epochs, this.o.learningRate, new Rng(this.o.seed), hooks);
          const pred = predict(net, xCheck, checkRows.length).expected;
          disposeNet(net);
          const score = scoreOf(pred);
          grid[`h${hidden}_l2_${l2}${shared ? '_sharedSigma' : ''}`] = Number(score.toFixed(4));
          tried.push({ hidden, l2, shared, score, pred });
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
    const chosen = this.o.choice?.members ?? (members
      ? tried.slice(0, members).map(({ hidden, l2, shared }) => ({ hidden, l2, shared }))
      : [{ hidden: this.o.hidden[0], l2: this.o.l2s[0], shared: this.o.sharedSigma[0] }]);
    this.chosen = { members: chosen, innerChoice: grid };

    // The chosen configurations, refitted on snapshots ending at the cutoff.
    const train = this.stack(past, everyone, d, horizonDays, featuresAt);
    if (train.n === 0) throw new Error('no customer bought before cutoff − horizon: nothing to train on');
    const { mean, std } = standardiser(train.x, train.n);
    const xs = standardise(train.x, train.n, mean, std);
    const nets: ValueWeights['nets'] = [];
    for (const c of chosen) {
      const net = await trainNet(xs, train.y, train.n, c.hidden, c.l2, c.shared, epochs, this.o.learningRate, new Rng(this.o.seed), hooks);
      // σ's masked column is stored as the zeros it acts as, so scoring needs no flag.
      const w2 = net.mask ? tf.mul(net.w2, net.mask) : net.w2;
      nets.push({ hidden: c.hidden, w1: Array.from(net.w1.dataSync()), b1: Array.from(net.b1.dataSync()), w2: Array.from(w2.dataSync()), b2: Array.from(net.b2.dataSync()) });
      if (w2 !== net.w2) w2.dispose();
      disposeNet(net);
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
    };
    this.info = {
      backend, ensemble: chosen.map((c) => `hidden ${c.hidden}, l2 ${c.l2}${c.shared ? ', shared σ' : ''}`).join(' + '), epochs, featureSeconds: Number(featureSeconds.toFixed(1)), snapshots: this.o.snapshots, innerChoice: grid, ...(searching ? {} : { choiceReused: true }), trainRows: train.n,
      trainReturnRate: Number((train.y.reduce((s, v) => s + (v > 0 ? 1 : 0), 0) / train.n).toFixed(4)),
      groups: ctx.groups.join(' '), returns: returns ? returns.length : 'none in the source',
    };
    const now = valueFeatures(past, population, cutoff, ctx);
    const out = scoreFeatures(this.weights, now.x, now.present, population.length);
    this.lastDrivers = out.drivers;
    return { predictions: out.expected, pReturn: out.pReturn };
  }

  /** Snapshots at `latest`, latest − step, …: features at each, target = spend in the horizon after it. */
  private stack(past: Txn[], everyone: string[], latest: number, horizonDays: number, featuresAt: (at: number) => ReturnType<typeof valueFeatures>) {
    const parts: Float32Array[] = [];
    const ys: number[] = [];
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
    }
    const x = new Float32Array(ys.length * VF);
    parts.forEach((row, r) => x.set(row, r * VF));
    return { x, y: Float32Array.from(ys), n: ys.length };
  }
}

/** Scores feature rows already computed with the weights' own context (features, groups, horizon). */
export function scoreFeatures(w: ValueWeights, x: Float32Array, present: Uint8Array, n: number, topDrivers = VALUE_DEFAULTS.topDrivers) {
  if (w.format !== 'tf-value/2' || w.features.join() !== VALUE_FEATURES.join()) {
    throw new Error('these TF-VALUE weights were trained on another feature list; retrain the value model');
  }
  const xs = standardise(x, n, Float32Array.from(w.mean), Float32Array.from(w.std));
  const expected = new Float64Array(n), pReturn = new Float64Array(n), contributions = new Float64Array(n * VF);
  for (const stored of w.nets) {
    const net: Net = {
      hidden: stored.hidden,
      w1: tf.tensor2d(stored.w1, stored.hidden ? [VF, stored.hidden] : [1, 1]),
      b1: tf.tensor1d(stored.b1),
      w2: tf.tensor2d(stored.w2, [stored.hidden || VF, 3]),
      b2: tf.tensor1d(stored.b2),
    };
    try {
      const out = predict(net, xs, n);
      const c = driverContributions(net, xs, n);
      for (let k = 0; k < n; k++) (expected[k] += out.expected[k] / w.nets.length), (pReturn[k] += out.pReturn[k] / w.nets.length);
      for (let i = 0; i < n * VF; i++) contributions[i] += c[i] / w.nets.length;
    } finally {
      disposeNet(net);
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

function gather(x: Float32Array, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * VF);
  rows.forEach((r, q) => out.set(x.subarray(r * VF, (r + 1) * VF), q * VF));
  return out;
}

function forward(net: Net, x: tf.Tensor2D): tf.Tensor2D {
  const h = net.hidden ? tf.relu(tf.add(tf.matMul(x, net.w1), net.b1)) : x;
  return tf.add(tf.matMul(h as tf.Tensor2D, net.mask ? tf.mul(net.w2, net.mask) : net.w2), net.b2) as tf.Tensor2D;
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

async function trainNet(xs: Float32Array, y: Float32Array, n: number, hidden: number, l2: number, sharedSigma: boolean, epochs: number, learningRate: number, rng: Rng, hooks: FitHooks): Promise<Net> {
  const inDim = hidden || VF;
  // Start the heads at the training population's return rate and its log-spend mean and spread.
  const positive = Array.from(y).filter((v) => v > 0);
  const rate = Math.min(0.99, Math.max(0.01, positive.length / n));
  const logs = positive.map(Math.log);
  const m = logs.length ? logs.reduce((s, v) => s + v, 0) / logs.length : 0;
  const sd = logs.length > 1 ? Math.sqrt(logs.reduce((s, v) => s + (v - m) ** 2, 0) / logs.length) : 1;
  const softplusInverse = (v: number) => Math.log(Math.expm1(Math.max(v - SIGMA_MIN, 1e-3)));
  const net: Net = {
    hidden,
    ...(sharedSigma ? { mask: tf.tensor2d([1, 1, 0], [1, 3]) } : {}),
    w1: tf.variable(hidden ? tf.randomNormal([VF, hidden], 0, Math.sqrt(2 / VF), 'float32', rng.seed()) : tf.zeros([1, 1])) as unknown as tf.Tensor2D,
    b1: tf.variable(tf.zeros([Math.max(hidden, 1)])) as unknown as tf.Tensor1D,
    w2: tf.variable(hidden ? tf.randomNormal([inDim, 3], 0, Math.sqrt(1 / inDim), 'float32', rng.seed()) : tf.zeros([inDim, 3])) as unknown as tf.Tensor2D,
    b2: tf.variable(tf.tensor1d([Math.log(rate / (1 - rate)), m, softplusInverse(sd)])) as unknown as tf.Tensor1D,
  };
  const x = tf.tensor2d(xs, [n, VF]);
  const positiveMask = tf.tensor1d(Float32Array.from(y, (v) => (v > 0 ? 1 : 0)));
  const logY = tf.tensor1d(Float32Array.from(y, (v) => (v > 0 ? Math.log(v) : 0)));
  const optimizer = tf.train.adam(learningRate);
  const trainable = (hidden ? [net.w1, net.b1, net.w2, net.b2] : [net.w2, net.b2]) as unknown as tf.Variable[];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loss = tf.tidy(() =>
      optimizer.minimize(() => {
        const { logit, mu, sigma } = heads(forward(net, x));
        // Bernoulli part: binary cross-entropy on "bought at all".
        const bce = tf.sub(tf.add(tf.relu(logit), tf.softplus(tf.neg(tf.abs(logit)))), tf.mul(logit, positiveMask));
        // Lognormal part on buyers only: log σ + (log y − μ)²/(2σ²) (log y and ½·log 2π are constants).
        const z = tf.div(tf.sub(logY, mu), sigma);
        const lognormal = tf.mul(positiveMask, tf.add(tf.log(sigma), tf.mul(0.5, tf.square(z))));
        const penalty = tf.mul(l2, tf.add(tf.sum(tf.square(net.w2)), hidden ? tf.sum(tf.square(net.w1)) : 0));
        return tf.add(tf.mean(tf.add(bce, lognormal)), penalty) as tf.Scalar;
      }, true, trainable) as tf.Scalar,
    );
    if (epoch % 50 === 49 || epoch === epochs - 1) {
      await hooks.onEpoch?.(epoch + 1, epochs, loss.dataSync()[0]);
      await new Promise((r) => setImmediate(r));
    }
    loss.dispose();
  }
  x.dispose(); positiveMask.dispose(); logY.dispose(); optimizer.dispose();
  return net;
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
  [net.w1, net.b1, net.w2, net.b2, ...(net.mask ? [net.mask] : [])].forEach((v) => v.dispose());
}
