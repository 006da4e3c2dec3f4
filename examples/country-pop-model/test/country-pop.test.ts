/**
 * A model plugin from its own folder: `npm run eval` compares it with the built-in models, and the real worker process
 * trains and serves it when RECOMMENDER_MODEL names it, through the same jobs, registry and promotion gate.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import Queue from 'bull';
import { useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { recordTrainableHistory } from '../../../test/support/orders';
import { AppProcess } from '../../../test/support/services';
import { decideGate } from '../../../recommender/src/training/pipeline';
import { recs } from '../../../recommender/src/eval/registry';
import { ModelPluginError, registryWith, servedModels } from '../../../recommender/src/model-plugins';
import { modelPlugin } from '../src';

const repo = path.resolve(__dirname, '..', '..', '..');
const PLUGIN = path.join(repo, 'examples', 'country-pop-model');
const prefix = `test-model-plugin-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const workers: AppProcess[] = [];
jest.setTimeout(180_000);

const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;
const JOB = `query J($id: ID!) { modelJob(id: $id) { id state failedReason modelVersionId } }`;
const BASE = { RECOMMENDER_MODEL: 'TF-HYBRID', CHURN_MODEL: 'TF-CHURN', VALUE_MODEL: 'TF-VALUE' };

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  const queue = new Queue('recommender.train-recommender', h.config.REDIS_URL, { prefix });
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('model plugins', () => {
  it('join the registry after the built-in models; a name taken, a bad entry or a wrong *_MODEL stops the start with why', () => {
    const registry = registryWith([modelPlugin]);
    expect(registry.at(-1)).toMatchObject({ task: 'recs', kind: 'model', name: 'COUNTRY-POP' });
    expect(() => registryWith([{ name: 'dup', models: [recs('pop', 'baseline', () => null as never)] }])).toThrow(/model plugin "dup": the model name pop is taken/);
    expect(() => registryWith([{ name: 'bad', models: [{ task: 'recs', kind: 'model', name: 'has space' } as never] }])).toThrow(ModelPluginError);

    expect(servedModels({ ...BASE, LOYALTY_MODEL_PLUGINS: PLUGIN, RECOMMENDER_MODEL: 'country-pop' }).names.RECOMMENDER).toBe('COUNTRY-POP');
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

  it('npm run eval compares the plugin model with the built-in ones (--plugins)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repo, 'recommender', 'dist', 'cli', 'eval.js'), '--file', path.join(repo, 'data', 'demo', 'online-retail-slice.csv.gz'), '--cutoff', '2011-09-11', '--task', 'recs', '--models', 'POP,COUNTRY-POP', '--plugins', PLUGIN],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const rows = stdout.split('\n').filter((l) => /\bCOUNTRY-POP\b|\bPOP\b/.test(l) && /\d\.\d{3}/.test(l));
    expect(rows.some((l) => l.includes('COUNTRY-POP'))).toBe(true);
    expect(rows.some((l) => /\bPOP\b/.test(l.replace('COUNTRY-POP', '')))).toBe(true);
  });

  it('the worker trains the plugin model through retrainModel, beside the baselines, and the gate decides on its metrics', async () => {
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
    });
    workers.push(worker);

    const queued = await h.gql(admin.auth, RETRAIN, { input: { kind: 'RECOMMENDER', horizonDays: 30 } });
    expect(queued.errors).toBeUndefined();
    let job;
    for (const until = Date.now() + 150_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      job = (await h.gql(admin.auth, JOB, { id: queued.data.retrainModel.id })).data.modelJob;
      if (job.state === 'COMPLETED' || job.state === 'FAILED') break;
    }
    expect(job).toMatchObject({ state: 'COMPLETED', failedReason: null });
    expect(worker.logged('worker.models')).toEqual([expect.objectContaining({ models: expect.objectContaining({ RECOMMENDER: 'COUNTRY-POP' }) })]);

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

  it("re-scoring skips a plugin model's churn version, which is scored when it is trained, and says so", async () => {
    const [row] = await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, artefact)
       values (gen_random_uuid(), 'CHURN', 'REJECTED', 'MY-CHURN', '{}', '{}', '{}', 30, now(), now(), convert_to(?, 'UTF8')) returning id`,
      [JSON.stringify({ algorithm: 'MY-CHURN', weights: { anything: true } })],
    );
    const queue = new Queue('recommender.score', h.config.REDIS_URL, { prefix });
    try {
      const job = await queue.add({ v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'test', modelVersionId: row.id });
      expect(await job.finished()).toEqual({ modelVersionId: row.id, scored: 0, skipped: `CHURN version ${row.id} is MY-CHURN, which is scored when it is trained, not from stored weights` });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
