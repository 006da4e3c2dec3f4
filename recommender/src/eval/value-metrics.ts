/** The customer-value metrics of EVAL-PROTOCOL.md ("Customer value"), as pure functions. */

export interface ValueCalibrationBin {
  meanPredicted: number;
  meanActual: number;
  count: number;
}

export interface ValueMetrics {
  gini: number;
  spearman: number;
  topDecileCapture: number;
  mae: number;
  rmse: number;
  customers: number;
  meanActual: number;
  calibration: ValueCalibrationBin[];
}

/** 1-based ranks ascending, ties given their average rank (as ROC-AUC). NaN ranks lowest. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const key = (i: number) => (Number.isNaN(values[i]) ? -Infinity : values[i]);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b));
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && key(order[j + 1]) === key(order[i])) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Gini of `actual` ordered by `score`: with customers sorted by score descending and L_k the share of the total actual
 * held by the first k, G = (1/n)·Σ_k (L_k − k/n). Since Σ_k L_k = Σ_i actual_i·rank_i / Σ actual (rank ascending,
 * 1-based), G = (Σ_i actual_i·rank_i / Σ actual − (n + 1)/2) / n, and tied scores share their average rank: the
 * expectation over every order of the ties, as ROC-AUC treats them.
 */
export function gini(actual: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = actual.length;
  const ranks = averageRanks(score);
  let total = 0, weighted = 0;
  for (let i = 0; i < n; i++) {
    total += actual[i];
    weighted += actual[i] * ranks[i];
  }
  if (n === 0 || total === 0) return Number.NaN;
  return (weighted / total - (n + 1) / 2) / n;
}

/** Gini of the actual ordered by the prediction over the Gini of the actual ordered by itself. */
export function normalisedGini(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  return gini(actual, predicted) / gini(actual, actual);
}

/** Spearman's ρ: Pearson correlation of the average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = averageRanks(a), rb = averageRanks(b);
  const n = ra.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += ra[i] / n), (mb += rb[i] / n);
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - ma, db = rb[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

/** Order by prediction descending, ties by customer id ascending (NaN last). */
function descendingOrder(predicted: ArrayLike<number>, ids: readonly string[]): number[] {
  const key = (i: number) => (Number.isNaN(predicted[i]) ? -Infinity : predicted[i]);
  return Array.from({ length: predicted.length }, (_, i) => i).sort((a, b) => key(b) - key(a) || (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
}

/** Share of the total actual held by the ceil(n/10) customers with the highest predictions (ties: id ascending). */
export function topDecileCapture(actual: ArrayLike<number>, predicted: ArrayLike<number>, ids: readonly string[]): number {
  const order = descendingOrder(predicted, ids);
  const k = Math.ceil(order.length / 10);
  let total = 0, top = 0;
  for (let i = 0; i < actual.length; i++) total += actual[i];
  for (let i = 0; i < k; i++) top += actual[order[i]];
  return total > 0 ? top / total : Number.NaN;
}

/**
 * Ten equal-count bins of the prediction, lowest first: bin b holds positions [⌊b·n/10⌋, ⌊(b+1)·n/10⌋) of the
 * customers sorted by prediction ascending (ties by id ascending).
 */
export function decileCalibration(actual: ArrayLike<number>, predicted: ArrayLike<number>, ids: readonly string[], bins = 10): ValueCalibrationBin[] {
  const order = descendingOrder(predicted, ids).reverse();
  const n = order.length;
  const out: ValueCalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const from = Math.floor((b * n) / bins), to = Math.floor(((b + 1) * n) / bins);
    if (to <= from) continue;
    let p = 0, a = 0;
    for (let i = from; i < to; i++) (p += predicted[order[i]]), (a += actual[order[i]]);
    out.push({ meanPredicted: p / (to - from), meanActual: a / (to - from), count: to - from });
  }
  return out;
}

export function valueMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>, ids: readonly string[]): ValueMetrics {
  const n = actual.length;
  if (predicted.length !== n || ids.length !== n) throw new Error(`value metrics: ${predicted.length} predictions, ${n} actuals, ${ids.length} ids`);
  let abs = 0, sq = 0, total = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - actual[i];
    abs += Math.abs(e);
    sq += e * e;
    total += actual[i];
  }
  return {
    gini: normalisedGini(actual, predicted),
    spearman: spearman(predicted, actual),
    topDecileCapture: topDecileCapture(actual, predicted, ids),
    mae: abs / n,
    rmse: Math.sqrt(sq / n),
    customers: n,
    meanActual: total / n,
    calibration: decileCalibration(actual, predicted, ids),
  };
}
