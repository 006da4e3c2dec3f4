import Queue from 'bull';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const prefix = `test-queue-health-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const b = build(h);

const HEALTH = `query { queueHealth { name description waiting active completed failed delayed paused workers isWorkerAlive checkedAt } }`;
const QUEUE = 'recommender.score';

interface Health {
  name: string;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  workers: number;
  isWorkerAlive: boolean;
}

let queue: Queue.Queue;

beforeAll(() => {
  queue = new Queue(QUEUE, h.config.REDIS_URL, { prefix });
});
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

async function healthOf(auth: { token: string }, name = QUEUE): Promise<Health> {
  const res = await h.gql<{ queueHealth: Health[] }>(auth, HEALTH);
  expect(res.errors).toBeUndefined();
  const row = res.data.queueHealth.find((q) => q.name === name);
  if (!row) throw new Error(`queueHealth lists no ${name}`);
  return row;
}

describe('queueHealth', () => {
  it('lists every queue the platform uses, with who processes it', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const res = await h.gql(admin.auth, HEALTH);
    expect(res.errors).toBeUndefined();
    expect(res.data.queueHealth.map((q: { name: string }) => q.name)).toEqual([
      'recommender.train-recommender',
      'recommender.train-churn',
      'recommender.train-value',
      'recommender.score',
      'recommender.heartbeat',
      'api.webhook-delivery',
      'api.points-jobs',
    ]);
    expect(res.data.queueHealth[0].description).toContain('Recommender worker');
  });

  it('counts jobs per state, and sees a worker only while one is taking the queue', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    await queue.add({ v: 1, ok: true });
    await queue.add({ v: 1, ok: false }, { attempts: 1 });
    await queue.add({ v: 1, ok: true }, { delay: 60_000 });
    expect(await healthOf(analyst.auth)).toMatchObject({ waiting: 2, active: 0, completed: 0, failed: 0, delayed: 1, workers: 0, isWorkerAlive: false });

    const worker = new Queue(QUEUE, h.config.REDIS_URL, { prefix });
    const settled = new Promise<void>((resolve) => {
      let finished = 0;
      const done = () => ++finished === 2 && resolve();
      worker.on('completed', done).on('failed', done);
    });
    void worker.process(async (job) => {
      if (!job.data.ok) throw new Error('refused by the test');
      return {};
    });
    try {
      await settled;
      expect(await healthOf(analyst.auth)).toMatchObject({ waiting: 0, active: 0, completed: 1, failed: 1, delayed: 1, workers: 1, isWorkerAlive: true });
    } finally {
      await worker.close();
    }
    expect(await healthOf(analyst.auth)).toMatchObject({ workers: 0, isWorkerAlive: false });
  });

  it('is refused to a marketer with FORBIDDEN', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    expectError(await h.gql(marketer.auth, HEALTH), 'FORBIDDEN');
  });
});
