import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isCurrency } from '../../base/currency';
import { SalesChannelKind } from '../../base/enums';
import { AppError, type FieldProblem } from '../../base/errors';
import { isUuid, newId } from '../../base/ids';
import type { Logger } from '../../base/logger';
import { TransactionImporter, type ImporterServices, type ImportSummary } from './importer';
import { openRejects } from './rejects';
import { CANONICAL_COLUMNS, checkedHeader, ImportInputError, openCsv, readHead, suggestColumnMap, type CanonicalColumn, type OpenedSource } from './source';

/** UPLOADED: mapped and started next; RUNNING; INTERRUPTED: stopped, or its process ended, and resumable; FAILED: resumable once fixed. */
export type ImportState = 'UPLOADED' | 'RUNNING' | 'INTERRUPTED' | 'FAILED' | 'DONE';

/** How to read the file and where its orders go; fixed at the first start, so a resume skips what is stored. */
export interface ImportSettings {
  /** File column → canonical column, as `npm run import -- --map`. */
  map: Record<string, CanonicalColumn>;
  channelName: string;
  channelKind: SalesChannelKind;
  currency: string;
  /** Invoices per transaction; the result does not depend on it. */
  batchInvoices: number;
}

/** An uploaded file and its import, as the admin app reads it. */
export interface ImportJob {
  id: string;
  fileName: string;
  isGzip: boolean;
  totalBytes: number;
  uploadedAt: string;
  /** admin:<id> */
  uploadedBy: string;
  /** The file's header, unmapped, and its first rows: what the column mapping is chosen from. */
  columns: string[];
  sample: string[][];
  /** A first guess at the mapping, from the columns' names. */
  suggestedMap: Record<string, CanonicalColumn>;
  state: ImportState;
  settings: ImportSettings | null;
  /** The file is read twice: `scan` finds invoices whose lines are apart, `import` writes. */
  phase: 'scan' | 'import' | null;
  /** Of the file (compressed bytes for gzip), in the current phase: the progress bar while scanning. */
  bytesRead: number;
  /** Rows in the file, known once the scan has read it: the progress bar while importing. */
  totalRows: number | null;
  rowsRead: number;
  rejectedRows: number;
  batches: number;
  /** How many times it was started (a resume is another run). */
  runs: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** The last run's totals, once it ended. */
  summary: ImportSummary | null;
  error: string | null;
}

const SAMPLE_ROWS = 5;
const LISTED = 20;
const PERSIST_EVERY_MS = 500;
const MAX_FILE_NAME = 200;
const DEFAULT_BATCH = 500;
const MAX_BATCH = 5000;

interface Running {
  job: ImportJob;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Transaction files uploaded from the admin app and imported in the background by the API process, with the CLI's
 * importer (TransactionImporter). Each job is a folder's worth of files under `dir`: the upload, its status (JSON,
 * written as it runs) and its rejects (CSV). A job is run by the process it was uploaded to, one at a time; a job left
 * RUNNING by a process that stopped reads as INTERRUPTED, and a resume re-reads the file, skipping invoices already
 * stored, so it adds nothing twice.
 */
/**
 * Writes whole files through a temporary one and a rename, so a reader never sees half of one, and the writes to one
 * file in the order they were asked for: the last asked is the one left, and two writes never share a temporary file
 * (an import's progress timer can fire while its last status is being written).
 */
export class OrderedFileWriter {
  private readonly pending = new Map<string, Promise<void>>();

  write(target: string, text: string): Promise<void> {
    const write = (this.pending.get(target) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const temp = `${target}.${process.pid}.tmp`;
        await writeFile(temp, text, { mode: 0o600 });
        await rename(temp, target);
      });
    this.pending.set(target, write);
    const forget = () => {
      if (this.pending.get(target) === write) this.pending.delete(target);
    };
    write.then(forget, forget);
    return write;
  }
}

