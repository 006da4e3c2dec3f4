// Session 13 experiment (docs/eval/README.md, "A label-shift correction"): TF-CHURN at each cutoff, its ECE with and
// without the EM prior-shift correction of Saerens, Latinne and Decaestecker (2002), and RFM-LOGISTIC beside it.
// Usage: npm run build:server && node bench/churn-label-shift.mjs FILE.csv.gz 2011-04-04 2011-05-04 2011-06-03 2011-09-01
import { FileTxnSource } from '../recommender/dist/data/file-source.js';
import { parseColumnMap, parseCutoff } from '../recommender/dist/data/txn-source.js';
import { readClean } from '../recommender/dist/eval/clean.js';
import { churnTask } from '../recommender/dist/eval/evaluate.js';
import { reliability, rocAuc } from '../recommender/dist/eval/metrics.js';
import { ChurnTfModel, recencyWeight } from '../recommender/dist/models/churn-model.js';
import { RfmLogisticBaseline } from '../recommender/dist/baselines/churn.js';
import { DAY_MS } from '../recommender/dist/time.js';
const [file, ...cutoffs] = process.argv.slice(2);
const history = await readClean(new FileTxnSource(file, parseColumnMap(undefined)));
const H = 90;
function em(p, piTr) {
  let pi = piTr;
  for (let it = 0; it < 200; it++) {
    const r1 = pi / piTr, r0 = (1 - pi) / (1 - piTr);
    let s = 0;
    for (const v of p) s += (r1 * v) / (r1 * v + r0 * (1 - v));
    const next = s / p.length;
    if (Math.abs(next - pi) < 1e-7) { pi = next; break; }
    pi = next;
  }
  const r1 = pi / piTr, r0 = (1 - pi) / (1 - piTr);
  return { pi, q: Float64Array.from(p, (v) => (r1 * v) / (r1 * v + r0 * (1 - v))) };
}
for (const c of cutoffs) {
  const cutoff = parseCutoff(c);
  const task = churnTask(history.rows, cutoff, H);
  const m = new ChurnTfModel();
  const { scores } = await m.fitPredict(task.rows, task.population, cutoff, H);
  // training prior as Platt saw it: weighted churn rate over the snapshots
  const past = cutoff - H * DAY_MS;
  let wy = 0, wn = 0; const perSnap = [];
  for (let s = 0; s < 4; s++) {
    const at = past - s * 30 * DAY_MS, end = at + H * DAY_MS;
    const before = new Set(task.rows.filter((r) => r.time < at).map((r) => r.customerId));
    const active = new Set(task.rows.filter((r) => r.time >= at && r.time < end).map((r) => r.customerId));
    let ch = 0; for (const id of before) if (!active.has(id)) ch++;
    const w = recencyWeight(s, 1); wy += w * ch; wn += w * before.size; perSnap.push(+(ch / before.size).toFixed(3));
  }
  const piTr = wy / wn;
  const rfm = await new RfmLogisticBaseline().fitPredict(task.rows, task.population, cutoff, H);
  const e = em(scores, piTr);
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const row = { cutoff: c, n: task.population.length, rate: +mean(task.labels).toFixed(3), perSnap, piTr: +piTr.toFixed(3),
    tf: { auc: +rocAuc(scores, task.labels).toFixed(4), ece: +reliability(scores, task.labels).ece.toFixed(4), mean: +mean(scores).toFixed(3) },
    em: { pi: +e.pi.toFixed(3), ece: +reliability(e.q, task.labels).ece.toFixed(4), mean: +mean(e.q).toFixed(3) },
    rfm: { auc: +rocAuc(rfm.scores, task.labels).toFixed(4), ece: +reliability(rfm.scores, task.labels).ece.toFixed(4), mean: +mean(rfm.scores).toFixed(3) } };
  console.log(JSON.stringify(row));
}
