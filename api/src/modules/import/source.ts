import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse/sync';

/** The columns of the canonical transactions layout (docs/eval/data.md). */
export const CANONICAL_COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
/** Description and Country may be absent; without the others a row cannot become an order line. */
export const REQUIRED_COLUMNS: CanonicalColumn[] = ['InvoiceNo', 'StockCode', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID'];
/** Far above any real row (its stored fields are at most 100 + 64 + 200 + 254 characters); longer lines are rejected unread. */
export const MAX_LINE_BYTES = 64 * 1024;

export type SourceRow = Partial<Record<CanonicalColumn, string>>;

export interface SourceRecord {
  /** 1-based line in the file; the header is line 1. */
  line: number;
  row: SourceRow;
  /** Set when the line could not be read as a row (its `row` is then empty): why. */
  unreadable?: UnreadableLine;
}

export const UnreadableLine = {
  BAD_CSV: 'line is not valid CSV',
  TOO_LONG: `line longer than ${MAX_LINE_BYTES.toLocaleString('en-GB')} bytes`,
} as const;
export type UnreadableLine = (typeof UnreadableLine)[keyof typeof UnreadableLine];

/** A problem with the input as a whole, reported as one line and exit code 1. */
export class ImportInputError extends Error {}

/** `'Invoice=InvoiceNo,Price=UnitPrice'` → file column name → canonical name. */
export function parseColumnMap(spec: string | undefined): Map<string, CanonicalColumn> {
  const map = new Map<string, CanonicalColumn>();
  if (!spec) return map;
  for (const pair of spec.split(',')) {
    const eq = pair.indexOf('=');
    const from = pair.slice(0, eq).trim();
    const to = pair.slice(eq + 1).trim() as CanonicalColumn;
    if (eq < 1 || !from) throw new ImportInputError(`--map: "${pair}" is not of the form FileColumn=CanonicalColumn`);
    if (!CANONICAL_COLUMNS.includes(to)) throw new ImportInputError(`--map: "${to}" is not a canonical column (${CANONICAL_COLUMNS.join(', ')})`);
    map.set(from, to);
  }
  return map;
}

/** Names a file may give each canonical column, compared without case, spaces or punctuation. */
const COLUMN_NAMES: Record<CanonicalColumn, string[]> = {
  InvoiceNo: ['invoiceno', 'invoice', 'invoicenumber', 'invoiceid', 'orderid', 'orderno', 'ordernumber', 'order', 'receipt', 'receiptno'],
  StockCode: ['stockcode', 'sku', 'productcode', 'productid', 'itemcode', 'code'],
  Description: ['description', 'product', 'productname', 'item', 'itemname', 'name'],
  Quantity: ['quantity', 'qty', 'units'],
  InvoiceDate: ['invoicedate', 'date', 'orderdate', 'datetime', 'timestamp', 'placedat'],
  UnitPrice: ['unitprice', 'price', 'itemprice'],
  CustomerID: ['customerid', 'customer', 'customerno', 'customernumber', 'clientid', 'memberid'],
  Country: ['country', 'countryname'],
};

/** A first guess at a file's mapping (file column → canonical column) from its header's names; each column used once. */
export function suggestColumnMap(header: string[]): Record<string, CanonicalColumn> {
  const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const map: Record<string, CanonicalColumn> = {};
  for (const canonical of CANONICAL_COLUMNS) {
    const found = header.find((h) => !(h in map) && COLUMN_NAMES[canonical].includes(key(h)));
    if (found) map[found] = canonical;
  }
  return map;
}

/** Canonical names for the header; unknown columns are kept under their own name and ignored later. */
export function mapHeader(header: string[], map: Map<string, CanonicalColumn>): string[] {
  return checkedHeader(header, map, (missing) => `map yours with --map 'YourName=${missing[0]}'`);
}

/** Canonical names for the header, or ImportInputError naming the required columns that are missing, then `advice`. */
export function checkedHeader(header: string[], map: Map<string, CanonicalColumn>, advice: (missing: CanonicalColumn[]) => string): string[] {
  const names = header.map((h) => {
    const name = h.replace(/^\uFEFF/, '').trim();
    return map.get(name) ?? name;
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) {
    throw new ImportInputError(
      `missing required column ${missing.map((m) => `"${m}"`).join(', ')} (the file has: ${header.join(', ')}); ${advice(missing)}`,
    );
  }
  return names;
}

export interface OpenedSource {
  records: AsyncIterable<SourceRecord>;
  /** File bytes consumed so far (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  totalBytes: number;
}

/**
 * Streams a CSV (gunzipped when the name ends in .gz) as canonical rows with their line numbers.
 *
 * One line is one row: a line that is not valid CSV (a stray or unclosed quote), or is longer than MAX_LINE_BYTES, is
 * reported as unreadable and the next line is read as usual, where a CSV stream parser would lose the rest of the file
 * or stop. So a quoted field cannot span lines (the canonical layout has none), and line numbers are exact.
 */
export async function openCsv(file: string, map: Map<string, CanonicalColumn>): Promise<OpenedSource> {
  const totalBytes = (await stat(file)).size;
  let bytes = 0;
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  raw.on('data', (chunk) => (bytes += chunk.length));
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  // pipe() does not pass on a read error: the reader of the gunzip stream would wait for ever.
  if (input !== raw) raw.on('error', (err) => input.destroy(err));
  const wrap = (err: unknown) => (err instanceof ImportInputError ? err : new ImportInputError(`${file}: ${(err as Error).message}`));
  const lines = linesOf(input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();

  // The header is read and checked now, before the caller writes anything.
  let names: string[];
  let pending: (string | null)[];
  try {
    const first = await lines.next();
    const header = first.done ? undefined : first.value[0];
    if (header === undefined) throw new ImportInputError(`${file}: the file is empty`);
    const fields = header === null ? null : fieldsOf(header);
    if (!fields) throw new ImportInputError(`${file}: the header line cannot be read (not valid CSV, or longer than ${MAX_LINE_BYTES} bytes)`);
    names = mapHeader(fields, map);
    pending = first.done ? [] : first.value.slice(1);
  } catch (err) {
    raw.destroy();
    throw wrap(err);
  }

  async function* records(): AsyncIterable<SourceRecord> {
    let line = 1;
    try {
      for (let chunk = pending; ; ) {
        for (const text of chunk) {
          line++;
          if (text === '') continue;
          const fields = text === null ? null : fieldsOf(text);
          const row: SourceRow = {};
          if (fields) for (let i = 0; i < names.length; i++) (row as Record<string, string>)[names[i]] = fields[i] ?? '';
          yield fields ? { line, row } : { line, row, unreadable: text === null ? UnreadableLine.TOO_LONG : UnreadableLine.BAD_CSV };
        }
        const next = await lines.next();
        if (next.done) break;
        chunk = next.value;
      }
    } catch (err) {
      throw wrap(err);
    } finally {
      raw.destroy();
    }
  }
  return { records: records(), bytesRead: () => bytes, totalBytes };
}

/**
 * The header and the first `rows` rows of a CSV (gunzipped when `isGzip`), each as the file's own fields, unmapped:
 * what an admin needs to map the file's columns. Null for a header that cannot be read.
 */
export async function readHead(file: string, isGzip: boolean, rows: number): Promise<{ header: string[]; rows: string[][] } | null> {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const input = isGzip ? raw.pipe(createGunzip()) : raw;
  if (input !== raw) raw.on('error', (err) => input.destroy(err));
  const texts: (string | null)[] = [];
  try {
    for await (const chunk of linesOf(input as AsyncIterable<Buffer>)) {
      texts.push(...chunk);
      if (texts.length > rows) break;
    }
  } catch (err) {
    throw new ImportInputError(`the file cannot be read: ${(err as Error).message}`);
  } finally {
    raw.destroy();
  }
  const [headerText, ...rest] = texts;
  const header = headerText == null ? null : fieldsOf(headerText);
  if (!header) return null;
  return {
    header: header.map((h) => h.replace(/^\uFEFF/, '').trim()),
    rows: rest
      .filter((t): t is string => t !== null && t !== '')
      .slice(0, rows)
      .map((t) => fieldsOf(t) ?? []),
  };
}

/** One line's fields; quoted lines (rare) go through the CSV parser, null when they are not valid CSV. */
function fieldsOf(text: string): string[] | null {
  if (!text.includes('"')) return text.split(',');
  try {
    const [fields] = parse(text, { relax_column_count: true, trim: false }) as string[][];
    return fields ?? [''];
  } catch {
    return null;
  }
}

/**
 * The lines of a byte stream, a chunk's worth at a time, each decoded from UTF-8 on its own (an invalid byte becomes
 * U+FFFD in its line only), without the line break; null for a line longer than MAX_LINE_BYTES, which is skipped
 * without being held. readline and split2 either hold such a line whole or drop it without a trace.
 */
async function* linesOf(input: AsyncIterable<Buffer>): AsyncIterable<(string | null)[]> {
  let carried: Buffer[] = [];
  let carriedBytes = 0;
  let isTooLong = false;
  const text = (parts: Buffer[]) => {
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const end = buf.length > 0 && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
    return buf.toString('utf8', 0, end);
  };
  for await (const chunk of input) {
    const out: (string | null)[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (isTooLong || carriedBytes + nl - start > MAX_LINE_BYTES) out.push(null);
      else out.push(text(carriedBytes ? [...carried, chunk.subarray(start, nl)] : [chunk.subarray(start, nl)]));
      carried = [];
      carriedBytes = 0;
      isTooLong = false;
      start = nl + 1;
    }
    if (start < chunk.length && !isTooLong) {
      carried.push(chunk.subarray(start));
      carriedBytes += chunk.length - start;
      if (carriedBytes > MAX_LINE_BYTES) {
        isTooLong = true;
        carried = [];
        carriedBytes = 0;
      }
    }
    if (out.length) yield out;
  }
  if (isTooLong) yield [null];
  else if (carriedBytes) yield [text(carried)];
}
