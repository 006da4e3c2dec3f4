import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' });
const b = build(h);

const CREATE_CHANNEL = `mutation C($input: CreateSalesChannelInput!) { createSalesChannel(input: $input) { id } }`;
const CREATE_KEY = `mutation K($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id } } }`;
const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id } }`;
const REGISTER = `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`;
const DAY_MS = 86_400_000;

/** `<input type="datetime-local">` text for a moment, in the browser's (here the test process's) time zone. */
function localInput(date: Date): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

describeInBrowser('admin app: audit log', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let bob: Awaited<ReturnType<typeof b.admin>>;
  let carol: Awaited<ReturnType<typeof b.admin>>;
  let webhookId: string;
  let keyId: string;

  beforeAll(async () => {
    bob = await b.admin();
    carol = await b.admin();
    const channel = await h.gql(bob.auth, CREATE_CHANNEL, { input: { name: 'Bob web', kind: 'WEB' } });
    const key = await h.gql(bob.auth, CREATE_KEY, { input: { channelId: channel.data.createSalesChannel.id, name: 'site', scopes: ['MEMBERS_READ', 'MEMBERS_WRITE'] } });
    expect(key.errors).toBeUndefined();
    keyId = key.data.createApiKey.apiKey.id;
    // The key enrols a member: an entry whose actor is the key.
    expect((await h.gql({ apiKey: key.data.createApiKey.key }, ENROL, { input: { firstName: 'Ada', email: 'ada@audit.example' } })).errors).toBeUndefined();
    const hook = await h.gql(carol.auth, REGISTER, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['MEMBER_ENROLLED'] } });
    webhookId = hook.data.registerWebhook.webhook.id;
    // Bob's changes happened two days ago, so a time window can tell them from Carol's.
    await h.sql(`update audit_entry set created_at = created_at - interval '2 days' where actor = ?`, [`admin:${bob.id}`]);
  });

  it('an admin filters the log by actor, by entity and by time, and reads an entry before and after', async () => {
    const { page } = session;
    await signIn(AdminRole.ADMIN, '/operations/audit');
    await page.getByTestId('audit-row').first().waitFor();

    const filters = page.getByTestId('audit-filters');
    await filters.getByLabel('Actor', { exact: true }).selectOption({ label: bob.email });
    await page.getByTestId('audit-apply').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 2);
    expect(await page.getByTestId('audit-actor').allTextContents()).toEqual([bob.email, bob.email]);
    expect((await page.getByTestId('audit-row').allTextContents()).map((r) => r.match(/salesChannel\.create|apiKey\.create/)?.[0])).toEqual([
      'apiKey.create',
      'salesChannel.create',
    ]);
    expect(new URL(page.url()).searchParams.get('actor')).toBe(`admin:${bob.id}`);

    await filters.getByRole('button', { name: 'Clear' }).click();
    await page.waitForFunction(() => !location.search);
    await filters.getByLabel('Entity type').fill('Webhook');
    await page.getByTestId('audit-apply').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 1);
    expect(await text('audit-row')).toContain('webhook.register');
    expect(await text('audit-actor')).toBe(carol.email);
    await page.getByTestId('audit-row').getByText('Before and after').click();
    expect(await text('audit-row')).toContain('"url": "http://127.0.0.1:9/hook"');
    await page.getByTestId('audit-entity').getByRole('link').click();
    await page.waitForURL(`**/operations/webhooks/${webhookId}`);

    // An API key is named by its channel and its name, its reference the tooltip.
    await page.goto(new URL('/operations/audit?entityType=Member', page.url()).toString());
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 1);
    await page.waitForFunction(() => document.querySelector('[data-testid="audit-actor"]')?.textContent === 'Bob web key “site”');
    expect(await page.getByTestId('audit-actor').locator('[title]').getAttribute('title')).toBe(`apiKey:${keyId}`);

    // Until yesterday: only Bob's two changes (made "two days ago"); from yesterday: none of them.
    await page.goto(new URL('/operations/audit', page.url()).toString());
    await filters.getByLabel('Until').fill(localInput(new Date(Date.now() - DAY_MS)));
    await page.getByTestId('audit-apply').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 2);
    expect(await page.getByTestId('audit-actor').allTextContents()).toEqual([bob.email, bob.email]);
    await screenshot(page, 'audit-log');
    await filters.getByLabel('Until').fill('');
    await filters.getByLabel('From').fill(localInput(new Date(Date.now() - DAY_MS)));
    await page.getByTestId('audit-apply').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.has('since'));
    await page.getByTestId('audit-row').first().waitFor();
    expect(await page.getByTestId('audit-actor').allTextContents()).not.toContain(bob.email);

    // An impossible window is the API's BAD_USER_INPUT, shown as its message.
    await filters.getByLabel('Until').fill(localInput(new Date(Date.now() - 2 * DAY_MS)));
    await page.getByTestId('audit-apply').click();
    await page.getByTestId('audit-error').waitFor();
    expect(await text('audit-error')).toContain('until must not be before since');
  });
});
