import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';

/** The columns of the canonical transactions layout (shared/data/README.md). */
export const CANONICAL_COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
/** Description and Country may be absent; without the others a row cannot become an order line. */
const REQUIRED: CanonicalColumn[] = ['InvoiceNo', 'StockCode', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID'];

export type SourceRow = Partial<Record<CanonicalColumn, string>>;

export interface SourceRecord {
  /** 1-based line in the file; the header is line 1. */
  line: number;
  row: SourceRow;
}

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

/** Canonical names for the header; unknown columns are kept under their own name and ignored later. */
export function mapHeader(header: string[], map: Map<string, CanonicalColumn>): string[] {
  const names = header.map((h) => {
    const name = h.replace(/^\uFEFF/, '').trim();
    return map.get(name) ?? name;
  });
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (missing.length) {
    throw new ImportInputError(
      `missing required column ${missing.map((m) => `"${m}"`).join(', ')} (the file has: ${header.join(', ')}); map yours with --map 'YourName=${missing[0]}'`,
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

/** Streams a CSV (gunzipped when the name ends in .gz) as canonical rows with their line numbers. */
export async function openCsv(file: string, map: Map<string, CanonicalColumn>): Promise<OpenedSource> {
  const totalBytes = (await stat(file)).size;
  let bytes = 0;
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  raw.on('data', (chunk) => (bytes += chunk.length));
  // Arrays, not objects with info: twice as fast on a large file. Line numbers count records after the header, so
  // they are the file's lines as long as no quoted field spans lines (the canonical layout has none); empty lines
  // are skipped but counted.
  const parser = parse({ relax_column_count: true, skip_empty_lines: false, trim: false });
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  input.on('error', (err: Error) => parser.destroy(err));
  // Parsing starts before anyone iterates: keep the error for the iterator rather than crash on an unhandled event.
  parser.on('error', () => undefined);
  input.pipe(parser);

  // The header is read and checked now, before the caller writes anything.
  const it = (parser as AsyncIterable<string[]>)[Symbol.asyncIterator]();
  const wrap = (err: unknown) => (err instanceof ImportInputError ? err : new ImportInputError(`${file}: ${(err as Error).message}`));
  let names: string[];
  try {
    const header = await it.next();
    if (header.done) throw new ImportInputError(`${file}: the file is empty`);
    names = mapHeader(header.value, map);
  } catch (err) {
    raw.destroy();
    throw wrap(err);
  }

  async function* records(): AsyncIterable<SourceRecord> {
    let line = 1;
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        const fields = next.value;
        line++;
        if (fields.length === 1 && fields[0] === '') continue;
        const row: SourceRow = {};
        for (let i = 0; i < names.length; i++) (row as Record<string, string>)[names[i]] = fields[i] ?? '';
        yield { line, row };
      }
    } catch (err) {
      throw wrap(err);
    } finally {
      raw.destroy();
    }
  }
  return { records: records(), bytesRead: () => bytes, totalBytes };
}
