import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, orderInput, pointsOf } from '../support/orders';
import { createLogger } from '../../api/src/base/logger';
import { PointsJobsTrigger } from '../../api/src/modules/jobs/points-job-run.entity';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);
const HOLD_MS = 3000;
const RUN = `mutation { runPointsJobs { id state } }`;

describeInBrowser('admin app: points jobs', () => {
  let signedIn: Awaited<ReturnType<typeof b.admin>> | undefined;
  const session = useAdminBrowser(
    async () => `http://127.0.0.1:${await h.app.listen()}`,
    async (role) => (signedIn = await b.admin(role)),
  );
  const { signIn, text } = session;
  let admin: Awaited<ReturnType<typeof b.admin>>;
  let till: Awaited<ReturnType<typeof b.apiKey>>;

  beforeAll(async () => {
    await b.baseRate(1, 100);
    admin = await b.admin();
    till = await b.apiKey();
    // One scheduled run before anything is due, as the schedule would have done.
    expect(await h.app.services.pointsJobs.run(h.orm.em, createLogger('silent'), PointsJobsTrigger.SCHEDULE)).not.toBeNull();
    await h.sql(`create or replace function test_hold_release() returns trigger language plpgsql as $$
      begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
  });

  /** A member whose 25 pending points are due for release now. */
  async function memberWithDuePoints(): Promise<string> {
    const member = await b.member().save();
    expect((await h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2500 }]) })).errors).toBeUndefined();
    await h.sql(`update point_lot set available_at = now() - interval '1 minute' where member_id = ? and state = 'PENDING'`, [member.id]);
    return member.id;
  }

  it('an admin reads the schedule and the last runs, runs the jobs now and sees what they did', async () => {
    const memberId = await memberWithDuePoints();
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/points-jobs');
    await page.getByTestId('points-jobs-row').first().waitFor();
    expect(await text('points-jobs-schedule')).toContain(h.config.POINTS_JOBS_CRON);
    expect(await text('points-jobs-schedule')).toMatch(/Next run/);
    expect(await text('points-jobs-now')).toContain('Idle');
    expect(await text('points-jobs-ledger')).toContain('Consistent');
    expect(await page.getByTestId('points-jobs-row').count()).toBe(1);
    // Named as the shared actor names name it, on this page and the others alike.
    expect(await text('points-jobs-by')).toBe('the schedule');
    expect(await text('points-jobs-row')).toMatch(/the schedule.*Done.*Nothing was due.*Consistent/);

    await page.getByTestId('points-jobs-run').click();
    await page.getByTestId('points-jobs-run-result').waitFor();
    expect(await text('points-jobs-run-result')).toBe('Finished: 1 pending lot released; the ledger is consistent.');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="points-jobs-row"]').length === 2);
    const newest = page.getByTestId('points-jobs-row').first();
    expect(await newest.textContent()).toContain(signedIn!.email);
    expect(await newest.textContent()).toMatch(/Done.*1 pending lot released.*Consistent/);
    expect(await pointsOf(h, admin.auth, memberId)).toMatchObject({ available: 25, pending: 0 });
    await screenshot(page, 'points-jobs');
  }, 60_000);

  it('while a run started elsewhere is under way, the page shows it running and follows it to the end', async () => {
    const memberId = await memberWithDuePoints();
    await h.sql(`create or replace trigger test_hold_release_trigger before update on point_lot for each row
      when (old.state = 'PENDING' and new.state = 'AVAILABLE' and new.member_id = '${memberId}') execute function test_hold_release()`);
    try {
      const elsewhere = h.gql(admin.auth, RUN);
      const { page } = session;
      await signIn(AdminRole.ADMIN, '/operations/points-jobs');
      await page.getByTestId('points-jobs-row').first().waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="points-jobs-now"]')?.textContent?.includes('Running'));
      expect(await page.getByTestId('points-jobs-run').isDisabled()).toBe(true);
      expect(await text('points-jobs-row')).toContain('Running');
      // Polled to the end without a reload.
      await page.waitForFunction(() => document.querySelector('[data-testid="points-jobs-now"]')?.textContent?.includes('Idle'), undefined, { timeout: 20_000 });
      expect(await text('points-jobs-row')).toMatch(/Done/);
      expect((await elsewhere).data.runPointsJobs.state).toBe('DONE');
      expect(await page.getByTestId('points-jobs-run').isEnabled()).toBe(true);
    } finally {
      await h.sql(`drop trigger if exists test_hold_release_trigger on point_lot`);
    }
  }, 60_000);

  it('a run refused because another is under way shows why', async () => {
    const memberId = await memberWithDuePoints();
    await h.sql(`create or replace trigger test_hold_release_trigger before update on point_lot for each row
      when (old.state = 'PENDING' and new.state = 'AVAILABLE' and new.member_id = '${memberId}') execute function test_hold_release()`);
    try {
      const { page } = session;
      await signIn(AdminRole.ADMIN, '/operations/points-jobs');
      await page.getByTestId('points-jobs-row').first().waitFor();
      // The page was read while idle; another admin's run starts before this one clicks.
      const elsewhere = h.gql(admin.auth, RUN);
      await page.waitForTimeout(500);
      await page.getByTestId('points-jobs-run').click();
      await page.getByTestId('points-jobs-run-error').waitFor();
      expect(await text('points-jobs-run-error')).toBe('The points jobs are running already. Their run is listed below; try again when it has finished.');
      expect((await elsewhere).data.runPointsJobs.state).toBe('DONE');
    } finally {
      await h.sql(`drop trigger if exists test_hold_release_trigger on point_lot`);
    }
  }, 60_000);

  it('when a run finds the ledger inconsistent, the page says so and lists the problem with its member on demand', async () => {
    const member = await b.member().save();
    expect((await h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2500 }]) })).errors).toBeUndefined();
    // A cached balance no ledger row explains: what a write that bypassed the ledger would leave.
    await h.sql(`update member_balance set pending = pending + 7 where member_id = ?`, [member.id]);
    try {
      const run = await h.gql(admin.auth, `mutation { runPointsJobs { ledgerConsistent ledgerProblems } }`);
      expect(run.data.runPointsJobs).toEqual({ ledgerConsistent: false, ledgerProblems: 1 });
      const { page } = session;
      await signIn(AdminRole.ADMIN, '/operations/points-jobs');
      await page.getByTestId('points-jobs-row').first().waitFor();
      expect(await text('points-jobs-ledger')).toContain('1 problem');
      expect(await page.getByTestId('ledger-problem').count()).toBe(0);
      await page.getByTestId('ledger-problems-list').click();
      await page.getByTestId('ledger-problem').first().waitFor();
      expect(await page.getByTestId('ledger-problem').count()).toBe(1);
      const row = await text('ledger-problem');
      expect(row).toContain('Balance differs from its ledger');
      expect(row).toContain('pending 32 (ledger 25, lots 25)');
      expect(await page.getByTestId('ledger-problem').getByRole('link').getAttribute('href')).toBe(`/members/${member.id}`);
    } finally {
      await h.sql(`update member_balance set pending = pending - 7 where member_id = ?`, [member.id]);
    }
    const repaired = await h.gql(admin.auth, `mutation { runPointsJobs { ledgerConsistent ledgerProblems } }`);
    expect(repaired.data.runPointsJobs).toEqual({ ledgerConsistent: true, ledgerProblems: 0 });
  }, 60_000);

  it('lists an erased member whose account the erasure did not close', async () => {
    const member = await b.member().save();
    const erased = await h.gql(admin.auth, `mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`, { input: { id: member.id, reason: 'request' } });
    expect(erased.errors).toBeUndefined();
    // What an erasure that missed the ledger's erase step would leave: the points account open.
    await h.sql(`update member_balance set closed_at = null where member_id = ?`, [member.id]);
    try {
      const run = await h.gql(admin.auth, `mutation { runPointsJobs { ledgerConsistent ledgerProblems } }`);
      expect(run.data.runPointsJobs).toEqual({ ledgerConsistent: false, ledgerProblems: 1 });
      const { page } = session;
      await signIn(AdminRole.ADMIN, '/operations/points-jobs');
      await page.getByTestId('ledger-problems-list').click();
      await page.getByTestId('ledger-problem').first().waitFor();
      const row = await text('ledger-problem');
      expect(row).toContain('Erased member’s account was not closed');
      expect(row).toContain('available 0, pending 0, 0 live lots');
      expect(await page.getByTestId('ledger-problem').getByRole('link').getAttribute('href')).toBe(`/members/${member.id}`);
    } finally {
      await h.sql(`update member_balance set closed_at = now() where member_id = ?`, [member.id]);
    }
    const repaired = await h.gql(admin.auth, `mutation { runPointsJobs { ledgerConsistent ledgerProblems } }`);
    expect(repaired.data.runPointsJobs).toEqual({ ledgerConsistent: true, ledgerProblems: 0 });
  }, 60_000);

  it('a marketer has no points jobs tab and a notice instead of the page', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/operations/points-jobs');
    await page.getByTestId('operations-forbidden').waitFor();
    expect(await page.getByTestId('points-jobs-run').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Points jobs' }).count()).toBe(0);
  });
});
