import path from 'node:path';
import { RecencyBaseline, RfmLogisticBaseline } from '../../recommender/src/baselines/churn';
import { EaseBaseline, easeWeights, FLOAT32_RESIDUAL_TOLERANCE, type InverseInfo } from '../../recommender/src/baselines/ease';
import { cooccurrence } from '../../recommender/src/baselines/interactions';
import { fastSpdInverse } from '../../recommender/src/baselines/float32-inverse';
import { spdInverse } from '../../recommender/src/baselines/linalg';
import { fitLogistic } from '../../recommender/src/baselines/logistic';
import { ItemKnnBaseline } from '../../recommender/src/baselines/itemknn';
import { PopBaseline } from '../../recommender/src/baselines/pop';
import { RepeatBaseline } from '../../recommender/src/baselines/repeat';
import { FileTxnSource } from '../../recommender/src/data/file-source';
import { parseColumnMap } from '../../recommender/src/data/txn-source';
import { churnTask, evaluateChurnModel, evaluateScores } from '../../recommender/src/eval/evaluate';
import { topK } from '../../recommender/src/eval/metrics';
import { churn, clv, selectModels } from '../../recommender/src/eval/registry';
import { PastSpendBaseline } from '../../recommender/src/baselines/clv';
import { formatReport, runEvaluation } from '../../recommender/src/eval/run';
import { innerRecsSplit, recsSplit } from '../../recommender/src/eval/split';
import type { RecsModel, Txn } from '../../recommender/src/eval/types';

const at = (date: string) => Date.parse(`${date}Z`);
const txn = (customerId: string, stockCode: string, date: string, invoice = `${customerId}-${date}`): Txn => ({
  invoice, stockCode, description: null, quantity: 1, time: at(date), unitPrice: 1, customerId, country: null,
});

describe('temporal split', () => {
  const rows = [
    txn('U2', 'A', '2011-01-15T00:00:00'),
    txn('U1', 'A', '2011-02-01T00:00:00'),
    txn('U1', 'B', '2011-02-10T00:00:00'),
    txn('U4', 'C', '2011-02-28T23:59:59'),
    txn('U4', 'C', '2011-03-01T00:00:00'), // at the cutoff: in the window
    txn('U1', 'B', '2011-03-05T00:00:00'),
    txn('U1', 'C', '2011-03-05T00:00:00'),
    txn('U1', 'Z', '2011-03-05T00:00:00'), // never bought in train: counts in |GT|
    txn('U3', 'A', '2011-03-06T00:00:00'), // no train row: not a test user
    txn('U2', 'C', '2011-03-31T00:00:00'), // at cutoff + 30 days: outside the window
  ];
  const split = recsSplit(rows, at('2011-03-01T00:00:00'), 30);
  const u = (id: string) => split.train.users.indexOf(id);

  it('trains on rows before the cutoff and tests users with a row in [cutoff, cutoff + horizon)', () => {
    expect(split.train.items).toEqual(['A', 'B', 'C']);
    expect(split.train.users).toEqual(['U2', 'U1', 'U4']);
    expect(split.train.events.user).toHaveLength(4);
    expect(Array.from(split.testUsers)).toEqual([u('U1'), u('U4')]);
    expect(split.groundTruth.map((g) => [...g].sort())).toEqual([['B', 'C', 'Z'], ['C']]);
    expect(split.trainItems.map((t) => Array.from(t))).toEqual([[0, 1], [2]]);
  });

  it('scores views all and new as the protocol says, ties ranked by StockCode', () => {
    // Every item scores the same, so the ranking is A, B, C.
    // all: U1 hits B (rank 2), C (rank 3) of {B, C, Z}: recall 2/3, NDCG (1/log2 3 + 1/log2 4) / (1 + 1/log2 3 + 1/2)
    //      = 1.130930 / 2.130930 = 0.530721; U4 hits C at rank 3 of {C}: recall 1, NDCG 0.5. Means: 5/6, 0.515361.
    // new: U1's GT_new = {C, Z}, A and B removed, so the list is [C]: recall 1/2, NDCG 1 / (1 + 1/log2 3) = 0.613147;
    //      U4's GT_new is empty, so U4 is dropped. Coverage: all 3/3, new 1/3.
    const flat = (users: Int32Array) => new Float32Array(users.length * 3).fill(1);
    const m = evaluateScores(split, flat);
    expect(m.all['recall@10']).toBeCloseTo(5 / 6, 10);
    expect(m.all['ndcg@10']).toBeCloseTo(0.515361, 6);
    expect(m.all['hitrate@10']).toBe(1);
    expect(m.all.coverage).toBe(1);
    expect(m.all.users).toBe(2);
    expect(m.new['recall@10']).toBeCloseTo(0.5, 10);
    expect(m.new['ndcg@10']).toBeCloseTo(0.613147, 6);
    expect(m.new.users).toBe(1);
    expect(m.new.coverage).toBeCloseTo(1 / 3, 10);
  });

  it('builds the inner split one horizon earlier from train alone', () => {
    const inner = innerRecsSplit(split.train);
    expect(inner.train.cutoff).toBe(at('2011-01-30T00:00:00'));
    expect(inner.train.users).toEqual(['U2']);
    expect(Array.from(inner.testUsers)).toEqual([]);
  });
});

