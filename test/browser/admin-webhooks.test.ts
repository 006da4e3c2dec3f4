import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Queue from 'bull';
import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { WebhookDispatcher, WEBHOOK_DELIVERY_QUEUE } from '../../api/src/modules/webhooks/dispatcher';
import { verify } from '../../api/src/modules/webhooks/signature';
import { createLogger } from '../../api/src/base/logger';

const prefix = `test-admin-webhooks-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
// The test runs its own dispatcher; a failed attempt is retried 300 ms later.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', QUEUE_PREFIX: prefix, WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '300', WEBHOOK_SWEEP_MS: '100' });
const b = build(h);

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describeInBrowser('admin app: webhooks', () => {
  let signedIn: Awaited<ReturnType<typeof b.admin>>;
  const session = useAdminBrowser(
    async () => `http://127.0.0.1:${await h.app.listen()}`,
    async (role) => (signedIn = await b.admin(role)),
  );
  const { signIn, text } = session;
  const received: Received[] = [];
  let receiver: http.Server;
  let url: string;
  let dispatcher: WebhookDispatcher;

  beforeAll(async () => {
    // The first POST fails with 500, every later one succeeds: the first delivery takes two attempts.
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = received.length === 1 ? 500 : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/loyalty-events`;
    dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent')).start();
  });

  afterAll(async () => {
    await dispatcher?.close();
    receiver?.closeAllConnections();
    receiver?.close();
    const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  });

  const signedWith = (secret: string, r: Received) =>
    verify(secret, { timestamp: r.headers['x-loyalty-timestamp'] as string, signature: r.headers['x-loyalty-signature'] as string }, r.body);

  /** Clicks Refresh until the newest delivery reads `status`. */
  async function refreshUntil(status: string) {
    const { page } = session;
    for (let i = 0; i < 40; i++) {
      await page.getByTestId('webhook-refresh').click();
      const row = page.getByTestId('delivery-row').first();
      if ((await row.count()) && (await row.textContent())?.includes(status)) return;
      await page.waitForTimeout(250);
    }
    throw new Error(`no delivery reached ${status}`);
  }

  it('an admin registers an endpoint, reads a delivery with both attempts, rotates the secret, disables and re-enables it', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/webhooks');
    await page.getByTestId('webhooks-empty').waitFor();

    await page.getByTestId('webhook-new').click();
    const form = page.getByTestId('webhook-form');
    await form.getByLabel('URL').fill(url);
    await form.getByLabel('Description').fill('CRM sync');
    await form.getByRole('checkbox', { name: /Member enrolled/ }).check();
    await page.getByTestId('webhook-register').click();
    const secret = await page.getByTestId('webhook-secret-value').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByTestId('webhook-secret-done').click();
    await page.getByTestId('deliveries-empty').waitFor();
    expect(await text('webhook-row')).toContain(url);
    expect(await text('webhook-status')).toBe('Active');
    expect(await page.locator('body').textContent()).not.toContain(secret);
    // Who registered it: the admin's email, the reference only as the tooltip.
    await page.waitForFunction((email) => document.querySelector('[data-testid="webhook-created-by"]')?.textContent === email, signedIn.email);
    expect(await page.getByTestId('webhook-created-by').getAttribute('title')).toBe(`admin:${signedIn.id}`);
    expect(await page.locator('main').textContent()).not.toContain('admin:');

    // A member enrols: the endpoint answers 500, then 200 on the retry.
    const ada = await b.member().named('Ada', 'Lovelace').save();
    await refreshUntil('Delivered');
    const attempts = await page.getByTestId('delivery-row').first().getByTestId('delivery-attempt').allTextContents();
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatch(/^#1 .*500/);
    expect(attempts[1]).toMatch(/^#2 .*200/);
    expect(await text('delivery-row')).toContain('Member enrolled');
    expect(received).toHaveLength(2);
    expect(received[1].body).toContain(ada.id);
    expect(signedWith(secret, received[1])).toBe(true);
    await screenshot(page, 'webhook-deliveries');

    // A new secret signs the next delivery; the old one no longer verifies it.
    await page.getByTestId('webhook-rotate').click();
    await page.getByTestId('webhook-rotate-confirm').click();
    const rotated = await page.getByTestId('webhook-secret-value').inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByTestId('webhook-secret-done').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="webhook-secret-rotated"]')?.textContent?.startsWith('Rotated'));
    await b.member().save();
    for (let i = 0; i < 40 && received.length < 3; i++) await page.waitForTimeout(100);
    expect(received).toHaveLength(3);
    expect(signedWith(rotated, received[2])).toBe(true);
    expect(signedWith(secret, received[2])).toBe(false);

    // Disabled by hand, with who did it as the reason; re-enabled with its failure count reset.
    const [webhook] = (await h.gql((await b.admin()).auth, `{ webhooks { id } }`)).data.webhooks;
    await page.getByTestId('webhook-toggle').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="webhook-detail-status"]')?.textContent?.startsWith('Disabled'));
    expect(await text('webhook-detail-status')).toBe(`Disabled disabled by ${signedIn.email}`);
    expect(await text('webhook-toggle')).toBe('Re-enable');
    const [disabled] = await h.sql<{ is_active: boolean }>(`select is_active from webhook where id = ?`, [webhook.id]);
    expect(disabled.is_active).toBe(false);
    await screenshot(page, 'webhook-disabled');

    await page.getByTestId('webhook-toggle').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="webhook-detail-status"]')?.textContent === 'Active');
    const [enabled] = await h.sql<{ is_active: boolean; consecutive_failures: number }>(`select is_active, consecutive_failures from webhook where id = ?`, [webhook.id]);
    expect(enabled).toEqual({ is_active: true, consecutive_failures: 0 });
    const actions = await h.sql<{ action: string }>(`select action from audit_entry where entity_id = ? order by created_at, id`, [webhook.id]);
    expect(actions.map((a) => a.action)).toEqual(['webhook.register', 'webhook.rotate_secret', 'webhook.update', 'webhook.update']);
  });

  it('shows the API validation message for an endpoint without events', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/webhooks');
    await page.getByTestId('webhook-new').click();
    await page.getByTestId('webhook-form').getByLabel('URL').fill('http://127.0.0.1:9/none');
    await page.getByTestId('webhook-register').click();
    await page.getByTestId('field-error').waitFor();
    expect(await text('field-error')).toContain('eventTypes');
  });
});
