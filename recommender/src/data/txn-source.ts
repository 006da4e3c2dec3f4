import type { Txn } from '../eval/types';

/**
 * Purchase history, from a transactions file or from the platform's database. Rows come out as `Txn`s but are not
 * cleaned yet (a guest line has customerId '', a cancellation keeps its `C…` invoice): cleaning is the harness's job.
 */
export interface TxnSource {
  /** For reports: the file path or a database description without credentials. */
  readonly label: string;
  /** False for files without StockCode (churn only); known once `rows()` has started. */
  hasProducts(): boolean;
  rows(): AsyncIterable<Txn>;
}

/** The canonical transactions layout (docs/eval/data.md). */
export const CANONICAL_COLUMNS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
export const REQUIRED_COLUMNS: readonly CanonicalColumn[] = ['InvoiceNo', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID'];

export class SourceError extends Error {}

/** Parses `--map 'Invoice=InvoiceNo,Customer ID=CustomerID'` into their-name → canonical-name. */
export function parseColumnMap(spec: string | undefined): Map<string, CanonicalColumn> {
  const map = new Map<string, CanonicalColumn>();
  if (!spec?.trim()) return map;
  for (const pair of spec.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.lastIndexOf('=');
    if (eq <= 0) throw new SourceError(`--map: "${pair.trim()}" is not TheirName=CanonicalName`);
    const theirs = pair.slice(0, eq).trim();
    const canonical = pair.slice(eq + 1).trim();
    if (!(CANONICAL_COLUMNS as readonly string[]).includes(canonical)) {
      throw new SourceError(`--map: "${canonical}" is not a canonical column (${CANONICAL_COLUMNS.join(', ')})`);
    }
    if ([...map.values()].includes(canonical as CanonicalColumn)) throw new SourceError(`--map: ${canonical} is mapped twice`);
    map.set(theirs, canonical as CanonicalColumn);
  }
  return map;
}

const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * A naive wall-clock time (`YYYY-MM-DD HH:MM[:SS]`, or the UCI workbook's `M/D/YYYY H:MM`) as if it were UTC, in ms;
 * NaN when unreadable.
 */
export function parseNaiveTime(text: string): number {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = US.exec(s);
  if (m) return Date.UTC(+m[3], +m[1] - 1, +m[2], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  return Number.NaN;
}

/** `2011-09-01` → ms at 00:00:00 of that naive date. */
export function parseCutoff(text: string): number {
  const t = parseNaiveTime(text);
  if (!Number.isFinite(t)) throw new SourceError(`cannot read the date "${text}" (use YYYY-MM-DD)`);
  return t;
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