describe('POP and REPEAT', () => {
  // Cutoff 2011-06-01; the POP window is the 90 days from 2011-03-03.
  const rows = [
    txn('U3', 'Z', '2011-01-10T00:00:00', 'c1'),
    txn('U3', 'Z', '2011-01-10T00:00:00', 'c1'), // a second line of one invoice counts once
    txn('U1', 'Z', '2011-02-01T00:00:00', 'a1'),
    txn('U1', 'Z', '2011-02-15T00:00:00', 'a0'),
    txn('U1', 'X', '2011-04-01T00:00:00', 'a2'),
    txn('U2', 'X', '2011-04-02T00:00:00', 'b1'),
    txn('U2', 'Y', '2011-04-02T00:00:00', 'b1'),
    txn('U3', 'X', '2011-04-03T00:00:00', 'c2'),
    txn('U1', 'Y', '2011-05-01T00:00:00', 'a3'),
    txn('U4', 'V', '2011-05-05T00:00:00', 'd1'),
    txn('U4', 'W', '2011-05-05T00:00:00', 'd1'),
    txn('U3', 'X', '2011-05-10T00:00:00', 'c3'),
  ];
  const { train } = recsSplit(rows, at('2011-06-01T00:00:00'), 90);
  const ranking = async (model: RecsModel, user: string) => {
    await model.fit(train);
    const n = train.items.length;
    return topK(model.score(Int32Array.of(train.users.indexOf(user))), 0, n, n).map((i) => train.items[i]);
  };

  it('POP ranks by distinct recent buyers, ties by StockCode', async () => {
    // X: U1, U2, U3 (U3 twice) = 3; Y: U1, U2 = 2; V, W: U4 = 1 each; Z: bought only before the window = 0.
    expect(await ranking(new PopBaseline(), 'U1')).toEqual(['X', 'Y', 'V', 'W', 'Z']);
  });

  it('REPEAT ranks own items by distinct invoices, then recency, then StockCode, and backfills with POP', async () => {
    // U1: Z in 2 invoices; Y (May) before X (April); then POP order of the rest: V, W.
    expect(await ranking(new RepeatBaseline(), 'U1')).toEqual(['Z', 'Y', 'X', 'V', 'W']);
    // U2: X and Y in one invoice at one time: StockCode decides.
    expect(await ranking(new RepeatBaseline(), 'U2')).toEqual(['X', 'Y', 'V', 'W', 'Z']);
    // U3: X in 2 invoices, Z in 1 (two lines of one invoice).
    expect(await ranking(new RepeatBaseline(), 'U3')).toEqual(['X', 'Z', 'Y', 'V', 'W']);
  });
});

