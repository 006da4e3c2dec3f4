/** The metrics of EVAL-PROTOCOL.md, as pure functions. */
import { Rng } from '../tf/random';

/**
 * The k best items of one score row: higher score first, ties by lower index (the catalogue is sorted by StockCode,
 * so that is StockCode ascending). `excluded` items (sorted or not) never appear. NaN ranks last.
 */
export function topK(
  scores: ArrayLike<number>,
  offset: number,
  length: number,
  k: number,
  excluded?: ArrayLike<number>,
): number[] {
  const skip = excluded && excluded.length ? new Set(Array.from(excluded)) : undefined;
  const idx: number[] = [];
  const val: number[] = [];
  for (let j = 0; j < length; j++) {
    let s = scores[offset + j];
    if (s !== s) s = -Infinity;
    if (idx.length === k && s <= val[k - 1]) continue;
    if (skip?.has(j)) continue;
    // Insertion: an equal score goes after the ones already there, which have lower indices.
    let p = idx.length < k ? idx.length : k - 1;
    while (p > 0 && val[p - 1] < s) p--;
    idx.splice(p, 0, j);
    val.splice(p, 0, s);
    if (idx.length > k) {
      idx.pop();
      val.pop();
    }
  }
  return idx;
}

export interface RankingMetrics {
  recall: number;
  ndcg: number;
  hit: number;
}

/** Recall@k, NDCG@k (binary gains, IDCG over min(|GT|, k)) and HitRate@k of one ranked list. */
export function rankingMetrics(ranked: readonly string[], groundTruth: ReadonlySet<string>, k = 10): RankingMetrics {
  if (groundTruth.size === 0) throw new Error('ranking metrics need a non-empty ground truth');
  let hits = 0;
  let dcg = 0;
  ranked.slice(0, k).forEach((code, r) => {
    if (groundTruth.has(code)) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
    }
  });
  let idcg = 0;
  for (let r = 0; r < Math.min(groundTruth.size, k); r++) idcg += 1 / Math.log2(r + 2);
  return { recall: hits / groundTruth.size, ndcg: dcg / idcg, hit: hits > 0 ? 1 : 0 };
}

/** ROC-AUC by ranks (Mann–Whitney U), ties given their average rank. Labels 1 = positive. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[order[t]] === 1) {
        positives++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Average precision: Σ over distinct score thresholds (high to low) of (R_t − R_{t−1})·P_t, tied scores entering
 * together — the step-wise PR-AUC, as scikit-learn's average_precision_score.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  // NaN scores rank last, below every number (a comparator returning NaN would leave the order undefined).
  const key = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(b) - key(a) || Number(Number.isNaN(scores[a])) - Number(Number.isNaN(scores[b])));
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    let tpHere = 0;
    // NaN scores tie with each other (NaN === NaN is false, and the loop must always move on).
    while (j < n && (j === i || sameScore(scores[order[j]], scores[order[i]]))) {
      if (labels[order[j]] === 1) tpHere++;
      j++;
    }
    tp += tpHere;
    seen += j - i;
    ap += (tpHere / positives) * (tp / seen);
    i = j;
  }
  return ap;
}

function sameScore(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Mean squared error of probabilities against 0/1 labels. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probabilities.length; i++) s += (probabilities[i] - labels[i]) ** 2;
  return s / probabilities.length;
}

export interface Reliability {
  /** Mean predicted probability over everyone, next to the observed rate. */
  meanPredicted: number;
  observed: number;
  /** Expected calibration error: Σ over bins of (bin share) × |mean predicted − observed rate in the bin|. */
  ece: number;
  bins: { from: number; to: number; count: number; meanPredicted: number; observed: number }[];
}

/** Reliability of probabilities in `binCount` equal-width bins of [0, 1] (a probability of 1 falls in the last). */
export function reliability(probabilities: ArrayLike<number>, labels: ArrayLike<number>, binCount = 10): Reliability {
  const sums = Array.from({ length: binCount }, () => ({ count: 0, p: 0, y: 0 }));
  let p = 0, y = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const b = sums[Math.min(binCount - 1, Math.max(0, Math.floor(probabilities[i] * binCount)))];
    b.count++, (b.p += probabilities[i]), (b.y += labels[i]);
    (p += probabilities[i]), (y += labels[i]);
  }
  const n = probabilities.length;
  const bins = sums.flatMap((b, k) => (b.count ? [{ from: k / binCount, to: (k + 1) / binCount, count: b.count, meanPredicted: b.p / b.count, observed: b.y / b.count }] : []));
  const ece = bins.reduce((s, b) => s + (b.count / n) * Math.abs(b.meanPredicted - b.observed), 0);
  return { meanPredicted: p / n, observed: y / n, ece, bins };
}

/** A paired difference of one metric between two models on the same customers, with a bootstrap interval. */
export interface PairedDifference {
  /** metric(a) − metric(b) on the whole population. */
  difference: number;
  /** 2.5th and 97.5th percentiles of the difference over the resamples. */
  low: number;
  high: number;
  /** Resamples the interval is drawn from: those on which the metric is defined for both models. */
  resamples: number;
}

/**
 * metric(a) − metric(b) with a 95% paired bootstrap interval: `resamples` draws of the population with replacement
 * (seeded, so a report is reproducible), each scoring both models on the same customers. `outcomes` are labels or
 * actual amounts; `picked` gives the metric the resample's positions in the population (null for the population
 * itself), for metrics that break ties by customer. It says how much of a gap between two models at one cutoff
 * sampling alone could make; it says nothing about another cutoff.
 */
export function pairedBootstrap(
  metric: (scores: ArrayLike<number>, outcomes: ArrayLike<number>, picked: Int32Array | null) => number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  outcomes: ArrayLike<number>,
  { resamples = 1000, seed = 19 }: { resamples?: number; seed?: number } = {},
): PairedDifference {
  const n = outcomes.length;
  if (a.length !== n || b.length !== n) throw new Error(`pairedBootstrap: ${a.length} and ${b.length} scores for ${n} outcomes`);
  const rng = new Rng(seed);
  const [ra, rb, ry, picked] = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Int32Array(n)];
  const found: number[] = [];
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      (picked[i] = k), (ra[i] = a[k]), (rb[i] = b[k]), (ry[i] = outcomes[k]);
    }
    const d = metric(ra, ry, picked) - metric(rb, ry, picked);
    // A resample with one class has no ROC-AUC: it is left out, and `resamples` counts those kept.
    if (Number.isFinite(d)) found.push(d);
  }
  const differences = Float64Array.from(found).sort();
  const at = (q: number) => (differences.length ? differences[Math.min(differences.length - 1, Math.max(0, Math.round(q * (differences.length - 1))))] : NaN);
  return { difference: metric(a, outcomes, null) - metric(b, outcomes, null), low: at(0.025), high: at(0.975), resamples: differences.length };
}
