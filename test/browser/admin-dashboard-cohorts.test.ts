import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

// The admin app is built for the distribution's plugins: load them, as the other admin suites do.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

describeInBrowser('admin app: the cohort heat map over the last 12 months', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));

  beforeAll(async () => {
    // "Last 12 months" spans 13 calendar months: one member's first order in each of them.
    // The range the page asks for (rangeFilter in web-admin/src/dashboard/Dashboard.tsx): 365 days to the next UTC midnight.
    const dayMs = 86_400_000;
    const from = Math.ceil(Date.now() / dayMs) * dayMs - 365 * dayMs;
    const web = await b.apiKey();
    const start = new Date(from);
    for (let month = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1)); month.getTime() < Date.now(); month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))) {
      const placedAt = new Date(Math.min(Math.max(month.getTime(), from) + 3_600_000, Date.now() - 60_000)).toISOString();
      const member = await b.member().save();
      const result = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 1000 }], { placedAt }) });
      expect(result.errors).toBeUndefined();
    }
  });

  it('an analyst reads every cell of 13 monthly cohorts, and the colour scale says what its ends are', async () => {
    await session.signIn(AdminRole.ANALYST, '/dashboard');
    await session.page.getByTestId('dashboard-range').selectOption('365');
    const chart = session.page.getByTestId('chart-cohorts').getByRole('img');
    await session.page.waitForFunction(() => (document.querySelector('[data-testid="chart-cohorts"] svg')?.textContent?.match(/\(1\)/g) ?? []).length === 13);
    const texts = await chart.locator('svg text').allTextContents();
    // Each cohort's first month is 100%: 13 cells written out, not left to a tooltip.
    expect(texts.filter((t) => t === '100')).toHaveLength(13);
    expect(texts).toEqual(expect.arrayContaining(['100%', '0%']));
    await screenshot(session.page, 'dashboard-cohorts-12-months');
  });
});
