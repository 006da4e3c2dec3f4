import { Cluster } from 'ioredis';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, ledgerCheck, orderInput, trainableHistory } from '../support/orders';
import { AppProcess, PrivateRedisCluster, freePort, waitFor, useWebhookReceivers } from '../support/services';

/**
 * The platform on a real Redis Cluster: three masters of this file's own (redis-server in cluster mode, joined with
 * `redis-cli --cluster create`), two API processes and a worker process given REDIS_CLUSTER_NODES and no QUEUE_PREFIX.
 * REDIS_URL points at a port nothing listens on, so anything that still used the single-server client would fail
 * or fall back (the rate limiter counts per process without Redis): each assertion below needs the cluster, and most
 * read their keys back from it.
 */
const h = useHarness();
const b = build(h);
const processes: AppProcess[] = [];
const receiver = useWebhookReceivers();
let cluster: PrivateRedisCluster;
let client: Cluster;
const API_KEY_BUDGET = 5;
const RL_PREFIX = `rl-cluster-${process.env.TEST_RUN_ID}`;
jest.setTimeout(240_000);

const started = Date.now();
const step = (what: string) => process.env.FAULTS_REPORT && process.stderr.write(`redis-cluster ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}\n`);

beforeAll(async () => {
  cluster = await PrivateRedisCluster.start(3);
  client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  step('cluster up');
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  client?.disconnect();
  await cluster?.destroy();
});

/** Which master holds a key, as `CLUSTER KEYSLOT` and the slot map say. */
async function ownerOf(key: string): Promise<string> {
  const slot = (await client.cluster('KEYSLOT', key)) as number;
  return client.slots[slot][0];
}