export class ImportJobs {
  private readonly running = new Map<string, Running>();
  private readonly statusWriter = new OrderedFileWriter();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly services: ImporterServices,
    private readonly log: Logger,
  ) {}

  /** Stores the body as a new job, after checking that its header can be read; nothing is imported yet. */
  async upload(body: Readable, fileName: string, uploadedBy: string, declaredBytes?: number): Promise<ImportJob> {
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw tooLarge(this.maxBytes);
    const name = fileName.trim().slice(0, MAX_FILE_NAME) || 'upload.csv';
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = newId();
    const part = path.join(this.dir, `${id}.part`);
    let bytes = 0;
    let isGzip = false;
    const limit = this.maxBytes;
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            done(bytes > limit ? tooLarge(limit) : null, chunk);
          },
        }),
        createWriteStream(part, { mode: 0o600 }),
      );
      isGzip = await startsWithGzipMagic(part);
      await rename(part, this.filePath(id, isGzip));
      const head = await readHead(this.filePath(id, isGzip), isGzip, SAMPLE_ROWS).catch((err: unknown) => {
        throw err instanceof ImportInputError ? badInput('file', err.message) : err;
      });
      if (!head || head.header.every((h) => h === '')) throw badInput('file', 'is empty, or its first line is not a CSV header');
      const job: ImportJob = {
        id,
        fileName: name,
        isGzip,
        totalBytes: bytes,
        uploadedAt: new Date().toISOString(),
        uploadedBy,
        columns: head.header,
        sample: head.rows,
        suggestedMap: suggestColumnMap(head.header),
        state: 'UPLOADED',
        settings: null,
        phase: null,
        bytesRead: 0,
        totalRows: null,
        rowsRead: 0,
        rejectedRows: 0,
        batches: 0,
        runs: 0,
        startedAt: null,
        finishedAt: null,
        summary: null,
        error: null,
      };
      await this.persist(job);
      this.log.info({ importId: id, bytes, isGzip, uploadedBy }, 'import.uploaded');
      return job;
    } catch (err) {
      await rm(part, { force: true });
      await rm(this.filePath(id, isGzip), { force: true });
      throw err;
    }
  }

  /** Newest first. */
  async list(): Promise<ImportJob[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter(isUuid);
    const jobs = await Promise.all(ids.sort().reverse().slice(0, LISTED).map((id) => this.find(id)));
    return jobs.filter((j): j is ImportJob => j !== null);
  }

  async get(id: string): Promise<ImportJob> {
    const job = await this.find(id);
    if (!job) throw AppError.notFound('Import', id);
    return job;
  }

  /** Checks the settings against the file's header, then imports in the background; the job answers at once, RUNNING. */
  async start(em: EntityManager, id: string, input: unknown): Promise<ImportJob> {
    const job = await this.get(id);
    if (job.state !== 'UPLOADED') throw stateConflict(job, 'Only an uploaded file is started; resume an interrupted one');
    job.settings = checkSettings(input, job.columns);
    return this.launch(em, job);
  }

  /** Runs again with the settings of the first start: invoices already stored are skipped. */
  async resume(em: EntityManager, id: string): Promise<ImportJob> {
    const job = await this.get(id);
    if ((job.state !== 'INTERRUPTED' && job.state !== 'FAILED') || !job.settings) throw stateConflict(job, 'Only an interrupted or failed import is resumed');
    return this.launch(em, job);
  }

  /** Stops after the batch in flight commits; the job ends INTERRUPTED. */
  async stop(id: string): Promise<ImportJob> {
    const run = this.running.get(id);
    if (!run) throw stateConflict(await this.get(id), 'Only a running import is stopped');
    run.controller.abort();
    await run.done;
    return this.get(id);
  }

  /** The last run's rejected rows (line, reason, detail, then the canonical columns), or NOT_FOUND before any run. */
  async rejects(id: string): Promise<{ path: string; downloadName: string }> {
    const job = await this.get(id);
    const file = this.rejectsPath(id);
    if (job.runs === 0 || !(await stat(file).catch(() => null))) throw AppError.notFound('ImportRejects', id);
    return { path: file, downloadName: `${job.fileName.replace(/(\.csv)?(\.gz)?$/i, '')}.rejects.csv` };
  }

  /** Stops every running import of this process and waits for their status to be written (the API's shutdown). */
  async close(): Promise<void> {
    for (const run of this.running.values()) run.controller.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async launch(em: EntityManager, job: ImportJob): Promise<ImportJob> {
    // One import at a time: each batch is a heavy transaction, and two at once would contend for the same members.
    const other = [...this.running.values()][0];
    if (other) throw AppError.conflict('IMPORT_RUNNING', 'Another import is running; start this one when it ends', { importId: other.job.id });
    Object.assign(job, {
      state: 'RUNNING',
      runs: job.runs + 1,
      phase: 'scan',
      bytesRead: 0,
      totalRows: null,
      rowsRead: 0,
      rejectedRows: 0,
      batches: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      summary: null,
      error: null,
    } satisfies Partial<ImportJob>);
    await this.persist(job);
    const controller = new AbortController();
    const done = this.run(em, job, controller.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { job, controller, done });
    return { ...job };
  }

  private async run(em: EntityManager, job: ImportJob, signal: AbortSignal): Promise<void> {
    const settings = job.settings!;
    const map = new Map(Object.entries(settings.map));
    const file = this.filePath(job.id, job.isGzip);
    const log = this.log.child({ importId: job.id });
    let current: OpenedSource | null = null;
    const rows = async (pass: 'scan' | 'import') => {
      job.phase = pass;
      current = await openCsv(file, map);
      const source = current;
      // The scan counts the rows, so the import's progress can be told in rows (bytes run ahead of rows in a small gzip).
      if (pass === 'scan') job.totalRows = 0;
      return (async function* () {
        for await (const record of source.records) {
          if (pass === 'scan') job.totalRows!++;
          else job.rowsRead++;
          yield record;
        }
      })();
    };
    const rejects = openRejects(this.rejectsPath(job.id));
    const timer = setInterval(() => {
      job.bytesRead = current?.bytesRead() ?? 0;
      void this.persist(job).catch((err: unknown) => log.warn({ err }, 'import.status_not_written'));
    }, PERSIST_EVERY_MS);
    try {
      const summary = await new TransactionImporter(em, this.services, log).run(rows, {
        channelName: settings.channelName,
        channelKind: settings.channelKind,
        currency: settings.currency,
        batchInvoices: settings.batchInvoices,
        onReject: (r) => {
          rejects.write(r);
          job.rejectedRows++;
        },
        onBatch: (p) => {
          job.batches = p.batches;
        },
        signal,
      });
      job.summary = summary;
      job.rowsRead = summary.rowsRead;
      job.state = summary.isComplete ? 'DONE' : 'INTERRUPTED';
      log.info({ ...summary, phaseMs: undefined }, summary.isComplete ? 'import.finished' : 'import.interrupted');
    } catch (err) {
      job.state = 'FAILED';
      // An AppError (EARNING_FAILED, a dependency down) says what to fix; anything else is logged with its detail.
      job.error = err instanceof AppError || err instanceof ImportInputError ? err.message : 'An unexpected error stopped the import; it is logged. Resume once it is fixed.';
      log.error({ err }, 'import.failed');
    } finally {
      clearInterval(timer);
      await rejects.close().catch((err: unknown) => log.warn({ err }, 'import.rejects_not_written'));
      job.bytesRead = (current as OpenedSource | null)?.bytesRead() ?? job.bytesRead;
      job.phase = null;
      job.finishedAt = new Date().toISOString();
      await this.persist(job);
    }
  }

  private async find(id: string): Promise<ImportJob | null> {
    if (!isUuid(id)) return null;
    const running = this.running.get(id);
    if (running) return { ...running.job };
    const text = await readFile(this.statusPath(id), 'utf8').catch(() => null);
    if (text === null) return null;
    const job = JSON.parse(text) as ImportJob;
    // RUNNING on disk but not here: the process that ran it stopped mid-way.
    if (job.state === 'RUNNING') return { ...job, state: 'INTERRUPTED', phase: null, error: 'The API process stopped during the import' };
    return job;
  }

  /** The job as it is now, written whole (never half a status) after any earlier write of it. */
  private persist(job: ImportJob): Promise<void> {
    return this.statusWriter.write(this.statusPath(job.id), JSON.stringify(job));
  }

  /** openCsv gunzips by the name's ending. */
  private filePath = (id: string, isGzip: boolean) => path.join(this.dir, `${id}.csv${isGzip ? '.gz' : ''}`);
  private statusPath = (id: string) => path.join(this.dir, `${id}.json`);
  private rejectsPath = (id: string) => path.join(this.dir, `${id}.rejects.csv`);
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

const badInput = (path: string, message: string) => AppError.badInput([{ path, message }]);

const tooLarge = (limitBytes: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${limitBytes} bytes`, { limitBytes, http: { status: 413 } });

const stateConflict = (job: ImportJob, message: string) => AppError.conflict('IMPORT_STATE', message, { state: job.state });

const CHANNEL_KINDS: readonly SalesChannelKind[] = Object.values(SalesChannelKind).filter((k) => k !== SalesChannelKind.ADMIN);

/** The start request's settings, each problem reported against its field (BAD_USER_INPUT). */
function checkSettings(input: unknown, columns: string[]): ImportSettings {
  const given = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const map: Record<string, CanonicalColumn> = {};
  if (given.map !== undefined && (typeof given.map !== 'object' || given.map === null || Array.isArray(given.map))) {
    problems.push({ path: 'map', message: 'must be an object of file column → canonical column' });
  } else {
    const used = new Set<string>();
    for (const [from, to] of Object.entries((given.map ?? {}) as Record<string, unknown>)) {
      if (!columns.includes(from)) problems.push({ path: `map.${from}`, message: 'is not a column of the file' });
      else if (typeof to !== 'string' || !(CANONICAL_COLUMNS as readonly string[]).includes(to)) {
        problems.push({ path: `map.${from}`, message: `must be one of ${CANONICAL_COLUMNS.join(', ')}` });
      } else if (used.has(to)) problems.push({ path: `map.${from}`, message: `${to} is mapped from two columns` });
      else {
        used.add(to);
        map[from] = to as CanonicalColumn;
      }
    }
  }
  if (!problems.length) {
    try {
      checkedHeader(columns, new Map(Object.entries(map)), () => 'map a column of the file to each');
    } catch (err) {
      if (!(err instanceof ImportInputError)) throw err;
      problems.push({ path: 'map', message: err.message });
    }
  }
  const channelName = typeof given.channelName === 'string' ? given.channelName.trim() : '';
  if (channelName.length < 1 || channelName.length > 100) problems.push({ path: 'channelName', message: 'must be 1 to 100 characters' });
  const channelKind = given.channelKind as SalesChannelKind;
  if (!CHANNEL_KINDS.includes(channelKind)) problems.push({ path: 'channelKind', message: `must be one of ${CHANNEL_KINDS.join(', ')}` });
  const currency = typeof given.currency === 'string' ? given.currency.trim().toUpperCase() : '';
  if (!isCurrency(currency)) problems.push({ path: 'currency', message: 'must be an ISO 4217 currency code such as GBP' });
  const batchInvoices = given.batchInvoices === undefined ? DEFAULT_BATCH : given.batchInvoices;
  if (!Number.isInteger(batchInvoices) || (batchInvoices as number) < 1 || (batchInvoices as number) > MAX_BATCH) {
    problems.push({ path: 'batchInvoices', message: `must be a whole number from 1 to ${MAX_BATCH}` });
  }
  if (problems.length) throw AppError.badInput(problems);
  return { map, channelName, channelKind, currency, batchInvoices: batchInvoices as number };
}
