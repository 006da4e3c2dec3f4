import type { ChurnDriver, ChurnModel, ExplainsChurn, FitHooks, HasParams, RescoresChurn, ReusesChoice, StoredChurnScores, Txn } from '../eval/types';
import { initBackend, tf } from '../tf/backend';
import { Rng } from '../tf/random';
import { CF, CHURN_FEATURE_GROUPS, CHURN_FEATURES, churnFeatureLabel, churnFeatures, mostCommonCountry, type ChurnFeatureGroup } from './churn-features';
import { DAY_MS } from '../time';

export interface ChurnOptions {
  /** Candidate feature sets (unions of groups of churn-features.ts), picked with hidden and l2 by held-out ROC-AUC. */
  featureSets: ChurnFeatureGroup[][];
  /** Candidate hidden sizes; 0 means logistic regression. Picked with l2 by held-out ROC-AUC. */
  hidden: number[];
  l2s: number[];
  epochs: number;
  learningRate: number;
  l2: number;
  /**
   * Customers are split into this many folds: each candidate is trained on the others' rows and scores the held-out
   * fold's latest snapshot (the inner split: features at cutoff − horizon, labels from [cutoff − horizon, cutoff)).
   * The mean fold ROC-AUC chooses; Platt is fitted on the chosen candidate's out-of-fold logits; the chosen candidate
   * is then trained on every customer.
   */
  folds: number;
  topDrivers: number;
  /** Training snapshots stacked, `snapshotStepDays` apart. */
  snapshots: number;
  snapshotStepDays: number;
  /**
   * Platt is fitted on the held-out customers' out-of-fold logits in every snapshot, snapshot s (0 = the latest)
   * weighted 0.5^(s / calibrationHalfLife): Infinity weighs every season alike, 0 keeps the latest snapshot alone.
   * 1 was chosen on the inner split (lowest ECE on the full file and on the non-UK slice; docs/eval/README.md).
   */
  calibrationHalfLife: number;
  seed: number;
}

export const CHURN_DEFAULTS: ChurnOptions = { featureSets: [['base'], ['base', 'rhythm', 'trajectory', 'season', 'profile', 'bgnbd']], hidden: [0, 16], l2s: [1e-2, 1e-1], epochs: 300, learningRate: 0.02, l2: 1e-2, folds: 2, topDrivers: 3, snapshots: 4, snapshotStepDays: 30, calibrationHalfLife: 1, seed: 11 };

export interface ChurnPrediction {
  scores: Float64Array;
  isProbability: true;
  drivers: ChurnDriver[][];
}

interface Net {
  hidden: number;
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
}

/**
 * TF-CHURN: logistic regression or a small MLP (chosen on a held-out part of the training population) on RFM,
 * inter-purchase time, trend and window features; trained strictly in the past (features at cutoff − horizon,
 * labels from [cutoff − horizon, cutoff)), Platt-calibrated on the held-out part, with per-customer drivers
 * (weight × standardised value for the logistic; gradient × (value − mean) for the MLP).
 */
export class ChurnTfModel implements ChurnModel, ExplainsChurn, HasParams, ReusesChoice, RescoresChurn<ChurnWeights> {
  readonly name = 'TF-CHURN';
  readonly kind = 'model' as const;
  private readonly o: ChurnOptions;
  info: Record<string, unknown> = {};
  private lastDrivers: ChurnDriver[][] = [];
  /** What the last fit's Platt was fitted on (bench/churn-experiments.mjs fits other calibrators on the same rows). */
  calibrationSample: { z: Float32Array; y: Float32Array; weight: Float32Array; customer: string[]; snapshotAt: number[] } | null = null;
  private weights: ChurnWeights | null = null;
  /** The feature set, hidden size and l2 the last fit chose. */
  private chosen: Pick<ChurnOptions, 'featureSets' | 'hidden' | 'l2s'> | null = null;

  constructor(options: Partial<ChurnOptions> = {}) {
    this.o = { ...CHURN_DEFAULTS, ...options };
  }

