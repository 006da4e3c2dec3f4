import { averagePrecision, brierScore, pairedBootstrap, rankingMetrics, reliability, rocAuc, topK } from '../../recommender/src/eval/metrics';
import { Rng } from '../../recommender/src/tf/random';

describe('ranking metrics', () => {
  it('computes Recall@10, NDCG@10 and HitRate@10 with ground truth outside the ranking counted in |GT|', () => {
    // Hits B at rank 2 and D at rank 4; X cannot be recommended but |GT| = 3.
    // Recall = 2/3. DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606.
    // IDCG over min(3, 10) = 3 ranks = 1 + 0.630930 + 0.5 = 2.130930. NDCG = 1.061606 / 2.130930 = 0.498189.
    const m = rankingMetrics(['A', 'B', 'C', 'D'], new Set(['B', 'D', 'X']));
    expect(m.recall).toBeCloseTo(2 / 3, 10);
    expect(m.ndcg).toBeCloseTo(0.498189, 6);
    expect(m.hit).toBe(1);
  });

  it('caps IDCG at 10 ranks and counts only the first 10 items', () => {
    // 12 GT items; the list has hits at ranks 1 and 11 (beyond the cut-off). DCG = 1; IDCG = Σ_{r=1..10} 1/log2(r+1) = 4.543559.
    const gt = new Set(Array.from({ length: 12 }, (_, i) => `G${i}`));
    const ranked = ['G0', ...Array.from({ length: 9 }, (_, i) => `N${i}`), 'G1'];
    const m = rankingMetrics(ranked, gt);
    expect(m.ndcg).toBeCloseTo(1 / 4.543559, 6);
    expect(m.recall).toBeCloseTo(1 / 12, 10);
  });

  it('gives zero for a list without hits', () => {
    expect(rankingMetrics(['A', 'B'], new Set(['C']))).toEqual({ recall: 0, ndcg: 0, hit: 0 });
  });
});

describe('topK', () => {
  it('breaks ties by the lower catalogue index, which is StockCode ascending', () => {
    // Items 1, 2 and 4 tie at 3: the two with the lower indices win.
    expect(topK([1, 3, 3, 0, 3], 0, 5, 2)).toEqual([1, 2]);
    expect(topK([1, 3, 3, 0, 3], 0, 5, 4)).toEqual([1, 2, 4, 0]);
  });

  it('skips excluded items and ranks NaN last', () => {
    expect(topK([1, 3, 3, 0, 3], 0, 5, 2, [1])).toEqual([2, 4]);
    expect(topK([Number.NaN, 0, -1], 0, 3, 3)).toEqual([1, 2, 0]);
  });

  it('reads one row of a row-major batch', () => {
    expect(topK([9, 9, 9, 0, 1, 2], 3, 3, 2)).toEqual([2, 1]);
  });
});