describe('ITEMKNN', () => {
  const rows = [
    txn('U1', 'A', '2011-01-01T00:00:00'), txn('U1', 'B', '2011-01-01T00:00:00'),
    txn('U2', 'A', '2011-01-02T00:00:00'), txn('U2', 'C', '2011-01-02T00:00:00'),
    txn('U3', 'B', '2011-01-03T00:00:00'), txn('U3', 'C', '2011-01-03T00:00:00'),
    txn('U4', 'A', '2011-01-04T00:00:00'), txn('U4', 'B', '2011-01-04T00:00:00'), txn('U4', 'C', '2011-01-04T00:00:00'),
  ];
  const { train } = recsSplit(rows, at('2011-02-01T00:00:00'), 30);

  it('sums cosine similarities of the items bought, diagonal zero', async () => {
    // Each item has 3 buyers and each pair 2 in common: cosine 2 / √(3·3) = 2/3 everywhere off the diagonal.
    // U1 bought A and B: A = S[B,A] = 2/3, B = S[A,B] = 2/3, C = S[A,C] + S[B,C] = 4/3.
    const knn = new ItemKnnBaseline();
    await knn.fit(train);
    Array.from(knn.score(Int32Array.of(0))).forEach((v, k) => expect(v).toBeCloseTo([2 / 3, 2 / 3, 4 / 3][k], 12));
  });

  it('keeps only the top neighbours of each item, a tie at the cut going to the higher StockCode', async () => {
    // k = 1, all similarities equal: A keeps C, B keeps C, C keeps B. U1 (A, B): C gets S[A,C] + S[B,C] = 4/3,
    // A and B nothing.
    const knn = new ItemKnnBaseline(1);
    await knn.fit(train);
    Array.from(knn.score(Int32Array.of(0))).forEach((v, k) => expect(v).toBeCloseTo([0, 0, 4 / 3][k], 12));
  });
});

describe('EASE', () => {
  it('solves a matrix whose inverse has a closed form', async () => {
    // Users {0,1}, {0,2}, {1,2}, {0,1,2}: XᵀX = I + 2J (J all ones). With λ = 1, G = 2I + 2J and
    // G⁻¹ = ½(I − 2/(2 + 3·2) J) = ½I − ⅛J: diagonal 3/8, off-diagonal −1/8, so B[i,j] = (1/8)/(3/8) = 1/3.
    // With λ = 10, G = 11I + 2J, G⁻¹ = (1/11)(I − (2/17)J): B[i,j] = (2/17)/(15/17) = 2/15.
    const gram = cooccurrence([Int32Array.of(0, 1), Int32Array.of(0, 2), Int32Array.of(1, 2), Int32Array.of(0, 1, 2)], 3);
    expect(Array.from(gram)).toEqual([3, 2, 2, 2, 3, 2, 2, 2, 3]);
    const third = 1 / 3;
    Array.from(await easeWeights(gram, 3, 1)).forEach((v, k) => expect(v).toBeCloseTo([0, third, third, third, 0, third, third, third, 0][k], 12));
    Array.from(await easeWeights(gram, 3, 10)).forEach((v, k) => expect(v).toBeCloseTo(k % 4 === 0 ? 0 : 2 / 15, 12));
  });

  it('uses the float32 inverse only when its float64 residual is small, and float64 otherwise', async () => {
    const gram = cooccurrence([Int32Array.of(0, 1), Int32Array.of(0, 2), Int32Array.of(1, 2), Int32Array.of(0, 1, 2)], 3);
    const infos: InverseInfo[] = [];
    const fast = await easeWeights(gram, 3, 10, true, (i) => infos.push(i));
    expect(infos[0].precision).toBe('float32');
    expect(infos[0].residual).toBeLessThanOrEqual(FLOAT32_RESIDUAL_TOLERANCE);
    Array.from(fast).forEach((v, k) => expect(v).toBeCloseTo(k % 4 === 0 ? 0 : 2 / 15, 6));
    // Two items always bought together and λ = 1e-6: G is nearly singular (condition ~1e7), P ~ 1e6, and float32
    // rounding of P leaves G·P − I far from 0, so the exact inverse is used.
    const twins = cooccurrence([Int32Array.of(0, 1), Int32Array.of(0, 1), Int32Array.of(0, 1)], 2);
    await easeWeights(twins, 2, 1e-6, true, (i) => infos.push(i));
    expect(infos[1]).toEqual({ precision: 'float64', residual: 0 });
  });

  it('scores a user as the sum of B rows over the items bought', async () => {
    const rows = [
      txn('U1', 'A', '2011-01-01T00:00:00'), txn('U1', 'B', '2011-01-01T00:00:00'),
      txn('U2', 'A', '2011-01-02T00:00:00'), txn('U2', 'C', '2011-01-02T00:00:00'),
      txn('U3', 'B', '2011-01-03T00:00:00'), txn('U3', 'C', '2011-01-03T00:00:00'),
      txn('U4', 'A', '2011-01-04T00:00:00'), txn('U4', 'B', '2011-01-04T00:00:00'), txn('U4', 'C', '2011-01-04T00:00:00'),
    ];
    const { train } = recsSplit(rows, at('2011-02-01T00:00:00'), 30);
    const ease = new EaseBaseline({ lambda: 1 });
    await ease.fit(train);
    // U1 bought A and B: score(A) = B[B,A] = 1/3, score(B) = B[A,B] = 1/3, score(C) = B[A,C] + B[B,C] = 2/3.
    Array.from(ease.score(Int32Array.of(0))).forEach((v, k) => expect(v).toBeCloseTo([1 / 3, 1 / 3, 2 / 3][k], 6));
  });

  it('inverts a symmetric positive-definite matrix in float64', () => {
    const n = 40;
    const lists = Array.from({ length: 60 }, (_, u) => Int32Array.from(new Set([u % n, (u * 7) % n, (u * 13 + 5) % n])));
    const g = cooccurrence(lists, n);
    for (let i = 0; i < n; i++) g[i * n + i] += 0.5;
    const p = spdInverse(g, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let x = 0;
        for (let k = 0; k < n; k++) x += g[i * n + k] * p[k * n + j];
        expect(Math.abs(x - (i === j ? 1 : 0))).toBeLessThan(1e-10);
      }
    }
  });

  it('inverts in float32 by blocks on the wasm backend to within float32 precision of float64', async () => {
    // 500 > the 384 leaf: one level of Schur-complement recursion.
    const n = 500;
    const lists = Array.from({ length: 800 }, (_, u) => Int32Array.from(new Set([u % n, (u * 7) % n, (u * 13 + 5) % n, (u * u) % n])));
    const g = cooccurrence(lists, n);
    for (let i = 0; i < n; i++) g[i * n + i] += 10;
    const exact = spdInverse(g, n);
    const fast = await fastSpdInverse(g, n);
    expect(fast).not.toBeNull();
    const scale = exact.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worst = 0;
    for (let k = 0; k < n * n; k++) worst = Math.max(worst, Math.abs(fast![k] - exact[k]));
    expect(worst / scale).toBeLessThan(1e-5);
  });
});

