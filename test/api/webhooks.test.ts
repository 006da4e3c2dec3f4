import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Queue from 'bull';
import pino from 'pino';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { WebhookDispatcher, WEBHOOK_DELIVERY_QUEUE } from '../../api/src/modules/webhooks/dispatcher';
import { sign, verify } from '../../api/src/modules/webhooks/signature';
import { isPublicAddress, publicOnlyAgent, type ResolveHost } from '../../api/src/modules/webhooks/address-guard';
import { request } from 'undici';
import { WebhookService } from '../../api/src/modules/webhooks/webhook.service';
import type { AppError } from '../../api/src/base/errors';
import { createLogger } from '../../api/src/base/logger';

const prefix = `test-webhooks-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
// Retries 50 ms then 100 ms apart; an endpoint is disabled after 2 failed deliveries. Sweeps are called by the tests.
const h = useHarness({
  QUEUE_PREFIX: prefix,
  WEBHOOK_MAX_ATTEMPTS: '3',
  WEBHOOK_BACKOFF_MS: '50',
  WEBHOOK_DISABLE_AFTER: '2',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_SWEEP_MS: '600000',
});
const b = build(h);

const REGISTER = `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret webhook { id url eventTypes isActive createdBy } } }`;
const WEBHOOKS = `query { webhooks { id url isActive consecutiveFailures disabledAt disabledReason } }`;
const DELIVERIES = `query D($id: ID!) { webhookDeliveries(webhookId: $id, first: 20) { id eventId eventType status attempts lastStatusCode lastError
  attemptLog { attempt at statusCode durationMs error } } }`;
const UPDATE = `mutation U($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id isActive consecutiveFailures disabledReason } }`;
const DISABLE = `mutation D($id: ID!) { disableWebhook(id: $id) { id isActive disabledReason } }`;
const ROTATE = `mutation R($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }`;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 that answers each request with the status `respond` gives for its index. */
async function receiver(respond: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = respond(received.length);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  servers.push(server);
  return { url, received };
}

const servers: http.Server[] = [];
const dispatchers: WebhookDispatcher[] = [];
function dispatcher(config = h.config, log = createLogger('silent'), resolve?: ResolveHost) {
  const d = new WebhookDispatcher(h.orm, config, log, undefined, resolve);
  dispatchers.push(d);
  return d;
}

async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await probe();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;

async function register(url: string, eventTypes = ['MEMBER_ENROLLED']) {
  const res = await h.gql(admin.auth, REGISTER, { input: { url, eventTypes, description: 'test' } });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.registerWebhook as { secret: string; webhook: { id: string } };
}

const deliveries = async (id: string) => (await h.gql(admin.auth, DELIVERIES, { id })).data.webhookDeliveries as any[];

beforeAll(async () => {
  admin = await b.admin();
});

beforeEach(async () => {
  // Each test sees only its own endpoints and events.
  await h.sql(`update webhook set is_active = false`);
  await h.sql(`update event_outbox set dispatched_at = now() where dispatched_at is null`);
});

afterEach(async () => {
  // A dispatcher left running would take the next test's jobs.
  for (const d of dispatchers.splice(0)) await d.close();
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, h.config.REDIS_URL, { prefix });
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('webhooks only to public addresses (WEBHOOK_ALLOW_PRIVATE_ADDRESSES=false, the production default)', () => {
  const publicOnly = () => ({ ...h.config, WEBHOOK_ALLOW_PRIVATE_ADDRESSES: false });

  it('tells public unicast addresses from private, loopback, link-local and mapped ones', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect([address, isPublicAddress(address)]).toEqual([address, true]);
    for (const address of ['169.254.169.254', '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fc00::1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', 'not an address']) {
      expect([address, isPublicAddress(address)]).toEqual([address, false]);
    }
  });

  it('refuses to register a URL whose host is such an address or localhost, with BAD_USER_INPUT on input.url, and writes nothing', async () => {
    const service = new WebhookService(publicOnly(), h.app.services.audit);
    const before = await h.sql(`select count(*)::int as n from webhook`);
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]:8080/', 'http://localhost:4010/x', 'http://localhost.:4010/x', 'http://10.0.0.5/hooks']) {
      const err = await service.register(b.ctx(), { url, eventTypes: ['MEMBER_ENROLLED'] } as never).then(() => null, (e: AppError) => e);
      expect([url, err?.code, err?.extensions?.fields]).toEqual([url, 'BAD_USER_INPUT', [{ path: 'input.url', message: expect.stringMatching(/^points at a private, loopback or link-local address/) }]]);
    }
    expect(await h.sql(`select count(*)::int as n from webhook`)).toEqual(before);
    // A public literal address is taken without a lookup.
    const ok = await service.register(b.ctx(), { url: 'http://93.184.216.34/hooks', eventTypes: ['MEMBER_ENROLLED'] } as never);
    expect(ok.webhook.url).toBe('http://93.184.216.34/hooks');
    await h.sql(`update webhook set is_active = false where id = ?`, [ok.webhook.id]);
  });

  it('checks again at each delivery: an endpoint now on a private address gets no request, and the attempt says why', async () => {
    const hook = await receiver();
    const { webhook } = await register(hook.url, ['MEMBER_ENROLLED']);
    const d = dispatcher(publicOnly()).start();
    await b.member().save();
    expect(await d.sweep()).toBe(1);
    const [delivery] = await eventually(() => deliveries(webhook.id), (ds) => ds[0]?.attempts >= 1, 'an attempt');
    expect(delivery.attemptLog[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^points at a private, loopback or link-local address/) });
    expect(hook.received).toEqual([]);
  });
  it('connects with the answer it checked: a name that resolves to a public address for the check and to 127.0.0.1 for the connection (DNS rebinding) reaches nothing', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    const asked: string[] = [];
    // The first answer public, every later one the receiver's loopback address.
    const rebinding: ResolveHost = async (host) => {
      asked.push(host);
      return [{ address: asked.length === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    };
    // Registration is checked in the test above; here what matters is the delivery.
    const { webhook } = await register(`http://rebind.example:${port}/hooks`);
    const d = dispatcher(publicOnly(), createLogger('silent'), rebinding).start();
    await b.member().save();
    expect(await d.sweep()).toBeGreaterThanOrEqual(1);
    const [delivery] = await eventually(() => deliveries(webhook.id), (ds) => ds[0]?.attempts >= 1, 'an attempt');
    await h.sql(`update webhook set is_active = false where id = ?`, [webhook.id]);
    // Both the check before the delivery and the connection asked; the connection refused the second answer.
    expect(asked.slice(0, 2)).toEqual(['rebind.example', 'rebind.example']);
    expect(delivery.attemptLog[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^points at a private, loopback or link-local address/) });
    expect(hook.received).toEqual([]);
  });

  it('the public-only agent refuses a name resolving to any private address, and connects to a literal address as given', async () => {
    const hook = await receiver(() => 204);
    const port = new URL(hook.url).port;
    const agent = publicOnlyAgent(async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]);
    try {
      const refused = await request(`http://mixed.example:${port}/x`, { method: 'POST', body: '{}', dispatcher: agent }).then(() => null, (e: Error) => e);
      expect(refused?.message).toMatch(/^points at a private, loopback or link-local address/);
      // A literal address is never looked up (hostProblem judges it before a delivery), so the agent itself lets it through.
      const literal = await request(hook.url, { method: 'POST', body: '{}', dispatcher: agent });
      await literal.body.dump();
      expect(literal.statusCode).toBe(204);
      expect(hook.received).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });
});

