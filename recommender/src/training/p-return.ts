/**
 * P(buys in the horizon) for a value model that predicts spend but no P(return) (PAST-SPEND, RFM-LINEAR, a model
 * plugin): the share of customers who bought in the holdout, as a non-decreasing function of the spend the model
 * predicted for them there (isotonic regression, pool-adjacent-violators). Fitted on the evaluation fit, so out of
 * sample, and stored in the version's artefact so the six-hourly re-scoring applies the same function.
 */
export interface PReturnByAmount {
  format: 'p-return-by-amount/1';
  /** The least predicted spend of each step, ascending; a spend below the first is read at the first step. */
  from: number[];
  /** P(buys) from that spend up to the next step's; rising. */
  p: number[];
}

/** Fits the step function on each customer's predicted spend and actual spend in the holdout (bought: actual > 0). */
export function fitPReturnByAmount(predicted: ArrayLike<number>, actual: ArrayLike<number>): PReturnByAmount {
  const order = Array.from({ length: predicted.length }, (_, i) => i)
    .filter((i) => Number.isFinite(predicted[i]))
    .sort((a, b) => predicted[a] - predicted[b]);
  if (!order.length) throw new Error('no finite prediction to fit P(return) on');
  // Equal predictions start as one block, so customers the model cannot tell apart get the same chance.
  const blocks: { from: number; bought: number; n: number }[] = [];
  for (const i of order) {
    const last = blocks[blocks.length - 1];
    const bought = actual[i] > 0 ? 1 : 0;
    if (last && predicted[i] === last.from) (last.bought += bought), (last.n += 1);
    else blocks.push({ from: predicted[i], bought, n: 1 });
  }
  const pooled: { from: number; bought: number; n: number }[] = [];
  for (const b of blocks) {
    pooled.push({ ...b });
    // Pool while the newest block's rate is not above the one before it: the function must not fall, and a step that
    // does not rise is no step.
    while (pooled.length > 1) {
      const [prev, cur] = pooled.slice(-2);
      if (prev.bought * cur.n < cur.bought * prev.n) break;
      pooled.splice(-2, 2, { from: prev.from, bought: prev.bought + cur.bought, n: prev.n + cur.n });
    }
  }
  return { format: 'p-return-by-amount/1', from: pooled.map((b) => b.from), p: pooled.map((b) => b.bought / b.n) };
}

/** Each amount's P(buys): the step whose least spend is the greatest not above it (the first step below them all). */
export function pReturnByAmount(fit: PReturnByAmount, amounts: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: amounts.length }, (_, k) => {
    const x = amounts[k];
    let lo = 0, hi = fit.from.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fit.from[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return fit.p[lo];
  });
}

/** A stored step function read back, or null when the artefact has none; throws when it has one that is broken. */
export function readPReturnByAmount(stored: unknown): PReturnByAmount | null {
  if (stored === undefined || stored === null) return null;
  const fit = stored as Partial<PReturnByAmount>;
  const ok =
    fit.format === 'p-return-by-amount/1' &&
    Array.isArray(fit.from) && Array.isArray(fit.p) && fit.from.length > 0 && fit.from.length === fit.p.length &&
    fit.from.every((v, i) => typeof v === 'number' && Number.isFinite(v) && (i === 0 || v > fit.from![i - 1])) &&
    fit.p.every((v, i) => typeof v === 'number' && v >= 0 && v <= 1 && (i === 0 || v > fit.p![i - 1]));
  if (!ok) throw new Error('the stored P(return) by predicted spend is not p-return-by-amount/1 with ascending steps; retrain the value model');
  return fit as PReturnByAmount;
}
