import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Queue from 'bull';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, orderInput, ledgerCheck } from '../support/orders';
import { PrivateRedis, waitFor } from '../support/services';
import { WebhookDispatcher } from '../../api/src/modules/webhooks/dispatcher';
import { createLogger } from '../../api/src/base/logger';

/**
 * Redis taken down under a running API with its webhook dispatcher: a redis-server of this file's own is killed and
 * started again on the same port (with its append-only file, as in production), so other files' Redis is untouched.
 */
const prefix = `test-redis-down-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const env: Record<string, string> = { QUEUE_PREFIX: prefix, WEBHOOK_SWEEP_MS: '100', WEBHOOK_BACKOFF_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' };
let redis: PrivateRedis;
let dispatcher: WebhookDispatcher | null = null;
const receivers: http.Server[] = [];
jest.setTimeout(90_000);

beforeAll(async () => {
  redis = await PrivateRedis.start();
  env.REDIS_URL = redis.url; // read by the harness's beforeAll, which runs after this one
});
afterAll(async () => {
  await dispatcher?.close();
  for (const r of receivers) r.close();
});
const h = useHarness(env);
afterAll(async () => {
  await redis?.destroy(); // after the harness's app has closed its connections (hooks run in declaration order)
});
const b = build(h);

/** Every request below must answer within this; without it a request stuck on Redis would hang the test instead. */
const NO_HANG_MS = 5000;
function answersPromptly<T>(p: PromiseLike<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} hung for ${NO_HANG_MS} ms`)), NO_HANG_MS);
    }),
  ]);
}

async function startReceiver() {
  const received: { event: string; delivery: string; id: string }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      received.push({ event: String(req.headers['x-loyalty-event']), delivery: String(req.headers['x-loyalty-delivery']), id: body.id });
      res.end('ok');
    });
  });
  receivers.push(receiver);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, received };
}

const READYZ = () => h.http().get('/readyz');
const MEMBER = `query M($id: ID!) { member(id: $id) { id points { available pending lifetime } orders(first: 20) { edges { node { id } } } } }`;
const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;