  params(): Record<string, unknown> {
    return this.info;
  }

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number, hooks: FitHooks = {}) {
    const { scores, isProbability } = await this.fitPredictWithDrivers(rows, population, cutoff, horizonDays, hooks);
    return { scores, isProbability };
  }

  /** The top drivers of population member `index` from the last fitPredict, strongest push towards churn first. */
  drivers(index: number, k: number): ChurnDriver[] {
    return this.lastDrivers[index].slice(0, k);
  }

  async fitPredictWithDrivers(rows: Txn[], population: string[], cutoff: number, horizonDays: number, hooks: FitHooks = {}): Promise<ChurnPrediction> {
    const { backend } = await initBackend();
    const rng = new Rng(this.o.seed);
    const past = cutoff - horizonDays * DAY_MS;
    const home = mostCommonCountry(rows);
    const everyone = [...new Set(rows.filter((r) => r.time < cutoff).map((r) => r.customerId))];
    const fold = Uint8Array.from(everyone, () => Math.min(this.o.folds - 1, Math.floor(rng.next() * this.o.folds)));
    // Stacked past snapshots (features at D − k·step, labels from the horizon after it), all ending by the cutoff.
    const xParts: Float32Array[] = [];
    const yList: number[] = [], foldList: number[] = [], latest: number[] = [], weightList: number[] = [];
    const customerList: string[] = [], atList: number[] = [];
    for (let s = 0; s < this.o.snapshots; s++) {
      const at = past - s * this.o.snapshotStepDays * DAY_MS;
      const set = churnFeatures(rows, everyone, at, horizonDays, home);
      const end = at + horizonDays * DAY_MS;
      const active = new Set(rows.filter((r) => r.time >= at && r.time < end).map((r) => r.customerId));
      everyone.forEach((c, k) => {
        if (!set.present[k]) return;
        xParts.push(set.x.subarray(k * CF, (k + 1) * CF));
        yList.push(active.has(c) ? 0 : 1);
        foldList.push(fold[k]);
        latest.push(s === 0 ? 1 : 0);
        weightList.push(recencyWeight(s, this.o.calibrationHalfLife));
        customerList.push(c);
        atList.push(at);
      });
    }
    const n = yList.length;
    const xAll = new Float32Array(n * CF);
    xParts.forEach((row, r) => xAll.set(row, r * CF));
    const y = Float32Array.from(yList);
    const rowsWhere = (keep: (r: number) => boolean) => Int32Array.from({ length: n }, (_, r) => r).filter(keep);
    const folds = Array.from({ length: this.o.folds }, (_, f) => ({
      fit: rowsWhere((r) => foldList[r] !== f),
      check: rowsWhere((r) => foldList[r] === f && latest[r] === 1),
      calibrate: rowsWhere((r) => foldList[r] === f && weightList[r] > 0),
    })).filter((f) => f.check.length > 0 && f.fit.length > 0);
    const calibrateRows = Int32Array.from(folds.flatMap((f) => Array.from(f.calibrate)));
    const calibrateLabels = gatherLabels(y, calibrateRows);
    const calibrateWeights = Float32Array.from(calibrateRows, (r) => weightList[r]);
    const epochs = Math.min(this.o.epochs, hooks.maxEpochs ?? Infinity);
    // Progress over every training of the search and the final fit, as one run of epochs.
    const l2s = this.o.l2s.length ? this.o.l2s : [this.o.l2];
    const trainings = (this.o.featureSets.length || 1) * this.o.hidden.length * l2s.length * folds.length + 1;
    let trained = 0;
    const overall: FitHooks = { onEpoch: (e, _, loss) => hooks.onEpoch?.(trained * epochs + e, trainings * epochs, loss) };

    type Candidate = { groups: ChurnFeatureGroup[]; hidden: number; l2: number; auc: number; oof: Float32Array; epochs: number };
    let best: Candidate | null = null;
    const sets = this.o.featureSets.length ? this.o.featureSets : [Object.keys(CHURN_FEATURE_GROUPS) as ChurnFeatureGroup[]];
    const prepared = (groups: ChurnFeatureGroup[]) => {
      const features = CHURN_FEATURES.filter((f) => groups.some((g) => (CHURN_FEATURE_GROUPS[g] as readonly string[]).includes(f)));
      const xRaw = selectColumns(xAll, n, features);
      const d = features.length;
      const { mean, std } = standardiser(xRaw, n, d);
      return { features, d, mean, std, xs: standardise(xRaw, n, d, mean, std) };
    };
    // Every l2 × fold of one feature set and hidden size is trained at once, as independent columns of one network:
    // the loss is their sum and Adam is per weight, so each column learns exactly what it would alone, at the cost of one.
    const models = l2s.flatMap((l2) => folds.map((f) => ({ l2, f })));
    for (const groups of sets) {
      const { d, xs } = prepared(groups);
      for (const hidden of this.o.hidden) {
        const run = await trainJoint(xs, d, y, hidden, models.map((m) => ({ l2: m.l2, fit: m.f.fit, check: m.f.check, calibrate: m.f.calibrate })), { ...this.o, epochs }, rng, overall);
        trained += models.length;
        disposeNet(run.net);
        for (const [li, l2] of l2s.entries()) {
          const oof = new Float32Array(calibrateRows.length);
          let offset = 0, aucSum = 0, epochSum = 0;
          folds.forEach((f, fi) => {
            const k = li * folds.length + fi;
            oof.set(run.bestCalibrate[k], offset);
            offset += f.calibrate.length;
            aucSum += rocAuc(run.bestLogits[k], gatherLabels(y, f.check));
            epochSum += run.bestEpoch[k];
          });
          const auc = aucSum / folds.length;
          this.info[`foldAuc_${groups.join('+')}_h${hidden}_l2_${l2}`] = Number(auc.toFixed(4));
          if (!best || auc > best.auc) best = { groups, hidden, l2, auc, oof, epochs: Math.max(CHECK_EVERY, Math.round(epochSum / folds.length)) };
        }
      }
    }
    const chosen = best!;
    const platt = fitPlatt(chosen.oof, calibrateLabels, calibrateWeights);
    this.calibrationSample = {
      z: chosen.oof, y: calibrateLabels, weight: calibrateWeights,
      customer: Array.from(calibrateRows, (r) => customerList[r]), snapshotAt: Array.from(calibrateRows, (r) => atList[r]),
    };
    const final = prepared(chosen.groups);
    // The chosen candidate on every customer, for the mean of its folds' early-stopped epochs (chosen on the inner split).
    const everyRow = rowsWhere(() => true);
    const { net } = await trainJoint(final.xs, final.d, y, chosen.hidden, [{ l2: chosen.l2, fit: everyRow, check: new Int32Array(0), calibrate: new Int32Array(0) }], { ...this.o, epochs: chosen.epochs }, rng, overall);
    this.info = {
      ...this.info, backend, features: chosen.groups.join('+'), hidden: chosen.hidden, l2: chosen.l2, epochs: chosen.epochs, platt, calibrationHalfLife: this.o.calibrationHalfLife,
      trainCustomers: n, trainChurnRate: Number((y.reduce((a, b) => a + b, 0) / n).toFixed(4)),
    };
    this.chosen = { featureSets: [chosen.groups], hidden: [chosen.hidden], l2s: [chosen.l2] };

    this.weights = {
      format: 'tf-churn/2',
      features: final.features,
      hidden: net.hidden,
      ...Object.fromEntries((['w1', 'b1', 'w2', 'b2'] as const).map((k) => [k, Array.from(net[k].dataSync())])),
      mean: Array.from(final.mean),
      std: Array.from(final.std),
      platt,
      homeCountry: home,
      horizonDays,
    } as ChurnWeights;
    disposeNet(net);
    const out = scoreWithWeights(this.weights, rows, population, cutoff, this.o.topDrivers);
    this.lastDrivers = out.allDrivers;
    return { scores: out.scores, isProbability: true, drivers: out.drivers };
  }

  /**
   * A model that trains the candidate the last fit chose without searching again (the worker's serving refit): its
   * folds still early-stop and give Platt its out-of-fold logits, on the new data.
   */
  withSameChoice(): ChurnTfModel {
    if (!this.chosen) throw new Error('TF-CHURN has not been fitted');
    return new ChurnTfModel({ ...this.o, ...this.chosen });
  }

  /** What the last fit learned, enough to score again later without training (the stored artefact). */
  exportWeights(): ChurnWeights {
    if (!this.weights) throw new Error('TF-CHURN has not been fitted');
    return this.weights;
  }

  /** The re-scoring job's path: the weights carry their own horizon and home country. */
  scoreStored(weights: ChurnWeights, rows: Txn[], population: string[], cutoff: number): StoredChurnScores {
    const { scores, drivers } = scoreWithWeights(weights, rows, population, cutoff, this.o.topDrivers);
    return { scores, drivers };
  }
}

