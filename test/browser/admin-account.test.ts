import { useHarness } from '../support/harness';
import { describeInBrowser, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);
const ME = '{ me { email } }';

describeInBrowser('admin app: your account', () => {
  // The admin the last signIn created, with a second session of theirs opened through the API.
  let me: Awaited<ReturnType<typeof b.admin>>;
  const session = useAdminBrowser(
    async () => `http://127.0.0.1:${await h.app.listen()}`,
    async (role) => (me = await b.admin(role)),
  );
  const { signIn, text } = session;

  it('an admin changes their own password: the current one is checked, a weak one refused, then every other session ends and this one goes on', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/segments');
    await page.getByTestId('current-admin').click();
    await page.getByTestId('change-password').waitFor();
    expect(new URL(page.url()).pathname).toBe('/account');
    const form = page.getByTestId('change-password-form');
    const fill = async (current: string, next: string, again = next) => {
      await form.getByLabel('Current password').fill(current);
      await form.getByLabel('New password', { exact: true }).fill(next);
      await form.getByLabel('New password again').fill(again);
    };
    const fieldErrors = async () => (await form.getByTestId('field-error').allTextContents()).map((t) => t.trim());
    const stored = async () => (await h.sql<{ password_hash: string }>(`select password_hash from admin_user where email = ?`, [me.email]))[0].password_hash;
    const before = await stored();

    // A wrong current password, then a common new one: each named by its field, and nothing changes.
    await fill('not my password at all', 'a much better passphrase');
    await page.getByTestId('change-password-submit').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="field-error"]').length === 1);
    expect(await fieldErrors()).toEqual(['is not your current password']);
    await fill(me.password, 'Password2024!');
    await page.getByTestId('change-password-submit').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="field-error"]')?.textContent === 'is a commonly used password');
    expect(await fieldErrors()).toEqual(['is a commonly used password']);
    // A confirmation that differs is caught before anything is sent.
    await fill(me.password, 'a much better passphrase', 'a much better passphrase!');
    expect(await fieldErrors()).toEqual(['does not match the new password']);
    expect(await page.getByTestId('change-password-submit').isDisabled()).toBe(true);
    expect(await stored()).toBe(before);
    expect((await h.gql(me.auth, ME)).data.me.email).toBe(me.email);

    await fill(me.password, 'a much better passphrase');
    await page.getByTestId('change-password-submit').click();
    await page.getByTestId('change-password-done').waitFor();
    // The new token brings a new API client and a reload of the signed-in admin: the notice outlives it.
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByTestId('change-password-done').waitFor();
    expect(await text('change-password-done')).toBe('Password changed. Every other session of yours has been signed out.');
    expect(await form.getByLabel('Current password').inputValue()).toBe('');
    expect(await stored()).not.toBe(before);

    // The session opened elsewhere is over; this tab carries on with the new one, after a reload too.
    const elsewhere = await h.gql(me.auth, ME);
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await page.reload();
    await page.getByTestId('change-password').waitFor();
    expect(await text('current-admin-role')).toBe('Marketer');
    await page.goto(new URL('/segments', page.url()).toString());
    await page.getByRole('heading', { name: 'Segments', exact: true }).waitFor();

    // Only the new password signs in now; the change is in the audit log.
    const login = `mutation L($input: LoginInput!) { login(input: $input) { token } }`;
    expect((await h.gql(null, login, { input: { email: me.email, password: me.password } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await h.gql(null, login, { input: { email: me.email, password: 'a much better passphrase' } })).data.login.token).toEqual(expect.any(String));
    const audit = await h.sql<{ action: string }>(`select action from audit_entry where entity_type = 'AdminUser' and entity_id = (select id::text from admin_user where email = ?)`, [me.email]);
    expect(audit.map((a) => a.action)).toContain('adminUser.changePassword');
  });
});
