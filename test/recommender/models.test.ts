import { useBackend } from '../../recommender/src/tf/backend';
import { Rng } from '../../recommender/src/tf/random';
import { HybridRecommender } from '../../recommender/src/models/hybrid-recommender';
import { ChurnTfModel, fitPlatt, recencyWeight, scoreWithWeights } from '../../recommender/src/models/churn-model';
import { CHURN_FEATURES, CHURN_FEATURE_GROUPS, churnFeatureLabel, churnFeatures } from '../../recommender/src/models/churn-features';
import { churnTask } from '../../recommender/src/eval/evaluate';
import { rocAuc } from '../../recommender/src/eval/metrics';
import { recsSplit } from '../../recommender/src/eval/split';
import { evaluateScores } from '../../recommender/src/eval/evaluate';
import type { Txn } from '../../recommender/src/eval/types';

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
jest.setTimeout(60_000);

beforeAll(() => useBackend('wasm'));

/**
 * 20 product pairs: whoever buys A_k buys B_k 5–20 days later. Everybody also buys a few of 20 filler products
 * whose popularity falls with their index, so popularity ranks fillers first and knows nothing of the pairs.
 */
function pairedPurchases(seed: number): Txn[] {
  const rng = new Rng(seed);
  const rows: Txn[] = [];
  let invoice = 0;
  const buy = (customer: number, code: string, day: number) => {
    rows.push({
      invoice: `I${invoice++}`, stockCode: code, description: null, quantity: 1, unitPrice: 2,
      time: START + day * DAY + rng.int(8) * 3_600_000, customerId: `C${customer}`, country: 'X',
    });
  };
  for (let c = 0; c < 500; c++) {
    for (let f = 0; f < 3; f++) buy(c, `F${String(Math.floor(20 * rng.next() ** 2)).padStart(2, '0')}`, rng.int(300));
    for (let round = 0; round < 4; round++) {
      const k = rng.int(20);
      const day = rng.int(300);
      buy(c, `A${String(k).padStart(2, '0')}`, day);
      const later = day + 5 + rng.int(16);
      if (later < 300) buy(c, `B${String(k).padStart(2, '0')}`, later);
    }
  }
  return rows.sort((a, b) => a.time - b.time);
}

function popularityScores(rows: Txn[], items: string[], cutoff: number, horizonDays: number) {
  const buyers = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.time >= cutoff || r.time < cutoff - horizonDays * DAY) continue;
    if (!buyers.has(r.stockCode!)) buyers.set(r.stockCode!, new Set());
    buyers.get(r.stockCode!)!.add(r.customerId);
  }
  const pop = Float32Array.from(items, (i) => buyers.get(i)?.size ?? 0);
  return (users: Int32Array) => {
    const out = new Float32Array(users.length * items.length);
    for (let r = 0; r < users.length; r++) out.set(pop, r * items.length);
    return out;
  };
}

