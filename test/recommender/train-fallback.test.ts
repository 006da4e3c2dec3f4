import type { Job } from 'bull';
import pino from 'pino';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { orderInput } from '../support/orders';
import { handleTrain } from '../../recommender/src/jobs/train';
import { handleScore } from '../../recommender/src/jobs/score';
import { ModelStore, toValueMinor } from '../../recommender/src/training/store';
import { dominantBaseline, gateChecksFor, windowOf } from '../../recommender/src/training/pipeline';
import { fitPReturnByAmount, pReturnByAmount, type PReturnByAmount } from '../../recommender/src/training/p-return';
import { churn, clv, REGISTRY, type RegistryEntry } from '../../recommender/src/eval/registry';
import { BgNbdGgBaseline, PastSpendBaseline } from '../../recommender/src/baselines/clv';
import { RecencyBaseline, RfmLogisticBaseline } from '../../recommender/src/baselines/churn';
import { readClean } from '../../recommender/src/eval/clean';
import { PgTxnSource } from '../../recommender/src/data/pg-source';
import type { Txn } from '../../recommender/src/eval/types';

/**
 * A churn or value model the gate keeps out while no learned version of its kind is served: the baseline that beats
 * every other baseline on each gate metric is trained as a version of its own and goes through the gate like any
 * other, so members still have a score. In process, with registries whose models are known to lose.
 */
const h = useHarness();
let store: ModelStore;
let pastRows: Txn[];
const DAY = 86_400_000;
const leavers = new Set<string>();

/**
 * 15 regulars who buy every 10 days for 120 days, and 15 who did the same until 80 days ago and then stopped; each
 * member spends a different amount per order. With the 30-day horizon, spend in the 30 days before a cutoff predicts
 * the next 30 days' and a gap since the last order predicts leaving.
 */
beforeAll(async () => {
  store = new ModelStore(h.config.DATABASE_URL);
  const b = build(h);
  await b.baseRate();
  const { channelId } = await b.apiKey();
  const now = Date.now();
  for (let i = 0; i < 30; i++) {
    const member = await b.member().save();
    const stoppedDaysAgo = i % 2 === 0 ? 0 : 80;
    if (stoppedDaysAgo) leavers.add(member.id);
    for (let daysAgo = 118 - (i % 5); daysAgo > stoppedDaysAgo; daysAgo -= 10) {
      const input = orderInput(member.id, [{ sku: `P${i % 4}`, unitPriceMinor: 500 + 37 * i }], { placedAt: new Date(now - daysAgo * DAY).toISOString() });
      await h.app.services.orders.record(b.ctx(), { ...input, channelId, placedAt: new Date(input.placedAt) } as never);
    }
  }
  pastRows = (await readClean(new PgTxnSource(h.config.DATABASE_URL))).rows;
});
afterAll(() => store.close());

const spendOf = (rows: Txn[]) => {
  const spend = new Map<string, number>();
  for (const r of rows) spend.set(r.customerId, (spend.get(r.customerId) ?? 0) + r.quantity * r.unitPrice);
  return spend;
};
/** Predicts the most for who spent the least: a value model every sensible baseline beats. */
const upsideDown = { name: 'UPSIDE-DOWN', kind: 'model' as const, fitPredict: async (rows: Txn[], population: string[], cutoff: number) => {
  const spend = spendOf(rows.filter((r) => r.time < cutoff));
  return { predictions: Float64Array.from(population, (c) => 1000 / (1 + (spend.get(c) ?? 0))) };
} };
/** The same rule as a baseline: the bar the sensible baseline clears. */
const leastFirst = { ...upsideDown, name: 'LEAST-FIRST', kind: 'baseline' as const };
/** Everyone as likely to leave: a churn model that ranks nobody. */
const coin = (kind: 'baseline' | 'model', name: string) => ({ name, kind, fitPredict: async (_rows: Txn[], population: string[]) => ({ scores: new Float64Array(population.length).fill(0.5), isProbability: true }) });

