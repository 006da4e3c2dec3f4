import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole, SalesChannelKind } from '../fixtures/build';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';

// The admin app as installed: the distribution's plugins (activities among them) loaded, as the app's schema expects.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const RECORD = `mutation R($input: RecordActivityInput!) { recordActivity(input: $input) { id outcome points } }`;

describeInBrowser('admin app: activities', () => {
  const s = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role: AdminRole) => b.admin(role));

  it('a marketer declares an activity type with caps and channels, edits it, sees its figures, and the member 360 shows the activities', async () => {
    await s.signIn(AdminRole.MARKETER, '/activities');
    await s.page.getByTestId('activity-types-new').click();
    const dialog = s.page.getByTestId('activity-types-dialog');
    await dialog.getByLabel('Code').fill('Store Visit');
    await dialog.getByLabel('Name', { exact: true }).fill('Store visit');
    await dialog.getByLabel('Points', { exact: true }).fill('50');
    await dialog.getByLabel('Cap per day').fill('1');
    await dialog.getByLabel('Channels').fill('store');
    await dialog.getByTestId('form-save').click();
    // The API's message for input.code lands under that field.
    await dialog.getByTestId('field-error').first().waitFor();
    expect(await dialog.getByLabel('Code').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.getByTestId('field-error').first().textContent()).toContain('lower-case');

    await dialog.getByLabel('Code').fill('store_visit');
    await dialog.getByTestId('form-save').click();
    await s.page.getByTestId('activity-types-row').first().waitFor();
    const [stored] = await h.sql(`select code, points, cap_per_day, cap_per_week, channel_kinds, tier_codes, is_active from activity_type where name = 'Store visit'`);
    expect(stored).toEqual({ code: 'store_visit', points: 50, cap_per_day: 1, cap_per_week: null, channel_kinds: ['STORE'], tier_codes: [], is_active: true });
    const row = await s.page.getByTestId('activity-types-row').first().textContent();
    expect(row).toContain('1/day');
    expect(row).toContain('Store');

    // A till records two visits of one member on one day (the programme's, UTC here): the second is capped. Both are
    // in the past and on one UTC day whatever the hour the test runs: today's, or yesterday evening just after midnight.
    const member = await b.member().save();
    const till = await b.apiKey(['activities:write'], SalesChannelKind.STORE);
    const now = Date.now();
    const today = now - (now % 86_400_000);
    const visits = now - today >= 2 * 3_600_000 ? [now - 90 * 60_000, now - 30 * 60_000] : [today - 3 * 3_600_000, today - 2 * 3_600_000];
    for (const [i, at] of visits.entries()) {
      const res = await h.gql(till.auth, RECORD, {
        input: { member: { id: member.id }, type: 'store_visit', idempotencyKey: `visit-${i}`, occurredAt: new Date(at).toISOString() },
      });
      expect(res.errors).toBeUndefined();
    }
    await s.page.reload();
    await s.page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid="activity-types-row"] td')].map((td) => td.textContent);
      return cells.includes('2') && cells.includes('Active');
    });
    const cells = await s.page.getByTestId('activity-types-row').first().locator('td').allTextContents();
    // Recorded, credited, points given, members (last 30 days), then the actions.
    expect(cells.slice(6, 10)).toEqual(['2', '1', '50', '1']);
    await screenshot(s.page, 'activities');

    await s.page.getByTestId('activity-types-edit').first().click();
    expect(await dialog.getByLabel('Code').getAttribute('readonly')).not.toBeNull();
    await dialog.getByLabel('Points', { exact: true }).fill('60');
    await dialog.getByLabel('Cap per day').fill('');
    await dialog.getByTestId('form-save').click();
    await s.page.waitForFunction(() => document.querySelector('[data-testid="activity-types-row"] td:nth-child(3)')?.textContent === '60');
    const [edited] = await h.sql(`select points, cap_per_day from activity_type where code = 'store_visit'`);
    expect(edited).toEqual({ points: 60, cap_per_day: null });

    await s.page.goto(s.page.url().replace(/\/activities$/, `/members/${member.id}`));
    await s.page.getByTestId('activity-row').nth(1).waitFor();
    const rows = await s.page.getByTestId('activity-row').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('Capped day');
    expect(rows[1]).toContain('Credited');
    expect(rows[1]).toContain('+50');
    await s.page.getByTestId('timeline-entry').first().waitFor();
    const timeline = await s.page.getByTestId('timeline-entry').allTextContents();
    expect(timeline.some((t) => t.includes('store_visit: +50 points'))).toBe(true);
    await screenshot(s.page, 'member-activities');
  });
});
