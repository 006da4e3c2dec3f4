import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { canonicalCsv, channelTotals, holdOrders, runImport, syntheticTransactions } from '../support/imports';
import { CANONICAL_COLUMNS } from '../../api/src/modules/import/source';

const IMPORT_DIR = mkdtempSync(path.join(tmpdir(), 'import-uploads-'));
const h = useHarness({ IMPORT_DIR, IMPORT_MAX_BYTES: String(256 * 1024) });
const b = build(h);
const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'import', name));

type Job = {
  id: string;
  state: string;
  isGzip: boolean;
  columns: string[];
  sample: string[][];
  suggestedMap: Record<string, string>;
  totalRows: number | null;
  rowsRead: number;
  rejectedRows: number;
  runs: number;
  summary: { orders: number; pointsEarned: number; rejects: Record<string, number>; isComplete: boolean; invoicesSkipped: number } | null;
};

let admin: { token: string };
let channels = 0;
const settings = (extra: Record<string, unknown> = {}) => ({ channelName: `Upload shop ${++channels}`, channelKind: 'WEB', currency: 'GBP', ...extra });

const upload = (body: Buffer, fileName = 'sales.csv', token = admin.token) =>
  h.http().post(`/api/imports?fileName=${encodeURIComponent(fileName)}`).set('authorization', `Bearer ${token}`).set('content-type', 'application/octet-stream').send(body);
const post = (url: string, body?: object) => h.http().post(url).set('authorization', `Bearer ${admin.token}`).send(body);
const get = (url: string) => h.http().get(url).set('authorization', `Bearer ${admin.token}`);

async function until(id: string, done: (job: Job) => boolean): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const job = (await get(`/api/imports/${id}`)).body.import as Job;
    if (done(job)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`import ${id} never got there`);
}

const ordersOf = async (channelName: string) => (await channelTotals(h, channelName)).orders;

/** Uploads and starts a small import, and runs `work` while its first batch is certainly in flight; returns the job. */
async function whileRunning(work: (job: Job) => Promise<void>): Promise<Job> {
  const job = (await upload(canonicalCsv(syntheticTransactions(20)), 'running.csv')).body.import as Job;
  const hold = await holdOrders(h);
  try {
    await post(`/api/imports/${job.id}/start`, settings({ map: {}, batchInvoices: 2 }));
    await hold.waiting();
    await work(job);
  } finally {
    await hold.release();
  }
  return job;
}

beforeAll(async () => {
  admin = (await b.admin()).auth;
  await b.baseRate(1, 100);
});

