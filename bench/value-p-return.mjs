#!/usr/bin/env node
// How well the chance of buying the worker fits for a value model without one (recommender/src/training/p-return.ts)
// does out of sample, as the worker uses it: the step function is fitted on each baseline's predictions at
// cutoff − horizon against who bought in [cutoff − horizon, cutoff), then read off at the baseline's predictions at the
// cutoff and compared with who bought in [cutoff, cutoff + horizon). Beside it: the rule it replaces (P = 1 when the
// prediction is positive, else 0) and, for BGNBD-GG, its own P(return). One line per baseline.
// Usage: npm run build:server && node bench/value-p-return.mjs FILE.csv.gz [CUTOFF=2011-09-01] [HORIZON_DAYS=90]
import { FileTxnSource } from '../recommender/dist/data/file-source.js';
import { readClean } from '../recommender/dist/eval/clean.js';
import { valueTask } from '../recommender/dist/eval/evaluate.js';
import { reliability } from '../recommender/dist/eval/metrics.js';
import { BgNbdGgBaseline, PastSpendBaseline, RfmLinearBaseline } from '../recommender/dist/baselines/clv.js';
import { fitPReturnByAmount, pReturnByAmount } from '../recommender/dist/training/p-return.js';
import { DAY_MS } from '../recommender/dist/time.js';

const [file, cutoffText = '2011-09-01', horizonText = '90'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/value-p-return.mjs FILE.csv.gz [CUTOFF] [HORIZON_DAYS]');
  process.exit(2);
}
const horizonDays = Number(horizonText);
const cutoff = Date.parse(`${cutoffText}T00:00:00Z`);
const inner = cutoff - horizonDays * DAY_MS;
const { rows } = await readClean(new FileTxnSource(file));
const innerTask = valueTask(rows.filter((r) => r.time < cutoff), inner, horizonDays);
const test = valueTask(rows, cutoff, horizonDays);
const bought = Float64Array.from(test.actual, (v) => (v > 0 ? 1 : 0));
const brier = (p) => p.reduce((s, v, i) => s + (v - bought[i]) ** 2, 0) / p.length;
const figures = (p) => {
  const r = reliability(p, bought);
  return { meanPredicted: +r.meanPredicted.toFixed(4), brier: +brier(p).toFixed(4), ece: +r.ece.toFixed(4) };
};
console.log(JSON.stringify({ file, cutoff: cutoffText, horizonDays, population: test.population.length, bought: +(bought.reduce((s, v) => s + v, 0) / bought.length).toFixed(4) }));
for (const Model of [PastSpendBaseline, RfmLinearBaseline, BgNbdGgBaseline]) {
  const before = await new Model().fitPredict(innerTask.rows, innerTask.population, inner, horizonDays);
  const fit = fitPReturnByAmount(before.predictions, innerTask.actual);
  const now = await new Model().fitPredict(test.rows, test.population, cutoff, horizonDays);
  const fitted = Array.from(pReturnByAmount(fit, now.predictions));
  const line = { model: new Model().name, steps: fit.from.length, fitted: figures(fitted), positiveIsCertain: figures(Array.from(now.predictions, (v) => (v > 0 ? 1 : 0))) };
  if (now.pReturn) line.own = figures(Array.from(now.pReturn));
  console.log(JSON.stringify(line));
}