describe('two APIs and a worker on a three-master Redis Cluster', () => {
  it('share rate limits, throttle logins, broadcast a revocation, deliver webhooks and train a retrain through the cluster, report it ready, degrade without it, and stop promptly', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const orderKey = await b.apiKey();
    const busyKey = await b.apiKey();
    const readKey = await b.apiKey();
    await b.baseRate();
    const endpoint = await receiver();
    const registered = await h.gql(admin.auth, `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`, {
      input: { url: endpoint.url, eventTypes: ['ORDER_RECORDED'], description: 'redis-cluster test' },
    });
    expect(registered.errors).toBeUndefined();
    const history = await trainableHistory(b);
    for (const input of history) {
      await h.app.services.orders.record(b.ctx(), { ...input, channelId: orderKey.channelId, placedAt: new Date(input.placedAt) } as never);
    }
    step('planted history');

    const shared = { DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_CLUSTER_NODES: cluster.nodes };
    const apiEnv = {
      ...shared,
      RATE_LIMIT_KEY_PREFIX: RL_PREFIX,
      RATE_LIMIT_API_KEY_REQUESTS: String(API_KEY_BUDGET),
      RATE_LIMIT_ADMIN_REQUESTS: '1000000',
      LOGIN_MAX_FAILURES: '2',
      // Only the broadcast over the cluster can make another process drop a key it cached.
      API_KEY_CACHE_SECONDS: '300',
    };
    // The second API only serves requests, so that each queue below has one consumer.
    const [api, other] = await Promise.all([
      AppProcess.api('api-1', { ...apiEnv, WEBHOOK_SWEEP_MS: '200', WEBHOOK_BACKOFF_MS: '200' }),
      AppProcess.api('api-2', { ...apiEnv, WEBHOOKS_ENABLED: 'false', POINTS_JOBS_CRON: 'off' }),
    ]);
    processes.push(api, other);
    const worker = AppProcess.worker('worker', { ...shared, MODEL_RETRAIN_CRON: '0 3 * * *' });
    processes.push(worker);
    step('processes started');
    const asAdmin = { authorization: `Bearer ${admin.token}` };

    // Readiness pings the cluster (REDIS_URL has nothing behind it).
    const ready = await waitFor('the API to report ready', async () => {
      const res = await fetch(`${api.url}/readyz`);
      const body = (await res.json()) as Record<string, string>;
      return body.status === 'ready' ? { status: res.status, body } : null;
    }, 30_000, 200);
    expect(ready).toEqual({ status: 200, body: { status: 'ready', database: 'ok', redis: 'ok' } });

    // Request rate limit: one budget counted in the cluster for both APIs; the request past it answers 429 RATE_LIMITED.
    const MEMBERS = `{ members(first: 1) { totalCount } }`;
    for (let i = 0; i < API_KEY_BUDGET; i++) {
      const ok = await [api, other][i % 2].gql(MEMBERS, {}, { 'x-api-key': busyKey.key });
      expect(ok.errors).toBeUndefined();
    }
    const limited = await api.gql(MEMBERS, {}, { 'x-api-key': busyKey.key });
    expect(limited.status).toBe(429);
    expect(limited.errors?.[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(await client.get(`${RL_PREFIX}:apikey:${busyKey.keyId}`))).toBeGreaterThanOrEqual(API_KEY_BUDGET + 1);
    step('rate limited');

    // Login throttle: the third failure for one email and address is refused, and the count is in the cluster.
    const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token } }`;
    const failedLogin = () => api.gql(LOGIN, { input: { email: admin.email, password: 'not the password' } }, {});
    expect((await failedLogin()).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await failedLogin()).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const throttled = await failedLogin();
    expect(throttled.status).toBe(429);
    expect(throttled.errors?.[0].extensions.code).toBe('RATE_LIMITED');
    const loginKeys: string[] = [];
    for (const node of client.nodes('master')) loginKeys.push(...(await node.keys(`${RL_PREFIX}:login*`)));
    expect(loginKeys.length).toBeGreaterThanOrEqual(2); // the email-and-address pair and the address
    step('login throttled');

    // Webhook delivery: outbox, a Bull job per delivery in the cluster, the API's delivery worker, the receiver.
    const order = await api.gql(RECORD_ORDER, { input: orderInput(history[0].member!.id, [{ sku: 'G0-P0', unitPriceMinor: 500 }]) }, { 'x-api-key': orderKey.key });
    expect(order.errors).toBeUndefined();
    // The planted history's events and this order's: each reaches the endpoint once.
    const events = (await h.sql(`select id from event_outbox where type = 'order.recorded'`)).map((e) => e.id as string);
    expect(events).toHaveLength(history.length + 1);
    await waitFor('every webhook delivery', async () => endpoint.eventIds.length >= events.length, 60_000, 200);
    await new Promise((r) => setTimeout(r, 500)); // room for a late duplicate to arrive
    expect([...endpoint.eventIds].sort()).toEqual([...events].sort());
    // Each endpoint answered; the dispatchers record the answers just after, so wait for the rows.
    const deliveries = await waitFor('every delivery recorded', async () => {
      const [d] = await h.sql(`select count(*)::int as n, count(*) filter (where status = 'DELIVERED')::int as delivered from webhook_delivery`);
      return d.delivered >= events.length && d;
    }, 30_000, 200);
    expect(deliveries).toEqual({ n: events.length, delivered: events.length });
    expect(await client.exists('{bull}:api.webhook-delivery:id')).toBe(1);
    step('webhooks delivered');

    // A key api-1 has cached (it recorded the order) and api-2 revokes: api-1 refuses it at once, told over the cluster.
    const revoked = await other.gql(`mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { revokedAt } }`, { input: { id: orderKey.keyId } }, asAdmin);
    expect(revoked.errors).toBeUndefined();
    await waitFor('api-1 to refuse the revoked key', async () => {
      const res = await api.gql(MEMBERS, {}, { 'x-api-key': orderKey.key });
      return res.errors?.[0].extensions.code === 'UNAUTHENTICATED';
    }, 5000, 100);
    step('revocation broadcast');

    // Retrain: the API queues the job in the cluster, the worker trains it, the API reads its state back.
    const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id } }`;
    const retrain = await api.gql(RETRAIN, { input: { kind: 'CHURN', horizonDays: 30, maxEpochs: 5 } }, asAdmin);
    expect(retrain.errors).toBeUndefined();
    const jobId = retrain.data.retrainModel.id;
    const JOB = `query J($id: ID!) { modelJob(id: $id) { state attemptsMade modelVersionId failedReason } }`;
    let last: unknown = null;
    const job = await waitFor('the retrain to finish', async () => {
      const j = (last = (await api.gql(JOB, { id: jobId }, asAdmin)).data.modelJob);
      return j.state === 'COMPLETED' || j.state === 'FAILED' ? j : null;
    }, 180_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}; last seen ${JSON.stringify(last)}\nworker:\n${worker.output.slice(-20).join('\n')}`);
    });
    expect(job).toMatchObject({ state: 'COMPLETED', attemptsMade: 0 });
    // (A baseline trained to serve in its place, when the gate keeps the model out, is a version of its own: `<job>.fallback`.)
    expect(await h.sql(`select id from model_version where job_id not like '%.fallback:%'`)).toEqual([{ id: job.modelVersionId }]);
    expect(worker.logged('train.started').filter((l) => l.versionJobId === jobId)).toHaveLength(1);
    step('retrain completed');

    // Every queue's keys share the default hash tag, so one master holds all of them; the schedules were registered.
    const queueKeys: string[] = [];
    for (const node of client.nodes('master')) queueKeys.push(...(await node.keys('*bull*')));
    expect(queueKeys.length).toBeGreaterThan(0);
    expect(queueKeys.every((k) => k.startsWith('{bull}:'))).toBe(true);
    const owners = new Set(await Promise.all(['{bull}:api.webhook-delivery:id', '{bull}:recommender.train-churn:id', '{bull}:api.points-jobs:repeat'].map(ownerOf)));
    expect(owners.size).toBe(1);
    expect(worker.logged('jobs.scheduled')).toHaveLength(1);
    expect(api.logged('points_scheduler.not_scheduled')).toHaveLength(0);

    // Queue health finds the worker's and the API's consumers on the master that holds the queues.
    const health = await api.gql(`{ queueHealth { name workers isWorkerAlive } }`, {}, asAdmin);
    expect(health.errors).toBeUndefined();
    const byName = Object.fromEntries((health.data.queueHealth as { name: string; workers: number }[]).map((q) => [q.name, q.workers]));
    expect(byName).toMatchObject({ 'recommender.train-churn': 1, 'api.webhook-delivery': 1, 'api.points-jobs': 1 });

    expect((await ledgerCheck(h)).isConsistent).toBe(true);

    // The cluster lost: the API stays up as on one server, degraded, and requests still answer (counted per process).
    client.disconnect();
    await cluster.stopNodes();
    const degraded = await waitFor('the API to report degraded', async () => {
      const res = await fetch(`${api.url}/readyz`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as Record<string, string>;
      return body.status === 'degraded' ? { status: res.status, body } : null;
    }, 30_000, 200);
    expect(degraded).toEqual({ status: 200, body: { status: 'degraded', database: 'ok', redis: 'unavailable' } });
    const quiet = await api.gql(MEMBERS, {}, { 'x-api-key': readKey.key }, 5000);
    expect(quiet.errors).toBeUndefined();
    step('cluster down: degraded');

    // SIGTERM still ends every process at once, although their queue clients can no longer reach any node.
    const stopping = Date.now();
    await Promise.all([api.stop(), other.stop(), worker.stop()]);
    expect(Date.now() - stopping).toBeLessThan(5000);
    expect(processes.map((p) => [p.name, p.child.exitCode])).toEqual([['api-1', 0], ['api-2', 0], ['worker', 0]]);
    step('stopped');
  });
});