describe('Redis down', () => {
  it('keeps reads and order recording answering, holds events in the outbox, refuses retrains, reports degraded, and catches up once Redis returns', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    await b.baseRate();
    const member = await b.member().save();
    const { url, received } = await startReceiver();
    const registered = await h.gql(admin.auth, `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`, {
      input: { url, eventTypes: ['ORDER_RECORDED'], description: 'redis-down test' },
    });
    expect(registered.errors).toBeUndefined();
    dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent')).start();

    // Redis up: an order's event reaches the receiver.
    const before = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id) });
    expect(before.errors).toBeUndefined();
    await waitFor('the first delivery', async () => received.length === 1, 20_000);

    await redis.kill();

    const degraded = await answersPromptly(READYZ(), '/readyz');
    expect(degraded.status).toBe(200);
    expect(degraded.body).toEqual({ status: 'degraded', database: 'ok', redis: 'unavailable' });

    const inputs = Array.from({ length: 5 }, () => orderInput(member.id, [{ unitPriceMinor: 2000 }]));
    for (const input of inputs) {
      const res = await answersPromptly(h.gql(key.auth, RECORD_ORDER, { input }), 'recordOrder');
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data.recordOrder.pointsEarned).toBe(20);
    }
    const read = await answersPromptly(h.gql(admin.auth, MEMBER, { id: member.id }), 'member query');
    expect(read.errors).toBeUndefined();
    expect(read.data.member.orders.edges).toHaveLength(6);
    expect(read.data.member.points.available + read.data.member.points.pending).toBe(10 + 5 * 20);

    const retrain = await answersPromptly(h.gql(admin.auth, RETRAIN, { input: { kind: 'CHURN' } }), 'retrainModel');
    expect(expectError(retrain, 'SERVICE_UNAVAILABLE').extensions).toMatchObject({ dependency: 'redis' });

    // Several sweeps pass while Redis is away: the five events stay in the outbox, with no delivery row or attempt.
    await new Promise((r) => setTimeout(r, 1000));
    const held = await h.sql(`select count(*)::int as n from event_outbox where type = 'order.recorded' and dispatched_at is null`);
    expect(held[0].n).toBe(5);
    expect((await h.sql(`select count(*)::int as n from webhook_delivery`))[0].n).toBe(1);
    expect(received).toHaveLength(1);

    await redis.start();

    await waitFor('the held events to be delivered', async () => received.length >= 6, 40_000);
    await waitFor('every delivery to be recorded as DELIVERED', async () => {
      const [d] = await h.sql(`select count(*) filter (where status = 'DELIVERED')::int as delivered, count(*)::int as n from webhook_delivery`);
      return d.delivered === 6 && d.n === 6;
    }, 10_000);
    await new Promise((r) => setTimeout(r, 500)); // room for a duplicate to show up, if there were one
    const orderIds = (await h.sql(`select id from customer_order order by id`)).map((o) => o.id);
    const outboxIds = (await h.sql(`select id from event_outbox where type = 'order.recorded' order by id`)).map((e) => e.id);
    expect(outboxIds).toHaveLength(orderIds.length);
    expect(received.map((r) => r.id).sort()).toEqual([...outboxIds].sort());
    expect(new Set(received.map((r) => r.delivery)).size).toBe(6);
    expect((await h.sql(`select count(*)::int as n from event_outbox where dispatched_at is null`))[0].n).toBe(0);

    const ready = await answersPromptly(READYZ(), '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });

    // The refused retrain was not queued behind the caller's back when Redis came back.
    for (const name of ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value']) {
      const train = new Queue(name, redis.url, { prefix });
      try {
        expect(await train.getJobCounts()).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
      } finally {
        await train.close();
      }
    }
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('queues again, once, a delivery whose job Redis lost with its data', async () => {
    await dispatcher?.close();
    const key = await b.apiKey();
    const { url, received } = await startReceiver();
    const admin = await b.admin(AdminRole.ADMIN);
    await h.gql(admin.auth, `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`, {
      input: { url, eventTypes: ['MEMBER_ENROLLED'], description: 'lost jobs' },
    });
    const enrolled = await h.gql(key.auth, `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id } }`, { input: { firstName: 'Lost', email: 'lost-job@test.example' } });
    expect(enrolled.errors).toBeUndefined();

    // Swept (delivery row and job written) but not yet sent, when Redis comes back empty.
    dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent'));
    expect(await dispatcher.sweep()).toBeGreaterThan(0);
    const [pending] = await h.sql(`select id from webhook_delivery where status = 'PENDING' and event_type = 'member.enrolled'`);
    expect(await dispatcher.queue.getJob(pending.id)).not.toBeNull();
    await redis.kill();
    await redis.wipe();
    await redis.start();
    await waitFor('the queue to reconnect', async () => dispatcher!.queue.client.status === 'ready', 10_000);
    expect(await dispatcher.queue.getJob(pending.id)).toBeNull();

    expect(await dispatcher.requeueOrphans(0)).toBe(1);
    expect(await dispatcher.requeueOrphans(0)).toBe(0); // its job exists now: not added twice
    dispatcher.start();
    await waitFor('the requeued delivery', async () => received.length === 1, 20_000);
    // The endpoint has it; the dispatcher records the answer just after, so wait for the row rather than race it.
    const delivered = await waitFor('the delivery recorded', async () => {
      const [row] = await h.sql(`select status, attempts from webhook_delivery where id = ?`, [pending.id]);
      return row.status !== 'PENDING' && row;
    }, 10_000);
    expect(delivered).toEqual({ status: 'DELIVERED', attempts: 1 });
    expect(await dispatcher.requeueOrphans(0)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toHaveLength(1);
  });
});
