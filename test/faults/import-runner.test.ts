import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { canonicalCsv, channelTotals, holdOrders, importsApi, syntheticTransactions, untilImport, uploadWithReference } from '../support/imports';
import { AppProcess } from '../support/services';
import { parseExposition, valueOf } from '../support/prometheus';

/**
 * Imports kept off the replicas that serve traffic: replica A, this file's in-process app, runs with IMPORT_RUNNER=false,
 * so an import started or resumed through it is QUEUED; replica B, a separate API process with the default
 * IMPORT_RUNNER=true, picks it up and runs it. Nothing runs while no runner is up, a queued import can be cancelled, and
 * one import at a time still holds across the queue.
 */
const prefix = `test-import-runner-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix, IMPORT_DIR: mkdtempSync(path.join(tmpdir(), 'import-a-')), IMPORT_RUNNER: 'false', PORT: '0', HOST: '127.0.0.1' });
const b = build(h);
let runner: AppProcess | undefined;
let token = '';
let baseA = '';
let channels = 0;
const A = importsApi(() => baseA, () => token);
jest.setTimeout(180_000);

const settings = (extra: Record<string, unknown> = {}) => ({ map: {}, channelName: `Queued shop ${++channels}`, channelKind: 'WEB', currency: 'GBP', ...extra });
const startRunner = async () =>
  (runner = await AppProcess.api('api-runner', {
    DATABASE_URL: h.config.DATABASE_URL,
    REDIS_URL: h.config.REDIS_URL,
    QUEUE_PREFIX: prefix,
    IMPORT_DIR: mkdtempSync(path.join(tmpdir(), 'import-b-')),
    LOG_LEVEL: 'info',
  }));

const queuedAge = async () => valueOf(parseExposition((await h.http().get('/metrics')).text), 'loyalty_import_queued_age_seconds');

beforeAll(async () => {
  token = (await b.admin()).auth.token;
  await b.baseRate(1, 100);
  baseA = `http://127.0.0.1:${await h.app.listen()}`;
});

afterAll(async () => {
  await runner?.stop();
});