/** Five customers with amounts and no product column (churn and value, not recommendations). */
const churnOnly = () =>
  new FileTxnSource(path.join(__dirname, '../fixtures/eval/churn-only.csv'), parseColumnMap('Invoice=InvoiceNo,Price=UnitPrice,Customer ID=CustomerID'));

describe('churn baselines', () => {
  const source = churnOnly;

  it('labels the population before the cutoff and scores RECENCY in days', async () => {
    const { rows } = await (await import('../../recommender/src/eval/clean')).readClean(source());
    const task = churnTask(rows, at('2011-04-01T00:00:00'), 30);
    // A, B, C, D bought before the cutoff (E only after). In [Apr 1, May 1): A and D buy, B and C do not.
    expect(task.population).toEqual(['A', 'B', 'C', 'D']);
    expect(Array.from(task.labels)).toEqual([0, 1, 1, 0]);
    const { metrics } = await evaluateChurnModel(new RecencyBaseline(), task);
    // Days since last purchase: A 11.58, B 80.58, C 6.58, D 30.58. Order B(1) D(0) A(0) C(1):
    // ROC-AUC: B beats both negatives, C neither → 2/4. AP: 1·½ + (2/4)·½ = 0.75.
    expect(metrics).toEqual({ rocAuc: 0.5, prAuc: 0.75, brier: null, calibration: null, customers: 4, churnRate: 0.5 });
  });

  it('RFM-LOGISTIC gives probabilities that rows at or after the cutoff cannot change', async () => {
    const { rows } = await (await import('../../recommender/src/eval/clean')).readClean(source());
    const cutoff = at('2011-04-01T00:00:00');
    const population = ['A', 'B', 'C', 'D'];
    const withFuture = await new RfmLogisticBaseline().fitPredict(rows, population, cutoff, 30);
    const pastOnly = await new RfmLogisticBaseline().fitPredict(rows.filter((t) => t.time < cutoff), population, cutoff, 30);
    expect(withFuture.isProbability).toBe(true);
    expect(Array.from(withFuture.scores)).toEqual(Array.from(pastOnly.scores));
    for (const p of withFuture.scores) expect(p > 0 && p < 1).toBe(true);
  });

  it('RFM-LOGISTIC scores the churn rate when its training labels have one class, instead of diverging', async () => {
    // Nobody buys in [cutoff − 30 days, cutoff): every training label is churn, and Newton's method has no optimum.
    const rows = [txn('A', 'X', '2011-01-05T00:00:00'), txn('B', 'X', '2011-01-20T00:00:00'), txn('B', 'Y', '2011-02-01T00:00:00')];
    const out = await new RfmLogisticBaseline().fitPredict(rows, ['A', 'B'], at('2011-04-01T00:00:00'), 30);
    expect(Array.from(out.scores)).toEqual([1 - 1e-6, 1 - 1e-6]);
  });

  it('fits L2 logistic regression with C = 1 and an unpenalised intercept', () => {
    // Constant feature: w = 0 and the free intercept is the log-odds of 3/4, ln 3.
    const free = fitLogistic([[0], [0], [0], [0]], [1, 1, 1, 0]);
    expect(free.intercept).toBeCloseTo(Math.log(3), 8);
    // x = −1 (y 0), x = +1 (y 1): by symmetry b = 0 and the gradient −2σ(−w) + w = 0 must vanish.
    const sym = fitLogistic([[-1], [1]], [0, 1]);
    const w = sym.weights[0];
    expect(sym.intercept).toBeCloseTo(0, 10);
    expect(w - 2 / (1 + Math.exp(w))).toBeCloseTo(0, 10);
    expect(w).toBeCloseTo(0.6748, 3);
  });

  it('weighs each row by its sample weight: a weight of 3 fits as three copies of the row', () => {
    // Constant feature, y 1 with weight 3 and y 0 with weight 1: the log-odds of 3/4 again.
    expect(fitLogistic([[0], [0]], [1, 0], 1, 100, [3, 1]).intercept).toBeCloseTo(Math.log(3), 8);
    const x = [[-1.5], [0.2], [1.1], [2]];
    const y = [0, 1, 0, 1];
    const weighted = fitLogistic(x, y, 1, 100, [1, 3, 1, 2]);
    const copied = fitLogistic([x[0], x[1], x[1], x[1], x[2], x[3], x[3]], [0, 1, 1, 1, 0, 1, 1]);
    expect(weighted.intercept).toBeCloseTo(copied.intercept, 10);
    expect(weighted.weights[0]).toBeCloseTo(copied.weights[0], 10);
  });
});

