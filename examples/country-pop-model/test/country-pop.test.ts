/**
 * A model plugin from its own folder: `npm run eval` compares its models with the built-in ones, and the real worker
 * process trains and serves them when RECOMMENDER_MODEL and CHURN_MODEL name them, through the same jobs, registry and
 * promotion gate; the churn model's versions are re-scored from their stored weights as the built-in ones are.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Queue from 'bull';
import { useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { lapsedMemberBuysToday, recordTrainableHistory } from '../../../test/support/orders';
import { AppProcess } from '../../../test/support/services';
import { decideGate } from '../../../recommender/src/training/pipeline';
import { recs } from '../../../recommender/src/eval/registry';
import { ModelPluginError, registryWith, servedModels } from '../../../recommender/src/model-plugins';
import { handleScore } from '../../../recommender/src/jobs/score';
import { churn } from '../../../recommender/src/eval/registry';
import { ModelStore } from '../../../recommender/src/training/store';
import { createLogger } from '../../../api/src/base/logger';
import { readClean } from '../../../recommender/src/eval/clean';
import { PgTxnSource } from '../../../recommender/src/data/pg-source';
import { CountryChurn, modelPlugin, type CountryChurnWeights } from '../src';

const repo = path.resolve(__dirname, '..', '..', '..');
const PLUGIN = path.join(repo, 'examples', 'country-pop-model');
const prefix = `test-model-plugin-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const workers: AppProcess[] = [];
jest.setTimeout(180_000);

const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;
const JOB = `query J($id: ID!) { modelJob(id: $id) { id state failedReason modelVersionId } }`;
const BASE = { RECOMMENDER_MODEL: 'TF-HYBRID', CHURN_MODEL: 'TF-CHURN', VALUE_MODEL: 'TF-VALUE' };

/** The planted history (support/orders.ts) and one worker serving both plugin models, shared by the tests below. */
let served: Promise<{ admin: { auth: { token: string } }; worker: AppProcess }> | null = null;
function servingWorker() {
  served ??= (async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    await b.baseRate();
    await recordTrainableHistory(h, b, key.channelId);
    const worker = AppProcess.worker('worker-plugin', {
      DATABASE_URL: h.config.DATABASE_URL,
      REDIS_URL: h.config.REDIS_URL,
      QUEUE_PREFIX: prefix,
      MODEL_SCORE_CRON: 'off',
      LOYALTY_MODEL_PLUGINS: PLUGIN,
      RECOMMENDER_MODEL: 'COUNTRY-POP',
      CHURN_MODEL: 'COUNTRY-CHURN',
    });
    workers.push(worker);
    return { admin, worker };
  })();
  return served;
}

async function retrain(admin: { auth: { token: string } }, kind: 'RECOMMENDER' | 'CHURN') {
  const queued = await h.gql(admin.auth, RETRAIN, { input: { kind, horizonDays: 30 } });
  expect(queued.errors).toBeUndefined();
  let job;
  for (const until = Date.now() + 150_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    job = (await h.gql(admin.auth, JOB, { id: queued.data.retrainModel.id })).data.modelJob;
    if (job.state === 'COMPLETED' || job.state === 'FAILED') break;
  }
  expect(job).toMatchObject({ state: 'COMPLETED', failedReason: null });
  return job as { modelVersionId: string };
}