const valueRegistry: RegistryEntry[] = [clv('PAST-SPEND', 'baseline', () => new PastSpendBaseline()), clv('LEAST-FIRST', 'baseline', () => leastFirst), clv('UPSIDE-DOWN', 'model', () => upsideDown)];
const NAMES = { RECOMMENDER: 'TF-HYBRID', CHURN: 'TF-CHURN', VALUE: 'UPSIDE-DOWN' };

const job = (id: string, kind: string) => ({ id, data: { v: 1, kind }, attemptsMade: 0, progress: async () => undefined }) as unknown as Job<unknown>;
const train = (kind: 'CHURN' | 'VALUE', registry: RegistryEntry[], names = NAMES) =>
  handleTrain(kind, { databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, valueBands: { medium: 0.5, high: 0.8 }, log: pino({ level: 'silent' }), models: { registry, names } });
const versions = (kind: string) =>
  h.sql<{ id: string; job_id: string; algorithm: string; status: string; gate_reason: string; params: Record<string, unknown> }>(
    `select id, job_id, algorithm, status, gate_reason, params from model_version where kind = ? order by created_at`,
    [kind],
  );

describe('a model kept out with nothing learned served', () => {
  it('serves the value baseline that beats the others, as a version of its own the gate let through, with its own predictions', async () => {
    const result = await train('VALUE', valueRegistry)(job('value-1', 'VALUE'));
    const [keptOut, fallback] = await versions('VALUE');
    expect(keptOut).toMatchObject({ id: result.modelVersionId, job_id: 'value-1:1', algorithm: 'UPSIDE-DOWN', status: 'REJECTED' });
    expect(result.status).toBe('REJECTED');
    expect(result.gateReason).toMatch(/^kept out: gini -?[\d.]+ does not beat PAST-SPEND/);
    expect(result.fallback).toEqual({ modelVersionId: fallback.id, algorithm: 'PAST-SPEND', status: 'ACTIVE', gateReason: fallback.gate_reason });
    expect(fallback).toMatchObject({ job_id: 'value-1.fallback:1', algorithm: 'PAST-SPEND', status: 'ACTIVE', params: { servedInsteadOf: { algorithm: 'UPSIDE-DOWN', modelVersionId: keptOut.id } } });
    // Compared with the other baselines only (not with itself), and the reason says what it stands in for.
    expect(fallback.gate_reason).toMatch(/^in place of UPSIDE-DOWN, kept out: gini .* — promoted: gini [\d.]+ > LEAST-FIRST -?[\d.]+; topDecileCapture [\d.]+ > LEAST-FIRST [\d.]+$/);
    const [{ baseline_metrics: compared }] = await h.sql(`select baseline_metrics from model_version where id = ?`, [fallback.id]);
    expect(Object.keys(compared)).toEqual(['LEAST-FIRST']);

    // Its scores are PAST-SPEND's predictions for the next horizon, in minor units, for every member who bought.
    const [{ horizon_days: horizonDays }] = await h.sql(`select horizon_days from model_version where id = ?`, [fallback.id]);
    const population = [...new Set(pastRows.map((r) => r.customerId))].sort();
    const expected = await new PastSpendBaseline().fitPredict(pastRows, population, windowOf(pastRows, horizonDays).servingCutoff, horizonDays);
    const rows = await h.sql<{ member_id: string; amount_minor: string }>(`select member_id, amount_minor from member_value_score where model_version_id = ?`, [fallback.id]);
    expect(rows).toHaveLength(population.length);
    const byMember = new Map(rows.map((r) => [r.member_id, Number(r.amount_minor)]));
    population.forEach((c, i) => expect(byMember.get(c)).toBe(toValueMinor(expected.predictions[i])));
    expect(new Set(rows.map((r) => Number(r.amount_minor))).size).toBeGreaterThan(1);

    // PAST-SPEND gives no chance of buying: the version carries one fitted on who bought in the holdout against the
    // spend PAST-SPEND predicted for them there, and its members' chances are read off it.
    const [{ artefact }] = await h.sql<{ artefact: string }>(`select convert_from(artefact, 'UTF8') as artefact from model_version where id = ?`, [fallback.id]);
    const stored = JSON.parse(artefact) as { weights: unknown; pReturnByAmount: PReturnByAmount };
    expect(stored.weights).toEqual({ format: 'past-spend/1' });
    const holdout = await new PastSpendBaseline().fitPredict(pastRows, population, windowOf(pastRows, horizonDays).cutoff, horizonDays);
    const actual = spendOf(pastRows.filter((r) => r.time >= windowOf(pastRows, horizonDays).cutoff));
    expect(stored.pReturnByAmount).toEqual(fitPReturnByAmount(holdout.predictions, population.map((c) => actual.get(c) ?? 0)));
    const chances = await h.sql<{ member_id: string; p_return: number; drivers: { feature: string }[] }>(`select member_id, p_return, drivers from member_value_score where model_version_id = ?`, [fallback.id]);
    const byChance = new Map(chances.map((r) => [r.member_id, r]));
    const read = pReturnByAmount(stored.pReturnByAmount, expected.predictions);
    population.forEach((c, i) => {
      expect(byChance.get(c)!.p_return).toBeCloseTo(read[i], 6);
      expect(byChance.get(c)!.drivers.map((d) => d.feature)).toEqual(expected.predictions[i] > 0 ? ['log_spend_last_horizon'] : []);
    });
    const chance = (who: boolean) => population.filter((c) => leavers.has(c) === who).map((c) => byChance.get(c)!.p_return);
    expect(Math.max(...chance(true))).toBeLessThan(Math.min(...chance(false)));

    // The six-hourly job re-scores it from that artefact to the same amounts and chances.
    await h.sql(`update member_value_score set amount_minor = 0, p_return = 0.5 where model_version_id = ?`, [fallback.id]);
    const rescore = handleScore({ databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, valueBands: { medium: 0.5, high: 0.8 }, log: pino({ level: 'silent' }), models: { registry: valueRegistry, names: NAMES } });
    expect(await rescore({ id: 'rescore-past-spend', data: { v: 1, kind: 'VALUE', requestedAt: new Date().toISOString(), requestedBy: 'test' }, progress: async () => undefined } as never)).toEqual({ modelVersionId: fallback.id, scored: 30 });
    const rescored = await h.sql<{ member_id: string; amount_minor: number; p_return: number }>(`select member_id, amount_minor, p_return from member_value_score where model_version_id = ?`, [fallback.id]);
    for (const r of rescored) {
      expect(r.amount_minor).toBe(byMember.get(r.member_id));
      expect(r.p_return).toBe(byChance.get(r.member_id)!.p_return);
    }
  });

  it('trains the fallback again when the next run keeps the model out, under the gate like any version; a retried job answers with both without training', async () => {
    const before = await versions('VALUE');
    const result = await train('VALUE', valueRegistry)(job('value-2', 'VALUE'));
    const after = await versions('VALUE');
    expect(after).toHaveLength(before.length + 2);
    const [keptOut, refreshed] = after.slice(-2);
    expect(keptOut).toMatchObject({ algorithm: 'UPSIDE-DOWN', status: 'REJECTED' });
    // The same history gives the same figures, which do not beat the active version's (the fallback trained before).
    expect(refreshed).toMatchObject({ job_id: 'value-2.fallback:1', algorithm: 'PAST-SPEND', status: 'REJECTED' });
    expect(refreshed.gate_reason).toMatch(/does not beat the active version's/);
    expect(result.fallback).toMatchObject({ modelVersionId: refreshed.id, status: 'REJECTED' });

    // Handed out again: the same two versions, nothing trained.
    const again = await train('VALUE', valueRegistry)(job('value-2', 'VALUE'));
    expect(again).toEqual(result);
    expect(await versions('VALUE')).toHaveLength(after.length);
  });

  it('finishes a fallback whose worker died: the retried job trains it afresh and marks the dead attempt FAILED, without training the model again', async () => {
    const [{ id: keptOut }] = await h.sql(
      `insert into model_version (id, kind, status, algorithm, job_id, params, metrics, baseline_metrics, horizon_days, gate_reason, created_at, finished_at)
       select gen_random_uuid(), kind, status, algorithm, 'value-4:1', params, metrics, baseline_metrics, horizon_days, gate_reason, now(), now()
       from model_version where job_id = 'value-1:1' returning id`,
    );
    const [{ id: dead }] = await h.sql(
      `insert into model_version (id, kind, status, algorithm, job_id, params, metrics, baseline_metrics, horizon_days, created_at)
       values (gen_random_uuid(), 'VALUE', 'TRAINING', 'pending', 'value-4.fallback:1', '{}', '{}', '{}', 30, now()) returning id`,
    );
    const result = await train('VALUE', valueRegistry)({ ...job('value-4', 'VALUE'), attemptsMade: 1 } as Job<unknown>);
    expect(result.modelVersionId).toBe(keptOut);
    const rows = await h.sql(`select id, job_id, algorithm, status from model_version where job_id like 'value-4%' order by created_at`);
    expect(rows).toEqual([
      { id: keptOut, job_id: 'value-4:1', algorithm: 'UPSIDE-DOWN', status: 'REJECTED' },
      { id: dead, job_id: 'value-4.fallback:1', algorithm: 'pending', status: 'FAILED' },
      { id: result.fallback!.modelVersionId, job_id: 'value-4.fallback:2', algorithm: 'PAST-SPEND', status: 'REJECTED' },
    ]);
  });

  it('re-scores a BGNBD-GG version from its stored fit: the amounts, chances of buying and drivers of the history as it is now', async () => {
    const population = [...new Set(pastRows.map((r) => r.customerId))].sort();
    const servingCutoff = windowOf(pastRows, 30).servingCutoff;
    const model = new BgNbdGgBaseline();
    const expected = await model.fitPredict(pastRows, population, servingCutoff, 30);
    const [{ id }] = await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, artefact)
       values (gen_random_uuid(), 'VALUE', 'REJECTED', 'BGNBD-GG', '{}', '{}', '{}', 30, now(), now(), convert_to(?, 'UTF8')) returning id`,
      [JSON.stringify({ algorithm: 'BGNBD-GG', weights: model.exportWeights() })],
    );
    const rescore = handleScore({ databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, valueBands: { medium: 0.5, high: 0.8 }, log: pino({ level: 'silent' }), models: { registry: REGISTRY, names: { ...NAMES, VALUE: 'TF-VALUE' } } });
    const scored = await rescore({ id: 'rescore-value', data: { v: 1, kind: 'VALUE', requestedAt: new Date().toISOString(), requestedBy: 'test', modelVersionId: id }, progress: async () => undefined } as never);
    expect(scored).toEqual({ modelVersionId: id, scored: 30 });
    const rows = new Map(
      (await h.sql<{ member_id: string; amount_minor: number; p_return: number; drivers: { feature: string }[] }>(`select member_id, amount_minor, p_return, drivers from member_value_score where model_version_id = ?`, [id])).map((r) => [r.member_id, r]),
    );
    population.forEach((c, i) => {
      expect(rows.get(c)!.amount_minor).toBe(toValueMinor(expected.predictions[i]));
      expect(rows.get(c)!.p_return).toBeCloseTo(expected.pReturn![i], 6);
      expect(rows.get(c)!.drivers.map((d) => d.feature)).toEqual(expected.drivers![i].map((d) => d.feature));
    });
    // The regulars are likelier to buy in the next 30 days than those who stopped 80 days ago.
    const chance = (who: boolean) => population.filter((c) => leavers.has(c) === who).map((c) => rows.get(c)!.p_return);
    expect(Math.max(...chance(true))).toBeLessThan(Math.min(...chance(false)));
  });

  it('keeps a learned active version served: no fallback while one is', async () => {
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'VALUE' and status = 'ACTIVE'`);
    const [{ id: learned }] = await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
       values (gen_random_uuid(), 'VALUE', 'ACTIVE', 'UPSIDE-DOWN', '{}', '{"gini": 0.99, "topDecileCapture": 0.99}', '{}', 30, now(), now()) returning id`,
    );
    const before = (await versions('VALUE')).length;
    const result = await train('VALUE', valueRegistry)(job('value-3', 'VALUE'));
    expect(result.status).toBe('REJECTED');
    expect(result.fallback).toBeUndefined();
    expect(await versions('VALUE')).toHaveLength(before + 1);
    const [active] = await h.sql(`select id from model_version where kind = 'VALUE' and status = 'ACTIVE'`);
    expect(active.id).toBe(learned);
  });

  it('serves RFM-LOGISTIC for churn when it beats the other baselines, but never a baseline whose scores are not probabilities (RECENCY)', async () => {
    const model = churn('COIN', 'model', () => coin('model', 'COIN'));
    const names = { ...NAMES, CHURN: 'COIN' };
    const refused = await train('CHURN', [churn('RECENCY', 'baseline', () => new RecencyBaseline()), churn('COIN-TOO', 'baseline', () => coin('baseline', 'COIN-TOO')), model], names)(job('churn-1', 'CHURN'));
    expect(refused.status).toBe('REJECTED');
    expect(refused.gateReason).toBe('kept out: rocAuc 0.5000 does not beat RECENCY 1.0000');
    expect(refused.fallback).toBeUndefined();
    expect((await versions('CHURN')).map((v) => v.algorithm)).toEqual(['COIN']);

    const withLogistic = [churn('RFM-LOGISTIC', 'baseline', () => new RfmLogisticBaseline()), churn('COIN-TOO', 'baseline', () => coin('baseline', 'COIN-TOO')), model];
    const result = await train('CHURN', withLogistic, names)(job('churn-2', 'CHURN'));
    expect(result.status).toBe('REJECTED');
    expect(result.fallback).toMatchObject({ algorithm: 'RFM-LOGISTIC', status: 'ACTIVE' });
    expect(result.fallback!.gateReason).toMatch(/— promoted: rocAuc [\d.]+ > COIN-TOO 0\.5000$/);
    const scores = await h.sql<{ member_id: string; score: number }>(`select member_id, score from member_churn_score where model_version_id = ?`, [result.fallback!.modelVersionId]);
    expect(scores).toHaveLength(30);
    for (const { score } of scores) expect(score >= 0 && score <= 1).toBe(true);
    // Every member who stopped buying 80 days ago is likelier to leave than every regular.
    const lowestLeaver = Math.min(...scores.filter((s) => leavers.has(s.member_id)).map((s) => s.score));
    const highestRegular = Math.max(...scores.filter((s) => !leavers.has(s.member_id)).map((s) => s.score));
    expect(lowestLeaver).toBeGreaterThan(highestRegular);
    // Its drivers: RFM-LOGISTIC's features under TF-CHURN's names and words, strongest first; for each leaver, the
    // days since the last purchase raise the risk.
    const drivers = await h.sql<{ member_id: string; drivers: { feature: string; label: string; value: number; contribution: number }[] }>(
      `select member_id, drivers from member_churn_score where model_version_id = ?`,
      [result.fallback!.modelVersionId],
    );
    for (const { member_id, drivers: d } of drivers) {
      expect(d).toHaveLength(3);
      for (const x of d) expect(['log_recency_days', 'log_invoices', 'log_spend', 'log_tenure_days', 'log_mean_gap_days']).toContain(x.feature);
      expect(d.map((x) => Math.abs(x.contribution))).toEqual(d.map((x) => Math.abs(x.contribution)).sort((a, b) => b - a));
      const recency = d.find((x) => x.feature === 'log_recency_days');
      if (leavers.has(member_id)) expect(recency).toMatchObject({ label: 'Days since last purchase (log)', contribution: expect.any(Number) });
      if (leavers.has(member_id)) expect(recency!.contribution).toBeGreaterThan(0);
    }
    // A first churn version: each member's previous score is the same fit's on the history of four weeks before.
    const [previous] = await h.sql(`select count(previous_score)::int as n, min(previous_score) as lo, max(previous_score) as hi from member_churn_score where model_version_id = ?`, [result.fallback!.modelVersionId]);
    expect(previous.n).toBe(30);
    expect(previous.lo >= 0 && previous.hi <= 1).toBe(true);

    // Re-scored every six hours from its stored fit, as TF-CHURN is: the same history, the same scores.
    const rescore = handleScore({ databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, valueBands: { medium: 0.5, high: 0.8 }, log: pino({ level: 'silent' }), models: { registry: withLogistic, names } });
    const scored = await rescore({ id: 'rescore-churn', data: { v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'test' }, progress: async () => undefined } as never);
    expect(scored).toEqual({ modelVersionId: result.fallback!.modelVersionId, scored: 30 });
    const again = new Map((await h.sql<{ member_id: string; score: number }>(`select member_id, score from member_churn_score where model_version_id = ?`, [result.fallback!.modelVersionId])).map((r) => [r.member_id, r.score]));
    for (const { member_id, score } of scores) expect(again.get(member_id)).toBeCloseTo(score, 6);
  });
});

describe('the fallback rule', () => {
  const check = (metric: string, baselines: Record<string, number>) => ({ metric, model: 0, baselines, active: null });

  it('names the baseline better than every other on each metric, and none on a tie or a split', () => {
    expect(dominantBaseline([check('gini', { A: 0.5, B: 0.7, C: 0.6 }), check('top', { A: 0.1, B: 0.3, C: 0.2 })])).toBe('B');
    expect(dominantBaseline([check('gini', { A: 0.5, B: 0.7 }), check('top', { A: 0.3, B: 0.2 })])).toBeNull();
    expect(dominantBaseline([check('gini', { A: 0.7, B: 0.7 })])).toBeNull();
    expect(dominantBaseline([check('gini', { A: 0.7 })])).toBe('A');
    expect(dominantBaseline([check('gini', {})])).toBeNull();
    // A baseline without a figure competes on the others' figures only, and is never named itself.
    expect(dominantBaseline([check('gini', { A: NaN, B: 0.1 })])).toBe('B');
    expect(dominantBaseline([check('gini', { A: NaN })])).toBeNull();
  });

  it('RFM-LOGISTIC scores from its stored fit exactly as it scored when fitted, and refuses weights that are not its own', async () => {
    const population = [...new Set(pastRows.map((r) => r.customerId))].sort();
    const cutoff = Math.max(...pastRows.map((r) => r.time)) + DAY;
    const model = new RfmLogisticBaseline();
    const fitted = await model.fitPredict(pastRows, population, cutoff, 30);
    const weights = JSON.parse(JSON.stringify(model.exportWeights()));
    expect(weights).toMatchObject({ format: 'rfm-logistic/1', coefficients: expect.any(Array) });
    expect(weights.coefficients).toHaveLength(5);
    const stored = new RfmLogisticBaseline().scoreStored(weights, pastRows, population, cutoff);
    expect(stored.scores).toEqual(fitted.scores);
    expect(stored.drivers).toEqual(fitted.drivers);
    for (const bad of [{ ...weights, std: [0, 1, 1, 1, 1] }, { ...weights, coefficients: [1, 2] }, { ...weights, intercept: 'x' }, { format: 'tf-churn/2' }, null]) {
      expect(() => new RfmLogisticBaseline().scoreStored(bad as never, pastRows, population, cutoff)).toThrow(/RFM-LOGISTIC: the stored weights are not rfm-logistic\/1/);
    }
  });

  it("reads the gate's metrics from a stored version's figures, its baselines' and the active version's", () => {
    const checks = gateChecksFor('RECOMMENDER', { all: { 'ndcg@10': 0.4 }, new: { 'ndcg@10': 0.1 } }, { REPEAT: { all: { 'ndcg@10': 0.3 }, new: { 'ndcg@10': 0.05 } } }, { all: { 'ndcg@10': 0.35 } });
    expect(checks).toEqual([
      { metric: 'ndcg@10 (all)', model: 0.4, baselines: { REPEAT: 0.3 }, active: 0.35 },
      { metric: 'ndcg@10 (new)', model: 0.1, baselines: { REPEAT: 0.05 }, active: null },
    ]);
    expect(gateChecksFor('VALUE', { gini: 0.6, topDecileCapture: 0.4 }, {}, null)).toEqual([
      { metric: 'gini', model: 0.6, baselines: {}, active: null },
      { metric: 'topDecileCapture', model: 0.4, baselines: {}, active: null },
    ]);
  });
});