describe('TF-HYBRID recommender', () => {
  it('learns that B follows A and beats popularity in NDCG@10 on all items and on new items', async () => {
    const rows = pairedPurchases(1);
    const cutoff = START + 270 * DAY;
    const split = recsSplit(rows, cutoff, 30);
    const model = new HybridRecommender({ lambdas: [5, 50], bpr: { dim: 8, epochs: 4, batchSize: 512 }, epochs: 8, seed: 3 });
    await model.fit(split.train);
    const ours = evaluateScores(split, (u) => model.score(u));
    const pop = evaluateScores(split, popularityScores(rows, split.train.items, cutoff, 30));
    // Typically 0.34 vs 0.18 (all) and 0.38 vs 0.17 (new).
    expect(ours.all['ndcg@10']).toBeGreaterThan(1.5 * pop.all['ndcg@10']);
    expect(ours.new['ndcg@10']).toBeGreaterThan(1.5 * pop.new['ndcg@10']);
    expect(ours.all.users).toBeGreaterThan(100);
  });

  it('gives the same scores when trained twice from the same seed', async () => {
    const split = recsSplit(pairedPurchases(3), START + 270 * DAY, 30);
    const options = { lambdas: [20], bpr: { dim: 8, epochs: 2, batchSize: 512 }, epochs: 3, seed: 5 };
    const users = split.testUsers.subarray(0, 20);
    const a = new HybridRecommender(options);
    const b = new HybridRecommender(options);
    await a.fit(split.train);
    await b.fit(split.train);
    expect(Array.from(a.score(users))).toEqual(Array.from(b.score(users)));
  });

  it('refits with the EASE λ it chose, without trying the others: the same model on the same data', async () => {
    const split = recsSplit(pairedPurchases(5), START + 270 * DAY, 30);
    const tried: number[] = [];
    const log = (event: string, fields: Record<string, unknown>) => void (event === 'tf-hybrid.ease' && tried.push(fields.lambda as number));
    const searched = new HybridRecommender({ lambdas: [5, 50, 500], bpr: { dim: 8, epochs: 2, batchSize: 512 }, epochs: 3, seed: 6, log });
    await searched.fit(split.train);
    expect(tried).toEqual([5, 50, 500]);
    const lambda = searched.params().lambda;
    tried.length = 0;
    const refit = searched.withSameChoice();
    await refit.fit(split.train);
    expect(tried).toEqual([lambda]);
    expect(refit.params().lambda).toBe(lambda);
    const users = split.testUsers.subarray(0, 20);
    expect(Array.from(refit.score(users))).toEqual(Array.from(searched.score(users)));
    expect(() => new HybridRecommender().withSameChoice()).toThrow('has not been fitted');
  });

  it('exposes item embeddings whose nearest neighbours pair A with its B', async () => {
    const rows = pairedPurchases(2);
    const split = recsSplit(rows, START + 300 * DAY, 30);
    const model = new HybridRecommender({ lambdas: [50], bpr: { dim: 16, epochs: 25, batchSize: 512, learningRate: 0.05 }, epochs: 1, seed: 4 });
    await model.fit(split.train);
    const items = split.train.items;
    const a = Int32Array.from(items.map((c, i) => (c.startsWith('A') ? i : -1)).filter((i) => i >= 0));
    const similar = model.similarItems(a, 3);
    const paired = similar.filter((s) => Array.from(s.similar, (j) => items[j]).includes(items[s.item].replace('A', 'B'))).length;
    expect(paired).toBeGreaterThanOrEqual(a.length / 2);
    const { dim, vectors } = model.itemEmbeddings();
    expect(vectors.length).toBe(dim * items.length);
  });
});

/**
 * Steady customers buy every 12–20 days; others start alike but each gap is 1.6× the one before, so they drift away.
 * The labels come from simulating past the cutoff, not from the group.
 */
function stretchingGaps(seed: number): Txn[] {
  const rng = new Rng(seed);
  const rows: Txn[] = [];
  let invoice = 0;
  for (let c = 0; c < 600; c++) {
    const stretches = c % 2 === 1;
    let day = rng.int(120);
    let gap = 8 + rng.int(8);
    while (day < 420) {
      rows.push({
        invoice: `I${invoice++}`, stockCode: `P${rng.int(30)}`, description: null, quantity: 1 + rng.int(3),
        unitPrice: 5, time: START + day * DAY, customerId: `C${c}`, country: 'X',
      });
      gap = stretches ? gap * 1.6 : 12 + rng.int(9);
      day += Math.round(gap * (0.8 + 0.4 * rng.next()));
    }
  }
  return rows.sort((a, b) => a.time - b.time);
}