/**
 * TF-CHURN's artefact: network weights, the standardiser, Platt's a and b, and the features (columns of
 * churnFeatures, by name) they belong to. Version 1 always used the 24 `base` features.
 */
export interface ChurnWeights {
  format: 'tf-churn/1' | 'tf-churn/2';
  features: string[];
  hidden: number;
  w1: number[];
  b1: number[];
  w2: number[];
  b2: number[];
  mean: number[];
  /** 0 marks a column that was constant in training: it is given 0 (the training value) whatever it is now. */
  std: number[];
  platt: { a: number; b: number };
  homeCountry: string | null;
  horizonDays: number;
}

/**
 * Calibrated churn probabilities and drivers for `population` as of `cutoff`, from stored weights. Refuses weights
 * naming a feature this version does not compute: scoring them would silently misread a column.
 */
export function scoreWithWeights(w: ChurnWeights, rows: Txn[], population: string[], cutoff: number, topDrivers = CHURN_DEFAULTS.topDrivers) {
  const unknown = w.features.filter((f) => !(CHURN_FEATURES as readonly string[]).includes(f));
  if ((w.format !== 'tf-churn/1' && w.format !== 'tf-churn/2') || unknown.length || w.mean.length !== w.features.length) {
    throw new Error('these TF-CHURN weights were trained on another feature list; retrain the churn model');
  }
  const d = w.features.length;
  const inDim = w.hidden || d;
  const net: Net = {
    hidden: w.hidden,
    w1: tf.tensor2d(w.w1, w.hidden ? [d, w.hidden] : [1, 1]),
    b1: tf.tensor1d(w.b1),
    w2: tf.tensor2d(w.w2, [inDim, 1]),
    b2: tf.tensor1d(w.b2),
  };
  try {
    const now = churnFeatures(rows, population, cutoff, w.horizonDays, w.homeCountry);
    const xRaw = selectColumns(now.x, population.length, w.features);
    const xNow = standardise(xRaw, population.length, d, Float32Array.from(w.mean), Float32Array.from(w.std));
    const z = logits(net, xNow, d);
    const scores = Float64Array.from(z, (v) => 1 / (1 + Math.exp(-(w.platt.a * v + w.platt.b))));
    const contributions = driverContributions(net, xNow, population.length, d);
    const allDrivers = population.map((_, k) => {
      const row = w.features.map((feature, f) => ({ feature, label: churnFeatureLabel(feature), contribution: contributions[k * d + f], value: xRaw[k * d + f] }));
      return row.sort((a, b) => b.contribution - a.contribution);
    });
    return { scores, allDrivers, drivers: allDrivers.map((dr) => dr.slice(0, topDrivers)) };
  } finally {
    disposeNet(net);
  }
}

