#!/usr/bin/env node
// Session 13's experiments on TF-CHURN's calibration (docs/eval/README.md), one JSON line per cutoff:
//   label-shift  TF-CHURN and RFM-LOGISTIC, and TF-CHURN after the EM prior-shift correction of Saerens, Latinne and
//                Decaestecker (2002): "The four origins side by side" and "A label-shift correction"
//   snapshots    TF-CHURN trained on 4 snapshots 30 days apart (main), on 8 snapshots 15 days apart and (session 15)
//                on the latest snapshot alone, RFM-LOGISTIC's training window: "Training on one snapshot"
//   rfm-anchor   TF-CHURN with its logits shifted by one constant so its mean prediction on the scored population is
//                RFM-LOGISTIC's (session 14): "Anchoring the mean on RFM-LOGISTIC's"
//   covariates   Platt with covariates (session 15): the calibrator is a logistic regression on TF-CHURN's out-of-fold
//                logit and RFM-LOGISTIC's five standardised features, weighted as main's Platt (A) or on the latest
//                snapshot alone (B): "Platt with RFM covariates"
//   importance   Platt weighted for covariate shift (session 17): a domain classifier (logistic on the out-of-fold logit
//                and RFM-LOGISTIC's five standardised features) tells the calibration rows from the population scored at
//                the cutoff; each calibration row is weighted by its odds of being a population row, alone (A) or times
//                main's recency weight (B): "Importance-weighted Platt"
// Usage: npm run build:server && node bench/churn-experiments.mjs label-shift|snapshots|rfm-anchor|covariates|importance FILE.csv.gz CUTOFF…
//   e.g. node bench/churn-experiments.mjs label-shift ../shared/data/online_retail.csv.gz 2011-04-04 2011-05-04 2011-06-03 2011-09-01
import { FileTxnSource } from '../recommender/dist/data/file-source.js';
import { parseColumnMap, parseCutoff } from '../recommender/dist/data/txn-source.js';
import { readClean } from '../recommender/dist/eval/clean.js';
import { churnTask } from '../recommender/dist/eval/evaluate.js';
import { reliability, rocAuc } from '../recommender/dist/eval/metrics.js';
import { ChurnTfModel, CHURN_DEFAULTS, fitPlatt, recencyWeight } from '../recommender/dist/models/churn-model.js';
import { RfmLogisticBaseline } from '../recommender/dist/baselines/churn.js';
import { rfmFeatures, summarise } from '../recommender/dist/baselines/churn-features.js';
import { fitLogistic } from '../recommender/dist/baselines/logistic.js';
import { DAY_MS } from '../recommender/dist/time.js';

const [experiment, file, ...cutoffs] = process.argv.slice(2);
if (!['label-shift', 'snapshots', 'rfm-anchor', 'covariates', 'importance'].includes(experiment) || !file || !cutoffs.length) {
  console.error('usage: node bench/churn-experiments.mjs label-shift|snapshots|rfm-anchor|covariates|importance FILE.csv.gz CUTOFF…');
  process.exit(2);
}
const HORIZON = 90;
const history = await readClean(new FileTxnSource(file, parseColumnMap(undefined)));
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
const measured = (scores, labels) => ({ auc: +rocAuc(scores, labels).toFixed(4), ece: +reliability(scores, labels).ece.toFixed(4), meanP: +mean(scores).toFixed(3) });

/** Saerens et al.: the churn rate of the scored population estimated from the probabilities alone, and them reweighted. */
function emPriorShift(p, trainRate) {
  const reweigh = (rate) => {
    const r1 = rate / trainRate, r0 = (1 - rate) / (1 - trainRate);
    return Float64Array.from(p, (v) => (r1 * v) / (r1 * v + r0 * (1 - v)));
  };
  let rate = trainRate;
  for (let it = 0; it < 200; it++) {
    const next = mean(reweigh(rate));
    const done = Math.abs(next - rate) < 1e-7;
    rate = next;
    if (done) break;
  }
  return { rate, p: reweigh(rate) };
}

/** The churn rate Platt is fitted to: each training snapshot's, weighted as TF-CHURN's calibration weighs it. */
function calibrationRate(rows, cutoff) {
  const past = cutoff - HORIZON * DAY_MS;
  let churned = 0, all = 0;
  for (let s = 0; s < CHURN_DEFAULTS.snapshots; s++) {
    const at = past - s * CHURN_DEFAULTS.snapshotStepDays * DAY_MS;
    const end = at + HORIZON * DAY_MS;
    const before = new Set(rows.filter((r) => r.time < at).map((r) => r.customerId));
    const active = new Set(rows.filter((r) => r.time >= at && r.time < end).map((r) => r.customerId));
    const w = recencyWeight(s, CHURN_DEFAULTS.calibrationHalfLife);
    for (const id of before) (all += w), (churned += active.has(id) ? 0 : w);
  }
  return churned / all;
}

