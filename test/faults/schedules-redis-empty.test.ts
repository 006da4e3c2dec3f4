import Queue from 'bull';
import { Redis } from 'ioredis';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, ledgerCheck, orderInput } from '../support/orders';
import { AppProcess, PrivateRedis, waitFor } from '../support/services';

/**
 * Redis coming back empty under running API and worker processes (api/dist, recommender/dist): a redis-server of this
 * file's own is restarted without its data, or emptied with FLUSHALL under live connections. The points jobs, the
 * nightly retrains and the churn re-scoring must be scheduled again by the processes themselves, and a pending points
 * release due after the loss must happen.
 */
const prefix = `test-schedules-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const env: Record<string, string> = { QUEUE_PREFIX: prefix };
let redis: PrivateRedis;
const processes: AppProcess[] = [];
jest.setTimeout(180_000);

beforeAll(async () => {
  redis = await PrivateRedis.start();
  env.REDIS_URL = redis.url; // read by the harness's beforeAll, which runs after this one
});
const h = useHarness(env);
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await redis?.destroy(); // after the harness's app has closed its connections (hooks run in declaration order)
});
const b = build(h);

/** Every repeatable job the API and the worker keep, by queue. */
const SCHEDULES: Record<string, string[]> = {
  'api.points-jobs': ['points-jobs'],
  'recommender.train-recommender': ['nightly-RECOMMENDER'],
  'recommender.train-churn': ['nightly-CHURN'],
  'recommender.train-value': ['nightly-VALUE'],
  'recommender.score': ['scheduled-CHURN', 'scheduled-VALUE'],
};
const POINTS_CRON = '*/2 * * * * *';

async function withQueues<T>(work: (queues: Record<string, Queue.Queue>) => Promise<T>): Promise<T> {
  const queues = Object.fromEntries(Object.keys(SCHEDULES).map((name) => [name, new Queue(name, redis.url, { prefix })]));
  try {
    return await work(queues);
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

/** The ids of the repeatable jobs of each queue, e.g. { 'api.points-jobs': ['points-jobs'], ... }. */
const scheduled = () =>
  withQueues(async (queues) => {
    const out: Record<string, string[]> = {};
    for (const [name, queue] of Object.entries(queues)) out[name] = (await queue.getRepeatableJobs()).map((r) => r.id).sort();
    return out;
  });
const everyScheduleOnce = SCHEDULES;
const isEveryScheduleThere = async () => JSON.stringify(await scheduled()) === JSON.stringify(everyScheduleOnce);

async function flushAll() {
  const client = new Redis(redis.url);
  try {
    expect(await client.flushall()).toBe('OK');
  } finally {
    client.disconnect();
  }
}

async function start(names: string[], checkSeconds: number) {
  const shared = { DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, SCHEDULE_CHECK_SECONDS: String(checkSeconds) };
  const apiEnv = { ...shared, LOG_LEVEL: 'warn', POINTS_JOBS_CRON: POINTS_CRON, WEBHOOKS_ENABLED: 'false', CAMPAIGNS_SWEEP_MS: '0' };
  await flushAll(); // what an earlier test scheduled: the schedules below are these processes' own
  const apis = await Promise.all(names.map((name) => AppProcess.api(name, apiEnv)));
  const worker = AppProcess.worker('worker', { ...shared, LOG_LEVEL: 'info', MODEL_RETRAIN_CRON: '0 3 * * *', MODEL_SCORE_CRON: '0 */6 * * *' });
  processes.push(...apis, worker);
  await waitFor('the schedules of a start', async () => worker.logged('jobs.scheduled').length === 1 && isEveryScheduleThere(), 60_000, 200);
  return { apis, worker };
}

/** Points earned now and pending, whose release is due already: the next firing of the points jobs releases them. */
async function duePendingPoints() {
  const key = await b.apiKey();
  const member = await b.member().save();
  const res = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2000 }]) });
  expect(res.errors).toBeUndefined();
  const [lot] = await h.sql(`update point_lot set available_at = now() - interval '1 second' where member_id = ? and state = 'PENDING' returning id, points`, [member.id]);
  expect(lot.points).toBe(20);
  return { memberId: member.id, lotId: lot.id as string };
}

const balanceOf = async (memberId: string) => (await h.sql(`select available::int, pending::int from member_balance where member_id = ?`, [memberId]))[0];

async function expectReleasedOnce(due: { memberId: string; lotId: string }) {
  await waitFor('the due pending points to be released', async () => (await balanceOf(due.memberId)).available === 20, 30_000, 200);
  expect(await balanceOf(due.memberId)).toEqual({ available: 20, pending: 0 });
  const releases = await h.sql(`select count(*)::int as n from ledger_entry where reason = 'RELEASE' and source_id = ?`, [due.lotId]);
  expect(releases[0].n).toBe(1);
  expect((await ledgerCheck(h)).isConsistent).toBe(true);
}

describe('Redis coming back empty', () => {
  beforeAll(async () => {
    await b.baseRate();
  });

  it('schedules every repeatable job again when the connection is ready after a restart that lost the data', async () => {
    // A check interval far longer than the test: only the reconnect can bring the schedules back.
    const { apis, worker } = await start(['api-1'], 3600);

    await redis.kill();
    await redis.wipe();
    await redis.start();
    const due = await duePendingPoints();

    await waitFor('the schedules to be registered again', isEveryScheduleThere, 20_000, 200);
    await expectReleasedOnce(due);
    expect(apis[0].logged('schedules.restored')).toEqual([expect.objectContaining({ schedules: ['points-jobs'] })]);
    expect(worker.logged('schedules.restored')).toEqual([expect.objectContaining({ schedules: ['nightly-RECOMMENDER', 'nightly-CHURN', 'nightly-VALUE', 'scheduled-CHURN', 'scheduled-VALUE'] })]);

  });

  it('schedules them again within the check interval when Redis is emptied under live connections, once however many processes do it', async () => {
    const { apis, worker } = await start(['api-1', 'api-2'], 1);

    await flushAll();
    const emptiedAt = Date.now();
    const due = await duePendingPoints();

    await waitFor('the schedules to be registered again', isEveryScheduleThere, 20_000, 200);
    await expectReleasedOnce(due);
    expect(apis.flatMap((api) => api.logged('schedules.restored')).length).toBeGreaterThanOrEqual(1);
    expect(worker.logged('schedules.restored').length).toBeGreaterThanOrEqual(1);

    // Both APIs registered the schedule at about the same moment, every second: still one schedule, each firing run
    // once (a second schedule would fire at the same times under other job ids).
    await new Promise((r) => setTimeout(r, 3000)); // a few more checks by each process
    expect(await scheduled()).toEqual(everyScheduleOnce);
    await withQueues(async (queues) => {
      const jobs = await queues['api.points-jobs'].getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      const firings = jobs.map((j) => Number(String(j.id).split(':').pop())).filter((at) => at >= emptiedAt);
      expect(firings.length).toBeGreaterThanOrEqual(1);
      expect(new Set(firings).size).toBe(firings.length);
    });
  });
});
