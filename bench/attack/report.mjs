// Per-class bookkeeping of the attack: requests sent, answers by HTTP status and extensions.code, failures with
// their evidence, and the printed / JSON report.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** How many distinct pieces of evidence a class keeps (each with a count of repeats); the rest are only counted. */
const MAX_EVIDENCE = 12;

export class ClassReport {
  constructor(id, title, defect) {
    this.id = id;
    this.title = title;
    /** What the class looks for, in one line (the defect found before, or the classic attack). */
    this.defect = defect;
    this.requests = 0;
    this.byStatus = {};
    this.byCode = {};
    this.failures = new Map();
    this.notes = [];
    this.warnings = [];
    /** Set when the check could not run here (e.g. --url without the database); wins over PASS. */
    this.skipReason = null;
    /** Set when the harness itself broke: the class is neither passed nor failed, and the run exits 1. */
    this.errorReason = null;
    this.startedAt = null;
    this.seconds = 0;
  }

  /** Counts one answer. `codes` are the extensions.code values of its errors ('-' for an answer without errors). */
  count(status, codes) {
    this.requests++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    for (const code of codes.length ? new Set(codes) : ['-']) this.byCode[code] = (this.byCode[code] ?? 0) + 1;
  }

  /** Records a failure; repeats of one message are counted once, with the request ids of the first few. */
  fail(message, { requestId } = {}) {
    const key = message.length > 400 ? `${message.slice(0, 400)}…` : message;
    const entry = this.failures.get(key) ?? { times: 0, requestIds: [] };
    entry.times++;
    if (requestId && entry.requestIds.length < 3) entry.requestIds.push(requestId);
    this.failures.set(key, entry);
  }

  /** Fails with `message` unless `condition`; returns the condition. */
  expect(condition, message) {
    if (!condition) this.fail(message);
    return Boolean(condition);
  }

  note(message) {
    this.notes.push(message);
  }

  warn(message) {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  skip(reason) {
    this.skipReason = reason;
  }

  error(reason) {
    this.errorReason = reason;
  }

  get status() {
    if (this.errorReason) return 'ERROR';
    if (this.failures.size > 0) return 'FAIL';
    if (this.skipReason) return 'SKIP';
    return 'PASS';
  }

  toJSON() {
    const evidence = [...this.failures].map(([message, { times, requestIds, cause }]) => {
      const ids = requestIds.length ? ` [requestId ${requestIds.join(', ')}${times > requestIds.length ? ', …' : ''}]` : '';
      return `${message}${times > 1 ? ` (×${times})` : ''}${ids}${cause ? ` — API log: ${cause}` : ''}`;
    });
    return {
      id: this.id,
      title: this.title,
      defect: this.defect,
      status: this.status,
      requests: this.requests,
      seconds: this.seconds,
      byStatus: this.byStatus,
      byCode: this.byCode,
      evidence,
      notes: this.notes,
      warnings: this.warnings,
      ...(this.skipReason ? { skipReason: this.skipReason } : {}),
      ...(this.errorReason ? { errorReason: this.errorReason } : {}),
    };
  }
}

export class Report {
  constructor() {
    this.classes = [];
    this.meta = {};
  }

  add(id, title, defect) {
    const c = new ClassReport(id, title, defect);
    this.classes.push(c);
    return c;
  }

  get totals() {
    const t = { requests: 0, byStatus: {}, byCode: {}, classes: {} };
    for (const c of this.classes) {
      t.requests += c.requests;
      for (const [k, v] of Object.entries(c.byStatus)) t.byStatus[k] = (t.byStatus[k] ?? 0) + v;
      for (const [k, v] of Object.entries(c.byCode)) t.byCode[k] = (t.byCode[k] ?? 0) + v;
      t.classes[c.status] = (t.classes[c.status] ?? 0) + 1;
    }
    return t;
  }

  get isFailed() {
    return this.classes.some((c) => c.status === 'FAIL' || c.status === 'ERROR');
  }

  print(log = console.log) {
    const counts = (o) =>
      Object.entries(o)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    log('');
    log('Attack report');
    log('=============');
    for (const c of this.classes) {
      log('');
      log(`[${c.status}] ${c.id} ${c.title}  (${c.requests} requests, ${c.seconds} s)`);
      log(`    looks for: ${c.defect}`);
      if (c.requests) {
        log(`    HTTP:  ${counts(c.byStatus)}`);
        log(`    codes: ${counts(c.byCode)}`);
      }
      if (c.skipReason) log(`    skipped: ${c.skipReason}`);
      if (c.errorReason) log(`    harness error: ${c.errorReason}`);
      const evidence = c.toJSON().evidence;
      for (const e of evidence.slice(0, MAX_EVIDENCE)) log(`    ✗ ${e}`);
      if (evidence.length > MAX_EVIDENCE) log(`    … and ${evidence.length - MAX_EVIDENCE} more kinds of failure (see the JSON report)`);
      for (const w of c.warnings) log(`    ! ${w}`);
      for (const n of c.notes) log(`    · ${n}`);
    }
    const t = this.totals;
    log('');
    log('Summary');
    log('-------');
    const width = Math.max(...this.classes.map((c) => `${c.id} ${c.title}`.length));
    for (const c of this.classes) log(`  ${`${c.id} ${c.title}`.padEnd(width)}  ${c.status.padEnd(5)} ${String(c.requests).padStart(5)} requests`);
    log('');
    log(`Totals: ${t.requests} requests; HTTP ${counts(t.byStatus)}`);
    log(`        codes ${counts(t.byCode)}`);
    log(`        classes ${counts(t.classes)}`);
  }

  write(file) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ ...this.meta, totals: this.totals, classes: this.classes.map((c) => c.toJSON()) }, null, 2)}\n`);
  }
}

/** Runs one class: times it, and turns a crash of the harness into an ERROR with its message rather than a lost run. */
export async function runClass(cls, fn) {
  const started = Date.now();
  try {
    await fn(cls);
  } catch (err) {
    cls.error(err?.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : String(err));
  } finally {
    cls.seconds = Math.round((Date.now() - started) / 100) / 10;
  }
}