describe('transaction import over HTTP', () => {
  it('reads an upload’s columns and first rows, suggests a mapping, and imports with it', async () => {
    const res = await upload(fixture('renamed.csv'), 'renamed.csv');
    expect(res.status).toBe(201);
    const job = res.body.import as Job;
    expect(job).toMatchObject({ state: 'UPLOADED', isGzip: false, runs: 0 });
    expect(job.columns).toEqual(['Invoice', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'Price', 'Customer ID', 'Country']);
    expect(job.sample).toHaveLength(3);
    expect(job.sample[0][0]).toBe('520001');
    expect(job.suggestedMap).toEqual({
      Invoice: 'InvoiceNo',
      StockCode: 'StockCode',
      Description: 'Description',
      Quantity: 'Quantity',
      InvoiceDate: 'InvoiceDate',
      Price: 'UnitPrice',
      'Customer ID': 'CustomerID',
      Country: 'Country',
    });
    const s = settings({ map: job.suggestedMap });
    const started = await post(`/api/imports/${job.id}/start`, s);
    expect(started.status).toBe(202);
    expect(started.body.import.state).toBe('RUNNING');
    const done = await until(job.id, (j) => j.state !== 'RUNNING');
    expect(done).toMatchObject({ state: 'DONE', totalRows: 3, rowsRead: 3, rejectedRows: 0, runs: 1 });
    expect(done.summary).toMatchObject({ orders: 2, isComplete: true });
    expect(await ordersOf(s.channelName)).toBe(2);
    expect((await get('/api/imports')).body.imports.map((j: Job) => j.id)).toContain(job.id);
  });

  it('imports a gzip upload and offers its rejected rows as CSV with line and reason', async () => {
    const res = await upload(gzipSync(fixture('malformed.csv')), 'malformed.csv.gz');
    const job = res.body.import as Job;
    expect(job.isGzip).toBe(true);
    expect(job.columns[0]).toBe('InvoiceNo');
    await post(`/api/imports/${job.id}/start`, settings({ map: {} }));
    const done = await until(job.id, (j) => j.state !== 'RUNNING');
    expect(done.state).toBe('DONE');
    const rejected = Object.values(done.summary!.rejects).reduce((a, n) => a + n, 0);
    expect(rejected).toBeGreaterThan(3);
    expect(done.rejectedRows).toBe(rejected);
    const csv = await get(`/api/imports/${job.id}/rejects`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('malformed.rejects.csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe(['line', 'reason', 'detail', ...CANONICAL_COLUMNS].join(','));
    expect(lines).toHaveLength(rejected + 1);
    expect(csv.text).toContain('3,invoice date is not YYYY-MM-DD HH:MM[:SS]');
  });

  it('stops after the batch in flight and resumes to the same result as one run, adding nothing twice', async () => {
    const records = syntheticTransactions(120);
    const csv = canonicalCsv(records);
    const straight = await runImport(h, records, { channelName: `Straight ${channels}` });
    const job = (await upload(csv, 'history.csv')).body.import as Job;
    const s = settings({ map: {}, batchInvoices: 2 });
    const hold = await holdOrders(h);
    try {
      await post(`/api/imports/${job.id}/start`, s);
      await hold.waiting();
      // The lock keeps the batch in flight from committing: the stop is recorded and answered without waiting for it.
      const stopping = await post(`/api/imports/${job.id}/stop`);
      expect([stopping.status, stopping.body.import]).toEqual([202, expect.objectContaining({ state: 'RUNNING', stopRequested: true })]);
      expect((await get(`/api/imports/${job.id}`)).body.import).toMatchObject({ state: 'RUNNING', stopRequested: true });
      expect((await post(`/api/imports/${job.id}/stop`)).status).toBe(202);
    } finally {
      await hold.release();
    }
    expect(await until(job.id, (j) => j.state !== 'RUNNING')).toMatchObject({ state: 'INTERRUPTED', stopRequested: false });
    const partial = await ordersOf(s.channelName);
    expect(partial).toBeLessThan(straight.summary.orders);
    expect((await post(`/api/imports/${job.id}/start`, s)).body.errors[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'IMPORT_STATE', state: 'INTERRUPTED' });

    const resumed = await post(`/api/imports/${job.id}/resume`);
    expect(resumed.status).toBe(202);
    const done = await until(job.id, (j) => j.state !== 'RUNNING');
    expect(done).toMatchObject({ state: 'DONE', runs: 2 });
    expect(done.summary!.invoicesSkipped).toBeGreaterThanOrEqual(partial);
    expect(await ordersOf(s.channelName)).toBe(straight.summary.orders);
    expect((await channelTotals(h, s.channelName)).points).toBe(straight.summary.pointsEarned);
  });

  it('refuses a mapping without a required column, an unknown column, and bad settings, naming each field', async () => {
    const job = (await upload(fixture('renamed.csv'))).body.import as Job;
    const res = await post(`/api/imports/${job.id}/start`, { map: { Nope: 'InvoiceNo', Price: 'Colour' }, channelName: '', channelKind: 'ADMIN', currency: 'EURO', batchInvoices: 0 });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors[0].extensions.fields.map((f: { path: string }) => f.path).sort()).toEqual(['batchInvoices', 'channelKind', 'channelName', 'currency', 'map.Nope', 'map.Price']);
    for (const channelName of ['Shop\u0000', 'Shop \u001b[31m', 'Shop \ud800']) {
      const hostile = await post(`/api/imports/${job.id}/start`, settings({ map: job.suggestedMap, channelName }));
      expect([hostile.status, hostile.body.errors[0].extensions.fields.map((f: { path: string }) => f.path)]).toEqual([400, ['channelName']]);
    }
    const missing = await post(`/api/imports/${job.id}/start`, settings({ map: {} }));
    expect(missing.body.errors[0].extensions.fields[0]).toMatchObject({ path: 'map', message: expect.stringContaining('missing required column "InvoiceNo"') });
    expect((await get(`/api/imports/${job.id}`)).body.import.state).toBe('UPLOADED');
  });

  it('answers 401, 403, 404, 413 and 400 with their codes, and keeps nothing of a refused upload', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const key = await b.apiKey();
    expect((await h.http().get('/api/imports')).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await h.http().get('/api/imports').set('authorization', `Bearer ${key.key}`)).status).toBe(401);
    const forbidden = await upload(fixture('renamed.csv'), 'x.csv', marketer.token);
    expect([forbidden.status, forbidden.body.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    const unknown = await get('/api/imports/01900000-0000-7000-8000-000000000000');
    expect([unknown.status, unknown.body.errors[0].extensions.code]).toEqual([404, 'NOT_FOUND']);
    const before = (await get('/api/imports')).body.imports.length;
    const tooLarge = await upload(Buffer.alloc(300 * 1024, 'a'));
    expect([tooLarge.status, tooLarge.body.errors[0].extensions.code, tooLarge.body.errors[0].extensions.limitBytes]).toEqual([413, 'PAYLOAD_TOO_LARGE', 256 * 1024]);
    const empty = await upload(Buffer.alloc(0));
    expect([empty.status, empty.body.errors[0].extensions.fields[0].path]).toEqual([400, 'file']);
    const badGzip = await upload(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]), 'broken.csv.gz');
    expect([badGzip.status, badGzip.body.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    // A name with a control character (NUL included), and a header with a NUL, which PostgreSQL's json cannot hold.
    for (const name of ['%00x.csv', 'x%1B%5B31m.csv']) {
      const res = await upload(fixture('renamed.csv'), decodeURIComponent(name));
      expect([name, res.status, res.body.errors[0].extensions.fields[0].path]).toEqual([name, 400, 'fileName']);
    }
    const nulHeader = await upload(Buffer.from('InvoiceNo,Stock\u0000Code,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,A,1,2011-01-01 10:00,1.00,5\n'));
    expect([nulHeader.status, nulHeader.body.errors[0].extensions.fields[0]]).toEqual([400, { path: 'file', message: 'its header holds a NUL character' }]);
    expect((await get('/api/imports')).body.imports.length).toBe(before);
    // Nothing of the refused uploads is left on disk either.
    expect(readdirSync(IMPORT_DIR)).toEqual([]);
  });

  it('sweeps uploads whose last run ended, or that were uploaded, more than the retention ago, and never a running one', async () => {
    const age = (id: string, days: number, finishedDaysAgo: number | null) =>
      h.sql(
        `update import_job set uploaded_at = now() - make_interval(days => ?),
           job = jsonb_set(job, '{finishedAt}', coalesce(to_jsonb(now() - make_interval(days => ?)), 'null'::jsonb)) where id = ?`,
        [days, finishedDaysAgo, id],
      );
    const neverRun = (await upload(fixture('renamed.csv'))).body.import as Job;
    const ranLately = (await upload(fixture('renamed.csv'))).body.import as Job;
    const ranLongAgo = (await upload(fixture('renamed.csv'))).body.import as Job;
    const fresh = (await upload(fixture('renamed.csv'))).body.import as Job;
    for (const job of [ranLately, ranLongAgo]) {
      await post(`/api/imports/${job.id}/start`, settings({ map: job.suggestedMap }));
      await until(job.id, (j) => j.state === 'DONE');
    }
    await age(neverRun.id, 31, null);
    await age(ranLately.id, 90, 29); // uploaded long ago, but its last run ended inside the retention
    await age(ranLongAgo.id, 90, 31);
    const running = await whileRunning(async (job) => {
      await age(job.id, 60, null);
      expect(await h.app.services.imports.sweep(h.em(), 30)).toBe(2);
    });
    const left = (await get('/api/imports')).body.imports.map((j: Job) => j.id);
    expect(left).toEqual(expect.arrayContaining([ranLately.id, fresh.id, running.id]));
    expect(left).not.toContain(neverRun.id);
    expect(left).not.toContain(ranLongAgo.id);
    const chunks = await h.sql<{ n: number }>(`select count(*)::int as n from import_blob_chunk where import_id in (?, ?)`, [neverRun.id, ranLongAgo.id]);
    expect(chunks[0].n).toBe(0);
    expect((await until(running.id, (j) => j.state !== 'RUNNING')).state).toBe('DONE');
    // Its run has just ended, so it stays; with nothing running, a dead process's old RUNNING row goes too.
    expect(await h.app.services.imports.sweep(h.em(), 30)).toBe(0);
    await h.sql(`update import_job set state = 'RUNNING', uploaded_at = now() - interval '60 days', job = job - 'finishedAt' where id = ?`, [running.id]);
    expect(await h.app.services.imports.sweep(h.em(), 30)).toBe(1);
    expect((await get(`/api/imports/${running.id}`)).status).toBe(404);
  });

  it('starts an import when the lock is held only for a moment by a delete or a sweep, and names the running import otherwise', async () => {
    const job = (await upload(fixture('renamed.csv'))).body.import as Job;
    // A session of the test holds the import lock as a delete or the retention sweep does, with no import running.
    const holder = new Client({ connectionString: h.config.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query(`select pg_advisory_lock(hashtext('import.run'))`);
      // then() sends the request now (supertest sends on the first then), while the lock is held
      const starting = post(`/api/imports/${job.id}/start`, settings({ map: job.suggestedMap })).then((r) => r);
      await new Promise((r) => setTimeout(r, 150));
      await holder.query(`select pg_advisory_unlock(hashtext('import.run'))`);
      const started = await starting;
      expect([started.status, started.body.import?.state]).toEqual([202, 'RUNNING']);
      await until(job.id, (j) => j.state === 'DONE');
      // Held for longer than the retries, with no import running: refused, with no import to name.
      const other = (await upload(fixture('renamed.csv'))).body.import as Job;
      await holder.query(`select pg_advisory_lock(hashtext('import.run'))`);
      const refused = await post(`/api/imports/${other.id}/start`, settings({ map: other.suggestedMap }));
      expect([refused.status, refused.body.errors[0].extensions]).toEqual([409, expect.objectContaining({ reason: 'IMPORT_RUNNING', importId: null })]);
      expect((await get(`/api/imports/${other.id}`)).body.import.state).toBe('UPLOADED');
    } finally {
      await holder.end();
    }
  });

  it('takes a file whose rows hold a NUL: the sample shows U+FFFD in its place, and the import rejects that row alone', async () => {
    const csv = Buffer.from(
      'InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n' + '700001,MUG\u0000,1,2011-01-01 10:00,1.00,5\n' + '700002,MUG,1,2011-01-02 10:00,1.00,5\n',
    );
    const res = await upload(csv, 'nul.csv');
    expect(res.status).toBe(201);
    const job = res.body.import as Job;
    expect(job.sample[0][1]).toBe('MUG\uFFFD');
    const s = settings({ map: {} });
    await post(`/api/imports/${job.id}/start`, s);
    const done = await until(job.id, (j) => j.state !== 'RUNNING');
    expect(done).toMatchObject({ state: 'DONE', rejectedRows: 1 });
    expect(await ordersOf(s.channelName)).toBe(1);
    expect((await get(`/api/imports/${job.id}/rejects`)).text).toMatch(/^2,/m);
  });

  it('two runners picking up one queued import at once: one runs it, the other finds nothing, six times over', async () => {
    const records = syntheticTransactions(6);
    const straight = await runImport(h, records, { channelName: `Straight pick-up ${channels}` });
    const imports = h.app.services.imports;
    for (let round = 0; round < 6; round++) {
      const job = (await upload(canonicalCsv(records), 'queued.csv')).body.import as Job;
      const s = settings({ map: {} });
      // Queued as an API process with IMPORT_RUNNER=false leaves it (test/faults/import-runner.test.ts runs that one).
      await h.sql(`update import_job set state = 'QUEUED', job = job || ?::jsonb where id = ?`, [JSON.stringify({ state: 'QUEUED', settings: { ...s, batchInvoices: 500 } }), job.id]);
      if (round === 0) {
        // A queued import goes first, here as on a replica that queues: a start meanwhile names it.
        const other = (await upload(canonicalCsv(records), 'other.csv')).body.import as Job;
        const refused = await post(`/api/imports/${other.id}/start`, settings({ map: {} }));
        expect([refused.status, refused.body.errors[0].extensions]).toEqual([409, expect.objectContaining({ reason: 'IMPORT_RUNNING', importId: job.id })]);
        expect((await h.http().delete(`/api/imports/${other.id}`).set('authorization', `Bearer ${admin.token}`)).status).toBe(200);
      }
      const picked = await Promise.all([imports.pickUp(h.orm.em.fork()), imports.pickUp(h.orm.em.fork())]);
      expect(picked.filter((id) => id === job.id)).toHaveLength(1);
      expect(picked.filter((id) => id === null)).toHaveLength(1);
      expect(await until(job.id, (j) => j.state !== 'RUNNING')).toMatchObject({ state: 'DONE', runs: 1 });
      expect(await channelTotals(h, s.channelName)).toEqual({ orders: straight.summary.orders, points: straight.summary.pointsEarned });
      expect(await imports.pickUp(h.orm.em.fork())).toBeNull();
    }
  });

  it('a start and a delete of one upload racing each other: either the run happens whole, or nothing runs', async () => {
    const del = (id: string) => h.http().delete(`/api/imports/${id}`).set('authorization', `Bearer ${admin.token}`).then((r) => r);
    for (let round = 0; round < 6; round++) {
      const job = (await upload(fixture('renamed.csv'))).body.import as Job;
      const s = settings({ map: job.suggestedMap });
      const [started, deleted] = await Promise.all([post(`/api/imports/${job.id}/start`, s).then((r) => r), del(job.id)]);
      const outcome = `${started.status}/${deleted.status}`;
      if (started.status === 202) {
        // It ran; the delete came first-while-running (refused) or after the run ended.
        expect(['202/409', '202/200']).toContain(outcome);
        if (deleted.status === 409) expect((await until(job.id, (j) => j.state !== 'RUNNING')).state).toBe('DONE');
        expect(await ordersOf(s.channelName)).toBe(2);
      } else {
        expect([outcome, started.body.errors[0].extensions.code]).toEqual(['404/200', 'NOT_FOUND']);
        expect(await ordersOf(s.channelName)).toBe(0);
      }
    }
    // No run was left without its row, nor a row stuck RUNNING.
    expect(await h.sql(`select count(*)::int as n from import_job where state = 'RUNNING'`)).toEqual([{ n: 0 }]);
  });

  it('deletes an import that is not running with its file and rejects, keeps its orders, and refuses a running one', async () => {
    const del = (id: string, token = admin.token) => h.http().delete(`/api/imports/${id}`).set('authorization', `Bearer ${token}`);
    const uploaded = (await upload(fixture('renamed.csv'))).body.import as Job;
    const imported = (await upload(gzipSync(fixture('malformed.csv')), 'bad.csv.gz')).body.import as Job;
    const s = settings({ map: {} });
    await post(`/api/imports/${imported.id}/start`, s);
    await until(imported.id, (j) => j.state === 'DONE');
    const orders = await ordersOf(s.channelName);
    expect(orders).toBeGreaterThan(0);
    const stored = async (id: string) => (await h.sql<{ n: number }>(`select count(*)::int as n from import_blob_chunk where import_id = ?`, [id]))[0].n;
    expect(await stored(imported.id)).toBe(2); // the file and its rejects

    const marketer = await b.admin(AdminRole.MARKETER);
    expect((await del(uploaded.id, marketer.token)).status).toBe(403);
    for (const job of [uploaded, imported]) {
      const res = await del(job.id);
      expect([res.status, res.body]).toEqual([200, { deleted: job.id }]);
      expect((await get(`/api/imports/${job.id}`)).status).toBe(404);
      expect(await stored(job.id)).toBe(0);
      expect((await del(job.id)).body.errors[0].extensions.code).toBe('NOT_FOUND');
    }
    expect(await ordersOf(s.channelName)).toBe(orders);
    // Paths as sent: a NUL, SQL, a control character; then a lone surrogate's bytes, which are not UTF-8
    for (const hostile of ['not-a-uuid', '%00', encodeURIComponent("1' or '1'='1"), '%1B%5B31m']) {
      const res = await del(hostile);
      expect([hostile, res.status, res.body.errors[0].extensions.code]).toEqual([hostile, 404, 'NOT_FOUND']);
    }
    for (const res of [await del('%ED%A0%80'), await get('/api/imports/%ED%A0%80'), await post('/api/imports/%C0%AF/stop')]) {
      expect([res.status, res.body.errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
    }

    // A running import is stopped first.
    const running = await whileRunning(async (job) => {
      const refused = await del(job.id);
      expect([refused.status, refused.body.errors[0].extensions]).toEqual([409, expect.objectContaining({ code: 'CONFLICT', reason: 'IMPORT_STATE', state: 'RUNNING' })]);
    });
    expect((await until(running.id, (j) => j.state !== 'RUNNING')).state).toBe('DONE');
    expect((await del(running.id)).status).toBe(200);
  });
});
