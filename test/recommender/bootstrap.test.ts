import Queue from 'bull';
import pino from 'pino';
import { TRAIN_QUEUE, type ModelKind } from '@loyalty/jobs';
import { useHarness } from '../support/harness';
import { databaseUrl, withAdminClient } from '../support/databases';
import { AppProcess, waitFor } from '../support/services';
import { bootstrapJobId, bootstrapModels } from '../../recommender/src/training/bootstrap';
import { ModelStore } from '../../recommender/src/training/store';

/**
 * The worker trains each model kind a database has never trained when it starts. The database decides: a Redis that
 * holds another database's finished bootstrap jobs (another installation, a second checkout, a `.data` deleted and
 * started again) must not stand in for this database's models.
 */
const prefix = `test-bootstrap-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const KINDS: ModelKind[] = ['RECOMMENDER', 'CHURN', 'VALUE'];
const silent = pino({ level: 'silent' });
const openQueues = (): Record<ModelKind, Queue.Queue> => ({
  RECOMMENDER: new Queue(TRAIN_QUEUE.RECOMMENDER, h.config.REDIS_URL, { prefix }),
  CHURN: new Queue(TRAIN_QUEUE.CHURN, h.config.REDIS_URL, { prefix }),
  VALUE: new Queue(TRAIN_QUEUE.VALUE, h.config.REDIS_URL, { prefix }),
});
let queues: Record<ModelKind, Queue.Queue>;
let store: ModelStore;
let databaseKey: string;

beforeAll(async () => {
  queues = openQueues();
  store = new ModelStore(h.config.DATABASE_URL);
  databaseKey = await store.databaseKey();
});
beforeEach(async () => {
  for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
  await h.sql('delete from model_version');
});
afterAll(async () => {
  for (const queue of Object.values(queues)) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await store.close();
});

/** A bootstrap job another worker took and finished (or failed for good), as Redis keeps it afterwards. */
async function finishedElsewhere(kind: ModelKind, jobId: string, outcome: 'completed' | 'failed' = 'completed'): Promise<void> {
  const other = new Queue(TRAIN_QUEUE[kind], h.config.REDIS_URL, { prefix });
  void other.process(async () => {
    if (outcome === 'failed') throw new Error('no purchase history to train on');
    return { modelVersionId: 'of another database', status: 'ACTIVE' };
  });
  const job = await other.add({ v: 1, kind, requestedAt: new Date().toISOString(), requestedBy: 'bootstrap' }, { jobId, removeOnComplete: 100, removeOnFail: 100 });
  await job.finished().catch(() => undefined);
  await other.close();
  expect(await (await queues[kind].getJob(jobId))!.getState()).toBe(outcome);
}

async function version(kind: ModelKind, status: string): Promise<void> {
  await h.sql(
    `insert into model_version (id, kind, status, algorithm, job_id, params, metrics, baseline_metrics, created_at)
     values (gen_random_uuid(), ?, ?, 'TF-HYBRID', 'earlier:1', '{}', '{}', '{}', now())`,
    [kind, status],
  );
}

async function keyOf(url: string): Promise<string> {
  const other = new ModelStore(url);
  try {
    return await other.databaseKey();
  } finally {
    await other.close();
  }
}

describe('bootstrap training when the worker starts', () => {
  it('queues a training job of each kind for a database that has none, although Redis holds finished bootstrap jobs of other databases', async () => {
    const elsewhere = `loyalty_test_${process.env.TEST_RUN_ID}_bootstrap_other`;
    await withAdminClient((c) => c.query(`create database "${elsewhere}"`));
    const otherKey = await keyOf(databaseUrl(elsewhere));
    await withAdminClient((c) => c.query(`drop database "${elsewhere}"`));
    expect(otherKey).not.toBe(databaseKey);
    // The ids every installation used before (`bootstrap-<kind>`), and another database's under today's scheme.
    const foreign = KINDS.flatMap((kind) => [`bootstrap-${kind}`, bootstrapJobId(kind, otherKey)].map((jobId) => ({ kind, jobId })));
    for (const { kind, jobId } of foreign) await finishedElsewhere(kind, jobId);

    expect(await bootstrapModels(queues, store, silent)).toEqual(['RECOMMENDER', 'CHURN', 'VALUE']);

    for (const kind of KINDS) {
      const job = (await queues[kind].getJob(bootstrapJobId(kind, databaseKey)))!;
      expect(await job.getState()).toBe('waiting');
      expect(job.data).toMatchObject({ v: 1, kind, requestedBy: 'bootstrap' });
    }
    for (const { kind, jobId } of foreign) expect(await (await queues[kind].getJob(jobId))!.getState()).toBe('completed');
  });

  it("replaces this database's finished bootstrap job when the database holds no version from it (wiped, or every attempt failed)", async () => {
    await finishedElsewhere('RECOMMENDER', bootstrapJobId('RECOMMENDER', databaseKey), 'completed');
    await finishedElsewhere('CHURN', bootstrapJobId('CHURN', databaseKey), 'failed');
    await version('CHURN', 'FAILED');

    expect(await bootstrapModels(queues, store, silent)).toEqual(['RECOMMENDER', 'CHURN', 'VALUE']);

    for (const kind of KINDS) {
      const job = (await queues[kind].getJob(bootstrapJobId(kind, databaseKey)))!;
      expect(await job.getState()).toBe('waiting');
      expect(await queues[kind].getJobCounts()).toMatchObject({ waiting: 1, completed: 0, failed: 0 });
    }
  });

  it('queues nothing for a kind the database has trained or is training', async () => {
    await version('RECOMMENDER', 'REJECTED');
    await version('CHURN', 'TRAINING');
    await version('VALUE', 'ACTIVE');

    expect(await bootstrapModels(queues, store, silent)).toEqual([]);

    for (const kind of KINDS) expect(await queues[kind].count()).toBe(0);
  });

  it('queues one job of each kind when several workers start at once, and none while it waits', async () => {
    const stores = [0, 1, 2].map(() => new ModelStore(h.config.DATABASE_URL));
    try {
      await Promise.all(stores.map((s) => bootstrapModels(queues, s, silent)));
      expect(await bootstrapModels(queues, store, silent)).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    for (const kind of KINDS) expect(await queues[kind].getJobCounts()).toMatchObject({ waiting: 1, active: 0, completed: 0 });
  });

  it('names the database, not the address it is reached at, and a database created again under the same name anew', async () => {
    const url = new URL(h.config.DATABASE_URL);
    url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    expect(await keyOf(url.toString())).toBe(databaseKey);

    const name = `loyalty_test_${process.env.TEST_RUN_ID}_bootstrap_again`;
    await withAdminClient((c) => c.query(`create database "${name}"`));
    const first = await keyOf(databaseUrl(name));
    await withAdminClient((c) => c.query(`drop database "${name}"`));
    await withAdminClient((c) => c.query(`create database "${name}"`));
    const second = await keyOf(databaseUrl(name));
    await withAdminClient((c) => c.query(`drop database "${name}"`));
    expect(second).toMatch(/^[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
  });
});

describe('the worker process', () => {
  let worker: AppProcess | null = null;
  afterAll(async () => worker?.stop('SIGKILL'));

  it("trains this database's models at start on a Redis that holds finished jobs of the old fixed ids", async () => {
    for (const kind of KINDS) await finishedElsewhere(kind, `bootstrap-${kind}`);
    worker = AppProcess.worker('worker', { DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, QUEUE_PREFIX: prefix, MODEL_BOOTSTRAP: 'true', MODEL_SCORE_CRON: 'off' });

    // This database has no purchase history, so each attempt starts a version and fails on that: it ran, here.
    const rows = await waitFor('a training attempt of each kind on this database', async () => {
      const found = await h.sql<{ kind: string; job_id: string; failure_reason: string | null }>(
        `select kind, job_id, failure_reason from model_version where status = 'FAILED' order by kind`,
      );
      return found.length >= 3 ? found : null;
    }, 90_000, 200);
    expect(rows.map((r) => [r.kind, r.job_id])).toEqual([
      ['CHURN', `${bootstrapJobId('CHURN', databaseKey)}:1`],
      ['RECOMMENDER', `${bootstrapJobId('RECOMMENDER', databaseKey)}:1`],
      ['VALUE', `${bootstrapJobId('VALUE', databaseKey)}:1`],
    ]);
    expect(rows.every((r) => /no purchase history/.test(r.failure_reason ?? ''))).toBe(true);
  }, 120_000);
});
