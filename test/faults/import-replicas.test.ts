import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { canonicalCsv, channelTotals, holdOrders, importsApi, syntheticTransactions, untilImport, uploadWithReference } from '../support/imports';
import { AppProcess, waitFor } from '../support/services';
import { CANONICAL_COLUMNS } from '../../api/src/modules/import/source';
import { copyBlob, storeBlob } from '../../api/src/modules/import/import-jobs';

/**
 * The admin app's imports behind a load balancer: an upload received by one API process is read, run, stopped,
 * resumed and its rejects downloaded through another, and an import whose process died reads as interrupted everywhere
 * and resumes on a survivor without adding anything twice. Replica A is this file's in-process app, replica B a
 * separate API process (api/dist) on the same database and Redis, each with its own IMPORT_DIR.
 */
const prefix = `test-imports-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const dirA = mkdtempSync(path.join(tmpdir(), 'import-a-'));
const dirB = mkdtempSync(path.join(tmpdir(), 'import-b-'));
const h = useHarness({ QUEUE_PREFIX: prefix, IMPORT_DIR: dirA, PORT: '0', HOST: '127.0.0.1' });
const b = build(h);
let replicaB: AppProcess;
const OLD_UPLOAD = '01900000-0000-7000-8000-0000000000aa';
let token: string;
let channels = 0;
jest.setTimeout(180_000);

let baseA = '';
const A = importsApi(() => baseA, () => token);
const B = importsApi(() => replicaB.url, () => token);

const settings = (extra: Record<string, unknown> = {}) => ({ map: {}, channelName: `Replica shop ${++channels}`, channelKind: 'WEB', currency: 'GBP', ...extra });
const ordersOf = async (channelName: string) => (await channelTotals(h, channelName)).orders;

const until = untilImport;

beforeAll(async () => {
  token = (await b.admin()).auth.token;
  await b.baseRate(1, 100);
  baseA = `http://127.0.0.1:${await h.app.listen()}`;
  // An upload whose run ended 40 days ago: replica B's retention sweep at start deletes it (IMPORT_RETENTION_DAYS 30).
  await h.sql(`insert into import_job (id, uploaded_at, state, job) values (?, now() - interval '41 days', 'DONE', jsonb_build_object('finishedAt', now() - interval '40 days'))`, [OLD_UPLOAD]);
  replicaB = await AppProcess.api('api-b', { DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, QUEUE_PREFIX: prefix, IMPORT_DIR: dirB, LOG_LEVEL: 'info' });
});

afterAll(async () => {
  await replicaB?.stop();
});

