#!/usr/bin/env node
// Session 13's experiments on TF-CHURN's calibration (docs/eval/README.md), one JSON line per cutoff:
//   label-shift  TF-CHURN and RFM-LOGISTIC, and TF-CHURN after the EM prior-shift correction of Saerens, Latinne and
//                Decaestecker (2002): "The four origins side by side" and "A label-shift correction"
//   snapshots    TF-CHURN trained on 4 snapshots 30 days apart (main) and on 8 snapshots 15 days apart
//   rfm-anchor   TF-CHURN with its logits shifted by one constant so its mean prediction on the scored population is
//                RFM-LOGISTIC's (session 14): "Anchoring the mean on RFM-LOGISTIC's"
// Usage: npm run build:server && node bench/churn-experiments.mjs label-shift|snapshots|rfm-anchor FILE.csv.gz CUTOFF…
//   e.g. node bench/churn-experiments.mjs label-shift ../shared/data/online_retail.csv.gz 2011-04-04 2011-05-04 2011-06-03 2011-09-01
import { FileTxnSource } from '../recommender/dist/data/file-source.js';
import { parseColumnMap, parseCutoff } from '../recommender/dist/data/txn-source.js';
import { readClean } from '../recommender/dist/eval/clean.js';
import { churnTask } from '../recommender/dist/eval/evaluate.js';
import { reliability, rocAuc } from '../recommender/dist/eval/metrics.js';
import { ChurnTfModel, CHURN_DEFAULTS, recencyWeight } from '../recommender/dist/models/churn-model.js';
import { RfmLogisticBaseline } from '../recommender/dist/baselines/churn.js';
import { DAY_MS } from '../recommender/dist/time.js';

const [experiment, file, ...cutoffs] = process.argv.slice(2);
if (!['label-shift', 'snapshots', 'rfm-anchor'].includes(experiment) || !file || !cutoffs.length) {
  console.error('usage: node bench/churn-experiments.mjs label-shift|snapshots|rfm-anchor FILE.csv.gz CUTOFF…');
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
  } else {
    for (const [snapshots, snapshotStepDays] of [[4, 30], [8, 15]]) {
      const model = new ChurnTfModel({ snapshots, snapshotStepDays });
      const { scores } = await model.fitPredict(task.rows, task.population, task.cutoff, HORIZON);
      const p = model.params();
      row[`${snapshots}x${snapshotStepDays}d`] = { ...measured(scores, task.labels), chosen: `${p.features} h${p.hidden} l2 ${p.l2}` };
    }
  }
  console.log(JSON.stringify(row));
}
