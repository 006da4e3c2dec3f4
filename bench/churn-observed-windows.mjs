// Session 13 experiment (docs/eval/README.md, "Features whose window the data does not cover"): TF-CHURN with and
// without observedWindowsOnly at each cutoff. Usage: npm run build:server && node bench/churn-observed-windows.mjs FILE.csv.gz 2011-06-03 …
import { FileTxnSource } from '../recommender/dist/data/file-source.js';
import { parseColumnMap, parseCutoff } from '../recommender/dist/data/txn-source.js';
import { readClean } from '../recommender/dist/eval/clean.js';
import { churnTask } from '../recommender/dist/eval/evaluate.js';
import { reliability, rocAuc } from '../recommender/dist/eval/metrics.js';
import { ChurnTfModel } from '../recommender/dist/models/churn-model.js';
const [file, ...cutoffs] = process.argv.slice(2);
const history = await readClean(new FileTxnSource(file, parseColumnMap(undefined)));
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
for (const c of cutoffs) {
  const task = churnTask(history.rows, parseCutoff(c), 90);
  for (const observedWindowsOnly of [false, true]) {
    const m = new ChurnTfModel({ observedWindowsOnly });
    const { scores } = await m.fitPredict(task.rows, task.population, task.cutoff, 90);
    const p = m.params();
    console.log(JSON.stringify({ cutoff: c, observedWindowsOnly, rate: +mean(task.labels).toFixed(3), auc: +rocAuc(scores, task.labels).toFixed(4), ece: +reliability(scores, task.labels).ece.toFixed(4), meanP: +mean(scores).toFixed(3), chosen: `${p.features} h${p.hidden} l2 ${p.l2}`, unobserved: p.unobserved }));
  }
}