/** The named columns of a row-major [n × CF] matrix of churnFeatures, as [n × features.length]. */
function selectColumns(x: Float32Array, n: number, features: readonly string[]): Float32Array {
  const cols = features.map((f) => (CHURN_FEATURES as readonly string[]).indexOf(f));
  const d = cols.length;
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) out[r * d + j] = x[r * CF + cols[j]];
  return out;
}

function standardiser(x: Float32Array, n: number, d: number) {
  const mean = new Float32Array(d), std = new Float32Array(d);
  for (let r = 0; r < n; r++) for (let f = 0; f < d; f++) mean[f] += x[r * d + f] / n;
  for (let r = 0; r < n; r++) for (let f = 0; f < d; f++) std[f] += (x[r * d + f] - mean[f]) ** 2 / n;
  // A column constant in training (seasonality before a year of history, say) stays 0: it taught the model nothing.
  for (let f = 0; f < d; f++) std[f] = std[f] > 1e-12 ? Math.sqrt(std[f]) : 0;
  return { mean, std };
}

function standardise(x: Float32Array, n: number, d: number, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let f = 0; f < d; f++) out[r * d + f] = std[f] > 0 ? (x[r * d + f] - mean[f]) / std[f] : 0;
  return out;
}

function gatherRows(x: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, q) => out.set(x.subarray(r * d, (r + 1) * d), q * d));
  return out;
}

function gatherLabels(y: Float32Array, rows: Int32Array): Float32Array {
  return Float32Array.from(rows, (r) => y[r]);
}

function forward(net: Net, x: tf.Tensor2D): tf.Tensor1D {
  const h = net.hidden ? tf.relu(tf.add(tf.matMul(x, net.w1), net.b1)) : x;
  return tf.reshape(tf.add(tf.matMul(h as tf.Tensor2D, net.w2), net.b2), [-1]) as tf.Tensor1D;
}

