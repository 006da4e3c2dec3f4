import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import type { ImportJob } from './import-jobs';
import { CANONICAL_COLUMNS, type CanonicalColumn } from './source';

/**
 * What a caller without members:pii (an analyst) reads of an upload: the headers, the mapping and the counts, never a
 * customer's data. The importer knows no personal column of its own: its canonical columns hold the order (invoice,
 * product, quantity, date, price, country) and the retailer's customer id, which becomes a member identifier and is
 * hidden as identifiers are. A file's other columns (email, phone, names, birthday, anything) are ignored by the import
 * and may hold anything. So a value is shown only in a column read as order data, by the guess from its name and by the
 * mapping chosen at the start; customer ids and every other column are hidden, and so is any value shaped like an email
 * address, wherever it is. An empty value stays empty: it tells nothing about anyone.
 */
const ORDER_COLUMNS: ReadonlySet<CanonicalColumn> = new Set(CANONICAL_COLUMNS.filter((c) => c !== 'CustomerID'));
const EMAIL_LIKE = /[^\s@]@[^\s@]+\.[^\s@]/;
/** A hidden value in the rejected rows' CSV; in a job's sample it is null. */
export const HIDDEN_VALUE = '(hidden)';

const isHiddenValue = (value: string) => value !== '' && EMAIL_LIKE.test(value);

/** The job with every sample value a caller without members:pii may not read replaced by null. */
export function withoutPersonalData(job: ImportJob): ImportJob {
  const chosen = job.settings?.map ?? {};
  const isShown = (column: string) => {
    const guessed = Object.hasOwn(job.suggestedMap, column) ? job.suggestedMap[column] : undefined;
    const mapped = Object.hasOwn(chosen, column) ? chosen[column] : undefined;
    return guessed !== undefined && ORDER_COLUMNS.has(guessed) && (mapped === undefined || ORDER_COLUMNS.has(mapped));
  };
  const shown = job.columns.map(isShown);
  return {
    ...job,
    sample: job.sample.map((row) => row.map((value, i) => (value === '' || value === null ? value : shown[i] && !isHiddenValue(value) ? value : null))),
  };
}

/**
 * The rejected rows' CSV (line, reason, detail, then the canonical columns) with the customer id and any value shaped
 * like an email address replaced by HIDDEN_VALUE, row by row as it is read.
 */
export async function* rejectsWithoutPersonalData(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const parser = parse({ relax_column_count: true });
  const feeding = pipeline(Readable.from(chunks), parser);
  // Its failure reaches the loop below through the parser, which it destroys.
  feeding.catch(() => undefined);
  let hiddenColumns: ReadonlySet<number> | null = null;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!hiddenColumns) {
        hiddenColumns = new Set(record.flatMap((name, i) => (name === 'CustomerID' ? [i] : [])));
        yield stringify([record]);
        continue;
      }
      const hidden = hiddenColumns;
      yield stringify([record.map((value, i) => (value !== '' && (hidden.has(i) || isHiddenValue(value)) ? HIDDEN_VALUE : value))]);
    }
  } finally {
    parser.destroy();
  }
  await feeding;
}