describe('TF-CHURN', () => {
  // Each fit is a cross-validated search (several trainings): on a machine shared with other jobs that takes minutes.
  jest.setTimeout(300_000);

  it('finds customers whose purchase gaps stretch: beats recency and a random score in ROC-AUC', async () => {
    const rows = stretchingGaps(1);
    const task = churnTask(rows, START + 330 * DAY, 45);
    // A small search (2 folds, one l2) keeps the test short; the full grid is the same code run more times.
    const model = new ChurnTfModel({ seed: 5, folds: 2, l2s: [0.01] });
    const { scores, isProbability } = await model.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const lastSeen = new Map<string, number>();
    for (const r of task.rows) lastSeen.set(r.customerId, r.time);
    const recency = task.population.map((c) => task.cutoff - lastSeen.get(c)!);
    const rng = new Rng(9);
    const random = task.population.map(() => rng.next());
    const ours = rocAuc(scores, task.labels);
    // Typically 0.99 against 0.72 (recency) and 0.5 (random).
    expect(ours).toBeGreaterThan(rocAuc(recency, task.labels) + 0.05);
    expect(ours).toBeGreaterThan(rocAuc(random, task.labels) + 0.2);
    expect(isProbability).toBe(true);
    expect(scores.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('returns calibrated probabilities: mean prediction close to the churn rate of a held-out period', async () => {
    const rows = stretchingGaps(2);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const { scores } = await new ChurnTfModel({ seed: 6, hidden: [0], l2s: [0.01], folds: 2 }).fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const meanScore = scores.reduce((a, b) => a + b, 0) / scores.length;
    const rate = task.labels.reduce((a, b) => a + b, 0) / task.labels.length;
    expect(Math.abs(meanScore - rate)).toBeLessThan(0.1);
  });

  it('gives each customer drivers sorted by contribution, naming known features', async () => {
    const rows = stretchingGaps(3);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const model = new ChurnTfModel({ seed: 7, hidden: [16], l2s: [0.01], folds: 2 });
    await model.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const drivers = model.drivers(0, 3);
    expect(drivers).toHaveLength(3);
    for (const d of drivers) {
      expect(CHURN_FEATURES).toContain(d.feature);
      // Words for people, with the scale of the value when it is not the plain quantity.
      expect(d.label).toBe(churnFeatureLabel(d.feature));
      expect(d.label).not.toBe(d.feature);
    }
    expect(drivers[0].contribution).toBeGreaterThanOrEqual(drivers[1].contribution);
    expect(drivers[1].contribution).toBeGreaterThanOrEqual(drivers[2].contribution);
  });

  it('gives the same scores when trained twice from the same seed', async () => {
    const rows = stretchingGaps(4);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const a = await new ChurnTfModel({ seed: 8, hidden: [0, 16], l2s: [0.01], folds: 2, featureSets: [['base', 'rhythm', 'bgnbd']] }).fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const b = await new ChurnTfModel({ seed: 8, hidden: [0, 16], l2s: [0.01], folds: 2, featureSets: [['base', 'rhythm', 'bgnbd']] }).fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
  });

  it('trains the l2 × fold columns of one network as it would train them alone', async () => {
    const rows = stretchingGaps(7);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const both = new ChurnTfModel({ seed: 10, hidden: [0], l2s: [0.01, 0.1], folds: 2, featureSets: [['base']] });
    const alone = new ChurnTfModel({ seed: 10, hidden: [0], l2s: [0.1], folds: 2, featureSets: [['base']] });
    await both.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    await alone.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    // Logistic columns start at 0, so the l2 0.1 column sees the same data and steps with or without its neighbour.
    expect(both.params()['foldAuc_base_h0_l2_0.1']).toBeCloseTo(alone.params()['foldAuc_base_h0_l2_0.1'] as number, 3);
    expect(alone.params()['foldAuc_base_h0_l2_0.01']).toBeUndefined();
  });

  it('refits the chosen candidate without searching again, early-stopped on its folds', async () => {
    const rows = stretchingGaps(8);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const searched = new ChurnTfModel({ seed: 11, hidden: [0], l2s: [0.01, 0.1], folds: 2, featureSets: [['base'], ['base', 'rhythm']], calibrationHalfLife: 2 });
    await searched.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const chosen = searched.params();
    expect(Object.keys(chosen).filter((k) => k.startsWith('foldAuc_'))).toHaveLength(2 * 2);
    expect(chosen.epochs).toBeGreaterThanOrEqual(10);
    expect(chosen.epochs).toBeLessThanOrEqual(300);
    const refit = searched.withSameChoice();
    await refit.fitPredict(rows, task.population, task.cutoff + 45 * DAY, 45);
    const again = refit.params();
    expect(Object.keys(again).filter((k) => k.startsWith('foldAuc_'))).toEqual([`foldAuc_${chosen.features}_h${chosen.hidden}_l2_${chosen.l2}`]);
    expect([again.features, again.hidden, again.l2]).toEqual([chosen.features, chosen.hidden, chosen.l2]);
    // The serving refit calibrates as the evaluated fit did (here a non-default half-life).
    expect([chosen.calibrationHalfLife, again.calibrationHalfLife]).toEqual([2, 2]);
    // Two fits of ten feature computations (BG/NBD fits included): about 4 minutes at load average 4–6.
  }, 600_000);

  it('sees gaps lengthening in the rhythm features: stretching customers get a positive gap slope, steady ones about 0', async () => {
    const rows = stretchingGaps(5);
    const customers = ['C0', 'C1', 'C2', 'C3'];
    const { x, present } = churnFeatures(rows, customers, START + 330 * DAY, 45, 'X');
    const col = (f: string) => CHURN_FEATURES.indexOf(f as (typeof CHURN_FEATURES)[number]);
    const at = (k: number, f: string) => x[k * CHURN_FEATURES.length + col(f)];
    expect(Array.from(present)).toEqual([1, 1, 1, 1]);
    // Odd customers stretch each gap 1.6×: log gaps rise by about log 1.6 ≈ 0.47 per gap.
    for (const k of [1, 3]) expect(at(k, 'gap_slope')).toBeGreaterThan(0.25);
    for (const k of [0, 2]) expect(Math.abs(at(k, 'gap_slope'))).toBeLessThan(0.2);
    for (const k of [0, 1, 2, 3]) {
      expect(at(k, 'bgnbd_p_alive')).toBeGreaterThanOrEqual(0);
      expect(at(k, 'bgnbd_p_alive')).toBeLessThanOrEqual(1);
    }
    // Under a year of history each: no customer has a year behind them.
    for (const k of [0, 1, 2, 3]) expect(at(k, 'has_year_of_history')).toBe(0);
    expect(CHURN_FEATURE_GROUPS.season).toContain('has_year_of_history');
  });

  it('scores again from exported weights, and refuses weights naming a feature it does not compute', async () => {
    const rows = stretchingGaps(6);
    const task = churnTask(rows, START + 330 * DAY, 45);
    const model = new ChurnTfModel({ seed: 9, hidden: [0], l2s: [0.01], folds: 2 });
    const { scores } = await model.fitPredict(task.rows, task.population, task.cutoff, task.horizonDays);
    const weights = model.exportWeights();
    expect(weights.format).toBe('tf-churn/2');
    const again = scoreWithWeights(JSON.parse(JSON.stringify(weights)), task.rows, task.population, task.cutoff);
    expect(Array.from(again.scores)).toEqual(Array.from(scores));
    expect(() => scoreWithWeights({ ...weights, features: [...weights.features.slice(1), 'no_such_feature'] }, task.rows, task.population, task.cutoff)).toThrow(/another feature list/);
  });
});

describe('TF-CHURN calibration', () => {
  it('weighs snapshot s by 0.5^(s / half-life): every season alike at Infinity, the latest alone at 0', () => {
    expect([0, 1, 2, 3].map((k) => recencyWeight(k, 1))).toEqual([1, 0.5, 0.25, 0.125]);
    expect([0, 1, 2, 3].map((k) => recencyWeight(k, 2))).toEqual([1, Math.SQRT1_2, 0.5, Math.SQRT1_2 / 2].map((v) => expect.closeTo(v, 12)));
    expect([0, 1, 2, 3].map((k) => recencyWeight(k, Infinity))).toEqual([1, 1, 1, 1]);
    expect([0, 1, 2, 3].map((k) => recencyWeight(k, 0))).toEqual([1, 0, 0, 0]);
  });

  it('fits weighted Platt as if each row were repeated its weight times', () => {
    const rng = new Rng(3);
    const z = Float32Array.from({ length: 200 }, () => 4 * rng.next() - 2);
    const y = Float32Array.from(z, (v) => (rng.next() < 1 / (1 + Math.exp(-(1.5 * v - 0.4))) ? 1 : 0));
    const w = Float32Array.from(z, (_, i) => 1 + (i % 3));
    const repeat = (x: Float32Array) => Float32Array.from(Array.from(x).flatMap((v, i) => Array(w[i]).fill(v)));
    const weighted = fitPlatt(z, y, w);
    const repeated = fitPlatt(repeat(z), repeat(y));
    expect(weighted.a).toBeCloseTo(repeated.a, 4);
    expect(weighted.b).toBeCloseTo(repeated.b, 4);
    // Weights of 1 (every snapshot alike, half-life Infinity) are exactly the unweighted fit.
    expect(fitPlatt(z, y, new Float32Array(z.length).fill(1))).toEqual(fitPlatt(z, y));
    // And the weights matter: unweighted is another fit.
    expect(Math.abs(fitPlatt(z, y).b - weighted.b) + Math.abs(fitPlatt(z, y).a - weighted.a)).toBeGreaterThan(1e-3);
  });

  it('moves the calibrated churn rate towards the latest snapshot as the half-life shrinks', () => {
    // Two snapshots with the same logits: 60% churned in the latest, 30% in the one before.
    const rng = new Rng(4);
    const n = 2000;
    const z = Float32Array.from({ length: 2 * n }, () => 2 * rng.next() - 1);
    const snapshot = Int32Array.from({ length: 2 * n }, (_, i) => (i < n ? 0 : 1));
    const y = Float32Array.from(z, (_, i) => (rng.next() < (snapshot[i] === 0 ? 0.6 : 0.3) ? 1 : 0));
    const meanOnLatest = (halfLife: number) => {
      const { a, b } = fitPlatt(z, y, Float32Array.from(snapshot, (s) => recencyWeight(s, halfLife)));
      let sum = 0;
      for (let i = 0; i < n; i++) sum += 1 / (1 + Math.exp(-(a * z[i] + b)));
      return sum / n;
    };
    const rates = [Infinity, 2, 1, 0].map(meanOnLatest);
    const latestRate = y.slice(0, n).reduce((s, v) => s + v, 0) / n;
    for (let k = 1; k < rates.length; k++) expect(rates[k]).toBeGreaterThan(rates[k - 1]);
    expect(rates[0]).toBeCloseTo(0.45, 1);
    expect(Math.abs(rates[3] - latestRate)).toBeLessThan(0.01);
  });
});