/** Epochs between validation checks; a column stops improving after PATIENCE checks without a better validation loss. */
const CHECK_EVERY = 10;
const PATIENCE = 3;

interface JointModel {
  l2: number;
  /** Rows it trains on. */
  fit: Int32Array;
  /** Rows whose loss stops it early and whose logits at its best epoch are returned (none: train every epoch). */
  check: Int32Array;
  /** Rows whose logits at the best epoch are returned too (for Platt). */
  calibrate: Int32Array;
}

/**
 * Trains K independent networks as the columns of one: logistic (weights [d × K]) or one hidden layer of `hidden`
 * units each (w1 [d × hidden·K], w2 [K × hidden]). Column k's loss is its mean log-loss over its own `fit` rows plus
 * its own l2 penalty. Each column's logits on its `check` rows are kept at its lowest check loss; training stops once
 * no column has improved for PATIENCE checks. Returns the network of column 0 in the serving layout.
 */
async function trainJoint(xs: Float32Array, d: number, y: Float32Array, hidden: number, models: JointModel[], o: ChurnOptions, rng: Rng, hooks: FitHooks) {
  const K = models.length;
  const n = y.length;
  const weightOf = new Float32Array(n * K);
  models.forEach((m, k) => m.fit.forEach((r) => (weightOf[r * K + k] = 1 / m.fit.length)));
  const w1 = tf.variable(hidden ? tf.randomNormal([d, hidden * K], 0, Math.sqrt(2 / d), 'float32', rng.seed()) : tf.zeros([1, 1]));
  const b1 = tf.variable(tf.zeros([Math.max(hidden * K, 1)]));
  const w2 = tf.variable(hidden ? tf.randomNormal([K, hidden], 0, Math.sqrt(1 / hidden), 'float32', rng.seed()) : tf.zeros([d, K]));
  const b2 = tf.variable(tf.zeros([K]));
  const l2 = tf.tensor1d(models.map((m) => m.l2));
  const forwardAll = (x: tf.Tensor2D): tf.Tensor2D => {
    if (!hidden) return tf.add(tf.matMul(x, w2), b2) as tf.Tensor2D;
    const h = tf.reshape(tf.relu(tf.add(tf.matMul(x, w1), b1)), [-1, K, hidden]);
    return tf.add(tf.sum(tf.mul(h, w2), 2), b2) as tf.Tensor2D;
  };
  const x = tf.tensor2d(xs, [n, d]);
  const t = tf.tensor2d(y, [n, 1]);
  const mask = tf.tensor2d(weightOf, [n, K]);
  const checkAll = Int32Array.from(new Set(models.flatMap((m) => [...Array.from(m.check), ...Array.from(m.calibrate)])));
  const where = new Map(Array.from(checkAll, (r, q) => [r, q]));
  const xCheck = checkAll.length ? tf.tensor2d(gatherRows(xs, d, checkAll), [checkAll.length, d]) : null;
  const bestLoss = models.map(() => Infinity);
  const bestEpoch = models.map(() => o.epochs);
  const bestLogits = models.map((m) => new Float32Array(m.check.length));
  const bestCalibrate = models.map((m) => new Float32Array(m.calibrate.length));
  const stale = models.map(() => 0);
  const optimizer = tf.train.adam(o.learningRate);
  const weights = (hidden ? [w1, b1, w2, b2] : [w2, b2]) as tf.Variable[];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const loss = tf.tidy(() => {
      return optimizer.minimize(() => {
        const z = forwardAll(x);
        const nll = tf.sum(tf.mul(tf.sub(tf.add(tf.relu(z), tf.softplus(tf.neg(tf.abs(z)))), tf.mul(z, t)), mask));
        const squares = hidden ? tf.add(tf.sum(tf.reshape(tf.square(w1), [d, K, hidden]), [0, 2]), tf.sum(tf.square(w2), 1)) : tf.sum(tf.square(w2), 0);
        return tf.add(nll, tf.sum(tf.mul(l2, squares))) as tf.Scalar;
      }, true, weights) as tf.Scalar;
    });
    const done = epoch + 1;
    if (xCheck && (done % CHECK_EVERY === 0 || done === o.epochs)) {
      const z = tf.tidy(() => forwardAll(xCheck).dataSync() as Float32Array);
      models.forEach((m, k) => {
        if (!m.check.length || stale[k] >= PATIENCE) return;
        let sum = 0;
        const zk = new Float32Array(m.check.length);
        m.check.forEach((r, i) => {
          const v = (zk[i] = z[where.get(r)! * K + k]);
          sum += Math.max(v, 0) - v * y[r] + Math.log1p(Math.exp(-Math.abs(v)));
        });
        const mean = sum / m.check.length;
        if (mean < bestLoss[k] - 1e-5) (bestLoss[k] = mean), (bestEpoch[k] = done), bestLogits[k].set(zk), (stale[k] = 0), m.calibrate.forEach((r, i) => (bestCalibrate[k][i] = z[where.get(r)! * K + k]));
        else stale[k]++;
      });
    }
    const finished = xCheck !== null && models.every((m, k) => !m.check.length || stale[k] >= PATIENCE);
    if (done % 50 === 0 || done === o.epochs || finished) {
      await hooks.onEpoch?.(done, o.epochs, loss.dataSync()[0]);
      await new Promise((r) => setImmediate(r));
    }
    loss.dispose();
    if (finished) break;
  }
  // Column 0 in the layout forward() and the stored weights use.
  const net: Net = tf.tidy(() => ({
    hidden,
    w1: (hidden ? tf.slice(w1, [0, 0], [d, hidden]) : tf.zeros([1, 1])) as tf.Tensor2D,
    b1: (hidden ? tf.slice(b1, [0], [hidden]) : tf.zeros([1])) as tf.Tensor1D,
    w2: (hidden ? tf.reshape(tf.slice(w2, [0, 0], [1, hidden]), [hidden, 1]) : tf.slice(w2, [0, 0], [d, 1])) as tf.Tensor2D,
    b2: tf.slice(b2, [0], [1]) as tf.Tensor1D,
  }));
  [w1, b1, w2, b2, l2, x, t, mask].forEach((v) => v.dispose());
  xCheck?.dispose();
  optimizer.dispose();
  return { net, bestLogits, bestCalibrate, bestEpoch };
}