async function scoreJob(payload: { kind: 'CHURN' | 'VALUE'; modelVersionId: string }) {
  const queue = new Queue('recommender.score', h.config.REDIS_URL, { prefix });
  try {
    const job = await queue.add({ v: 1, requestedAt: new Date().toISOString(), requestedBy: 'test', ...payload });
    return await job.finished();
  } finally {
    await queue.close();
  }
}

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  for (const name of ['recommender.train-recommender', 'recommender.train-churn', 'recommender.score']) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe('model plugins', () => {
  it('join the registry after the built-in models; a name taken, a bad entry or a wrong *_MODEL stops the start with why', () => {
    const registry = registryWith([modelPlugin]);
    expect(registry.slice(-2)).toMatchObject([
      { task: 'recs', kind: 'model', name: 'COUNTRY-POP' },
      { task: 'churn', kind: 'model', name: 'COUNTRY-CHURN' },
    ]);
    expect(() => registryWith([{ name: 'dup', models: [recs('pop', 'baseline', () => null as never)] }])).toThrow(/model plugin "dup": the model name pop is taken/);
    expect(() => registryWith([{ name: 'bad', models: [{ task: 'recs', kind: 'model', name: 'has space' } as never] }])).toThrow(ModelPluginError);

    expect(servedModels({ ...BASE, LOYALTY_MODEL_PLUGINS: PLUGIN, RECOMMENDER_MODEL: 'country-pop', CHURN_MODEL: 'country-churn' }).names).toMatchObject({ RECOMMENDER: 'COUNTRY-POP', CHURN: 'COUNTRY-CHURN' });
    expect(() => servedModels({ ...BASE, RECOMMENDER_MODEL: 'COUNTRY-POP' })).toThrow('RECOMMENDER_MODEL: COUNTRY-POP is not a recs model; known: TF-HYBRID');
    // A baseline is never served: the gate would compare it with itself.
    expect(() => servedModels({ ...BASE, CHURN_MODEL: 'RFM-LOGISTIC' })).toThrow(/CHURN_MODEL: RFM-LOGISTIC is not a churn model/);
    expect(() => servedModels({ ...BASE, LOYALTY_MODEL_PLUGINS: PLUGIN, CHURN_MODEL: 'COUNTRY-POP' })).toThrow(/CHURN_MODEL: COUNTRY-POP is not a churn model/);
    expect(() => servedModels({ ...BASE, LOYALTY_MODEL_PLUGINS: './no/such/plugin' }, repo)).toThrow(/LOYALTY_MODEL_PLUGINS: cannot load "\.\/no\/such\/plugin"/);
  });

  it('the worker refuses to start on a model it does not know, naming the variable', async () => {
    const run = promisify(execFile)(process.execPath, [path.join(repo, 'recommender', 'dist', 'main.js')], {
      env: { ...process.env, REDIS_URL: h.config.REDIS_URL, QUEUE_PREFIX: prefix, RECOMMENDER_MODEL: 'NO-SUCH-MODEL' },
    });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('RECOMMENDER_MODEL: NO-SUCH-MODEL is not a recs model; known: TF-HYBRID') });
  });

  it('npm run eval compares the plugin models with the built-in ones (--plugins)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repo, 'recommender', 'dist', 'cli', 'eval.js'), '--file', path.join(repo, 'data', 'demo', 'online-retail-slice.csv.gz'), '--cutoff', '2011-09-11', '--task', 'all', '--models', 'POP,COUNTRY-POP,RFM-LOGISTIC,COUNTRY-CHURN', '--plugins', PLUGIN],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const rows = stdout.split('\n').filter((l) => /\d\.\d{3}/.test(l));
    expect(rows.some((l) => /^recs all\s+COUNTRY-POP\s/.test(l))).toBe(true);
    expect(rows.some((l) => /^recs all\s+POP\s/.test(l))).toBe(true);
    // A churn model's row carries ROC-AUC, PR-AUC and, as a probability, Brier.
    expect(rows.find((l) => /^churn\s+COUNTRY-CHURN\s/.test(l))).toMatch(/model(\s+–){4}\s+\d+(\s+0\.\d{4}){3}\s/);
    expect(stdout).toMatch(/COUNTRY-CHURN: mean p 0\.\d{3} vs 0\.\d{3}, ECE 0\.\d{3}/);
    // Compared with RFM-LOGISTIC on the same customers, with paired bootstrap intervals that contain the difference.
    const gap = /COUNTRY-CHURN: ROC-AUC ([+−]0\.\d{3}) \(95% interval ([+−]0\.\d{3}) to ([+−]0\.\d{3})\), ECE ([+−]0\.\d{3}) \(95% interval ([+−]0\.\d{3}) to ([+−]0\.\d{3})\)/.exec(stdout);
    expect(gap).not.toBeNull();
    const [auc, aucLow, aucHigh] = gap!.slice(1, 4).map((x) => Number(x.replace('−', '-')));
    expect(aucLow).toBeLessThanOrEqual(auc);
    expect(aucHigh).toBeGreaterThanOrEqual(auc);
    expect(Number(gap![5].replace('−', '-'))).toBeLessThan(Number(gap![6].replace('−', '-')));
  });

  it('the worker trains the plugin model through retrainModel, beside the baselines, and the gate decides on its metrics', async () => {
    const { admin, worker } = await servingWorker();
    const job = await retrain(admin, 'RECOMMENDER');
    expect(worker.logged('worker.models')).toEqual([expect.objectContaining({ models: expect.objectContaining({ RECOMMENDER: 'COUNTRY-POP', CHURN: 'COUNTRY-CHURN' }) })]);

    const [version] = await h.sql(`select * from model_version where id = ?`, [job.modelVersionId]);
    expect(version.algorithm).toBe('COUNTRY-POP');
    const baselines = ['EASE', 'ITEMKNN', 'POP', 'REPEAT'];
    expect(Object.keys(version.baseline_metrics).sort()).toEqual(baselines);
    const gate = decideGate(
      (['all', 'new'] as const).map((v) => ({
        metric: `ndcg@10 (${v})`,
        model: version.metrics[v]['ndcg@10'],
        baselines: Object.fromEntries(baselines.map((name) => [name, version.baseline_metrics[name][v]['ndcg@10']])),
        active: null,
      })),
    );
    expect(version.gate_reason).toBe(gate.reason);
    expect(version.status).toBe(gate.isPromoted ? 'ACTIVE' : 'REJECTED');
    const [written] = await h.sql(`select count(distinct member_id)::int as members from member_recommendation where model_version_id = ?`, [version.id]);
    expect(written.members).toBe(45);
  });

  it("re-scores a plugin churn model's version from its stored weights, as new orders arrive, without training it again", async () => {
    const { admin } = await servingWorker();
    const job = await retrain(admin, 'CHURN');
    const [version] = await h.sql(`select id, algorithm, status, scored_at, convert_from(artefact, 'UTF8')::jsonb as artefact from model_version where id = ?`, [job.modelVersionId]);
    expect(version).toMatchObject({ algorithm: 'COUNTRY-CHURN', artefact: { algorithm: 'COUNTRY-CHURN', weights: { format: 'country-churn/1' } } });
    const weights = version.artefact.weights as CountryChurnWeights;
    const scoresOf = async () =>
      new Map<string, { score: number; drivers: { feature: string; value: number; contribution: number }[] }>(
        (await h.sql(`select member_id, score, drivers from member_churn_score where model_version_id = ?`, [version.id])).map((r: any) => [r.member_id, r]),
      );
    const trained = await scoresOf();
    expect(trained.size).toBe(45);
    // Its first version has no score four weeks old to compare with: each member gets the plugin's own score of them
    // on the rows before a cutoff four weeks earlier, from the stored weights.
    const earlier = await h.sql(`select member_id, previous_score, previous_scored_at from member_churn_score where model_version_id = ? order by member_id`, [version.id]);
    const asOf = new Date(earlier[0].previous_scored_at).getTime();
    expect(earlier.every((r: any) => r.previous_score !== null && new Date(r.previous_scored_at).getTime() === asOf)).toBe(true);
    const [{ horizon_days: horizonDays }] = await h.sql(`select horizon_days from model_version where id = ?`, [version.id]);
    const rows = (await readClean(new PgTxnSource(h.config.DATABASE_URL))).rows.filter((r) => r.time < asOf);
    const recomputed = new CountryChurn().scoreStored(weights, rows, earlier.map((r: any) => r.member_id), asOf, horizonDays);
    earlier.forEach((r: any, k: number) => expect(r.previous_score).toBeCloseTo(recomputed.scores[k], 6));

    // The same history scores the same.
    expect(await scoreJob({ kind: 'CHURN', modelVersionId: version.id })).toEqual({ modelVersionId: version.id, scored: 45 });
    const same = await scoresOf();
    for (const [member, r] of trained) expect(same.get(member)!.score).toBeCloseTo(r.score, 6);
    const [rescored] = await h.sql(`select scored_at, status from model_version where id = ?`, [version.id]);
    expect(new Date(rescored.scored_at).getTime()).toBeGreaterThan(new Date(version.scored_at).getTime());
    expect(rescored.status).toBe(version.status);

    // A lapsed member (DE, group 2) buys today: the next re-scoring reads the new history with the stored weights.
    const lapsed = { id: await lapsedMemberBuysToday(h, build(h)) };
    expect(await scoreJob({ kind: 'CHURN', modelVersionId: version.id })).toEqual({ modelVersionId: version.id, scored: 45 });
    const now = (await scoresOf()).get(lapsed.id)!;
    const days = now.drivers.find((d) => d.feature === 'log_days_since_last')!;
    const before = trained.get(lapsed.id)!.drivers.find((d) => d.feature === 'log_days_since_last')!;
    // Bought today, scored as of tomorrow: at most a day ago, where before it was about two months.
    expect(days.value).toBeLessThanOrEqual(Math.log1p(1) + 1e-9);
    expect(before.value).toBeGreaterThan(Math.log1p(50));
    // The score is the stored weights applied to the new inputs, not a refit.
    expect(days.contribution).toBeCloseTo((weights.coefficients[0] * (days.value - weights.mean[0])) / weights.std[0], 9);
    expect(now.score).toBeCloseTo(1 / (1 + Math.exp(-(weights.intercept + now.drivers.reduce((s, d) => s + d.contribution, 0)))), 6);
    // Trained once (a baseline may also have been trained to serve in its place, if the gate kept it out).
    const [versions] = await h.sql(`select count(*)::int as n from model_version where kind = 'CHURN' and algorithm = 'COUNTRY-CHURN'`);
    expect(versions.n).toBe(1);
  });

  it('re-scoring skips a version whose model the worker has not loaded, or which cannot score from stored weights, refuses a scorer that answers for the wrong members, and recomputes previous scores unless the model cannot score the past', async () => {
    await servingWorker();
    const insert = async (algorithm: string, weights: unknown) =>
      (
        await h.sql(
          `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, artefact)
           values (gen_random_uuid(), 'CHURN', 'REJECTED', ?, '{}', '{}', '{}', 30, now(), now(), convert_to(?, 'UTF8')) returning id`,
          [algorithm, JSON.stringify({ algorithm, weights })],
        )
      )[0].id as string;
    const unknown = await insert('MY-CHURN', { anything: true });
    expect(await scoreJob({ kind: 'CHURN', modelVersionId: unknown })).toEqual({
      modelVersionId: unknown, scored: 0, skipped: `CHURN version ${unknown} is MY-CHURN, which this worker has not loaded (LOYALTY_MODEL_PLUGINS)`,
    });

    // In process, with a registry of churn models the example does not have.
    const store = new ModelStore(h.config.DATABASE_URL);
    const fitOnly = { name: 'FIT-ONLY', kind: 'model' as const, fitPredict: async () => ({ scores: new Float64Array(0), isProbability: true }) };
    const scorer = (scores: (n: number) => Float64Array) => ({
      ...fitOnly, exportWeights: () => ({}), scoreStored: (_w: unknown, _rows: unknown, population: string[]) => ({ scores: scores(population.length) }),
    });
    // Scores 0.5 now and `past` for a cutoff of four weeks or more ago (a member's previous score), or fails then.
    const pastCutoffs: { cutoff: number; latestRow: number }[] = [];
    const thenAndNow = (past: number | 'fail') => ({
      ...fitOnly,
      exportWeights: () => ({}),
      scoreStored: (_w: unknown, rows: { time: number }[], population: string[], cutoff: number) => {
        if (cutoff > Date.now() - 20 * 86_400_000) return { scores: new Float64Array(population.length).fill(0.5) };
        pastCutoffs.push({ cutoff, latestRow: Math.max(...rows.map((r) => r.time)) });
        if (past === 'fail') throw new Error('this model cannot score the past');
        return { scores: new Float64Array(population.length).fill(past) };
      },
    });
    const registry = [
      churn('FIT-ONLY', 'model', () => fitOnly),
      churn('SHORT', 'model', () => scorer((n) => new Float64Array(n - 1).fill(0.5))),
      churn('RAW', 'model', () => scorer((n) => new Float64Array(n).fill(3))),
      churn('STEADY', 'model', () => thenAndNow(0.25)),
      churn('PAST-FAILS', 'model', () => thenAndNow('fail')),
      churn('PAST-RAW', 'model', () => thenAndNow(3)),
    ];
    const score = handleScore({ databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.4, high: 0.7 }, valueBands: { medium: 0.5, high: 0.9 }, log: createLogger('silent'), models: { registry, names: { ...BASE, CHURN: 'FIT-ONLY' } } });
    const run = (modelVersionId: string) => score({ id: 'in-process', data: { v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'test', modelVersionId }, progress: async () => undefined } as never);
    try {
      const fit = await insert('FIT-ONLY', {});
      expect(await run(fit)).toEqual({ modelVersionId: fit, scored: 0, skipped: `CHURN version ${fit} is FIT-ONLY, which is scored when it is trained, not from stored weights` });
      const short = await insert('SHORT', {});
      await expect(run(short)).rejects.toThrow(/SHORT\.scoreStored returned 44 scores for 45 members/);
      const raw = await insert('RAW', {});
      await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) select ?, id, 0.25, 'LOW', '[]' from member`, [raw]);
      await expect(run(raw)).rejects.toThrow(/churn scores must be probabilities in \[0, 1\]; customer .* got 3/);
      // Nothing is committed by a failed scoring: the version keeps the scores it had.
      const [kept] = await h.sql(`select count(*)::int as n, min(score) as lo, max(score) as hi from member_churn_score where model_version_id = ?`, [raw]);
      expect(kept).toEqual({ n: 45, lo: 0.25, hi: 0.25 });

      // A version with no scores yet: every member's previous score is the model's on the rows before a cutoff four
      // weeks before the scores' (all 45 bought before then).
      const previousOf = async (id: string) =>
        h.sql(`select score, previous_score as previous, (extract(epoch from previous_scored_at) * 1000)::float8 as "at" from member_churn_score where model_version_id = ?`, [id]);
      const steady = await insert('STEADY', {});
      expect(await run(steady)).toEqual({ modelVersionId: steady, scored: 45 });
      expect(pastCutoffs).toHaveLength(1);
      expect(pastCutoffs[0].latestRow).toBeLessThan(pastCutoffs[0].cutoff);
      const steadyRows = await previousOf(steady);
      expect(steadyRows).toHaveLength(45);
      for (const r of steadyRows) expect(r).toEqual({ score: 0.5, previous: 0.25, at: pastCutoffs[0].cutoff });
      // A model that fails on the past, or answers out of range there, still has today's scores written; its members
      // have no previous score until theirs are four weeks old.
      for (const algorithm of ['PAST-FAILS', 'PAST-RAW']) {
        const id = await insert(algorithm, {});
        expect(await run(id)).toEqual({ modelVersionId: id, scored: 45 });
        const rows = await previousOf(id);
        expect(rows).toHaveLength(45);
        for (const r of rows) expect(r).toEqual({ score: 0.5, previous: null, at: null });
      }
      expect(pastCutoffs).toHaveLength(3);
    } finally {
      await store.close();
    }
  });
});
