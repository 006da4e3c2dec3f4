import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { plugin as brandBonusPlugin } from '../../examples/brand-bonus-plugin/src';

// The admin app against an API that loads the example plugin: the rule form is drawn from earningRuleKinds, so the
// plugin's kind and its arguments appear with no admin code for them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: [brandBonusPlugin] });
const b = build(h);

describeInBrowser('admin app: earning rules', () => {
  const s = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role: AdminRole) => b.admin(role));

  it("shows a plugin kind's fields only while it is chosen, and creates a rule of it with its params", async () => {
    await s.signIn(AdminRole.ADMIN, '/earning-rules');
    await s.page.getByTestId('earning-rules-new').click();
    const dialog = s.page.getByTestId('earning-rules-dialog');
    await dialog.getByLabel('Per minor units').waitFor();
    expect(await dialog.getByLabel('Brand').count()).toBe(0);

    await dialog.getByLabel('Kind').selectOption({ label: 'Brand bonus' });
    await dialog.getByLabel('Brand').waitFor();
    expect(await dialog.getByLabel('Per minor units').count()).toBe(0);
    await dialog.getByLabel('Name', { exact: true }).fill('Acme double points');
    await dialog.getByLabel('Priority').fill('0');
    await dialog.getByLabel('Brand').fill('Acme');
    await dialog.getByLabel('Extra %').fill('5000');
    await dialog.getByTestId('form-save').click();
    // The API's message for input.params.extraPercent lands under that field.
    await dialog.getByTestId('field-error').first().waitFor();
    expect(await dialog.getByLabel('Extra %').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.getByLabel('Brand').getAttribute('aria-invalid')).toBe('false');
    expect(await dialog.getByTestId('field-error').first().textContent()).toContain('must be from 1 to 1000');
    await screenshot(s.page, 'earning-rule-plugin-kind-error');

    await dialog.getByLabel('Extra %').fill('100');
    await dialog.getByTestId('form-save').click();
    await s.page.getByTestId('earning-rules-row').first().waitFor();
    const row = await s.page.getByTestId('earning-rules-row').first().textContent();
    expect(row).toContain('Brand bonus');
    expect(row).toContain('Brand: Acme, Extra %: 100');
    const [rule] = await h.sql(`select kind, params, multiplier_percent from earning_rule where name = 'Acme double points'`);
    expect(rule).toEqual({ kind: 'BRAND_BONUS', params: { brand: 'Acme', extraPercent: 100 }, multiplier_percent: null });

    // Editing opens with the stored params and writes version 2.
    await s.page.getByTestId('earning-rules-edit').first().click();
    expect(await dialog.getByLabel('Brand').inputValue()).toBe('Acme');
    await dialog.getByLabel('Brand').fill('Globex');
    await dialog.getByTestId('form-save').click();
    await s.page.waitForFunction(() => document.querySelector('[data-testid="earning-rules-row"]')?.textContent?.includes('Globex'));
    const versions = await h.sql(`select version, params->>'brand' as brand from earning_rule where name = 'Acme double points' order by version`);
    expect(versions).toEqual([{ version: 1, brand: 'Acme' }, { version: 2, brand: 'Globex' }]);
    await screenshot(s.page, 'earning-rules-plugin-kind');
  });

  it('reads a base rate in money (perMinor is in pence) and a weekend bonus by its days', async () => {
    await b.baseRate(1, 100);
    await b.rule({ name: 'Weekend double', kind: 'BONUS', multiplierPercent: 100, daysOfWeek: [0, 6] });
    await s.signIn(AdminRole.ADMIN, '/earning-rules');
    const row = (name: string) => s.page.getByTestId('earning-rules-row').filter({ hasText: name });
    await row('Base GBP').waitFor();
    expect(await row('Base GBP').textContent()).toContain('1 pt per £1.00');
    expect(await row('Base GBP').textContent()).toContain('Always');
    expect(await row('Weekend double').textContent()).toContain('Sat, Sun');
    expect(await row('Weekend double').textContent()).not.toContain('Always');
  });

  it('still creates a built-in rule from its own fields', async () => {
    await s.signIn(AdminRole.ADMIN, '/earning-rules');
    await s.page.getByTestId('earning-rules-new').click();
    const dialog = s.page.getByTestId('earning-rules-dialog');
    await dialog.getByLabel('Kind').selectOption({ label: 'Base rate' });
    await dialog.getByLabel('Name', { exact: true }).fill('Euro base');
    await dialog.getByLabel('Priority').fill('0');
    await dialog.getByLabel('Points', { exact: true }).fill('1');
    await dialog.getByLabel('Per minor units').fill('100');
    await dialog.getByLabel('Currency').fill('EUR');
    await dialog.getByTestId('form-save').click();
    await s.page.waitForFunction(() => [...document.querySelectorAll('[data-testid="earning-rules-row"]')].some((r) => r.textContent?.includes('1 pt per €1.00')));
    const [rule] = await h.sql(`select kind, points, per_minor, currency, params from earning_rule where name = 'Euro base'`);
    expect(rule).toEqual({ kind: 'BASE_RATE', points: 1, per_minor: 100, currency: 'EUR', params: null });
  });
});
