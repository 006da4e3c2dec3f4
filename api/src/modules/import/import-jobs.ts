import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { isCurrency } from '../../base/currency';
import { SalesChannelKind } from '../../base/enums';
import { AppError, type FieldProblem } from '../../base/errors';
import { isUuid, newId } from '../../base/ids';
import { textProblem, textProblemMessages } from '../../base/text';
import type { Logger } from '../../base/logger';
import { sessionLockHeld, withSessionLock } from '../../base/session-lock';
import { TransactionImporter, type ImporterServices, type ImportSummary } from './importer';
import { openRejects } from './rejects';
import { CANONICAL_COLUMNS, checkedHeader, ImportInputError, openCsv, readHead, suggestColumnMap, type CanonicalColumn, type OpenedSource } from './source';

/**
 * UPLOADED: mapped and started next; QUEUED: started (or resumed) through a process that does not run imports, waiting
 * for one that does; RUNNING; INTERRUPTED: stopped, or its process ended, and resumable; FAILED: resumable once fixed.
 */
export type ImportState = 'UPLOADED' | 'QUEUED' | 'RUNNING' | 'INTERRUPTED' | 'FAILED' | 'DONE';

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
  /**
   * The file's header, unmapped, and its first rows: what the column mapping is chosen from. A value is null where the
   * caller may not read personal data and the column may hold some (personal-data.ts).
   */
  columns: string[];
  sample: (string | null)[][];
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
  /** RUNNING and asked to stop, from any process: it ends INTERRUPTED once the batch in flight commits. */
  stopRequested: boolean;
  /** When it was last queued for a process that runs imports (IMPORT_RUNNER); null if it never was. */
  queuedAt: string | null;
}

const SAMPLE_ROWS = 5;
const LISTED = 20;
const PERSIST_EVERY_MS = 500;
const MAX_FILE_NAME = 200;
const DEFAULT_BATCH = 500;
const MAX_BATCH = 5000;
/** Pieces the upload and the rejects are stored in (import_blob_chunk). */
const CHUNK_BYTES = 1024 * 1024;
/** The session lock every run holds: one import at a time across every API process on the database. */
const IMPORT_LOCK = 'import.run';
/**
 * How long a stop waits for the batch in flight to commit before answering RUNNING with `stopRequested` (the page polls
 * on): a batch can take minutes, longer than a proxy keeps a request open.
 */
const STOP_WAIT_MS = 5_000;
const STOPPED_MIDWAY = 'The API process stopped during the import';
/** Tries at taking the import lock while only a delete or a sweep holds it, 100 ms apart. */
const LOCK_ATTEMPTS = 5;

type BlobKind = 'file' | 'rejects';

interface Running {
  job: ImportJob;
  controller: AbortController;
  done: Promise<void>;
}

interface JobRow {
  id: string;
  state: ImportState;
  stop_requested: boolean;
  job: ImportJob;
}

/**
 * Transaction files uploaded from the admin app and imported in the background by an API process, with the CLI's
 * importer (TransactionImporter). A job's status (`import_job`), its file and its last run's rejects
 * (`import_blob_chunk`) are in the database, so any API replica lists, reads, starts, stops and resumes any import.
 * One import runs at a time across every process: a run holds the session lock `import.run`, which PostgreSQL drops
 * with its connection, so a job left RUNNING without the lock held reads as INTERRUPTED, and a resume re-reads the
 * file, skipping invoices already stored, so it adds nothing twice. `dir` holds only working copies: an upload while
 * it is checked, the file a run reads and its rejects until the run ends.
 */
