import { useHarness, expectError } from '../support/harness';
import { describeInBrowser, expectOnScreen, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);

/** Needs members:read: what a till does first. */
const PROBE = `{ members(first: 1) { totalCount } }`;
const GRACE_SECONDS = 4;

describeInBrowser('admin app: sales channels and API keys', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;

  it('an admin creates a channel and a key shown once, rotates it with a grace period after which the old key stops, then revokes the new one', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations');
    await page.waitForURL(/\/operations\/channels$/);
    await page.getByTestId('channels-empty').waitFor();

    await page.getByTestId('channel-new').click();
    await page.getByTestId('channel-form').getByLabel('Name').fill('Leeds stores');
    await page.getByTestId('channel-form').getByLabel('Kind').selectOption('STORE');
    await page.getByTestId('channel-create').click();
    await page.getByTestId('channel-row').waitFor();
    expect(await text('channel-row')).toContain('Leeds storesStore0');

    await page.getByTestId('api-key-new').click();
    const form = page.getByTestId('api-key-form');
    await form.getByLabel('Key name').fill('Till 4');
    await form.getByRole('checkbox', { name: /Members read/ }).check();
    await form.getByRole('checkbox', { name: /Orders write/ }).check();
    await page.getByTestId('api-key-create').click();
    const firstKey = await page.getByTestId('api-key-secret-value').inputValue();
    expect(firstKey).toMatch(/^lk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    await screenshot(page, 'api-key-shown-once');
    await page.getByTestId('api-key-secret-done').click();
    await page.getByTestId('api-key-row').waitFor();
    expect(await text('api-key-status')).toBe('Active');
    expect(await text('api-key-row')).toContain('Members read, Orders write');
    // Once closed, the secret is nowhere on the page: the list shows the public prefix only.
    expect(await page.locator('body').textContent()).not.toContain(firstKey.slice('lk_'.length + 12 + 1));
    expect(await page.locator('body').textContent()).toContain(`lk_${firstKey.split('_')[1]}_…`);
    expect((await h.gql({ apiKey: firstKey }, PROBE)).errors).toBeUndefined();

    // Rotation with a short grace period: both keys work, then only the new one.
    await page.getByTestId('api-key-rotate').click();
    const rotate = page.getByTestId('api-key-rotate-form');
    await rotate.getByLabel('Grace period').fill(String(GRACE_SECONDS));
    await rotate.getByLabel('Unit').selectOption('seconds');
    await page.getByTestId('api-key-rotate-confirm').click();
    const secondKey = await page.getByTestId('api-key-secret-value').inputValue();
    const stillWorks = await h.gql({ apiKey: firstKey }, PROBE);
    const checkedAt = Date.now();
    expect(secondKey).not.toBe(firstKey);
    const [old] = await h.sql<{ expires_at: string }>(`select expires_at from api_key where prefix = ?`, [firstKey.split('_')[1]]);
    const graceEnd = new Date(old.expires_at).getTime();
    expect(checkedAt).toBeLessThan(graceEnd);
    expect(stillWorks.errors).toBeUndefined();
    expect((await h.gql({ apiKey: secondKey }, PROBE)).errors).toBeUndefined();
    expect(await text('api-key-secret')).toContain('The old key keeps working until about');
    await page.getByTestId('api-key-secret-done').click();
    await page.getByTestId('api-key-row').nth(1).waitFor();
    const statuses = await page.getByTestId('api-key-status').allTextContents();
    expect(statuses).toEqual(['Active', expect.stringMatching(/^Rotated, works until /)]);

    // After the grace period the old key is refused, and the page turns it to expired without a reload.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="api-key-status"]')[1]?.textContent === 'Rotated, expired', null, {
      timeout: (GRACE_SECONDS + 5) * 1000,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(graceEnd);
    expectError(await h.gql({ apiKey: firstKey }, PROBE), 'UNAUTHENTICATED');
    expect((await h.gql({ apiKey: secondKey }, PROBE)).errors).toBeUndefined();
    expect(await page.getByTestId('api-key-rotate').count()).toBe(1);
    await screenshot(page, 'api-keys-rotated');

    await page.getByTestId('api-key-revoke').click();
    await page.getByTestId('api-key-revoke-form').getByLabel('Reason').fill('Till 4 stolen');
    await page.getByTestId('api-key-revoke-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="api-key-status"]')?.textContent?.startsWith('Revoked'));
    expectError(await h.gql({ apiKey: secondKey }, PROBE), 'UNAUTHENTICATED');
    const [audit] = await h.sql<{ after: { reason: string } }>(`select after from audit_entry where action = 'apiKey.revoke'`);
    expect(audit.after.reason).toBe('Till 4 stolen');
    expect(await page.getByTestId('api-key-rotate').count()).toBe(0);
  });

  it('shows the API validation message on the rotate form', async () => {
    const { page } = session;
    await b.apiKey(['members:read']);
    await signIn(AdminRole.ADMIN, '/operations/channels');
    await page.getByTestId('api-key-row').filter({ hasText: 'test key' }).getByTestId('api-key-rotate').click();
    await page.getByTestId('api-key-rotate-form').getByLabel('Grace period').fill('8');
    await page.getByTestId('api-key-rotate-form').getByLabel('Unit').selectOption('days');
    // The browser's own max check would stop the form first: send it anyway, as a stale page would.
    await page.getByTestId('api-key-rotate-form').evaluate((f: HTMLFormElement) => (f.noValidate = true));
    await page.getByTestId('api-key-rotate-confirm').click();
    await page.getByTestId('field-error').waitFor();
    expect(await text('field-error')).toContain('must not be greater than 604800');
  });

  it('at 1280 × 800 a key with every scope keeps its Rotate and Revoke on screen, with no sideways scrolling', async () => {
    const { page } = session;
    await page.setViewportSize({ width: 1280, height: 800 });
    await b.apiKey();
    await signIn(AdminRole.ADMIN, '/operations/channels');
    await page.getByTestId('api-key-row').first().waitFor();
    await expectOnScreen(page, page.getByTestId('api-key-rotate'));
    await expectOnScreen(page, page.getByTestId('api-key-revoke'));
    await screenshot(page, 'api-keys-1280');
  });

  it('a marketer is not offered the page: no tab for it, and a notice instead of it', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/operations/channels');
    await page.getByTestId('operations-forbidden').waitFor();
    expect(await page.getByRole('navigation', { name: 'Operations' }).getByRole('link', { name: 'Channels & API keys' }).count()).toBe(0);
    expect(await page.getByTestId('api-key-new').count()).toBe(0);
  });
});