describe('webhook administration', () => {
  it('is open to administrators only', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const analyst = await b.admin(AdminRole.ANALYST);
    const key = await b.apiKey();
    const input = { url: 'http://127.0.0.1:9/x', eventTypes: ['MEMBER_ENROLLED'] };
    for (const auth of [marketer.auth, analyst.auth, key.auth]) {
      expectError(await h.gql(auth, REGISTER, { input }), 'FORBIDDEN');
      expectError(await h.gql(auth, WEBHOOKS), 'FORBIDDEN');
    }
    expectError(await h.gql(null, REGISTER, { input }), 'UNAUTHENTICATED');
    const { webhook } = await register('http://127.0.0.1:9/x');
    expectError(await h.gql(marketer.auth, DISABLE, { id: webhook.id }), 'FORBIDDEN');
    expectError(await h.gql(marketer.auth, ROTATE, { id: webhook.id }), 'FORBIDDEN');
    expectError(await h.gql(marketer.auth, DELIVERIES, { id: webhook.id }), 'FORBIDDEN');
    expectError(await h.gql(marketer.auth, UPDATE, { input: { id: webhook.id, isActive: true } }), 'FORBIDDEN');
  });

  it('lists the event types an endpoint can subscribe to, with their wire names, for administrators', async () => {
    const res = await h.gql(admin.auth, `{ webhookEventTypes { type name description isCore } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.webhookEventTypes[0]).toEqual({ type: 'MEMBER_ENROLLED', name: 'member.enrolled', description: null, isCore: true });
    expect(res.data.webhookEventTypes.map((t: { type: string }) => t.type)).toContain('FEEDBACK_RECORDED');
    expectError(await h.gql((await b.admin(AdminRole.MARKETER)).auth, `{ webhookEventTypes { type } }`), 'FORBIDDEN');
  });

  it('shows the signing secret only when registering or rotating', async () => {
    const res = await h.gql(admin.auth, REGISTER, { input: { url: 'http://127.0.0.1:9/x', eventTypes: ['ORDER_RECORDED', 'TIER_AT_RISK'] } });
    expect(res.errors).toBeUndefined();
    expect(res.data.registerWebhook.secret).toMatch(/^whsec_[\w-]{43}$/);
    expect(res.data.registerWebhook.webhook).toMatchObject({ eventTypes: ['ORDER_RECORDED', 'TIER_AT_RISK'], isActive: true, createdBy: `admin:${admin.id}` });
    expectError(await h.gql(admin.auth, `query { webhooks { id secret } }`), 'GRAPHQL_VALIDATION_FAILED');
    const rotated = await h.gql(admin.auth, ROTATE, { id: res.data.registerWebhook.webhook.id });
    expect(rotated.data.rotateWebhookSecret.secret).toMatch(/^whsec_/);
    expect(rotated.data.rotateWebhookSecret.secret).not.toBe(res.data.registerWebhook.secret);
    const audit = await h.sql(`select action, after::text from audit_entry where entity_type = 'Webhook' and entity_id = ? order by id`, [res.data.registerWebhook.webhook.id]);
    expect(audit.map((a) => a.action)).toEqual(['webhook.register', 'webhook.rotate_secret']);
    expect(audit.some((a) => String(a.after).includes('whsec_'))).toBe(false);
  });

  it('refuses a URL that is not http(s) or an empty event list, and an unknown webhook', async () => {
    const bad = expectError(await h.gql(admin.auth, REGISTER, { input: { url: 'ftp://127.0.0.1/x', eventTypes: [] } }), 'BAD_USER_INPUT');
    expect(bad.extensions.fields.map((f: { path: string }) => f.path).sort()).toEqual(['input.eventTypes', 'input.url']);
    const missing = expectError(await h.gql(admin.auth, DELIVERIES, { id: '0190a0a0-0000-7000-8000-000000000000' }), 'NOT_FOUND');
    expect(missing.extensions.entity).toBe('Webhook');
  });
});

describe('webhook delivery', () => {
  it('posts the event signed with the endpoint secret, which a receiver verifies and a wrong secret does not', async () => {
    const hook = await receiver();
    const { secret, webhook } = await register(hook.url, ['MEMBER_ENROLLED']);
    const d = dispatcher().start();
    const member = await b.member().named('Ada', 'Lovelace').save();
    expect(await d.sweep()).toBe(1);
    await eventually(async () => hook.received.length, (n) => n === 1, 'delivery');

    const [req] = hook.received;
    const headers = { timestamp: req.headers['x-loyalty-timestamp'] as string, signature: req.headers['x-loyalty-signature'] as string };
    expect(req.headers['x-loyalty-event']).toBe('member.enrolled');
    expect(headers.signature).toBe(sign(secret, Number(headers.timestamp), req.body));
    expect(verify(secret, headers, req.body)).toBe(true);
    expect(verify(`${secret}x`, headers, req.body)).toBe(false);
    expect(verify(secret, headers, req.body.replace(member.id, '00000000-0000-0000-0000-000000000000'))).toBe(false);
    // Outside the replay window even a correct signature is refused.
    expect(verify(secret, headers, req.body, 300, (Number(headers.timestamp) + 301) * 1000)).toBe(false);
    // The snippet docs/concepts/webhooks-and-events.md gives receivers agrees.
    const page = readFileSync(path.join(__dirname, '..', '..', 'docs', 'concepts', 'webhooks-and-events.md'), 'utf8');
    const snippet = /```js\n(const \{ createHmac[\s\S]*?)```/.exec(page)![1];
    const readmeVerify = new Function('require', `${snippet}; return verifyLoyaltyWebhook;`)(require);
    expect(readmeVerify(secret, req.headers, req.body)).toBe(true);
    expect(readmeVerify(`${secret}x`, req.headers, req.body)).toBe(false);

    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ type: 'member.enrolled', data: { memberId: member.id, enrolmentChannel: 'ADMIN' } });
    expect(req.body).not.toMatch(/Ada|Lovelace|@test\.example/);
    const [delivery] = await eventually(() => deliveries(webhook.id), (ds) => ds[0]?.status === 'DELIVERED', 'delivered');
    expect(delivery).toMatchObject({ id: req.headers['x-loyalty-delivery'], eventId: body.id, eventType: 'MEMBER_ENROLLED', attempts: 1, lastStatusCode: 200 });
  });

  it('signs with the new secret once rotated', async () => {
    const hook = await receiver();
    const { secret: old, webhook } = await register(hook.url);
    const rotated = (await h.gql(admin.auth, ROTATE, { id: webhook.id })).data.rotateWebhookSecret.secret;
    const d = dispatcher().start();
    await b.member().save();
    await d.sweep();
    await eventually(async () => hook.received.length, (n) => n === 1, 'delivery');
    const [req] = hook.received;
    const headers = { timestamp: req.headers['x-loyalty-timestamp'] as string, signature: req.headers['x-loyalty-signature'] as string };
    expect(verify(rotated, headers, req.body)).toBe(true);
    expect(verify(old, headers, req.body)).toBe(false);
  });

  it('retries with growing delays until the receiver recovers, logging each attempt', async () => {
    const hook = await receiver((n) => (n <= 2 ? 500 : 204));
    const { webhook } = await register(hook.url);
    const d = dispatcher().start();
    await b.member().save();
    await d.sweep();
    const [delivery] = await eventually(() => deliveries(webhook.id), (ds) => ds[0]?.status === 'DELIVERED', 'delivered after retries');
    expect(delivery.attempts).toBe(3);
    expect(delivery.attemptLog.map((a: any) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 500, 'HTTP 500'],
      [3, 204, null],
    ]);
    const starts = delivery.attemptLog.map((a: any) => Date.parse(a.at));
    // Backoff 50 ms, then 100 ms: each retry starts at least that long after the one before.
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(50);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(100);
    expect(new Set(hook.received.map((r) => r.headers['x-loyalty-delivery']))).toEqual(new Set([delivery.id]));
    const [state] = (await h.gql(admin.auth, WEBHOOKS)).data.webhooks.filter((w: any) => w.id === webhook.id);
    expect(state).toMatchObject({ isActive: true, consecutiveFailures: 0 });
  });

  it('disables an endpoint after two deliveries failed every attempt, says why, and logs webhook.disabled', async () => {
    const hook = await receiver(() => 503);
    const { webhook } = await register(hook.url);
    const lines: any[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
    const d = dispatcher(h.config, pino({ level: 'info' }, sink)).start();
    await b.member().save();
    await d.sweep();
    await eventually(() => deliveries(webhook.id), (ds) => ds[0]?.status === 'FAILED', 'first delivery failed');
    let [state] = (await h.gql(admin.auth, WEBHOOKS)).data.webhooks.filter((w: any) => w.id === webhook.id);
    expect(state).toMatchObject({ isActive: true, consecutiveFailures: 1 });

    await b.member().save();
    await d.sweep();
    await eventually(() => deliveries(webhook.id), (ds) => ds.length === 2 && ds.every((x) => x.status === 'FAILED'), 'second delivery failed');
    [state] = (await h.gql(admin.auth, WEBHOOKS)).data.webhooks.filter((w: any) => w.id === webhook.id);
    expect(state).toMatchObject({ isActive: false, consecutiveFailures: 2 });
    expect(state.disabledReason).toBe('2 consecutive deliveries failed; last error: HTTP 503');
    expect(hook.received).toHaveLength(6);
    expect(lines.filter((l) => l.msg === 'webhook.disabled')).toEqual([expect.objectContaining({ webhookId: webhook.id, consecutiveFailures: 2 })]);

    // A disabled endpoint gets no more deliveries until re-enabled.
    await b.member().save();
    await d.sweep();
    expect(await deliveries(webhook.id)).toHaveLength(2);
    const enabled = await h.gql(admin.auth, UPDATE, { input: { id: webhook.id, isActive: true } });
    expect(enabled.data.updateWebhook).toMatchObject({ isActive: true, consecutiveFailures: 0, disabledReason: null });
    const disabled = await h.gql(admin.auth, DISABLE, { id: webhook.id });
    expect(disabled.data.disableWebhook).toMatchObject({ isActive: false, disabledReason: `disabled by admin:${admin.id}` });
  });

  it('delivers each event once with two dispatchers sweeping at the same time', async () => {
    const hook = await receiver();
    const { webhook } = await register(hook.url);
    const first = dispatcher().start();
    const second = dispatcher().start();
    for (let i = 0; i < 12; i++) await b.member().save();
    let dispatched = 0;
    while (dispatched < 12) {
      const [a, c] = await Promise.all([first.sweep(), second.sweep()]);
      dispatched += a + c;
    }
    expect(dispatched).toBe(12);
    await eventually(() => deliveries(webhook.id), (ds) => ds.length === 12 && ds.every((x) => x.status === 'DELIVERED'), 'all delivered');
    expect(hook.received).toHaveLength(12);
    expect(new Set(hook.received.map((r) => JSON.parse(r.body).id)).size).toBe(12);
  });

  it('leaves events pending while Redis cannot take the jobs, and the next sweep delivers them', async () => {
    const hook = await receiver();
    const { webhook } = await register(hook.url);
    const member = await b.member().save();
    const down = dispatcher({ ...h.config, REDIS_URL: 'redis://127.0.0.1:1' });
    // Either the sweep sees Redis is away and leaves the outbox alone (0), or its enqueue times out and rolls back.
    const outcome = await down.sweep().then(String, (err: Error) => err.message);
    expect(outcome).toMatch(/^0$|timed out/);
    const pending = await h.sql(`select dispatched_at from event_outbox where member_id = ?`, [member.id]);
    expect(pending).toEqual([{ dispatched_at: null }]);
    expect(await deliveries(webhook.id)).toHaveLength(0);

    const up = dispatcher().start();
    expect(await up.sweep()).toBe(1);
    await eventually(async () => hook.received.length, (n) => n === 1, 'delivery after recovery');
    expect(JSON.parse(hook.received[0].body).data.memberId).toBe(member.id);
  });
});
