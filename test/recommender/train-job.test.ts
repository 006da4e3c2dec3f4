import Queue from 'bull';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { lapsedMemberBuysToday, recordTrainableHistory } from '../support/orders';
import { AppProcess } from '../support/services';
import { decideGate } from '../../recommender/src/training/pipeline';
import { CHURN_TREND_DAYS, valueBandOf } from '../../recommender/src/training/store';
import { readClean } from '../../recommender/src/eval/clean';
import { PgTxnSource } from '../../recommender/src/data/pg-source';
import { ChurnTfModel } from '../../recommender/src/models/churn-model';
import { initBackend } from '../../recommender/src/tf/backend';

/**
 * The real worker process (recommender/dist/main.js) against this file's database and its own queue prefix:
 * training through the API's retrainModel, the registry rows it writes, the gate, serving, and recovery when the
 * worker dies mid-job.
 */
const DAY = 86_400_000;
const prefix = `test-train-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const workers: AppProcess[] = [];
jest.setTimeout(180_000);

function startWorker(extra: Record<string, string> = {}): AppProcess {
  const worker = AppProcess.worker(`worker-${workers.length + 1}`, {
    DATABASE_URL: h.config.DATABASE_URL,
    REDIS_URL: h.config.REDIS_URL,
    QUEUE_PREFIX: prefix,
    MODEL_SCORE_CRON: 'off',
    ...extra,
  });
  workers.push(worker);
  return worker;
}

const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;
const JOB = `query J($id: ID!) { modelJob(id: $id) { id state attemptsMade failedReason modelVersionId progress { phase percent } } }`;

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 150_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * 45 members in three taste groups of four products each (support/orders.ts trainableHistory). Before the holdout
 * each buys two products of its group (one of them twice); in the last 30 days each buys a third product of its group
 * and repeats one: a signal any collaborative model should find. Members of group 2 stop buying, for the churn model.
 */
async function plantHistory() {
  const b = build(h);
  const admin = await b.admin(AdminRole.ADMIN);
  const key = await b.apiKey();
  await b.baseRate();
  await recordTrainableHistory(h, b, key.channelId);
  return { admin, key };
}

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  for (const name of ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value', 'recommender.score']) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe('recommender.train-recommender, recommender.train-churn, recommender.train-value and recommender.score', () => {
  let admin: { auth: { token: string } };

  beforeAll(async () => {
    ({ admin } = await plantHistory());
  });

  it('trains both models through retrainModel, records each version with metrics next to the baselines, and serves what the gate lets through', async () => {
    startWorker();
    for (const kind of ['RECOMMENDER', 'CHURN'] as const) {
      const queued = await h.gql(admin.auth, RETRAIN, { input: { kind, horizonDays: 30, maxEpochs: 5 } });
      expect(queued.errors).toBeUndefined();
      const id = queued.data.retrainModel.id;
      const job = await waitFor(`${kind} job`, async () => {
        const res = await h.gql(admin.auth, JOB, { id });
        const j = res.data.modelJob;
        return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : null;
      });
      expect(job).toMatchObject({ state: 'COMPLETED', failedReason: null, progress: { phase: 'done', percent: 100 } });

      const [version] = await h.sql(`select * from model_version where id = ?`, [job.modelVersionId]);
      expect(version).toMatchObject({ kind, horizon_days: 30, is_promoted: expect.any(Boolean) });
      expect(['ACTIVE', 'REJECTED']).toContain(version.status);
      expect(['tensorflow', 'wasm', 'cpu']).toContain(version.backend);
      expect(version.train_rows).toBeGreaterThan(0);
      const baselines = kind === 'RECOMMENDER' ? ['EASE', 'ITEMKNN', 'POP', 'REPEAT'] : ['RECENCY', 'RFM-LOGISTIC'];
      expect(Object.keys(version.baseline_metrics).sort()).toEqual(baselines);

      // The stored decision is the gate's verdict on the stored metrics.
      const checks =
        kind === 'RECOMMENDER'
          ? (['all', 'new'] as const).map((v) => ({
              metric: `ndcg@10 (${v})`,
              model: version.metrics[v]['ndcg@10'],
              baselines: Object.fromEntries(baselines.map((b) => [b, version.baseline_metrics[b][v]['ndcg@10']])),
              active: null,
            }))
          : [{ metric: 'rocAuc', model: version.metrics.rocAuc, baselines: Object.fromEntries(baselines.map((b) => [b, version.baseline_metrics[b].rocAuc])), active: null }];
      const gate = decideGate(checks);
      expect(version.is_promoted).toBe(gate.isPromoted);
      expect(version.gate_reason).toBe(gate.reason);
      expect(version.status).toBe(gate.isPromoted ? 'ACTIVE' : 'REJECTED');
    }

    // Scores were written for every member with history, whatever the gate said; served only when ACTIVE.
    const [recs] = await h.sql(`select count(distinct member_id)::int as members, count(*)::int as rows from member_recommendation`);
    expect(recs.members).toBe(45);
    const [churn] = await h.sql(
      `select count(*)::int as n, count(*) filter (where jsonb_array_length(drivers) > 0)::int as explained,
         count(previous_score)::int as "withPrevious", count(pending_score)::int as "withPending" from member_churn_score`,
    );
    // The first churn version: no member was served a score before it, so each is compared with the same weights'
    // score of them on the history of four weeks before (all 45 bought before then), dated as of that history.
    expect(churn).toEqual({ n: 45, explained: 45, withPrevious: 45, withPending: 0 });
    const [churnVersion] = await h.sql(`select id, artefact from model_version where kind = 'CHURN' order by created_at desc limit 1`);
    const earlier = await h.sql(`select member_id, previous_score, previous_scored_at from member_churn_score where model_version_id = ? order by member_id`, [churnVersion.id]);
    const asOf = new Date(earlier[0].previous_scored_at).getTime();
    expect(earlier.every((r: any) => new Date(r.previous_scored_at).getTime() === asOf)).toBe(true);
    // Four weeks before the features of the scores served (the day after the latest purchase, 11 or more days ago here).
    const { weights, window } = JSON.parse(churnVersion.artefact.toString('utf8'));
    expect(window.servingCutoff).toBeLessThan(Date.now() - 10 * DAY);
    expect(asOf).toBe(window.servingCutoff - CHURN_TREND_DAYS * DAY);
    const history = await readClean(new PgTxnSource(h.config.DATABASE_URL));
    await initBackend(); // as the worker chooses it
    const recomputed = await new ChurnTfModel().scoreStored(weights, history.rows, earlier.map((r: any) => r.member_id), asOf, 90);
    earlier.forEach((r: any, k: number) => expect(r.previous_score).toBeCloseTo(recomputed.scores[k], 5));

    const [member] = await h.sql(`select member_id from member_recommendation limit 1`);
    const served = await h.gql(admin.auth, `query M($id: ID!) { member(id: $id) { recommendations(first: 3) { modelVersionId isColdStart product { sku } reason } churnRisk { band drivers { feature } } } }`, { id: member.member_id });
    expect(served.errors).toBeUndefined();
    const activeRecs = await h.sql(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    if (activeRecs.length) {
      expect(served.data.member.recommendations).toHaveLength(3);
      expect(served.data.member.recommendations.every((r: any) => r.modelVersionId === activeRecs[0].id && !r.isColdStart && r.reason)).toBe(true);
    } else {
      // The gate kept the model out: popularity from its training run, flagged as such, never the model's picks.
      const [rejected] = await h.sql(`select id from model_version where kind = 'RECOMMENDER' order by created_at desc limit 1`);
      expect(served.data.member.recommendations.length).toBeGreaterThan(0);
      expect(served.data.member.recommendations.every((r: any) => r.isColdStart && r.modelVersionId === rejected.id && r.reason.startsWith('Popular'))).toBe(true);
    }
  });

  it('trains the customer-value model through retrainModel: metrics beside its baselines, bounded minor-unit amounts banded at the version’s quantiles, served when the gate lets it through', async () => {
    const queued = await h.gql(admin.auth, RETRAIN, { input: { kind: 'VALUE', horizonDays: 30, maxEpochs: 5 } });
    expect(queued.errors).toBeUndefined();
    const job = await waitFor('VALUE job', async () => {
      const j = (await h.gql(admin.auth, JOB, { id: queued.data.retrainModel.id })).data.modelJob;
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : null;
    });
    expect(job).toMatchObject({ state: 'COMPLETED', failedReason: null, progress: { phase: 'done', percent: 100 } });

    const [version] = await h.sql(`select * from model_version where id = ?`, [job.modelVersionId]);
    expect(version).toMatchObject({ kind: 'VALUE', algorithm: 'TF-VALUE', horizon_days: 30, is_promoted: expect.any(Boolean) });
    const baselines = ['BGNBD-GG', 'PAST-SPEND', 'RFM-LINEAR'];
    expect(Object.keys(version.baseline_metrics).sort()).toEqual(baselines);
    for (const m of [version.metrics, ...Object.values<any>(version.baseline_metrics)]) {
      for (const key of ['gini', 'spearman', 'topDecileCapture', 'mae', 'rmse']) expect(Number.isFinite(m[key])).toBe(true);
    }
    expect(version.metrics.calibration.length).toBeGreaterThan(0);
    const checks = (['gini', 'topDecileCapture'] as const).map((metric) => ({
      metric,
      model: version.metrics[metric],
      baselines: Object.fromEntries(baselines.map((b) => [b, version.baseline_metrics[b][metric]])),
      active: null,
    }));
    const gate = decideGate(checks);
    expect(version.is_promoted).toBe(gate.isPromoted);
    expect(version.gate_reason).toBe(gate.reason);
    expect(version.status).toBe(gate.isPromoted ? 'ACTIVE' : 'REJECTED');
    // The artefact keeps the weights, for batch scoring.
    const [{ format }] = await h.sql(`select convert_from(artefact, 'UTF8')::jsonb -> 'weights' ->> 'format' as format from model_version where id = ?`, [version.id]);
    expect(format).toMatch(/^tf-value\/\d+$/);

    // Every member with history scored, in whole minor units within the bound, banded by the thresholds stored with the version.
    const scoring = version.value_scoring;
    expect(scoring).toMatchObject({ currency: 'GBP', mediumQuantile: 0.5, highQuantile: 0.8, members: 45 });
    expect(scoring.highFromMinor).toBeGreaterThanOrEqual(scoring.mediumFromMinor);
    const scores = await h.sql<{ member_id: string; amount_minor: number; p_return: number; band: string; drivers: unknown[] }>(
      `select member_id, amount_minor, p_return, band, drivers from member_value_score where model_version_id = ?`,
      [version.id],
    );
    expect(scores).toHaveLength(45);
    for (const r of scores) {
      expect(Number.isInteger(r.amount_minor) && r.amount_minor >= 0 && r.amount_minor <= 1_000_000_000).toBe(true);
      expect(r.p_return).toBeGreaterThanOrEqual(0);
      expect(r.p_return).toBeLessThanOrEqual(1);
      expect(r.band).toBe(valueBandOf(r.amount_minor, scoring));
    }
    expect(scores.filter((r) => r.drivers.length > 0).length).toBeGreaterThan(0);
    expect(new Set(scores.map((r) => r.amount_minor)).size).toBeGreaterThan(1);

    const member = scores[0];
    const served = await h.gql(admin.auth, `query M($id: ID!) { member(id: $id) { predictedValue { amount band currency modelVersionId } } }`, { id: member.member_id });
    expect(served.errors).toBeUndefined();
    expect(served.data.member.predictedValue).toEqual(
      version.status === 'ACTIVE' ? { amount: member.amount_minor, band: member.band, currency: 'GBP', modelVersionId: version.id } : null,
    );
  });

  it('re-scores members with the stored value weights: the same history gives the same amounts, and the bands are drawn again', async () => {
    const [version] = await h.sql(`select id, scored_at, value_scoring from model_version where kind = 'VALUE' and status in ('ACTIVE', 'REJECTED') order by created_at desc limit 1`);
    const before = new Map((await h.sql(`select member_id, amount_minor from member_value_score where model_version_id = ?`, [version.id])).map((r: any) => [r.member_id, r.amount_minor]));
    const queue = new Queue('recommender.score', h.config.REDIS_URL, { prefix });
    try {
      const job = await queue.add({ v: 1, kind: 'VALUE', requestedAt: new Date().toISOString(), requestedBy: 'test', modelVersionId: version.id });
      expect(await job.finished()).toEqual({ modelVersionId: version.id, scored: 45 });
      const after = await h.sql(`select member_id, amount_minor from member_value_score where model_version_id = ?`, [version.id]);
      expect(after).toHaveLength(45);
      // The serving refit and the scoring path compute the same features with the same weights; float32 may move a pence.
      for (const r of after) expect(Math.abs(r.amount_minor - before.get(r.member_id)!)).toBeLessThanOrEqual(1);
      const [rescored] = await h.sql(`select scored_at, value_scoring from model_version where id = ?`, [version.id]);
      expect(new Date(rescored.scored_at).getTime()).toBeGreaterThan(new Date(version.scored_at).getTime());
      expect(rescored.value_scoring).toMatchObject({ currency: 'GBP', members: 45 });
    } finally {
      await queue.close();
    }
  });

  it('re-scores members with the stored churn weights: the same history gives the same scores, new orders change them', async () => {
    const [version] = await h.sql(`select id, scored_at from model_version where kind = 'CHURN' and status in ('ACTIVE', 'REJECTED') order by created_at desc limit 1`);
    const stored = await h.sql(`select member_id, score, drivers, previous_score from member_churn_score where model_version_id = ?`, [version.id]);
    const before = new Map(stored.map((r: any) => [r.member_id, r.score]));
    const previousBefore = new Map(stored.map((r: any) => [r.member_id, r.previous_score]));
    expect(stored.every((r: any) => r.previous_score !== null)).toBe(true);
    const queue = new Queue('recommender.score', h.config.REDIS_URL, { prefix });
    const score = async () => {
      const job = await queue.add({ v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'test', modelVersionId: version.id });
      return job.finished().then(
        (result) => ({ state: 'completed', result }),
        (err: Error) => ({ state: 'failed', reason: err.message }),
      );
    };
    // One member's previous score is marked (a value the model did not give), another's is gone.
    const [marked, cleared] = [stored[0].member_id, stored[1].member_id];
    await h.sql(`update member_churn_score set previous_score = 0.5 where model_version_id = ? and member_id = ?`, [version.id, marked]);
    await h.sql(`update member_churn_score set previous_score = null, previous_scored_at = null where model_version_id = ? and member_id = ?`, [version.id, cleared]);
    previousBefore.set(marked, 0.5);
    try {
      const same = await score();
      expect(same).toMatchObject({ state: 'completed', result: { modelVersionId: version.id, scored: 45 } });
      const after = await h.sql(
        `select member_id, score, previous_score, previous_scored_at, pending_score, pending_scored_at from member_churn_score where model_version_id = ?`,
        [version.id],
      );
      expect(after).toHaveLength(45);
      for (const r of after) expect(r.score).toBeCloseTo(before.get(r.member_id)!, 5);
      // Each score carries the one it replaced as pending (minutes old: too young to measure a change against), and
      // keeps its previous score: nothing is recomputed for a member who has one (the marked one kept 0.5) ...
      const others = after.filter((r: any) => r.member_id !== cleared);
      expect(others.map((r: any) => [r.member_id, r.previous_score, r.pending_score, new Date(r.pending_scored_at).toISOString()])).toEqual(
        others.map((r: any) => [r.member_id, previousBefore.get(r.member_id), before.get(r.member_id), new Date(version.scored_at).toISOString()]),
      );
      // ... and the member without one gets the score of a month before again: same weights, same history, same date.
      const again = after.find((r: any) => r.member_id === cleared);
      expect(again.previous_score).toBeCloseTo(previousBefore.get(cleared)!, 5);
      expect(again.previous_scored_at).toEqual(after.find((r: any) => r.member_id === marked).previous_scored_at);
      const [rescored] = await h.sql(`select scored_at from model_version where id = ?`, [version.id]);
      expect(version.scored_at).not.toBeNull();
      expect(new Date(rescored.scored_at).getTime()).toBeGreaterThan(new Date(version.scored_at).getTime());

      // A lapsed member (group 2) buys today: the next scoring computes their features from the new history.
      const lapsed = { id: await lapsedMemberBuysToday(h, build(h)) };
      expect(await score()).toMatchObject({ state: 'completed', result: { scored: 45 } });
      const [now] = await h.sql(`select score, drivers, pending_score from member_churn_score where model_version_id = ? and member_id = ?`, [version.id, lapsed.id]);
      // The pending score is still the oldest one younger than four weeks: the first.
      expect(now.pending_score).toBe(before.get(lapsed.id));
      const old = stored.find((r: any) => r.member_id === lapsed.id);
      const valueOf = (drivers: { feature: string; value: number }[], feature: string) => drivers.find((d) => d.feature === feature)?.value;
      expect(now.drivers).toHaveLength(old.drivers.length);
      expect(now.drivers).not.toEqual(old.drivers);
      for (const d of now.drivers) if (d.feature === 'log_recency_days') expect(d.value).toBeLessThan(1);
      if (valueOf(old.drivers, 'log_invoices') !== undefined && valueOf(now.drivers, 'log_invoices') !== undefined) {
        expect(valueOf(now.drivers, 'log_invoices')).toBeGreaterThan(valueOf(old.drivers, 'log_invoices')!);
      }
    } finally {
      await queue.close();
    }
  });

  it('keeps serving the active version while a worker dies mid-training; the dead attempt is marked FAILED and never served, the retry completes', async () => {
    // The version served before the retrain: the first test's, activated by hand if the gate held it back.
    let [previous] = await h.sql(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    if (!previous) {
      [previous] = await h.sql(`select id from model_version where kind = 'RECOMMENDER' and status = 'REJECTED' order by created_at desc limit 1`);
      const activated = await h.gql(admin.auth, `mutation A($input: ActivateModelVersionInput!) { activateModelVersion(input: $input) { status } }`, {
        input: { id: previous.id, reason: 'serve a version during the crash test' },
      });
      expect(activated.data.activateModelVersion.status).toBe('ACTIVE');
    }
    const [{ member_id: memberId }] = await h.sql(`select member_id from member_recommendation where model_version_id = ? limit 1`, [previous.id]);
    const served: string[] = [];
    const serve = async () => {
      const res = await h.gql(admin.auth, `query M($id: ID!) { member(id: $id) { recommendations(first: 3) { modelVersionId isColdStart } } }`, { id: memberId });
      expect(res.errors).toBeUndefined();
      expect(res.data.member.recommendations).toHaveLength(3);
      served.push(...new Set<string>(res.data.member.recommendations.map((r: any) => r.modelVersionId)));
    };

    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    const doomed = startWorker({ TRAIN_LOCK_MS: '2000' });
    const queued = await h.gql(admin.auth, RETRAIN, { input: { kind: 'RECOMMENDER', horizonDays: 30, maxEpochs: 50 } });
    const id = queued.data.retrainModel.id;
    const [dead] = await waitFor('the first attempt to start', async () => {
      await serve();
      const rows = await h.sql(`select id from model_version where job_id like ? and status = 'TRAINING'`, [`${id}:%`]);
      return rows.length ? rows : null;
    });
    doomed.child.kill('SIGKILL');
    await serve();

    // The rescuer looks for stalled jobs as it starts, so let the dead worker's 2 s lock lapse first. Its own lock is
    // long: on a loaded machine training can block the event loop past a short lock, and Bull would run it twice.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    startWorker({ TRAIN_LOCK_MS: '60000' });
    const job = await waitFor('the retried job', async () => {
      await serve();
      const j = (await h.gql(admin.auth, JOB, { id })).data.modelJob;
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : null;
    });
    expect(job.state).toBe('COMPLETED');
    expect(job.modelVersionId).not.toBe(dead.id);
    const rows = await h.sql(`select id, status, failure_reason from model_version where job_id like ? order by created_at`, [`${id}:%`]);
    expect(rows[0]).toMatchObject({ id: dead.id, status: 'FAILED', failure_reason: expect.stringContaining('worker stopped') });
    expect(rows).toHaveLength(2);
    expect(['ACTIVE', 'REJECTED']).toContain(rows[1].status);

    // Throughout, members were served from the previous version, or from the retry's once the gate promoted it;
    // never from the dead attempt, and never the cold-start fallback of a kind with no active version.
    await serve();
    const [active] = await h.sql(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    expect(active.id).toBe(rows[1].status === 'ACTIVE' ? rows[1].id : previous.id);
    expect(served.length).toBeGreaterThan(2);
    expect(served).not.toContain(dead.id);
    expect(new Set(served).size).toBeLessThanOrEqual(2);
    const firstNew = served.findIndex((v) => v !== previous.id);
    if (firstNew >= 0) expect(served.slice(firstNew).every((v) => v === rows[1].id)).toBe(true);
    expect(served.at(-1)).toBe(active.id);
  });
});