describe('imports queued by a replica that does not run them (IMPORT_RUNNER=false)', () => {
  it('waits QUEUED while no process runs imports, holds the one-at-a-time rule, and can be cancelled back to UPLOADED', async () => {
    const job = await A.upload(canonicalCsv(syntheticTransactions(5)), 'queued.csv');
    // Hostile settings are refused before anything is queued, as on a replica that runs imports.
    for (const bad of [{ channelName: 'Shop\u0000' }, { channelName: 'Shop \ud800' }, { batchInvoices: 2 ** 53 }, { currency: 'G\u0007P' }]) {
      const refused = await A.start(job.id, settings(bad));
      expect([refused.status, refused.body.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    }
    expect(await A.get(job.id)).toMatchObject({ state: 'UPLOADED' });
    // Two starts of one upload at once: one queues it, the other is refused.
    const s = settings();
    const twins = await Promise.all([A.start(job.id, s), A.start(job.id, s)]);
    expect(twins.map((r) => r.status).sort()).toEqual([202, 409]);
    const started = twins.find((r) => r.status === 202)!;
    expect(started.body.import).toEqual(expect.objectContaining({ state: 'QUEUED', runs: 0 }));
    expect(twins.find((r) => r.status === 409)!.body.errors[0].extensions).toMatchObject({ code: 'CONFLICT' });
    // Nobody runs imports yet: it stays queued and nothing is written.
    await new Promise((r) => setTimeout(r, 1500));
    const queued = await A.get(job.id);
    expect(queued).toMatchObject({ state: 'QUEUED', queuedAt: expect.any(String) });
    // /metrics says how long it has waited, for an alert when no process runs imports.
    expect(await queuedAge()).toBeGreaterThanOrEqual(1.5);
    expect(await channelTotals(h, s.channelName)).toEqual({ orders: 0, points: 0 });
    // A second import waits for the queued one.
    const other = await A.upload(canonicalCsv(syntheticTransactions(2)), 'other.csv');
    const refused = await A.start(other.id, settings());
    expect([refused.status, refused.body.errors[0].extensions]).toEqual([409, expect.objectContaining({ code: 'CONFLICT', reason: 'IMPORT_RUNNING', importId: job.id })]);
    expect((await A.start(job.id, s)).body.errors[0].extensions).toMatchObject({ reason: 'IMPORT_STATE', state: 'QUEUED' });
    // Cancelled: back to UPLOADED, to be started again; the other upload may start now.
    const cancelled = await A.stop(job.id);
    expect([cancelled.status, cancelled.body.import]).toEqual([200, expect.objectContaining({ state: 'UPLOADED', runs: 0, stopRequested: false })]);
    expect(await queuedAge()).toBe(0);
    expect((await A.stop(job.id)).body.errors[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'IMPORT_STATE', state: 'UPLOADED' });
    expect((await A.start(other.id, settings())).body.import).toMatchObject({ state: 'QUEUED' });
    expect((await A.delete(other.id)).status).toBe(200);
    expect((await A.delete(job.id)).status).toBe(200);
  });

  it('a runner picks up a queued start within seconds and runs it as one straight import; a resume queued after a stop adds nothing twice', async () => {
    const { straight, job } = await uploadWithReference(h, A, 60, 'history.csv');
    const s = settings({ batchInvoices: 2 });
    const hold = await holdOrders(h);
    try {
      expect((await A.start(job.id, s)).body.import).toMatchObject({ state: 'QUEUED' });
      await startRunner();
      // Picked up by the runner, whose first batch the lock holds back; A asks it to stop.
      await hold.waiting();
      expect(await A.get(job.id)).toMatchObject({ state: 'RUNNING', runs: 1 });
      expect((await A.stop(job.id)).body.import).toMatchObject({ state: 'RUNNING', stopRequested: true });
    } finally {
      await hold.release();
    }
    const stopped = await untilImport(() => A.get(job.id), (j) => j.state !== 'RUNNING');
    expect(stopped).toMatchObject({ state: 'INTERRUPTED', runs: 1 });
    expect(runner!.logged('import.picked_up')).toEqual([expect.objectContaining({ importId: job.id })]);
    const partial = (await channelTotals(h, s.channelName)).orders;
    expect(partial).toBeLessThan(straight.summary.orders);

    // Resumed through A: queued, then run by the runner to the same result as one straight import.
    expect((await A.resume(job.id)).body.import).toMatchObject({ state: 'QUEUED', runs: 1 });
    const done = await untilImport(() => A.get(job.id), (j) => j.state === 'DONE' || j.state === 'FAILED');
    expect(done).toMatchObject({ state: 'DONE', runs: 2 });
    expect(done.summary!.invoicesSkipped).toBeGreaterThanOrEqual(partial);
    expect(await channelTotals(h, s.channelName)).toEqual({ orders: straight.summary.orders, points: straight.summary.pointsEarned });
    expect(runner!.logged('import.picked_up')).toHaveLength(2);
  });

  it('a queued resume cancelled goes back to INTERRUPTED, with its progress kept', async () => {
    await runner?.stop();
    runner = undefined;
    const job = await A.upload(canonicalCsv(syntheticTransactions(4)), 'interrupted.csv');
    // A run that was stopped, as the test before made one.
    await h.sql(`update import_job set state = 'INTERRUPTED', job = job || ?::jsonb where id = ?`, [JSON.stringify({ runs: 1, settings: settings({ batchInvoices: 500 }) }), job.id]);
    expect((await A.resume(job.id)).body.import).toMatchObject({ state: 'QUEUED', runs: 1 });
    expect((await A.stop(job.id)).body.import).toMatchObject({ state: 'INTERRUPTED', runs: 1 });
    expect((await A.delete(job.id)).status).toBe(200);
  });
});