export class ImportJobs {
  private readonly running = new Map<string, Running>();
  private readonly statusWrites = new SerialWrites();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly services: ImporterServices,
    private readonly log: Logger,
    /** IMPORT_RUNNER: false queues the imports started here for a process that runs them (pickUp). */
    private readonly options: { runsImports: boolean } = { runsImports: true },
  ) {}

  /** Stores the body as a new job, after checking that its header can be read; nothing is imported yet. */
  async upload(em: EntityManager, body: Readable, fileName: string, uploadedBy: string, declaredBytes?: number): Promise<ImportJob> {
    const nameProblem = textProblem(fileName);
    if (nameProblem) throw badInput('fileName', textProblemMessages[nameProblem]);
    if (declaredBytes !== undefined && declaredBytes > this.maxBytes) throw tooLarge(this.maxBytes);
    const name = fileName.trim().slice(0, MAX_FILE_NAME) || 'upload.csv';
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = newId();
    const spool = this.workPath(id, 'upload');
    let bytes = 0;
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
        createWriteStream(spool, { mode: 0o600 }),
      );
      const isGzip = await startsWithGzipMagic(spool);
      const head = await readHead(spool, isGzip, SAMPLE_ROWS).catch((err: unknown) => {
        throw err instanceof ImportInputError ? badInput('file', err.message) : err;
      });
      if (!head || head.header.every((h) => h === '')) throw badInput('file', 'is empty, or its first line is not a CSV header');
      // A column is mapped by its name, so a name the status cannot store as it is (PostgreSQL's json has no NUL) is refused.
      if (head.header.some((h) => h.includes('\u0000'))) throw badInput('file', 'its header holds a NUL character');
      const job: ImportJob = {
        id,
        fileName: name,
        isGzip,
        totalBytes: bytes,
        uploadedAt: new Date().toISOString(),
        uploadedBy,
        columns: head.header,
        sample: head.rows.map((row) => row.map(withoutNul)),
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
        stopRequested: false,
        queuedAt: null,
      };
      // The job and its file in one transaction: a listed job always has its whole file.
      await knexOf(em).transaction(async (trx) => {
        await trx.raw(`insert into import_job (id, uploaded_at, state, job) values (?, ?, ?, ?::jsonb)`, [id, job.uploadedAt, job.state, jobJson(job)]);
        await storeBlob(trx, id, 'file', spool);
      });
      this.log.info({ importId: id, bytes, isGzip, uploadedBy }, 'import.uploaded');
      return job;
    } finally {
      await rm(spool, { force: true });
    }
  }

  /** Newest first. */
  async list(em: EntityManager): Promise<ImportJob[]> {
    const rows = await select<JobRow>(em, `select id, state, stop_requested, job from import_job order by uploaded_at desc, id desc limit ?`, [LISTED]);
    const lockHeld = rows.some((r) => r.state === 'RUNNING') && (await sessionLockHeld(em, IMPORT_LOCK));
    return rows.map((r) => this.present(r, lockHeld));
  }

  async get(em: EntityManager, id: string): Promise<ImportJob> {
    const row = isUuid(id) ? await jobRow(em, id) : undefined;
    if (!row) throw AppError.notFound('Import', id);
    return this.present(row, row.state === 'RUNNING' && !this.running.has(id) && (await sessionLockHeld(em, IMPORT_LOCK)));
  }

  /**
   * Checks the settings against the file's header, then imports in the background; the job answers at once, RUNNING
   * (QUEUED in a process that does not run imports).
   */
  async start(em: EntityManager, id: string, input: unknown): Promise<ImportJob> {
    const job = await this.get(em, id);
    if (job.state !== 'UPLOADED') throw stateConflict(job, 'Only an uploaded file is started; resume an interrupted one');
    const settings = checkSettings(input, job.columns);
    return this.begin(em, id, (current) => {
      if (current.state !== 'UPLOADED') throw stateConflict(current, 'Only an uploaded file is started; resume an interrupted one');
      current.settings = settings;
    });
  }

  /** Runs again with the settings of the first start: invoices already stored are skipped. */
  async resume(em: EntityManager, id: string): Promise<ImportJob> {
    const resumable = (job: ImportJob) => {
      if ((job.state !== 'INTERRUPTED' && job.state !== 'FAILED') || !job.settings) throw stateConflict(job, 'Only an interrupted or failed import is resumed');
    };
    resumable(await this.get(em, id));
    return this.begin(em, id, resumable);
  }

  /**
   * In a process that runs imports, every second or so (main.ts): starts the import a process that does not run them
   * queued. Answers the id it started, or null when there was none or another process took it first.
   */
  async pickUp(em: EntityManager): Promise<string | null> {
    if (!this.options.runsImports || this.running.size) return null;
    const [queued] = await select<{ id: string }>(em, `select id from import_job where state = 'QUEUED' order by uploaded_at, id limit 1`, []);
    if (!queued) return null;
    try {
      await this.launch(em, queued.id, (current) => {
        if (current.state !== 'QUEUED') throw stateConflict(current, 'Only a queued import is picked up');
      });
    } catch (err) {
      // Another process picked it up, or it was stopped or deleted meanwhile.
      if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND')) return null;
      throw err;
    }
    this.log.info({ importId: queued.id }, 'import.picked_up');
    return queued.id;
  }

  private begin(em: EntityManager, id: string, admit: (job: ImportJob) => void): Promise<ImportJob> {
    return this.options.runsImports ? this.launch(em, id, admit) : this.enqueue(em, id, admit);
  }

  /**
   * Under the import lock, so never beside a running import: admits the job and leaves it QUEUED for a process that runs
   * imports. One import at a time still: a second start answers IMPORT_RUNNING, naming the queued one.
   */
  private async enqueue(em: EntityManager, id: string, admit: (job: ImportJob) => void, attempt = 0): Promise<ImportJob> {
    const locked = await withSessionLock(em, IMPORT_LOCK, async () => {
      await this.refuseIfQueued(em, id);
      const job = await admitted(em, id, admit);
      Object.assign(job, { state: 'QUEUED', error: null, stopRequested: false, queuedAt: new Date().toISOString() } satisfies Partial<ImportJob>);
      await storeJob(em, job);
      this.log.info({ importId: id }, 'import.queued');
      return job;
    });
    return locked.ran ? locked.value : this.whenLockBusy(em, attempt, () => this.enqueue(em, id, admit, attempt + 1));
  }

  /** A queued import goes first: nothing else starts until it has run (or been stopped or deleted). */
  private async refuseIfQueued(em: EntityManager, id: string): Promise<void> {
    const [queued] = await select<{ id: string }>(em, `select id from import_job where state = 'QUEUED' and id <> ? limit 1`, [id]);
    if (queued) throw importRunning(queued.id);
  }

  /**
   * The import lock is held. By a run: IMPORT_RUNNING, naming it. By a delete or the retention sweep, for a moment:
   * `again`, 100 ms later, at most LOCK_ATTEMPTS times.
   */
  private async whenLockBusy(em: EntityManager, attempt: number, again: () => Promise<ImportJob>): Promise<ImportJob> {
    const [busy] = await select<{ id: string }>(em, `select id from import_job where state = 'RUNNING' order by job->>'startedAt' desc limit 1`, []).catch(() => []);
    if (busy || attempt >= LOCK_ATTEMPTS) throw importRunning(busy?.id ?? null);
    await new Promise((r) => setTimeout(r, 100));
    return again();
  }

  /**
   * Stops after the batch in flight commits; the job ends INTERRUPTED. The stop is recorded on the row, which every
   * process reads as `stopRequested` and the process running the import reads at its next status write (every half
   * second). Answers with the end if it comes within STOP_WAIT_MS, else with the job still RUNNING and stopping.
   */
  async stop(em: EntityManager, id: string): Promise<ImportJob> {
    let job = await this.get(em, id);
    if (job.state === 'QUEUED') {
      const unqueued = await this.unqueue(em, id);
      if (unqueued) return unqueued;
      job = await this.get(em, id);
    }
    if (job.state !== 'RUNNING') throw stateConflict(job, 'Only a running or queued import is stopped');
    await knexOf(em).raw(`update import_job set stop_requested = true where id = ? and state = 'RUNNING'`, [id]);
    this.running.get(id)?.controller.abort();
    for (const until = Date.now() + STOP_WAIT_MS; Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.get(em, id);
      if (now.state !== 'RUNNING') return now;
    }
    return this.get(em, id);
  }

  /**
   * A queued import that no process has picked up goes back to where it was (UPLOADED if it never ran, else
   * INTERRUPTED), under the import lock so that no process picks it up meanwhile. Null when it was picked up first.
   */
  private async unqueue(em: EntityManager, id: string): Promise<ImportJob | null> {
    for (let attempt = 0; attempt <= LOCK_ATTEMPTS; attempt++) {
      const locked = await withSessionLock(em, IMPORT_LOCK, async () => {
        const row = await jobRow(em, id);
        if (row?.state !== 'QUEUED') return null;
        const job: ImportJob = { ...row.job, state: row.job.runs > 0 ? 'INTERRUPTED' : 'UPLOADED', stopRequested: false };
        await storeJob(em, job);
        this.log.info({ importId: id, state: job.state }, 'import.unqueued');
        return job;
      });
      if (locked.ran) return locked.value;
      if ((await this.get(em, id)).state !== 'QUEUED') return null;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }

  /** The last finished run's rejected rows (line, reason, detail, then the canonical columns), or NOT_FOUND before any. */
  async rejects(em: EntityManager, id: string): Promise<{ chunks: AsyncIterable<Buffer>; downloadName: string }> {
    const job = await this.get(em, id);
    const [stored] = await select<{ n: number }>(em, `select count(*)::int as n from import_blob_chunk where import_id = ? and kind = 'rejects'`, [id]);
    if (!stored?.n) throw AppError.notFound('ImportRejects', id);
    return { chunks: blobChunks(knexOf(em), id, 'rejects'), downloadName: `${job.fileName.replace(/(\.csv)?(\.gz)?$/i, '')}.rejects.csv` };
  }

  /**
   * Deletes an import that is not running, with its file and rejects (an upload holds customers' data: keep it no
   * longer than needed). The orders it imported stay.
   */
  async delete(em: EntityManager, id: string): Promise<void> {
    const job = await this.get(em, id);
    const refuse = () => stateConflict({ ...job, state: 'RUNNING' }, 'A running import is stopped before it is deleted');
    if (job.state === 'RUNNING') throw refuse();
    if (!(await this.deleteWhere(em, 'id = ?', [id]))) {
      throw (await select(em, `select 1 from import_job where id = ?`, [id])).length ? refuse() : AppError.notFound('Import', id);
    }
  }

  /**
   * Deletes the uploads whose last run ended (or which were uploaded, if never run) more than `days` ago, with their
   * files and rejects; answers how many.
   */
  sweep(em: EntityManager, days: number): Promise<number> {
    return this.deleteWhere(em, `coalesce((job->>'finishedAt')::timestamptz, uploaded_at) < now() - make_interval(days => ?)`, [days]);
  }

  /** Stops every running import of this process and waits for their status to be written (the API's shutdown). */
  async close(): Promise<void> {
    for (const run of this.running.values()) run.controller.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /**
   * Deletes the jobs `where` matches and answers how many, never a live run. When no import runs anywhere it holds the
   * import lock, so no process claims one meanwhile and a RUNNING row is a dead process's, deleted too; while an import
   * runs, that one is the only RUNNING row (every claim marks dead runs INTERRUPTED), and a claim racing the delete finds
   * its row gone and answers NOT_FOUND.
   */
  private async deleteWhere(em: EntityManager, where: string, params: Knex.RawBinding[]): Promise<number> {
    const remove = async (runningToo: boolean) =>
      (await select(em, `delete from import_job where ${where}${runningToo ? '' : ` and state <> 'RUNNING'`} returning id`, params)).length;
    const locked = await withSessionLock(em, IMPORT_LOCK, () => remove(true));
    return locked.ran ? locked.value : remove(false);
  }

  /** The stored row as the admin app reads it: this process's own runs as they are now, a dead process's as INTERRUPTED. */
  private present(row: JobRow, lockHeld: boolean): ImportJob {
    const local = this.running.get(row.id);
    if (local) return { ...local.job, stopRequested: local.controller.signal.aborted || row.stop_requested };
    // queuedAt: absent from jobs stored before it existed.
    const job = { ...row.job, state: row.state, stopRequested: row.state === 'RUNNING' && row.stop_requested, queuedAt: row.job.queuedAt ?? null };
    // RUNNING but nobody holds the lock every run holds: the process that ran it stopped mid-way.
    if (row.state === 'RUNNING' && !lockHeld) return { ...job, state: 'INTERRUPTED', phase: null, error: STOPPED_MIDWAY, stopRequested: false };
    return job;
  }

  /**
   * Takes the import lock and, holding it, checks the job with `admit` (which throws the refusal) and starts it in the
   * background; answers once it is RUNNING, or CONFLICT IMPORT_RUNNING when any process runs an import.
   */
  private launch(em: EntityManager, id: string, admit: (job: ImportJob) => void, attempt = 0): Promise<ImportJob> {
    // One import at a time: each batch is a heavy transaction, and two at once would contend for the same members.
    const other = [...this.running.values()][0];
    if (other) return Promise.reject(importRunning(other.job.id));
    return new Promise<ImportJob>((resolve, reject) => {
      const controller = new AbortController();
      let started = false;
      const outcome = withSessionLock(em, IMPORT_LOCK, async () => {
        const job = await this.claim(em, id, admit);
        started = true;
        const done = this.run(em, job, controller);
        this.running.set(id, { job, controller, done });
        resolve({ ...job });
        try {
          await done;
        } finally {
          this.running.delete(id);
        }
      });
      outcome.then(
        (o) => {
          if (!o.ran) this.whenLockBusy(em, attempt, () => this.launch(em, id, admit, attempt + 1)).then(resolve, reject);
        },
        (err: unknown) => {
          if (!started) reject(err);
          else this.log.error({ err, importId: id }, 'import.status_not_written');
        },
      );
    });
  }

  /** Under the import lock: marks what a dead process left RUNNING as INTERRUPTED, admits the job and records it RUNNING. */
  private async claim(em: EntityManager, id: string, admit: (job: ImportJob) => void): Promise<ImportJob> {
    const knex = knexOf(em);
    await knex.raw(`update import_job set state = 'INTERRUPTED', job = job || ?::jsonb where state = 'RUNNING'`, [JSON.stringify({ phase: null, error: STOPPED_MIDWAY })]);
    await this.refuseIfQueued(em, id);
    const job = await admitted(em, id, admit);
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
      stopRequested: false,
      queuedAt: job.queuedAt ?? null,
    } satisfies Partial<ImportJob>);
    await storeJob(em, job);
    return job;
  }

  /** Imports the job's file; `controller` is aborted by a stop, asked here or through the row (persist). */
  private async run(em: EntityManager, job: ImportJob, controller: AbortController): Promise<void> {
    const settings = job.settings!;
    const map = new Map(Object.entries(settings.map));
    // openCsv gunzips by the name's ending
    const file = this.workPath(job.id, job.isGzip ? 'csv.gz' : 'csv');
    const rejectsFile = this.workPath(job.id, 'rejects.csv');
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
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const rejects = openRejects(rejectsFile);
    const timer = setInterval(() => {
      job.bytesRead = current?.bytesRead() ?? 0;
      void this.persist(em, job, controller).catch((err: unknown) => log.warn({ err }, 'import.status_not_written'));
    }, PERSIST_EVERY_MS);
    let rejectsWritten = false;
    // The run's end is kept apart from `job` (which this process answers readers with) until it is stored, so no
    // reader sees an import DONE before its rejects and final status are in the database.
    const ended: Partial<ImportJob> = {};
    try {
      await copyBlob(knexOf(em), job.id, 'file', file);
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
        signal: controller.signal,
      });
      Object.assign(ended, { summary, rowsRead: summary.rowsRead, state: summary.isComplete ? 'DONE' : 'INTERRUPTED' } satisfies Partial<ImportJob>);
      log.info({ ...summary, phaseMs: undefined }, summary.isComplete ? 'import.finished' : 'import.interrupted');
    } catch (err) {
      ended.state = 'FAILED';
      // An AppError (EARNING_FAILED, a dependency down) says what to fix; anything else is logged with its detail.
      ended.error = err instanceof AppError || err instanceof ImportInputError ? err.message : 'An unexpected error stopped the import; it is logged. Resume once it is fixed.';
      log.error({ err }, 'import.failed');
    } finally {
      clearInterval(timer);
      try {
        await rejects.close();
        rejectsWritten = true;
      } catch (err) {
        log.warn({ err }, 'import.rejects_not_written');
      }
      const final: ImportJob = {
        ...job,
        ...ended,
        bytesRead: (current as OpenedSource | null)?.bytesRead() ?? job.bytesRead,
        phase: null,
        finishedAt: new Date().toISOString(),
      };
      try {
        // The rejects and the final status together: a finished run's rejects are its own.
        await this.statusWrites.run(job.id, () =>
          knexOf(em).transaction(async (trx) => {
            if (rejectsWritten) await storeBlob(trx, job.id, 'rejects', rejectsFile);
            await trx.raw(`update import_job set state = ?, job = ?::jsonb where id = ?`, [final.state, jobJson(final), job.id]);
          }),
        );
        Object.assign(job, final);
      } finally {
        await rm(file, { force: true });
        await rm(rejectsFile, { force: true });
      }
    }
  }

  /** The job's progress, written after any earlier write of it; a stop asked through the row (another process's) aborts the run. */
  private async persist(em: EntityManager, job: ImportJob, controller: AbortController): Promise<void> {
    const [row] = await this.statusWrites.run(job.id, () =>
      select<{ stop_requested: boolean }>(em, `update import_job set state = ?, job = ?::jsonb where id = ? returning stop_requested`, [job.state, jobJson(job), job.id]),
    );
    if (row?.stop_requested) controller.abort();
  }

  /** A working copy in `dir`, named by job and process so replicas sharing a folder never share a file. */
  private workPath = (id: string, suffix: string) => path.join(this.dir, `${id}.${process.pid}.${suffix}`);
}

