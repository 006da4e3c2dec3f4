import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCsv, type SourceRecord } from '../../modules/import/source';
import { parseInvoiceDate } from '../../modules/import/rows';
import { DAY_MS } from '../../base/time';

/**
 * The demo's slice of UCI Online Retail (CC BY 4.0), kept in the repository with its attribution and how it was cut:
 * data/demo/README.md. The same path from api/src (tests) and api/dist (npm start).
 */
export const DEMO_SLICE = path.resolve(__dirname, '..', '..', '..', '..', 'data', 'demo', 'online-retail-slice.csv.gz');

export interface DemoHistory {
  /** The rows in file order, each with its unshifted time. */
  rows: { record: SourceRecord; at: number }[];
  /** Added to every date so that the newest order was placed a day or two ago (whole days: times of day stay). */
  shiftMs: number;
  /** The newest invoice's time after the shift. */
  newestAt: Date;
  customers: number;
}

export interface DemoHistoryOptions {
  /**
   * Only the first this-many customers of the file, with all their rows (and every guest invoice): the seed's code
   * path on less data, for tests.
   */
  customers?: number;
}

/** Reads the slice and works out the shift that brings its newest order to the recent past. */
export async function readDemoHistory(now = new Date(), file = DEMO_SLICE, options: DemoHistoryOptions = {}): Promise<DemoHistory> {
  if (!existsSync(file)) throw new Error(`the demo's transactions file is missing: ${file} (it is part of the repository; see data/demo/README.md)`);
  const kept = new Set<string>();
  const rows: DemoHistory['rows'] = [];
  let newest = -Infinity;
  for await (const record of (await openCsv(file, new Map())).records) {
    const at = parseInvoiceDate(record.row.InvoiceDate ?? '')?.getTime();
    if (at === undefined) continue;
    const customer = (record.row.CustomerID ?? '').trim();
    if (customer && !kept.has(customer)) {
      if (options.customers !== undefined && kept.size >= options.customers) continue;
      kept.add(customer);
    }
    rows.push({ record, at });
    if (at > newest) newest = at;
  }
  if (rows.length === 0) throw new Error(`${file} has no rows`);
  const yesterday = now.getTime() - DAY_MS;
  const shiftMs = Math.floor((yesterday - newest) / DAY_MS) * DAY_MS;
  return { rows, shiftMs, newestAt: new Date(newest + shiftMs), customers: kept.size };
}

/** The rows placed (after the shift) before `at`, or from `at` on; an invoice's rows share one time, so none is cut in two. */
export function rowsBefore(history: DemoHistory, at: Date): SourceRecord[] {
  return history.rows.filter((r) => r.at + history.shiftMs < at.getTime()).map((r) => r.record);
}

export function rowsFrom(history: DemoHistory, at: Date): SourceRecord[] {
  return history.rows.filter((r) => r.at + history.shiftMs >= at.getTime()).map((r) => r.record);
}
