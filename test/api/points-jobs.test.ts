/**
 * The points jobs as operators run and read them: each run recorded in the database with who started it and what it
 * did, one run at a time across processes (a second is refused, the schedule's firing skips), failures and runs whose
 * process died recorded as such. A trigger in this file's own database holds or breaks one member's release, so a run
 * is certain to be under way, or to fail, when the test needs it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import cronParser from 'cron-parser';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, orderInput, pointsOf } from '../support/orders';
import { sleep } from '../support/races';
import { createLogger } from '../../api/src/base/logger';
import { PointsJobsTrigger } from '../../api/src/modules/jobs/points-job-run.entity';
import { POINTS_JOBS_LOCK } from '../../api/src/modules/jobs/points-jobs.service';
import { withSessionLock } from '../../api/src/base/session-lock';

const h = useHarness();
const b = build(h);

const RUN_FIELDS = `id trigger triggeredBy state startedAt finishedAt lotsReleased lotsExpired pointsExpired vouchersExpired tierPeriodsEnded ledgerConsistent ledgerProblems membersChecked error`;
const RUN = `mutation { runPointsJobs { ${RUN_FIELDS} } }`;
const OVERVIEW = `query($recent: Int!) { pointsJobs(recent: $recent) { cron nextRunAt isRunning runs { ${RUN_FIELDS} } } }`;
const HOLD_MS = 1500;
const silent = createLogger('silent');
const CLI = path.resolve(__dirname, '..', '..', 'api/dist/composition/cli/points-jobs.js');

/** `npm run points:jobs` against this file's database: its exit code and output. */
async function cli(): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, NODE_ENV: 'test', LOG_LEVEL: 'warn' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let till: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
  till = await b.apiKey();
  await h.sql(`create or replace function test_hold_release() returns trigger language plpgsql as $$
    begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
  await h.sql(`create or replace function test_break_release() returns trigger language plpgsql as $$
    begin raise exception 'test: this release is broken'; end $$`);
});

/** A member whose 25 pending points are due for release now (the return window moved into the past). */
async function memberWithDuePoints(): Promise<string> {
  const member = await b.member().save();
  const res = await h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2500 }]) });
  expect(res.errors).toBeUndefined();
  await h.sql(`update point_lot set available_at = now() - interval '1 minute' where member_id = ? and state = 'PENDING'`, [member.id]);
  expect(await pointsOf(h, admin.auth, member.id)).toMatchObject({ available: 0, pending: 25 });
  return member.id;
}

/** A trigger that runs `fn` when this member's lot is released, and nowhere else. */
async function onRelease(name: string, memberId: string, fn: string) {
  await h.sql(`create or replace trigger ${name} before update on point_lot for each row
    when (old.state = 'PENDING' and new.state = 'AVAILABLE' and new.member_id = '${memberId}') execute function ${fn}()`);
}

const releasesOf = async (memberId: string) => (await h.sql(`select count(*)::int as n from ledger_entry where member_id = ? and reason = 'RELEASE'`, [memberId]))[0].n;

describe('runPointsJobs and pointsJobs', () => {
  it('an admin run releases what is due, records who started it and what it did, and the overview lists it first', async () => {
    const memberId = await memberWithDuePoints();
    const started = Date.now();
    const res = await h.gql(admin.auth, RUN);
    expect(res.errors).toBeUndefined();
    const run = res.data.runPointsJobs;
    expect(run).toMatchObject({ trigger: 'ADMIN', triggeredBy: `admin:${admin.id}`, state: 'DONE', ledgerConsistent: true, ledgerProblems: 0, error: null });
    expect(run.lotsReleased).toBeGreaterThanOrEqual(1);
    expect(run.membersChecked).toBeGreaterThanOrEqual(1);
    expect(Date.parse(run.startedAt)).toBeGreaterThanOrEqual(started - 1000);
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(await pointsOf(h, admin.auth, memberId)).toMatchObject({ available: 25, pending: 0 });

    const overview = (await h.gql(admin.auth, OVERVIEW, { recent: 5 })).data.pointsJobs;
    expect(overview.isRunning).toBe(false);
    expect(overview.runs[0]).toEqual(run);
    expect(overview.cron).toBe(h.config.POINTS_JOBS_CRON);
    // The next firing the process's cron gives, after the moment of asking.
    const asked = Date.now();
    const next = Date.parse(overview.nextRunAt);
    expect(next).toBeGreaterThan(asked - 5000);
    expect(next).toBe(cronParser.parseExpression(h.config.POINTS_JOBS_CRON, { currentDate: new Date(next - 1000) }).next().getTime());
  });

  it('while a run is under way, a second is refused with POINTS_JOBS_RUNNING, the schedule skips, and the overview shows it running', async () => {
    const memberId = await memberWithDuePoints();
    await onRelease('test_hold_release_trigger', memberId, 'test_hold_release');
    try {
      const first = h.gql(admin.auth, RUN);
      await sleep(HOLD_MS / 3);
      const second = await h.gql(admin.auth, RUN);
      expect(second.errors?.map((e) => [e.extensions.code, e.extensions.reason])).toEqual([['CONFLICT', 'POINTS_JOBS_RUNNING']]);
      const during = (await h.gql(admin.auth, OVERVIEW, { recent: 1 })).data.pointsJobs;
      expect(during.isRunning).toBe(true);
      expect(during.runs[0]).toMatchObject({ state: 'RUNNING', trigger: 'ADMIN', finishedAt: null });
      expect(second.errors![0].extensions.runId).toBe(during.runs[0].id);
      expect(await h.app.services.pointsJobs.run(h.orm.em, silent, PointsJobsTrigger.SCHEDULE)).toBeNull();

      const done = await first;
      expect(done.errors).toBeUndefined();
      expect(done.data.runPointsJobs).toMatchObject({ id: during.runs[0].id, state: 'DONE', ledgerConsistent: true });
    } finally {
      await h.sql(`drop trigger if exists test_hold_release_trigger on point_lot`);
    }
    expect((await h.gql(admin.auth, OVERVIEW, { recent: 1 })).data.pointsJobs.isRunning).toBe(false);
    expect(await releasesOf(memberId)).toBe(1);
    // Refused and skipped runs leave no row.
    expect((await h.sql(`select count(*)::int as n from points_job_run where state = 'RUNNING'`))[0].n).toBe(0);
  });

  it('a run that fails is recorded FAILED with its error, and the next run does the work', async () => {
    const memberId = await memberWithDuePoints();
    await onRelease('test_break_release_trigger', memberId, 'test_break_release');
    let failed;
    try {
      failed = await h.gql(admin.auth, RUN);
    } finally {
      await h.sql(`drop trigger if exists test_break_release_trigger on point_lot`);
    }
    expect(failed.errors?.map((e) => e.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    const [row] = (await h.gql(admin.auth, OVERVIEW, { recent: 1 })).data.pointsJobs.runs;
    expect(row).toMatchObject({ state: 'FAILED', trigger: 'ADMIN', ledgerConsistent: null });
    expect(row.error).toMatch(/this release is broken/);
    expect(row.finishedAt).not.toBeNull();
    expect(await pointsOf(h, admin.auth, memberId)).toMatchObject({ available: 0, pending: 25 });

    const again = await h.gql(admin.auth, RUN);
    expect(again.data.runPointsJobs).toMatchObject({ state: 'DONE', ledgerConsistent: true });
    expect(await pointsOf(h, admin.auth, memberId)).toMatchObject({ available: 25, pending: 0 });
  });

  it('a run left RUNNING by a process that died is marked INTERRUPTED by the next run', async () => {
    const [orphan] = await h.sql(`insert into points_job_run (id, trigger, state, started_at) values (gen_random_uuid(), 'SCHEDULE', 'RUNNING', now() - interval '1 hour') returning id`);
    const res = await h.gql(admin.auth, RUN);
    expect(res.data.runPointsJobs.state).toBe('DONE');
    const [row] = await h.sql(`select state, finished_at, error from points_job_run where id = ?`, [orphan.id]);
    expect(row.state).toBe('INTERRUPTED');
    expect(row.finished_at).not.toBeNull();
    expect(row.error).toMatch(/process ended/);
  });

  it('npm run points:jobs records a CLI run, and exits 2 without running while another run is under way', async () => {
    const ran = await cli();
    expect(ran.code).toBe(0);
    const { runId } = JSON.parse(ran.stdout.trim().split('\n')[0]);
    const [row] = await h.sql(`select trigger, triggered_by, state, ledger_consistent from points_job_run where id = ?`, [runId]);
    expect(row).toEqual({ trigger: 'CLI', triggered_by: null, state: 'DONE', ledger_consistent: true });

    // The CLI takes a few seconds to start: the lock is held for as long as it runs, as a run in another process would.
    const held = await withSessionLock(h.orm.em, POINTS_JOBS_LOCK, () => cli());
    expect(held.ran).toBe(true);
    const refused = held.ran ? held.value : null;
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toMatch(/running already/);
    expect((await h.sql(`select count(*)::int as n from points_job_run where trigger = 'CLI'`))[0].n).toBe(1);
  });

  it('answers BAD_USER_INPUT for a page size outside 1 to 100, and a marketer may neither read nor run the jobs', async () => {
    for (const recent of [0, -5, 101, 2 ** 31 - 1]) {
      const res = await h.gql(admin.auth, OVERVIEW, { recent });
      expect(res.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
    const tooBig = await h.gql(admin.auth, OVERVIEW, { recent: 2 ** 31 });
    expect(tooBig.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const marketer = await b.admin(AdminRole.MARKETER);
    for (const query of [RUN, `{ pointsJobs { isRunning } }`]) {
      expect((await h.gql(marketer.auth, query)).errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    }
  });
});
