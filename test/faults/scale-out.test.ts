import Queue from 'bull';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, ledgerCheck, trainableHistory } from '../support/orders';
import { AppProcess, waitFor, useWebhookReceivers } from '../support/services';

/**
 * Past one machine, on one machine: two API processes (api/dist) and two workers (recommender/dist) on one database
 * and one Redis (this file's queue prefix), as replicas behind a load balancer would run. Every order is sent to
 * both APIs at once; one retrain is asked of both; both APIs schedule the points jobs and both workers the
 * nightly retrain; two webhook endpoints count what they receive.
 */
const prefix = `test-scale-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const b = build(h);
const processes: AppProcess[] = [];
const receiver = useWebhookReceivers();
const QUEUE_NAMES = ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value', 'recommender.score', 'recommender.heartbeat', 'api.webhook-delivery', 'api.points-jobs'];
const POINTS_CRON_MS = 3000;
jest.setTimeout(300_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const name of QUEUE_NAMES) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
});

const started = Date.now();
const step = (what: string) => process.env.FAULTS_REPORT && process.stderr.write(`scale-out ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}\n`);

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

describe('two APIs and two workers on one database and one Redis', () => {
  it('credit each order once, train a retrain once, fire each schedule once, and deliver each event once per endpoint', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    await b.baseRate();
    const endpoints = [await receiver(), await receiver()];
    for (const endpoint of endpoints) {
      const res = await h.gql(admin.auth, `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`, {
        input: { url: endpoint.url, eventTypes: ['ORDER_RECORDED'], description: 'scale-out test' },
      });
      expect(res.errors).toBeUndefined();
    }
    const history = await trainableHistory(b);
    // Most of the history goes in directly; the last 30 orders go through the two APIs below.
    const inputs = history.slice(-30);
    for (const input of history.slice(0, -30)) {
      await h.app.services.orders.record(b.ctx(), { ...input, channelId: key.channelId, placedAt: new Date(input.placedAt) } as never);
    }
    step('planted inputs');

    const shared = { DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
    const apiEnv = { ...shared, WEBHOOK_SWEEP_MS: '200', WEBHOOK_BACKOFF_MS: '200', POINTS_JOBS_CRON: `*/${POINTS_CRON_MS / 1000} * * * * *` };
    const apis = await Promise.all(['api-1', 'api-2'].map((name) => AppProcess.api(name, apiEnv)));
    const schedulingSince = Date.now();
    processes.push(...apis);
    const workers = ['worker-1', 'worker-2'].map((name) => AppProcess.worker(name, { ...shared, LOG_LEVEL: 'info', MODEL_RETRAIN_CRON: '0 3 * * *' }));
    processes.push(...workers);
    step('processes started');

    // Every order sent to both APIs at once: one order and one credit each.
    const answers = new Map<string, Set<string>>();
    await inBatches(inputs, 6, async (input) => {
      const replies = await Promise.all(apis.map((api) => api.gql(RECORD_ORDER, { input }, { 'x-api-key': key.key }, 30_000)));
      for (const reply of replies) expect(reply.errors).toBeUndefined();
      answers.set(input.externalOrderId, new Set(replies.map((r) => r.data.recordOrder.id)));
    });
    expect([...answers.values()].every((ids) => ids.size === 1)).toBe(true);
    const [orders] = await h.sql(`select count(*)::int as n, count(distinct external_order_id)::int as keys from customer_order`);
    expect(orders).toEqual({ n: history.length, keys: history.length });
    const [earns] = await h.sql(`select count(*)::int as n, count(distinct source_id)::int as orders from ledger_entry where reason = 'ORDER_EARN'`);
    expect(earns).toEqual({ n: history.length, orders: history.length });
    step('orders recorded');

    // One retrain asked of both APIs at the same moment: one job, trained by one worker, one model version.
    const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;
    const retrains = await Promise.all(
      apis.map((api) => api.gql(RETRAIN, { input: { kind: 'CHURN', horizonDays: 30, maxEpochs: 5 } }, { authorization: `Bearer ${admin.token}` })),
    );
    for (const r of retrains) expect(r.errors).toBeUndefined();
    const jobId = retrains[0].data.retrainModel.id;
    expect(retrains[1].data.retrainModel.id).toBe(jobId);
    step('retrain queued');
    const JOB = `query J($id: ID!) { modelJob(id: $id) { state attemptsMade modelVersionId failedReason progress { phase percent } } }`;
    let last: unknown = null;
    const job = await waitFor('the retrain to finish', async () => {
      const j = (last = (await apis[1].gql(JOB, { id: jobId }, { authorization: `Bearer ${admin.token}` })).data.modelJob);
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : null;
    }, 200_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}\n${workers.map((w) => `${w.name}:\n${w.output.slice(-15).join('\n')}`).join('\n')}`);
    });
    expect(job).toMatchObject({ state: 'COMPLETED', attemptsMade: 0 });
    step('retrain finished');
    // (A baseline trained to serve in its place, when the gate keeps the model out, is a version of its own: `<job>.fallback`.)
    const versions = await h.sql(`select id, job_id from model_version where job_id not like '%.fallback:%'`);
    expect(versions).toEqual([{ id: job.modelVersionId, job_id: `${jobId}:1` }]);
    expect(workers.map((w) => w.logged('train.started').filter((l) => l.versionJobId === jobId).length).sort()).toEqual([0, 1]);

    // Each webhook event reached each endpoint once.
    const [events] = await h.sql(`select count(*)::int as n from event_outbox where type = 'order.recorded'`);
    expect(events.n).toBe(history.length);
    await waitFor('every delivery', async () => endpoints.every((e) => e.eventIds.length >= history.length), 60_000, 200);
    // Each endpoint answered; the dispatchers record the answers just after, so wait for the rows.
    const deliveries = await waitFor('every delivery recorded', async () => {
      const [d] = await h.sql(`select count(*)::int as n, count(*) filter (where status = 'DELIVERED')::int as delivered from webhook_delivery`);
      return d.delivered >= 2 * history.length && d;
    }, 30_000, 200);
    expect(deliveries).toEqual({ n: 2 * history.length, delivered: 2 * history.length });
    await new Promise((r) => setTimeout(r, 1000)); // room for a late duplicate to arrive
    step('delivered');
    for (const endpoint of endpoints) {
      expect(endpoint.eventIds).toHaveLength(history.length);
      expect(new Set(endpoint.eventIds).size).toBe(history.length);
    }

    // Schedules: both APIs scheduled the points jobs and both workers the nightly retrains, yet each exists once,
    // and each firing of the points jobs ran in one process only.
    const model = (name: string) => new Queue(name, h.config.REDIS_URL, { prefix });
    const [trainRecommender, trainChurn, trainValue, score] = ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value', 'recommender.score'].map(model);
    const points = new Queue('api.points-jobs', h.config.REDIS_URL, { prefix });
    try {
      expect((await trainRecommender.getRepeatableJobs()).map((r) => r.id)).toEqual(['nightly-RECOMMENDER']);
      expect((await trainChurn.getRepeatableJobs()).map((r) => r.id)).toEqual(['nightly-CHURN']);
      expect((await trainValue.getRepeatableJobs()).map((r) => r.id)).toEqual(['nightly-VALUE']);
      expect((await score.getRepeatableJobs()).map((r) => r.id).sort()).toEqual(['scheduled-CHURN', 'scheduled-VALUE']);
      const scheduled = await points.getRepeatableJobs();
      expect(scheduled.map((r) => r.id)).toEqual(['points-jobs']);
      // At least two firings (the cron fires every POINTS_CRON_MS), however fast the steps above went.
      const fired = await waitFor('two firings of the points jobs', async () => {
        const jobs = await points.getJobs(['completed', 'failed', 'active']);
        return jobs.length >= 2 && jobs;
      }, 30_000, 200);
      const elapsed = Date.now() - schedulingSince;
      expect(fired.length).toBeGreaterThanOrEqual(2);
      expect(fired.length).toBeLessThanOrEqual(Math.ceil(elapsed / POINTS_CRON_MS) + 1);
      const firings = fired.map((j) => String(j.id).split(':').pop());
      expect(new Set(firings).size).toBe(fired.length);
      // A firing that met a run under way skipped (the lock); every run that ran found a consistent ledger.
      expect(fired.every((j) => j.returnvalue === null || j.returnvalue.isConsistent === true || typeof j.returnvalue.skipped === 'string')).toBe(true);
      // Each run is a row in the database, whichever process ran it, and no two runs overlapped.
      const runs = await h.sql(`select state, ledger_consistent, started_at, finished_at from points_job_run where trigger = 'SCHEDULE' and state <> 'RUNNING' order by started_at`);
      expect(runs.length).toBeGreaterThanOrEqual(1);
      expect(runs.every((r) => r.state === 'DONE' && r.ledger_consistent === true)).toBe(true);
      for (let i = 1; i < runs.length; i++) expect(new Date(runs[i].started_at).getTime()).toBeGreaterThanOrEqual(new Date(runs[i - 1].finished_at).getTime());
    } finally {
      for (const q of [trainRecommender, trainChurn, trainValue, score]) await q.close();
      await points.close();
    }

    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});