function logits(net: Net, x: Float32Array, d: number): Float32Array {
  return tf.tidy(() => forward(net, tf.tensor2d(x, [x.length / d, d])).dataSync() as Float32Array);
}

function disposeNet(net: Net) {
  [net.w1, net.b1, net.w2, net.b2].forEach((v) => v.dispose());
}

/** Per-customer contribution of each feature to the logit, row-major [customers × d]. */
function driverContributions(net: Net, x: Float32Array, n: number, d: number): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [n, d]);
    // Standardised inputs: the training mean is 0, so value − mean is the input itself.
    if (!net.hidden) return tf.mul(xt, tf.reshape(net.w2, [1, d])).dataSync() as Float32Array;
    const g = tf.grad((v: tf.Tensor) => tf.sum(forward(net, v as tf.Tensor2D)))(xt);
    return tf.mul(g, xt).dataSync() as Float32Array;
  });
}

/**
 * Weight of snapshot s (0 = the latest) in Platt's fit: 0.5^(s / halfLife). Recent seasons count more because the
 * churn rate drifts from one snapshot to the next (it rose with each one before both the inner and the test cutoff).
 */
export function recencyWeight(s: number, halfLife: number): number {
  if (halfLife <= 0) return s === 0 ? 1 : 0;
  return 0.5 ** (s / halfLife);
}

/** Platt scaling: p = σ(a·z + b) fitted by Newton's method on held-out logits, row i counted `weight[i]` times. */
export function fitPlatt(z: Float32Array, y: Float32Array, weight?: Float32Array): { a: number; b: number } {
  let a = 1, b = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (let i = 0; i < z.length; i++) {
      const c = weight ? weight[i] : 1;
      const p = 1 / (1 + Math.exp(-(a * z[i] + b)));
      const w = c * p * (1 - p);
      ga += c * (p - y[i]) * z[i]; gb += c * (p - y[i]);
      haa += w * z[i] * z[i] + 1e-9; hab += w * z[i]; hbb += w + 1e-9;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    a -= da; b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a: Number(a.toFixed(6)), b: Number(b.toFixed(6)) };
}

/** Rank-based ROC-AUC with ties averaged. */
export function rocAuc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  const n = score.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let rankSum = 0, pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]] === score[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (label[idx[k]]) { rankSum += rank; pos++; }
    i = j + 1;
  }
  const neg = n - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : 0.5;
}