describe('runEvaluation', () => {
  it('runs churn only on a mapped file without product columns and leaves recs out of the report', async () => {
    const report = await runEvaluation({
      source: churnOnly(),
      cutoff: at('2011-04-01T00:00:00'),
      horizonDays: 30,
      task: 'all',
      models: selectModels('baselines'),
    });
    expect(report.recs).toBeUndefined();
    expect(report.dataset).toMatchObject({ cutoff: '2011-04-01', horizonDays: 30, rows: 11, keptRows: 11, customers: 5, items: null });
    expect(report.churn?.map((r) => [r.name, r.kind, r.customers, r.churnRate])).toEqual([
      ['RECENCY', 'baseline', 4, 0.5],
      ['RFM-LOGISTIC', 'baseline', 4, 0.5],
    ]);
    expect(report.churn?.[1].brier).toBeGreaterThan(0);
  });

  it('writes the recs section of the protocol\'s JSON for both views and prints a row per model and view', async () => {
    // (Codes P1…P4: A, B, C, D would be cleaned away, B and D being non-product codes.)
    // Cutoff 2011-03-01, horizon 30: U1 (GT {P1, P3}), U2 (GT {P4}, not in the catalogue), U3 (GT {P2}).
    // View new: U1's GT_new = {P3}; U2 keeps {P4}; U3 bought P2 before, so U3 is dropped.
    const report = await runEvaluation({
      source: new FileTxnSource(path.join(__dirname, '../fixtures/eval/tiny-recs.csv')),
      cutoff: at('2011-03-01T00:00:00'),
      horizonDays: 30,
      task: 'recs',
      models: selectModels('POP,REPEAT'),
    });
    expect(report.churn).toBeUndefined();
    expect(report.dataset).toMatchObject({ rows: 9, keptRows: 9, customers: 3, items: 3, testUsers: { all: 3, new: 2 } });
    expect(report.recs?.all.map((r) => r.name)).toEqual(['POP', 'REPEAT']);
    expect(Object.keys(report.recs!.all[0]).sort()).toEqual(['coverage', 'hitrate@10', 'kind', 'name', 'ndcg@10', 'recall@10', 'trainSeconds', 'users']);
    expect(report.recs?.new.map((r) => r.users)).toEqual([2, 2]);
    // View all, every list is the whole catalogue P1, P2, P3 in some order: U1 finds 2 of 2, U2 0 of 1, U3 1 of 1.
    expect(report.recs?.all.map((r) => r['recall@10'])).toEqual([0.666667, 0.666667]);
    expect(report.recs?.all.map((r) => r['hitrate@10'])).toEqual([0.666667, 0.666667]);
    const table = formatReport(report).split('\n');
    expect(table.filter((l) => /^recs (all|new) +(POP|REPEAT) /.test(l))).toHaveLength(4);
  });

  it('compares each probabilistic churn model with RFM-LOGISTIC and each value model with every baseline, on the same customers', async () => {
    // Twins of a baseline, registered as models: every resample scores both the same, so each difference is 0.
    const report = await runEvaluation({
      source: churnOnly(),
      cutoff: at('2011-04-01T00:00:00'),
      horizonDays: 30,
      task: 'all',
      models: [...selectModels('RECENCY,RFM-LOGISTIC,PAST-SPEND,RFM-LINEAR'), churn('RFM-TWIN', 'model', () => new RfmLogisticBaseline()), clv('PAST-TWIN', 'model', () => new PastSpendBaseline())],
    });
    const churnRow = (name: string) => report.churn!.find((r) => r.name === name)!;
    const zero = { difference: 0, low: 0, high: 0 };
    expect(churnRow('RFM-TWIN').versusReference).toMatchObject({ baseline: 'RFM-LOGISTIC', rocAuc: zero, ece: zero });
    // RECENCY gives no probabilities, and the reference is not compared with itself.
    expect(churnRow('RECENCY').versusReference).toBeUndefined();
    expect(churnRow('RFM-LOGISTIC').versusReference).toBeUndefined();
    const twin = report.clv!.find((r) => r.name === 'PAST-TWIN')!;
    expect(Object.keys(twin.versusBaselines!)).toEqual(['PAST-SPEND', 'RFM-LINEAR']);
    expect(twin.versusBaselines!['PAST-SPEND']).toMatchObject({ gini: zero, topDecileCapture: zero });
    for (const d of Object.values(twin.versusBaselines!['RFM-LINEAR'])) expect(d.low).toBeLessThanOrEqual(d.high);
    expect(report.clv!.find((r) => r.name === 'PAST-SPEND')!.versusBaselines).toBeUndefined();
    const text = formatReport(report);
    expect(text).toContain('RFM-TWIN: ROC-AUC +0.000 (95% interval +0.000 to +0.000), ECE +0.000 (95% interval +0.000 to +0.000)');
    expect(text).toContain('PAST-TWIN − PAST-SPEND: Gini +0.000 (95% interval +0.000 to +0.000), top-decile +0.000 (95% interval +0.000 to +0.000)');
  });

  it('refuses --task recs on a file without product columns', async () => {
    await expect(
      runEvaluation({
        source: churnOnly(),
        cutoff: at('2011-04-01T00:00:00'),
        horizonDays: 30,
        task: 'recs',
        models: selectModels('baselines'),
      }),
    ).rejects.toThrow(/no StockCode column/);
  });

  it('selects models by name, case-insensitively, and rejects unknown names', () => {
    expect(selectModels('pop,Ease').map((e) => e.name)).toEqual(['POP', 'EASE']);
    expect(() => selectModels('POP,NOPE')).toThrow(/unknown model\(s\) nope/);
  });
});
