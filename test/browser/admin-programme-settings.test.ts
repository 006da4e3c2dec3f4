import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);
const SETTINGS = '{ programmeSettings { pendingDays lotExpiryMonths voucherValidDays pointValueMinor pointValueCurrency tierMetric tierWindowDays referralReferrerPoints timeZone } }';

describeInBrowser('admin app: programme settings', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;

  it('an admin changes the return window and the time zone: an unknown zone is named under its field, and only what changed is written', async () => {
    const { page } = session;
    const admin = await b.admin(AdminRole.ADMIN);
    const before = (await h.gql(admin.auth, SETTINGS)).data.programmeSettings;
    await signIn(AdminRole.ADMIN, '/settings');
    const form = page.getByTestId('programme-settings-form');
    await form.waitFor();
    expect(await form.getByLabel('Return window (days)').inputValue()).toBe(String(before.pendingDays));
    expect(await form.getByLabel('Programme time zone').inputValue()).toBe(before.timeZone);

    await form.getByLabel('Return window (days)').fill('7');
    await form.getByLabel('Programme time zone').fill('Mars/Olympus_Mons');
    await page.getByTestId('settings-save').click();
    await form.getByTestId('field-error').waitFor();
    expect((await form.getByTestId('field-error').allTextContents()).map((t) => t.trim())).toEqual([expect.stringContaining('time zone')]);
    expect((await h.gql(admin.auth, SETTINGS)).data.programmeSettings).toEqual(before);

    await form.getByLabel('Programme time zone').fill('Europe/London');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('settings-saved').waitFor();
    await screenshot(page, 'programme-settings');
    expect((await h.gql(admin.auth, SETTINGS)).data.programmeSettings).toEqual({ ...before, pendingDays: 7, timeZone: 'Europe/London' });
    const [entry] = await h.sql<{ after: Record<string, unknown> }>(`select after from audit_entry where action = 'programme.update' order by id desc limit 1`);
    expect(entry.after).toEqual({ pendingDays: 7, timeZone: 'Europe/London' });
    // The form starts afresh from the refetched settings; the notice stays.
    expect(await page.getByTestId('settings-saved').isVisible()).toBe(true);
    // Reloaded, the page shows what is stored.
    await page.reload();
    await form.waitFor();
    expect(await form.getByLabel('Return window (days)').inputValue()).toBe('7');
    expect(await form.getByLabel('Programme time zone').inputValue()).toBe('Europe/London');
  });

  it('a marketer reads the settings but cannot change them', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/settings');
    const form = page.getByTestId('programme-settings-form');
    await form.waitFor();
    expect(await text('programme-settings-form')).toContain('Points for the referrer');
    expect(await form.getByLabel('Return window (days)').isDisabled()).toBe(true);
    expect(await page.getByTestId('settings-save').count()).toBe(0);
  });
});
