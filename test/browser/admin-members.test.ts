import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { expectError, useHarness } from '../support/harness';
import { describeInBrowser, launchChromium } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);

describeInBrowser('admin app: members', () => {
  let browser: Browser;
  let page: Page;
  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = `http://127.0.0.1:${await h.app.listen()}`;
    browser = await launchChromium();
    for (let i = 0; i < 25; i++) await b.member().named('Browser', `Shopper${String(i).padStart(2, '0')}`).save();
    await b.member().named('Grace', 'Hopper').withEmail('grace@navy.example').save();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    page = await (await browser.newContext()).newPage();
    // A step that stalls fails on its own line, inside the test's 30 s (Playwright's default is 30 s per step).
    page.setDefaultTimeout(10_000);
  });

  async function signIn(email: string, password: string) {
    await page.goto(`${baseUrl}/members`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('a marketer signs in, sees the member count, loads more and finds a member by name', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    await signIn(marketer.email, marketer.password);
    await page.getByTestId('member-count').waitFor();
    expect(await page.getByTestId('member-count').textContent()).toBe('26 members');
    expect(await page.getByTestId('member-row').count()).toBe(20);
    await page.getByTestId('member-load-more').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="member-row"]').length === 26);

    await page.getByLabel('Search members').fill('grace hopper');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="member-row"]').length === 1);
    const row = await page.getByTestId('member-row').textContent();
    expect(row).toContain('grace@navy.example');
    expect(await page.getByTestId('member-count').textContent()).toBe('1 member');
  });

  it('a marketer narrows the list to the active models\' bands: high churn risk, then also high predicted value', async () => {
    // What the worker writes, inserted directly: an active churn and value model with scores for three members.
    await h.sql(`update model_version set status = 'RETIRED' where kind in ('CHURN', 'VALUE') and status = 'ACTIVE'`);
    const model = async (kind: string) => {
      const id = randomUUID();
      await h.sql(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
         values (?, ?, 'ACTIVE', 'TEST', '{}', '{}', '{}', 90, now(), now())`,
        [id, kind],
      );
      return id;
    };
    const churn = await model('CHURN');
    const value = await model('VALUE');
    await h.sql(`update model_version set value_scoring = ? where id = ?`, [
      JSON.stringify({ currency: 'GBP', mediumQuantile: 0.5, highQuantile: 0.8, mediumFromMinor: 2000, highFromMinor: 9000, members: 3 }),
      value,
    ]);
    const [atRiskValuable, atRiskCheap, safeValuable] = [
      await b.member().named('Risky', 'Valuable').save(),
      await b.member().named('Risky', 'Cheap').save(),
      await b.member().named('Safe', 'Valuable').save(),
    ];
    for (const [m, band, score] of [[atRiskValuable, 'HIGH', 0.8], [atRiskCheap, 'HIGH', 0.7], [safeValuable, 'LOW', 0.1]] as const) {
      await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, ?, ?, '[]')`, [churn, m.id, score, band]);
    }
    for (const [m, band, amount] of [[atRiskValuable, 'HIGH', 20_000], [atRiskCheap, 'LOW', 100], [safeValuable, 'HIGH', 15_000]] as const) {
      await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, ?, 0.8, ?, '[]')`, [
        value, m.id, amount, band,
      ]);
    }
    const shownIds = async (count: number) => {
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="member-row"]').length === n, count);
      return (await page.getByTestId('member-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-member-id')))).sort();
    };

    const marketer = await b.admin(AdminRole.MARKETER);
    await signIn(marketer.email, marketer.password);
    await page.getByTestId('member-count').waitFor();
    await page.getByLabel('Churn risk').selectOption('HIGH');
    expect(await shownIds(2)).toEqual([atRiskValuable.id, atRiskCheap.id].sort());
    expect(await page.getByTestId('member-count').textContent()).toBe('2 members');
    await page.getByLabel('Predicted value').selectOption('HIGH');
    expect(await shownIds(1)).toEqual([atRiskValuable.id]);
    await page.getByLabel('Churn risk').selectOption('');
    expect(await shownIds(2)).toEqual([atRiskValuable.id, safeValuable.id].sort());
  });

  it('shows a wrong password as an error and stays on the login page', async () => {
    const admin = await b.admin();
    await signIn(admin.email, 'not the password');
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('login-error').textContent()).toContain('Invalid email or password');
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('an analyst sees members without names or contact details, and no search box', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    await signIn(analyst.email, analyst.password);
    await page.getByTestId('pii-hidden').waitFor();
    await page.getByTestId('member-row').first().waitFor();
    const headers = await page.locator('[data-testid="member-table"] th').allTextContents();
    expect(headers).not.toContain('Email');
    expect(headers).toContain('Country');
    expect(await page.getByTestId('member-search').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain('grace@navy.example');
  });

  /** A new admin signed in on the member list, and the token the app keeps in sessionStorage. */
  async function signedInWithToken() {
    const admin = await b.admin();
    await signIn(admin.email, admin.password);
    await page.getByTestId('member-count').waitFor();
    const token = await page.evaluate(() =>
      Object.values(sessionStorage)
        .map((v) => (JSON.parse(v) as { token?: string }).token)
        .find(Boolean),
    );
    return { admin, token };
  }

  it('signing out returns to the login page, forgets the session and revokes its token', async () => {
    const { admin, token } = await signedInWithToken();
    expect((await h.gql({ token: token! }, `{ me { id } }`)).data.me.id).toBe(admin.id);
    // The server's answer to the app's logout, so a failure here names it.
    const logout = page.waitForResponse((r) => r.url().endsWith('/graphql') && /\blogout\b/.test(r.request().postData() ?? ''));
    await page.getByTestId('sign-out').click();
    expect(await (await logout).json()).toEqual({ data: { logout: true } });
    await page.getByLabel('Password').waitFor();
    // A copy of the token (another tab, a leaked log) stops working too.
    expectError(await h.gql({ token: token! }, `{ me { id } }`), 'UNAUTHENTICATED');
    await page.goto(`${baseUrl}/members`);
    await page.getByLabel('Password').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('when the server does not answer the logout, the login page says the session still works until it expires', async () => {
    const { admin, token } = await signedInWithToken();
    // The network drops the logout request (a lost connection, a proxy that is down); everything else goes through.
    await page.route('**/graphql', (route) => (/\blogout\b/.test(route.request().postData() ?? '') ? route.abort('failed') : route.continue()));
    await page.getByTestId('sign-out').click();
    await page.getByTestId('session-not-revoked').waitFor();
    expect(await page.getByTestId('session-not-revoked').textContent()).toMatch(/did not confirm that your session ended: a copy of it works until \d/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // What the notice says is true: the token was not revoked.
    expect((await h.gql({ token: token! }, `{ me { id } }`)).data.me.id).toBe(admin.id);

    // Signing in and out again once the server answers ends the new session, with no warning.
    await page.unroute('**/graphql');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('member-count').waitFor();
    await page.getByTestId('sign-out').click();
    await page.getByLabel('Password').waitFor();
    expect(await page.getByTestId('session-not-revoked').count()).toBe(0);
  });
});
