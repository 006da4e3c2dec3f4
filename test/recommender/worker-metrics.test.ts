import Queue from 'bull';
import { useHarness } from '../support/harness';
import { AppProcess, freePort, waitFor } from '../support/services';
import { parseExposition, valueOf, type Sample } from '../support/prometheus';

/**
 * The real worker process (recommender/dist/main.js) with WORKER_METRICS_PORT, on this file's database and its own
 * queue prefix: the jobs it runs show on its GET /metrics.
 */
const prefix = `test-worker-metrics-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
const TOKEN = 'worker-scrape-token-0123';
const QUEUE_NAMES = ['recommender.heartbeat', 'recommender.train-churn', 'recommender.score'];
let worker: AppProcess;
let url: string;
jest.setTimeout(120_000);

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/metrics`;
  worker = AppProcess.worker('worker', {
    DATABASE_URL: h.config.DATABASE_URL,
    REDIS_URL: h.config.REDIS_URL,
    QUEUE_PREFIX: prefix,
    MODEL_SCORE_CRON: 'off',
    WORKER_METRICS_PORT: String(port),
    WORKER_METRICS_HOST: '127.0.0.1',
    METRICS_TOKEN: TOKEN,
  });
  await waitFor('the worker to listen for scrapes', async () => {
    if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output.slice(-20).join('\n')}`);
    return worker.logged('worker.metrics_listening').length > 0;
  });
});

afterAll(async () => {
  await worker?.stop();
  for (const name of QUEUE_NAMES) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

async function scrape(): Promise<Sample[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

/** Adds one job and waits for its single attempt to end; returns its outcome. */
async function run(name: string, payload: Record<string, unknown>): Promise<{ completed: boolean; value: any }> {
  const queue = new Queue(name, h.config.REDIS_URL, { prefix });
  try {
    const job = await queue.add(payload, { attempts: 1 });
    return await job.finished().then(
      (value) => ({ completed: true, value }),
      (value) => ({ completed: false, value }),
    );
  } finally {
    await queue.close();
  }
}

describe("the worker's GET /metrics", () => {
  it('answers only the bearer of METRICS_TOKEN, and nothing but /metrics', async () => {
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}-not` } })).status).toBe(401);
    expect((await fetch(url.replace('/metrics', '/'), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    const all = await scrape();
    expect(valueOf(all, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it("times each job by queue and outcome, and each training by the gate's verdict or FAILED", async () => {
    const requestedAt = new Date().toISOString();
    const heartbeat = await run('recommender.heartbeat', { v: 1, requestedAt });
    expect(heartbeat.completed).toBe(true);
    // Nothing to score yet: the job completes, having skipped.
    const score = await run('recommender.score', { v: 1, kind: 'CHURN', requestedAt, requestedBy: 'test' });
    expect(score).toMatchObject({ completed: true, value: { scored: 0 } });
    // An empty database: the training ends one way or the other, quickly.
    const training = await run('recommender.train-churn', { v: 1, kind: 'CHURN', requestedAt, requestedBy: 'test', maxEpochs: 1 });

    const all = await scrape();
    const jobs = 'loyalty_worker_job_duration_seconds_count';
    expect(valueOf(all, jobs, { queue: 'recommender.heartbeat', outcome: 'completed' })).toBe(1);
    expect(valueOf(all, jobs, { queue: 'recommender.score', outcome: 'completed' })).toBe(1);
    expect(valueOf(all, jobs, { queue: 'recommender.train-churn', outcome: training.completed ? 'completed' : 'failed' })).toBe(1);
    const status = training.completed ? training.value.status : 'FAILED';
    expect(valueOf(all, 'loyalty_model_training_duration_seconds_count', { kind: 'CHURN', status })).toBe(1);
    expect(valueOf(all, 'loyalty_model_training_duration_seconds_sum', { kind: 'CHURN', status })).toBeGreaterThan(0);
  });
});
