import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { CANONICAL_COLUMNS } from './source';
import type { Reject } from './importer';

export interface RejectsFile {
  write(reject: Reject): void;
  close(): Promise<void>;
}

/** CSV of rejected rows: the 1-based file line, the reason, a detail, then the row's canonical columns. */
export function openRejects(path: string): RejectsFile {
  const out = createWriteStream(path);
  const csv = stringify({ header: true, columns: ['line', 'reason', 'detail', ...CANONICAL_COLUMNS] });
  csv.pipe(out);
  return {
    write: (r) => csv.write({ line: r.line, reason: r.reason, detail: r.detail ?? '', ...r.row }),
    async close() {
      csv.end();
      await once(out, 'finish');
    },
  };
}