/** p with one constant added to every logit, the constant chosen (by bisection) so the mean prediction is `target`. */
function shiftToMean(p, target) {
  const logits = Float64Array.from(p, (v) => Math.log(Math.min(Math.max(v, 1e-9), 1 - 1e-9) / (1 - Math.min(Math.max(v, 1e-9), 1 - 1e-9))));
  const at = (d) => Float64Array.from(logits, (z) => 1 / (1 + Math.exp(-(z + d))));
  let lo = -10, hi = 10;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (mean(at(mid)) < target) lo = mid;
    else hi = mid;
  }
  return { shift: (lo + hi) / 2, p: at((lo + hi) / 2) };
}

/**
 * Platt with covariates: fitted on the chosen network's out-of-fold logits of model.calibrationSample (rows kept by
 * `keep`, weighted by `weight`) and RFM-LOGISTIC's five features at each row's snapshot, standardised on those rows;
 * applied to the population's logits (Platt undone) and features at the cutoff.
 */
function covariatePlatt(model, rows, population, cutoff, scores, keep, weight) {
  const sample = model.calibrationSample, platt = model.params().platt;
  const summaries = new Map();
  const rfmAt = (customer, at) => {
    if (!summaries.has(at)) summaries.set(at, summarise(rows, at));
    return rfmFeatures(summaries.get(at).get(customer), at);
  };
  const idx = Array.from(sample.y, (_, i) => i).filter((i) => keep(i));
  const raw = idx.map((i) => rfmAt(sample.customer[i], sample.snapshotAt[i]));
  const d = 5, mu = new Array(d).fill(0), sd = new Array(d).fill(0);
  raw.forEach((r) => r.forEach((v, k) => (mu[k] += v / raw.length)));
  raw.forEach((r) => r.forEach((v, k) => (sd[k] += (v - mu[k]) ** 2 / raw.length)));
  const scale = (r) => r.map((v, k) => (sd[k] > 0 ? (v - mu[k]) / Math.sqrt(sd[k]) : 0));
  const x = idx.map((i, q) => [sample.z[i], ...scale(raw[q])]);
  const fit = fitLogistic(x, idx.map((i) => sample.y[i]), 1, 100, idx.map((i) => weight(i)));
  const theta = [fit.intercept, ...fit.weights];
  const now = summarise(rows.filter((t) => t.time < cutoff), cutoff);
  const p = Float64Array.from(population, (c, k) => {
    const q = Math.min(Math.max(scores[k], 1e-12), 1 - 1e-12);
    const z = (Math.log(q / (1 - q)) - platt.b) / platt.a;
    const xi = [1, z, ...scale(rfmFeatures(now.get(c), cutoff))];
    return 1 / (1 + Math.exp(-xi.reduce((s, v, j) => s + v * theta[j], 0)));
  });
  return { theta: Array.from(theta, (v) => +v.toFixed(3)), p };
}

/**
 * Importance-weighted Platt: a domain classifier separates the calibration rows (label 0) from the population at the
 * cutoff (label 1) on [logit, RFM features]; each calibration row gets weight odds × n_cal / n_pop, clipped to
 * [0.05, 20], times `base(i)`, and Platt is refitted with those weights and applied to the population's logits.
 */
function importancePlatt(model, rows, population, cutoff, scores, base) {
  const sample = model.calibrationSample, platt = model.params().platt;
  const summaries = new Map();
  const rfmAt = (customer, at) => {
    if (!summaries.has(at)) summaries.set(at, summarise(rows, at));
    return rfmFeatures(summaries.get(at).get(customer), at);
  };
  const n = sample.y.length;
  const popZ = Array.from(population, (_, k) => {
    const q = Math.min(Math.max(scores[k], 1e-12), 1 - 1e-12);
    return (Math.log(q / (1 - q)) - platt.b) / platt.a;
  });
  const now = summarise(rows.filter((t) => t.time < cutoff), cutoff);
  const raw = [
    ...Array.from(sample.y, (_, i) => [sample.z[i], ...rfmAt(sample.customer[i], sample.snapshotAt[i])]),
    ...population.map((c, k) => [popZ[k], ...rfmFeatures(now.get(c), cutoff)]),
  ];
  const d = raw[0].length, mu = new Array(d).fill(0), sd = new Array(d).fill(0);
  raw.forEach((r) => r.forEach((v, k) => (mu[k] += v / raw.length)));
  raw.forEach((r) => r.forEach((v, k) => (sd[k] += (v - mu[k]) ** 2 / raw.length)));
  const x = raw.map((r) => r.map((v, k) => (sd[k] > 0 ? (v - mu[k]) / Math.sqrt(sd[k]) : 0)));
  const domain = raw.map((_, i) => (i < n ? 0 : 1));
  // balanced classes so the odds are a density ratio up to the constant n_cal / n_pop
  const balance = domain.map((t) => (t ? n / population.length : 1));
  const fit = fitLogistic(x, domain, 1, 100, balance);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = fit.intercept + x[i].reduce((acc, v, j) => acc + v * fit.weights[j], 0);
    w[i] = Math.min(20, Math.max(0.05, Math.exp(s))) * base(i);
  }
  const domainScores = x.map((r) => fit.intercept + r.reduce((acc, v, j) => acc + v * fit.weights[j], 0));
  const refit = fitPlatt(sample.z, sample.y, w);
  const p = Float64Array.from(popZ, (z) => 1 / (1 + Math.exp(-(refit.a * z + refit.b))));
  const sw = w.reduce((a, v) => a + v, 0), sw2 = w.reduce((a, v) => a + v * v, 0);
  return { domainAuc: +rocAuc(domainScores, domain).toFixed(3), effectiveN: Math.round((sw * sw) / sw2), n, platt: { a: +refit.a.toFixed(3), b: +refit.b.toFixed(3) }, p };
}

