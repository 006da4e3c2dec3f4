import { SalesChannelKind } from '../fixtures/build';
import type { Harness } from './harness';
import { TransactionImporter, type ImportOptions, type ImportRows, type Reject } from '../../api/src/modules/import/importer';
import { openCsv, parseColumnMap, type SourceRecord } from '../../api/src/modules/import/source';
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
