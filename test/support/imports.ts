import { stringify } from 'csv-stringify/sync';
import { Client } from 'pg';
import { SalesChannelKind } from '../fixtures/build';
import type { Harness } from './harness';
import { TransactionImporter, type ImportOptions, type ImportRows, type Reject } from '../../api/src/modules/import/importer';
import { CANONICAL_COLUMNS, openCsv, parseColumnMap, type SourceRecord } from '../../api/src/modules/import/source';
import { createLogger } from '../../api/src/base/logger';

let channels = 0;

/**
 * The real importer on a CSV file or on rows in memory, into a channel of its own unless `channelName` is given;
 * returns its summary and every reject. (`npm run import` itself, which opens the file twice, is tested through the CLI.)
 */
export async function runImport(h: Harness, file: string | SourceRecord[], options: Partial<ImportOptions> & { map?: string } = {}) {
  const rejects: Reject[] = [];
  const rows: ImportRows = typeof file === 'string' ? (await openCsv(file, parseColumnMap(options.map))).records : file;
  const summary = await new TransactionImporter(h.orm.em, h.app.services, createLogger('silent')).run(rows, {
    channelName: `Import shop ${process.env.JEST_WORKER_ID}-${++channels}`,
    channelKind: SalesChannelKind.WEB,
    currency: 'GBP',
    batchInvoices: 500,
    onReject: (r) => rejects.push(r),
    ...options,
  });
  return { summary, rejects };
}

/** A CSV's rows by column name (a rejects file, say), read with the importer's own reader. */
export async function readRows(file: string): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = [];
  for await (const r of (await openCsv(file, new Map())).records) rows.push(r.row as Record<string, string>);
  return rows;
}

const DAY_MS = 86_400_000;

/**
 * Canonical rows of `customers` customers with one to four invoices each over the last 90 days, one to three lines an
 * invoice, always the same for the same arguments: a file of some size for tests that stop an import midway.
 */
export function syntheticTransactions(customers: number, now = new Date()): SourceRecord[] {
  const records: SourceRecord[] = [];
  let invoice = 800_000;
  for (let c = 0; c < customers; c++) {
    for (let v = 0; v <= c % 4; v++) {
      invoice++;
      const at = new Date(now.getTime() - (((c * 7 + v * 13) % 90) + 1) * DAY_MS);
      const stamp = at.toISOString().slice(0, 19).replace('T', ' ');
      for (let l = 0; l <= (c + v) % 3; l++) {
        const sku = (c + l * 7) % 20;
        records.push({
          line: records.length + 2,
          row: {
            InvoiceNo: String(invoice),
            StockCode: `SKU${sku}`,
            Description: `Product ${sku}`,
            Quantity: String(1 + ((c + v + l) % 5)),
            InvoiceDate: stamp,
            UnitPrice: (0.5 + ((c * 37 + l * 11) % 2000) / 100).toFixed(2),
            CustomerID: String(30_000 + c),
            Country: 'United Kingdom',
          },
        });
      }
    }
  }
  return records;
}

/** Rows as a CSV in the canonical layout (header first), with `extraRows` appended as written. */
export function canonicalCsv(records: SourceRecord[], extraRows: string[][] = []): Buffer {
  return Buffer.from(stringify([[...CANONICAL_COLUMNS], ...records.map((r) => CANONICAL_COLUMNS.map((c) => r.row[c] ?? '')), ...extraRows]));
}

/** The orders a sales channel holds and the points they earned: what an import into it wrote. */
export async function channelTotals(h: Harness, channelName: string): Promise<{ orders: number; points: number }> {
  const [row] = await h.sql<{ orders: number; points: number }>(
    `select count(*)::int as orders, coalesce(sum(o.points_earned), 0)::int as points
     from customer_order o join sales_channel c on c.id = o.channel_id where c.name = ?`,
    [channelName],
  );
  return row;
}

/**
 * Holds customer_order in a session of its own, so an import's first batch waits inside its transaction: the import
 * is certain to be in flight, however fast the machine. `waiting` resolves once that batch waits; `release` ends it.
 */
export async function holdOrders(h: Harness): Promise<{ waiting(): Promise<void>; release(): Promise<void> }> {
  const c = new Client({ connectionString: h.config.DATABASE_URL });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE customer_order IN EXCLUSIVE MODE');
  let released = false;
  return {
    async waiting() {
      for (let i = 0; i < 1500; i++) {
        const { rows } = await c.query(`select count(*)::int as n from pg_locks where not granted and relation = 'customer_order'::regclass`);
        if (rows[0].n > 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('no import ever waited for customer_order');
    },
    async release() {
      if (released) return;
      released = true;
      await c.query('COMMIT').catch(() => undefined);
      await c.end();
    },
  };
}

/** An import as the REST API answers it, with the fields the tests read. */
export type ImportJobView = {
  id: string;
  state: string;
  runs: number;
  rejectedRows: number;
  error: string | null;
  stopRequested: boolean;
  summary: { orders: number; pointsEarned: number; invoicesSkipped: number; isComplete: boolean } | null;
};

/** One API process's /api/imports as an admin session calls it, through fetch so that every process answers alike. */
export function importsApi(base: () => string, token: () => string) {
  const call = async (method: string, url: string, body?: Buffer | object) => {
    const res = await fetch(`${base()}/api/imports${url}`, {
      method,
      headers: { authorization: `Bearer ${token()}`, 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
  };
  return {
    upload: async (csv: Buffer, fileName: string) => (await call('POST', `?fileName=${fileName}`, csv)).body.import as ImportJobView,
    get: async (id: string) => (await call('GET', `/${id}`)).body.import as ImportJobView,
    list: async () => (await call('GET', '')).body.imports as ImportJobView[],
    start: (id: string, settings: object) => call('POST', `/${id}/start`, settings),
    resume: (id: string) => call('POST', `/${id}/resume`),
    stop: (id: string) => call('POST', `/${id}/stop`),
    rejects: (id: string) => call('GET', `/${id}/rejects`),
    delete: (id: string) => call('DELETE', `/${id}`),
  };
}

/** Reads an import until `done` holds, every 50 ms for at most a minute. */
export async function untilImport(read: () => Promise<ImportJobView>, done: (job: ImportJobView) => boolean): Promise<ImportJobView> {
  for (let i = 0; i < 1200; i++) {
    const job = await read();
    if (done(job)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the import never got there');
}

/**
 * `customers` synthetic customers' transactions uploaded through `api`, and the summary of one straight import of the
 * same rows into a channel of its own: what a run of the upload, however stopped and resumed, must end with.
 */
export async function uploadWithReference(h: Harness, api: ReturnType<typeof importsApi>, customers: number, fileName: string, extraRows: string[][] = []) {
  const records = syntheticTransactions(customers);
  const straight = await runImport(h, records);
  const job = await api.upload(canonicalCsv(records, extraRows), fileName);
  return { straight, job };
}