/**
 * Runs the writes of one key in the order they were asked for, each after the last has settled, so the last asked is
 * the one left (an import's progress timer can fire while its final status is being written).
 */
export class SerialWrites {
  private readonly pending = new Map<string, Promise<unknown>>();

  run<T>(key: string, write: () => Promise<T>): Promise<T> {
    const next = (this.pending.get(key) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.pending.set(key, next);
    const forget = () => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}

/**
 * A job as stored: PostgreSQL's json cannot hold NUL, which a file's sample rows or an error quoting the file may
 * carry, so each becomes U+FFFD (the header never holds one: such an upload is refused).
 */
const withoutNul = (text: string): string => text.replaceAll('\u0000', '\uFFFD');
const jobJson = (job: ImportJob): string => JSON.stringify(job, (_key, value: unknown) => (typeof value === 'string' ? withoutNul(value) : value));

const knexOf = (em: EntityManager): Knex => em.getConnection().getKnex();

/** Rows of `sql` with bound parameters (em.execute would inline a megabyte chunk into the SQL text). */
async function select<T>(em: EntityManager, sql: string, params: Knex.RawBinding[]): Promise<T[]> {
  return ((await knexOf(em).raw(sql, params)) as { rows: T[] }).rows;
}

const jobRow = async (em: EntityManager, id: string): Promise<JobRow | undefined> =>
  (await select<JobRow>(em, `select id, state, stop_requested, job from import_job where id = ?`, [id]))[0];

/** The stored job with its state, once `admit` (which throws the refusal) accepts it; NOT_FOUND when there is none. */
async function admitted(em: EntityManager, id: string, admit: (job: ImportJob) => void): Promise<ImportJob> {
  const row = await jobRow(em, id);
  if (!row) throw AppError.notFound('Import', id);
  const job: ImportJob = { ...row.job, state: row.state };
  admit(job);
  return job;
}

/** Records the job as it now is, its stop request cleared; NOT_FOUND when it was deleted (or swept) since it was read. */
async function storeJob(em: EntityManager, job: ImportJob): Promise<void> {
  const stored = await select(em, `update import_job set state = ?, stop_requested = false, job = ?::jsonb where id = ? returning id`, [job.state, jobJson(job), job.id]);
  if (!stored.length) throw AppError.notFound('Import', job.id);
}

/** Replaces the job's stored `kind` with the file at `source`, in pieces of CHUNK_BYTES. */
export async function storeBlob(trx: Knex.Transaction, id: string, kind: BlobKind, source: string): Promise<void> {
  await trx.raw(`delete from import_blob_chunk where import_id = ? and kind = ?`, [id, kind]);
  let seq = 0;
  for await (const chunk of createReadStream(source, { highWaterMark: CHUNK_BYTES })) {
    await trx.raw(`insert into import_blob_chunk (import_id, kind, seq, data) values (?, ?, ?, ?)`, [id, kind, seq++, chunk as Buffer]);
  }
}

/** The job's stored `kind`, one piece at a time. */
async function* blobChunks(knex: Knex, id: string, kind: BlobKind): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const { rows } = (await knex.raw(`select data from import_blob_chunk where import_id = ? and kind = ? and seq = ?`, [id, kind, seq])) as { rows: { data: Buffer }[] };
    if (!rows.length) return;
    yield rows[0].data;
  }
}

/** Writes the job's stored `kind` to `target`: the working copy a run reads. */
export async function copyBlob(knex: Knex, id: string, kind: BlobKind, target: string): Promise<void> {
  const out = createWriteStream(target, { mode: 0o600 });
  try {
    for await (const chunk of blobChunks(knex, id, kind)) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await finished(out);
  }
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

const importRunning = (importId: string | null) => AppError.conflict('IMPORT_RUNNING', 'Another import is running; start this one when it ends', { importId });

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
  const nameProblem = textProblem(channelName);
  if (channelName.length < 1 || channelName.length > 100) problems.push({ path: 'channelName', message: 'must be 1 to 100 characters' });
  else if (nameProblem) problems.push({ path: 'channelName', message: textProblemMessages[nameProblem] });
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
