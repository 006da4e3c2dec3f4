import { averageRanks, decileCalibration, normalisedGini, spearman, topDecileCapture, valueMetrics } from '../../recommender/src/eval/value-metrics';

describe('customer-value metrics (docs/eval/protocol.md, "Customer value")', () => {
  const actual = [0, 10, 30, 60];
  const predicted = [1, 2, 2, 4];
  const ids = ['a', 'b', 'c', 'd'];

  it('normalised Gini averages tied predictions, as ROC-AUC does', () => {
    // Sorted by prediction descending, L_k = share of the total held by the first k, G = (1/n)·Σ (L_k − k/n).
    // b and c tie. Order d, b, c, a: L = .6, .7, 1, 1 → G = (.35 + .2 + .25 + 0)/4 = .2; order d, c, b, a: L = .6, .9, 1, 1
    // → G = (.35 + .4 + .25)/4 = .25; the ties averaged: .225. Ordered by itself: d, c, b, a → .25. Normalised: .9.
    expect(normalisedGini(actual, predicted)).toBeCloseTo(0.9, 12);
    // A perfect ranking gives 1, the reverse ranking −1, a constant prediction 0.
    expect(normalisedGini(actual, actual)).toBeCloseTo(1, 12);
    expect(normalisedGini(actual, [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(normalisedGini(actual, [7, 7, 7, 7])).toBeCloseTo(0, 12);
  });

  it('Spearman is the correlation of average ranks', () => {
    expect(Array.from(averageRanks(predicted))).toEqual([1, 2.5, 2.5, 4]);
    // Rank deviations (−1.5, 0, 0, 1.5) and (−1.5, −.5, .5, 1.5): 4.5 / √(4.5 · 5) = 0.948683.
    expect(spearman(predicted, actual)).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
  });

  it('top-decile capture takes ceil(n/10) customers, ties by CustomerID ascending', () => {
    expect(topDecileCapture(actual, predicted, ids)).toBeCloseTo(0.6, 12);
    // b and a tie at the top: a (ascending id) is taken, holding 20 of 100.
    expect(topDecileCapture([10, 20, 30, 40], [5, 5, 1, 1], ['b', 'a', 'c', 'd'])).toBeCloseTo(0.2, 12);
    // n = 11: the top 2.
    const a11 = Array.from({ length: 11 }, (_, i) => i + 1);
    expect(topDecileCapture(a11, a11, a11.map((i) => `c${String(i).padStart(2, '0')}`))).toBeCloseTo((11 + 10) / 66, 12);
  });

  it('MAE and RMSE in currency units, and decile calibration over ten equal-count bins', () => {
    const m = valueMetrics(actual, predicted, ids);
    // Errors 1, 8, 28, 56.
    expect(m.mae).toBeCloseTo(93 / 4, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(3985 / 4), 12);
    expect(m.meanActual).toBe(25);
    expect(m.customers).toBe(4);
    const p20 = Array.from({ length: 20 }, (_, i) => 19 - i);
    const bins = decileCalibration(p20.map((p) => 2 * p), p20, p20.map((_, i) => `id${i}`));
    expect(bins).toHaveLength(10);
    bins.forEach((b, k) => expect(b).toEqual({ meanPredicted: 2 * k + 0.5, meanActual: 4 * k + 1, count: 2 }));
  });
});