describe('imports across two API replicas', () => {
  it('an API process deletes uploads older than IMPORT_RETENTION_DAYS when it starts', async () => {
    await waitFor('the retention sweep', async () => (await h.sql(`select 1 from import_job where id = ?`, [OLD_UPLOAD])).length === 0, 20_000, 100);
    // The row can be gone before replica B's log line has come through its stdout pipe.
    await waitFor('the retention sweep to be logged', async () => replicaB.logged('import.retention_swept').length > 0, 10_000, 50);
    expect(replicaB.logged('import.retention_swept')).toEqual([expect.objectContaining({ deleted: 1, days: 30 })]);
  });

  it('an upload to one replica is run by the other, stopped and resumed across them, with its rejects from either', async () => {
    const bad = [['900001', 'X1', 'broken date', '1', 'yesterday', '1.00', '555', 'France']];
    const { straight, job } = await uploadWithReference(h, A, 120, 'history.csv', bad);
    expect(job.state).toBe('UPLOADED');
    expect((await B.list()).map((j) => j.id)).toContain(job.id);
    expect(await B.get(job.id)).toMatchObject({ id: job.id, state: 'UPLOADED' });

    const s = settings({ batchInvoices: 2 });
    const other = await A.upload(canonicalCsv(syntheticTransactions(3)), 'other.csv');
    const hold = await holdOrders(h);
    try {
      const started = await B.start(job.id, s);
      expect([started.status, started.body.import.state]).toEqual([202, 'RUNNING']);
      await hold.waiting();
      // A reads B's run as running, and no replica starts a second import meanwhile.
      expect((await A.get(job.id)).state).toBe('RUNNING');
      const refused = await A.start(other.id, settings());
      expect([refused.status, refused.body.errors[0].extensions]).toEqual([409, expect.objectContaining({ code: 'CONFLICT', reason: 'IMPORT_RUNNING', importId: job.id })]);
      const again = await B.start(other.id, settings());
      expect(again.body.errors[0].extensions).toMatchObject({ reason: 'IMPORT_RUNNING', importId: job.id });
      // Neither replica deletes the running import; another upload is deleted while it runs.
      const del = await A.delete(job.id);
      expect([del.status, del.body.errors[0].extensions.reason]).toEqual([409, 'IMPORT_STATE']);
      expect((await B.delete(other.id)).status).toBe(200);
      expect((await A.list()).map((j) => j.id)).not.toContain(other.id);
      // A asks B's run to stop: recorded at once, it ends after the batch the lock holds back, and both replicas say so.
      const stopping = await A.stop(job.id);
      expect([stopping.status, stopping.body.import]).toEqual([202, expect.objectContaining({ state: 'RUNNING', stopRequested: true })]);
      expect(await B.get(job.id)).toMatchObject({ state: 'RUNNING', stopRequested: true });
    } finally {
      await hold.release();
    }
    expect(await until(() => A.get(job.id), (j) => j.state !== 'RUNNING')).toMatchObject({ state: 'INTERRUPTED', stopRequested: false });
    const partial = await ordersOf(s.channelName);
    expect(partial).toBeLessThan(straight.summary.orders);
    expect((await B.get(job.id)).state).toBe('INTERRUPTED');

    // Resumed on A, which never saw the file on its own disk.
    expect((await A.resume(job.id)).status).toBe(202);
    const done = await until(() => B.get(job.id), (j) => j.state !== 'RUNNING');
    expect(done).toMatchObject({ state: 'DONE', runs: 2, rejectedRows: 1 });
    expect(done.summary!.invoicesSkipped).toBeGreaterThanOrEqual(partial);
    expect(await ordersOf(s.channelName)).toBe(straight.summary.orders);
    expect((await channelTotals(h, s.channelName)).points).toBe(straight.summary.pointsEarned);
    // The rejects of A's run, from B.
    const rejects = await B.rejects(job.id);
    expect(rejects.status).toBe(200);
    expect(rejects.headers.get('content-disposition')).toContain('history.rejects.csv');
    expect(rejects.text.trim().split('\n')).toEqual([['line', 'reason', 'detail', ...CANONICAL_COLUMNS].join(','), expect.stringMatching(/^\d+,invoice date is not/)]);
    // Working copies are gone from both disks once the runs end.
    expect([...readdirSync(dirA), ...readdirSync(dirB)]).toEqual([]);
  });

  it('an import whose process dies reads as interrupted on the survivor and resumes there, adding nothing twice', async () => {
    const { straight, job } = await uploadWithReference(h, B, 60, 'dies.csv');
    const s = settings({ batchInvoices: 3 });
    const hold = await holdOrders(h);
    try {
      expect((await B.start(job.id, s)).status).toBe(202);
      await hold.waiting();
      await replicaB.stop('SIGKILL');
      // PostgreSQL drops a dead process's session lock with its connection.
      const seen = await until(() => A.get(job.id), (j) => j.state !== 'RUNNING');
      expect(seen).toMatchObject({ state: 'INTERRUPTED', error: 'The API process stopped during the import' });
    } finally {
      await hold.release();
    }
    expect(await ordersOf(s.channelName)).toBe(0);
    expect((await A.resume(job.id)).status).toBe(202);
    const done = await until(() => A.get(job.id), (j) => j.state !== 'RUNNING');
    expect(done).toMatchObject({ state: 'DONE', runs: 2, error: null });
    expect(await ordersOf(s.channelName)).toBe(straight.summary.orders);
    expect((await A.list()).find((j) => j.id === job.id)?.state).toBe('DONE');
  });

  it('stores a file of several pieces and reads it back byte for byte', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'import-blob-'));
    const source = path.join(dir, 'in.bin');
    const target = path.join(dir, 'out.bin');
    const bytes = randomBytes(2 * 1024 * 1024 + 12_345);
    writeFileSync(source, bytes);
    const [{ id }] = await h.sql<{ id: string }>(
      `insert into import_job (id, uploaded_at, state, job) values (gen_random_uuid(), now(), 'UPLOADED', '{}') returning id`,
    );
    const knex = h.orm.em.getConnection().getKnex();
    await knex.transaction((trx) => storeBlob(trx, id, 'file', source));
    const pieces = await h.sql<{ seq: number; bytes: number }>(`select seq, length(data) as bytes from import_blob_chunk where import_id = ? order by seq`, [id]);
    expect(pieces).toEqual([
      { seq: 0, bytes: 1024 * 1024 },
      { seq: 1, bytes: 1024 * 1024 },
      { seq: 2, bytes: 12_345 },
    ]);
    await copyBlob(knex, id, 'file', target);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    // Storing again replaces, never appends.
    await knex.transaction((trx) => storeBlob(trx, id, 'file', source));
    expect((await h.sql(`select count(*)::int as n from import_blob_chunk where import_id = ?`, [id]))[0].n).toBe(3);
  });
});
