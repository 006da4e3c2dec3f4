import { useHarness } from '../support/harness';
import { describeInBrowser, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

// Tokens of a minute (the shortest ADMIN_TOKEN_TTL_SECONDS allows): the app renews or warns a quarter of that, 15 s,
// before each expires, so the test waits in real time (about 95 s) against the real API.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN_TTL_SECONDS: '60' });
const b = build(h);

describeInBrowser('admin app: a session that lasts while the admin works', () => {
  let admin: Awaited<ReturnType<typeof b.admin>>;
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, async (role) => (admin = await b.admin(role)));

  const storedToken = () => session.page.evaluate(() => (JSON.parse(sessionStorage.getItem('loyalty.admin.session') ?? 'null') as { token: string } | null)?.token ?? null);
  // The browser's session: the admin's newest (the fixture signed in first, for its own token).
  const sessionEnds = async (adminId: string) =>
    new Date((await h.sql<{ expires_at: string }>(`select expires_at from admin_session where admin_id = ? order by created_at desc limit 1`, [adminId]))[0].expires_at).getTime();
  const openSessions = async (adminId: string) => (await h.sql<{ n: number }>(`select count(*)::int as n from admin_session where admin_id = ? and revoked_at is null`, [adminId]))[0].n;

  it('warns an idle admin before the token expires, renews on "Stay signed in", then renews silently while they type, keeping the form', async () => {
    const { page } = session;
    await session.signIn(AdminRole.ADMIN, '/account');
    await page.getByTestId('change-password-form').waitFor();
    const first = await storedToken();
    const firstEnd = await sessionEnds(admin.id);
    const sessions = await openSessions(admin.id);

    // Idle: about 45 s after signing in, the warning, and the token is not renewed behind the admin's back.
    await page.getByTestId('session-warning').waitFor({ timeout: 55_000 });
    expect(await page.getByTestId('session-warning').textContent()).toMatch(/^Your session ends at .+ unless you stay signed in\.Stay signed in$/);
    expect(await storedToken()).toBe(first);
    expect(await sessionEnds(admin.id)).toBe(firstEnd);

    await page.getByTestId('session-stay').click();
    await page.getByTestId('session-warning').waitFor({ state: 'detached' });
    const second = await storedToken();
    expect(second).not.toBe(first);
    expect(await sessionEnds(admin.id)).toBeGreaterThan(firstEnd);

    // Working: typing into a form, then the next renewal comes without a warning, and the form keeps what was typed.
    await page.getByLabel('Current password').pressSequentially('half-typed text');
    await page.waitForFunction((previous) => (JSON.parse(sessionStorage.getItem('loyalty.admin.session') ?? 'null') as { token: string } | null)?.token !== previous, second, { timeout: 55_000 });
    expect(await page.getByTestId('session-warning').count()).toBe(0);
    expect(await page.getByLabel('Current password').inputValue()).toBe('half-typed text');
    expect(new URL(page.url()).pathname).toBe('/account');
    // Renewed tokens are the same session's: no new session was opened.
    expect(await openSessions(admin.id)).toBe(sessions);
  }, 150_000);
});
