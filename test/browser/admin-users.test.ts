import { useHarness, expectError } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);

const LOGIN = `mutation L($input: LoginInput!) { login(input: $input) { token } }`;
const ME = `{ me { role permissions } }`;
const EMAIL = 'grace.ops@example.com';
const PASSWORD = 'a long and unusual passphrase';

describeInBrowser('admin app: admin users', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;

  const login = async () => h.gql(null, LOGIN, { input: { email: EMAIL, password: PASSWORD } });
  const row = () => session.page.getByTestId('admin-user-row').filter({ hasText: EMAIL });

  it('an admin creates a user, changes their role, ends their sessions, disables and re-enables them', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/admin-users');
    await page.getByTestId('admin-user-row').first().waitFor();

    await page.getByTestId('admin-user-new').click();
    const form = page.getByTestId('admin-user-form');
    await form.getByLabel('Email').fill(EMAIL);
    await form.getByLabel('Name').fill('Grace Ops');
    await form.getByLabel('Role').selectOption('MARKETER');
    await form.getByLabel('Initial password').fill('short');
    await page.getByTestId('admin-user-create').click();
    await page.getByTestId('field-error').waitFor();
    expect(await text('field-error')).toContain('12 to 200 characters');
    await form.getByLabel('Initial password').fill(PASSWORD);
    await page.getByTestId('admin-user-create').click();
    await row().waitFor();
    expect(await text('admin-users-notice')).toBe(`${EMAIL} can now sign in as marketer.`);
    const first = await login();
    expect(first.errors).toBeUndefined();
    const token = { token: first.data.login.token };
    expect((await h.gql(token, ME)).data.me.permissions).toContain('members:pii');

    await row().getByTestId('admin-user-change-role').click();
    await page.getByTestId('admin-user-role-form').getByLabel('Role').selectOption('ANALYST');
    await page.getByTestId('admin-user-role-save').click();
    await page.waitForFunction((email) => [...document.querySelectorAll('[data-testid="admin-user-row"]')].some((r) => r.textContent?.includes(email) && r.textContent.includes('Analyst')), EMAIL);
    const demoted = await h.gql(token, ME);
    expect(demoted.data.me.role).toBe('ANALYST');
    expect(demoted.data.me.permissions).not.toContain('members:pii');

    await row().getByTestId('admin-user-end-sessions').click();
    await page.getByTestId('admin-user-sessions-confirm').click();
    await page.getByTestId('admin-users-notice').filter({ hasText: 'Ended 1 session' }).waitFor();
    expectError(await h.gql(token, ME), 'UNAUTHENTICATED');
    const second = await login();
    expect(second.errors).toBeUndefined();

    await row().getByTestId('admin-user-disable').click();
    await page.getByTestId('admin-user-disable-confirm').click();
    await row().getByTestId('admin-user-enable').waitFor();
    expect(await row().getByTestId('admin-user-status').textContent()).toBe('Disabled');
    expectError(await h.gql({ token: second.data.login.token }, ME), 'UNAUTHENTICATED');
    expectError(await login(), 'UNAUTHENTICATED');
    await screenshot(page, 'admin-users');

    await row().getByTestId('admin-user-enable').click();
    await row().getByTestId('admin-user-disable').waitFor();
    expect((await login()).errors).toBeUndefined();
    const actions = await h.sql<{ action: string }>(
      `select action from audit_entry where entity_type = 'AdminUser' and entity_id = (select id::text from admin_user where email = ?) order by id`,
      [EMAIL],
    );
    expect(actions.map((a) => a.action)).toEqual(['adminUser.create', 'adminUser.update', 'adminUser.revokeSessions', 'adminUser.update', 'adminUser.update']);
  });

  it('refuses to demote the last active admin and says why', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/admin-users');
    await page.getByTestId('admin-user-row').first().waitFor();
    // Every other admin is disabled: the signed-in one is the last.
    const email = (await page.locator('.current-admin-email').getAttribute('title'))!;
    await h.sql(`update admin_user set disabled_at = now() where role = 'ADMIN' and email <> ?`, [email]);
    const mine = page.getByTestId('admin-user-row').filter({ hasText: '(you)' });
    await mine.getByTestId('admin-user-change-role').click();
    await page.getByTestId('admin-user-role-form').getByLabel('Role').selectOption('MARKETER');
    await page.getByTestId('admin-user-role-save').click();
    await page.getByTestId('form-error').waitFor();
    expect(await text('form-error')).toBe('This would leave no active admin. Give another user the Admin role first.');
    const [me] = await h.sql<{ role: string }>(`select role from admin_user where email = ?`, [email]);
    expect(me.role).toBe('ADMIN');
  });
});
