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