describe('churn metrics', () => {
  it('ROC-AUC averages tied ranks', () => {
    // Positives score 0.4 and 0.8, negatives 0.1 and 0.4. Pairs: (0.4,0.1)=1, (0.4,0.4)=½, (0.8,·)=1+1 → 3.5/4.
    expect(rocAuc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
    // All tied: every pair is ½.
    expect(rocAuc([5, 5, 5], [1, 0, 1])).toBeCloseTo(0.5, 12);
  });

  it('PR-AUC is average precision with tied scores entering together', () => {
    // P = 3. Threshold 0.9: precision 1, recall +1/3. Threshold 0.8 (two rows, one positive): precision 2/3,
    // recall +1/3. 0.3: no positive. 0.1: precision 3/5, recall +1/3. AP = 1/3 + 2/9 + 1/5 = 34/45.
    expect(averagePrecision([0.9, 0.8, 0.8, 0.3, 0.1], [1, 0, 1, 0, 1])).toBeCloseTo(34 / 45, 12);
  });

  it('PR-AUC ranks NaN scores last, tied with each other, and ends', () => {
    // Order: 0.9 (positive), 0.1 (negative), then the two NaN rows together (one positive).
    // AP = (1/2)·(1/1) + (1/2)·(2/4) = 3/4.
    expect(averagePrecision([NaN, 0.9, NaN, 0.1], [1, 1, 0, 0])).toBeCloseTo(3 / 4, 12);
  });

  it('reliability bins probabilities by tenths and weighs each bin by its share', () => {
    // Bin [0.1, 0.2): 0.1 and 0.15, one churner: mean p 0.125 vs 0.5. Bin [0.9, 1]: 0.9 and 1.0, both churners:
    // 0.95 vs 1. ECE = (2/4)·0.375 + (2/4)·0.05 = 0.2125. Overall: mean p 0.5375 vs 0.75.
    const r = reliability([0.1, 0.15, 0.9, 1], [0, 1, 1, 1]);
    expect(r.bins.map((b) => [b.from, b.count])).toEqual([[0.1, 2], [0.9, 2]]);
    expect(r.bins[0].meanPredicted).toBeCloseTo(0.125, 12);
    expect(r.bins[1].observed).toBe(1);
    expect(r.ece).toBeCloseTo(0.2125, 12);
    expect(r.meanPredicted).toBeCloseTo(0.5375, 12);
    expect(r.observed).toBe(0.75);
  });

  it('a paired bootstrap gives the whole-population difference, a zero-width interval for identical models, and an interval that covers a known gap', () => {
    // Two customers: the difference is metric(a) − metric(b) on both, whatever the resamples.
    const mean = (p: ArrayLike<number>) => Array.from(p).reduce((s, x) => s + x, 0) / p.length;
    expect(pairedBootstrap((p) => mean(p), [0.2, 0.4], [0.1, 0.1], [0, 1]).difference).toBeCloseTo(0.2, 12);
    // Identical scores: every resample's difference is 0.
    // Resamples of four customers with one class only have no ROC-AUC: they are left out and not counted.
    const same = pairedBootstrap(rocAuc, [0.1, 0.7, 0.4, 0.9], [0.1, 0.7, 0.4, 0.9], [0, 1, 0, 1], { resamples: 50 });
    expect(same).toMatchObject({ difference: 0, low: 0, high: 0 });
    expect(same.resamples).toBeGreaterThan(30);
    expect(same.resamples).toBeLessThan(50);

    // 4,000 customers who churn with probability p: model A says p, model B says p + 0.1 (clipped), so B's ECE is
    // about 0.1 higher and its ROC-AUC the same up to the clipping.
    const rng = new Rng(7);
    const p = Array.from({ length: 4000 }, () => rng.next() * 0.8);
    const y = p.map((q) => (rng.next() < q ? 1 : 0));
    const shifted = p.map((q) => Math.min(1, q + 0.1));
    const ece = (s: ArrayLike<number>, l: ArrayLike<number>) => reliability(s, l).ece;
    const gap = pairedBootstrap(ece, shifted, p, y);
    expect(gap.low).toBeLessThan(gap.difference);
    expect(gap.high).toBeGreaterThan(gap.difference);
    expect(gap.low).toBeGreaterThan(0.05);
    expect(gap.high).toBeLessThan(0.15);
    expect(gap.low).toBeLessThan(0.1);
    expect(gap.high).toBeGreaterThan(0.08);
    // The same seed gives the same interval; another seed another one.
    expect(pairedBootstrap(ece, shifted, p, y)).toEqual(gap);
    expect(pairedBootstrap(ece, shifted, p, y, { seed: 20 })).not.toEqual(gap);
    const auc = pairedBootstrap(rocAuc, shifted, p, y);
    expect(auc.low).toBeLessThanOrEqual(0);
    expect(auc.high).toBeGreaterThanOrEqual(0);
    expect(() => pairedBootstrap(ece, [0.1], p, y)).toThrow(/1 and 4000 scores for 4000 outcomes/);
    // Outcomes are amounts as well as labels, and `picked` names each resampled customer's position.
    const amounts = [1.5, 20.25, 300.125, 4000.0625];
    let aligned = 0;
    pairedBootstrap((s, o, picked) => {
      if (picked) for (let i = 0; i < s.length; i++) aligned += Number(o[i] === amounts[picked[i]] && s[i] === picked[i] / 10);
      return 0;
    }, [0, 0.1, 0.2, 0.3], [0, 0.1, 0.2, 0.3], amounts, { resamples: 25 });
    expect(aligned).toBe(2 * 25 * 4);
  });

  it('Brier is the mean squared error of the probabilities', () => {
    // (0.1² + 0.2² + 0.5²) / 3 = 0.30 / 3.
    expect(brierScore([0.9, 0.2, 0.5], [1, 0, 1])).toBeCloseTo(0.1, 12);
  });
});
