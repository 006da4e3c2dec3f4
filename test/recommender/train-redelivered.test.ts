import type { Job } from 'bull';
import pino from 'pino';
import { useHarness } from '../support/harness';
import { handleTrain } from '../../recommender/src/jobs/train';
import { ModelStore } from '../../recommender/src/training/store';

/**
 * Bull hands a job out again when its lock lapsed, even after the attempt finished (a long synchronous training
 * step can starve the lock renewal). The handler must then answer with the finished version, not train a second one.
 */
const h = useHarness();
let store: ModelStore;

beforeAll(() => {
  store = new ModelStore(h.config.DATABASE_URL);
});
afterAll(() => store.close());

const fakeJob = (id: string, attemptsMade: number, kind = 'RECOMMENDER') =>
  ({ id, data: { v: 1, kind }, attemptsMade, progress: async () => undefined }) as unknown as Job<unknown>;

async function version(jobId: string, status: string, kind = 'RECOMMENDER'): Promise<string> {
  const [row] = await h.sql(
    `insert into model_version (id, kind, status, algorithm, job_id, params, metrics, baseline_metrics, backend, horizon_days, gate_reason, created_at)
     values (gen_random_uuid(), ?, ?, 'TF-HYBRID', ?, '{}', '{"all":{"ndcg@10":0.5}}', '{}', 'wasm', 30, 'kept out: test', now()) returning id`,
    [kind, status, jobId],
  );
  return row.id;
}

describe('a training job handed out again', () => {
  const train = () => handleTrain('RECOMMENDER', { databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, log: pino({ level: 'silent' }) });

  it('answers with the version its finished attempt wrote and trains nothing', async () => {
    const finished = await version('redelivered-1:1', 'REJECTED');
    const result = await train()(fakeJob('redelivered-1', 1));
    expect(result).toEqual({ modelVersionId: finished, status: 'REJECTED', gateReason: 'kept out: test', metrics: { all: { 'ndcg@10': 0.5 } } });
    const rows = await h.sql(`select id from model_version where job_id like 'redelivered-1:%'`);
    expect(rows).toEqual([{ id: finished }]);
  });

  it("is never answered, nor has its attempt failed, by the other kind's job of the same id (ids are unique per queue only)", async () => {
    const recommender = await version('same-id:1', 'ACTIVE');
    const training = await version('same-id:2', 'TRAINING');
    const churn = handleTrain('CHURN', { databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, log: pino({ level: 'silent' }) });
    // No history here: the churn job really starts training (and stops on that) instead of returning the recommender's version.
    await expect(churn(fakeJob('same-id', 1, 'CHURN'))).rejects.toThrow(/no purchase history/);
    const rows = await h.sql(`select id, kind, status from model_version where job_id like 'same-id:%' and kind = 'RECOMMENDER' order by created_at`);
    expect(rows).toEqual([
      { id: recommender, kind: 'RECOMMENDER', status: 'ACTIVE' },
      { id: training, kind: 'RECOMMENDER', status: 'TRAINING' },
    ]);
  });

  it('trains afresh after an attempt that failed', async () => {
    await version('redelivered-2:1', 'FAILED');
    // This database has no purchase history, so a real training attempt starts and stops on that.
    await expect(train()(fakeJob('redelivered-2', 1))).rejects.toThrow(/no purchase history/);
    const rows = await h.sql(`select job_id, status, failure_reason from model_version where job_id like 'redelivered-2:%' order by created_at`);
    expect(rows).toEqual([
      { job_id: 'redelivered-2:1', status: 'FAILED', failure_reason: null },
      { job_id: 'redelivered-2:2', status: 'FAILED', failure_reason: expect.stringMatching(/no purchase history/) },
    ]);
  });
});
