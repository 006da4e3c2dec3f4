import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { Txn } from '../eval/types';
import {
  CANONICAL_COLUMNS,
  type CanonicalColumn,
  parseNaiveTime,
  REQUIRED_COLUMNS,
  SourceError,
  type TxnSource,
} from './txn-source';

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Column positions of one file's header after `--map`; a canonical name missing from the file is -1. */
export function resolveHeader(header: string[], map: Map<string, CanonicalColumn>): Record<CanonicalColumn, number> {
  const positions = Object.fromEntries(CANONICAL_COLUMNS.map((c) => [c, -1])) as Record<CanonicalColumn, number>;
  const names = header.map((raw) => raw.replace(/^\uFEFF/, '').trim());
  // Mapped columns first, so that `--map 'Invoice=InvoiceNo'` wins over a column literally called InvoiceNo.
  names.forEach((name, i) => {
    const canonical = map.get(name);
    if (canonical && positions[canonical] === -1) positions[canonical] = i;
  });
  names.forEach((name, i) => {
    const canonical = CANONICAL_COLUMNS.find((c) => c === name);
    if (canonical && !map.has(name) && positions[canonical] === -1) positions[canonical] = i;
  });
  for (const [theirs, canonical] of map) {
    if (positions[canonical] === -1) throw new SourceError(`--map: the file has no column "${theirs}" (header: ${header.join(', ')})`);
  }
  const missing = REQUIRED_COLUMNS.filter((c) => positions[c] === -1);
  if (missing.length) {
    throw new SourceError(
      `missing column(s) ${missing.join(', ')} (header: ${header.join(', ')}); map them with --map 'TheirName=CanonicalName,...'`,
    );
  }
  return positions;
}

/** A transactions CSV (optionally gzip) in the canonical layout, or mapped onto it with `--map`; streamed. */
export class FileTxnSource implements TxnSource {
  private products: boolean | undefined;

  constructor(
    readonly path: string,
    private readonly map: Map<string, CanonicalColumn> = new Map(),
  ) {}

  get label(): string {
    return this.path;
  }

  hasProducts(): boolean {
    if (this.products === undefined) throw new Error('hasProducts() is known once rows() has read the header');
    return this.products;
  }

  async *rows(): AsyncIterable<Txn> {
    const raw = createReadStream(this.path);
    const input = (await isGzip(this.path)) ? raw.pipe(createGunzip()) : raw;
    const parser = input.pipe(parse({ relax_column_count: true, skip_empty_lines: true, bom: true }));
    let pos: Record<CanonicalColumn, number> | undefined;
    const cell = (r: string[], c: CanonicalColumn) => (pos![c] >= 0 ? (r[pos![c]] ?? '') : '');
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!pos) {
        pos = resolveHeader(record, this.map);
        this.products = pos.StockCode >= 0;
        continue;
      }
      const stock = this.products ? cell(record, 'StockCode').trim().toUpperCase() : null;
      const description = cell(record, 'Description').trim();
      const country = cell(record, 'Country').trim();
      yield {
        invoice: cell(record, 'InvoiceNo').trim().toUpperCase(),
        stockCode: stock,
        description: description || null,
        quantity: Number(cell(record, 'Quantity')),
        time: parseNaiveTime(cell(record, 'InvoiceDate')),
        unitPrice: Number(cell(record, 'UnitPrice')),
        customerId: normaliseCustomerId(cell(record, 'CustomerID')),
        country: country || null,
      };
    }
    if (!pos) throw new SourceError(`${this.path} is empty`);
  }
}

/** `12346.0` (a spreadsheet's float) and `12346` are one customer. */
function normaliseCustomerId(text: string): string {
  const s = text.trim();
  return /^\d+\.0+$/.test(s) ? s.slice(0, s.indexOf('.')) : s;
}