for (const text of cutoffs) {
  const task = churnTask(history.rows, parseCutoff(text), HORIZON);
  const row = { cutoff: text, customers: task.population.length, churnRate: +mean(task.labels).toFixed(3) };
  if (experiment === 'label-shift') {
    const { scores } = await new ChurnTfModel().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const rfm = await new RfmLogisticBaseline().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const trainRate = calibrationRate(task.rows, task.cutoff);
    const shifted = emPriorShift(scores, trainRate);
    Object.assign(row, {
      tfChurn: measured(scores, task.labels),
      rfmLogistic: measured(rfm.scores, task.labels),
      em: { trainRate: +trainRate.toFixed(3), estimatedRate: +shifted.rate.toFixed(3), ...measured(shifted.p, task.labels) },
    });
  } else if (experiment === 'rfm-anchor') {
    const { scores } = await new ChurnTfModel().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const rfm = await new RfmLogisticBaseline().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const anchored = shiftToMean(scores, mean(rfm.scores));
    Object.assign(row, {
      tfChurn: measured(scores, task.labels),
      rfmLogistic: measured(rfm.scores, task.labels),
      anchored: { shift: +anchored.shift.toFixed(3), ...measured(anchored.p, task.labels) },
    });
  } else if (experiment === 'covariates') {
    const model = new ChurnTfModel();
    const { scores } = await model.fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const rfm = await new RfmLogisticBaseline().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const sample = model.calibrationSample;
    const latestAt = Math.max(...sample.snapshotAt);
    const a = covariatePlatt(model, task.rows, task.population, task.cutoff, scores, () => true, (i) => sample.weight[i]);
    const b = covariatePlatt(model, task.rows, task.population, task.cutoff, scores, (i) => sample.snapshotAt[i] === latestAt, () => 1);
    Object.assign(row, {
      tfChurn: measured(scores, task.labels),
      rfmLogistic: measured(rfm.scores, task.labels),
      covariatesA: { theta: a.theta, ...measured(a.p, task.labels) },
      covariatesB: { theta: b.theta, ...measured(b.p, task.labels) },
    });
  } else if (experiment === 'importance') {
    const model = new ChurnTfModel();
    const { scores } = await model.fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const rfm = await new RfmLogisticBaseline().fitPredict(task.rows, task.population, task.cutoff, HORIZON);
    const sample = model.calibrationSample;
    const a = importancePlatt(model, task.rows, task.population, task.cutoff, scores, () => 1);
    const b = importancePlatt(model, task.rows, task.population, task.cutoff, scores, (i) => sample.weight[i]);
    const { p: pa, ...infoA } = a, { p: pb, ...infoB } = b;
    Object.assign(row, {
      tfChurn: measured(scores, task.labels),
      rfmLogistic: measured(rfm.scores, task.labels),
      importanceA: { ...infoA, ...measured(pa, task.labels) },
      importanceB: { ...infoB, ...measured(pb, task.labels) },
    });
  } else {
    for (const [snapshots, snapshotStepDays] of [[4, 30], [8, 15], [1, 30]]) {
      const model = new ChurnTfModel({ snapshots, snapshotStepDays });
      const { scores } = await model.fitPredict(task.rows, task.population, task.cutoff, HORIZON);
      const p = model.params();
      row[`${snapshots}x${snapshotStepDays}d`] = { ...measured(scores, task.labels), chosen: `${p.features} h${p.hidden} l2 ${p.l2}` };
    }
  }
  console.log(JSON.stringify(row));
}
