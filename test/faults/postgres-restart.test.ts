import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Queue from 'bull';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, orderInput, ledgerCheck } from '../support/orders';
import { AppProcess, PrivatePostgres, repoRoot, waitFor } from '../support/services';
import { redisUrl } from '../support/databases';

/**
 * PostgreSQL restarted under load: a real API process (api/dist) on a PostgreSQL cluster of this file's own, which
 * is shut down immediately (every connection cut, as in a crash or a failover) and started again while tills keep
 * sending orders. Each till retries an order with the same externalOrderId (so the same idempotency key) until it
 * is acknowledged, as a POS client must.
 */
const prefix = `test-pg-restart-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const env: Record<string, string> = { QUEUE_PREFIX: prefix };
let pg: PrivatePostgres;
let api: AppProcess | null = null;
jest.setTimeout(120_000);

beforeAll(async () => {
  pg = await PrivatePostgres.start();
  await pg.query('postgres', 'create database loyalty');
  env.DATABASE_URL = pg.url('loyalty');
  execFileSync(process.execPath, [path.join(repoRoot, 'api/dist/composition/cli/migrate.js')], {
    env: { ...process.env, DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    stdio: 'inherit',
  });
});
afterAll(async () => {
  await api?.stop();
});
const h = useHarness(env); // fixtures and assertions go straight to the private cluster
afterAll(async () => {
  await pg?.destroy();
  const queue = new Queue('api.points-jobs', redisUrl, { prefix });
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
});
const b = build(h);
// knex prints a line for each idle connection of the harness's pool that the restart cuts; that is the point here.
beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
afterAll(() => jest.restoreAllMocks());

const TILLS = 4;
const ORDERS_PER_TILL = 15;

describe('PostgreSQL restarted mid-load', () => {
  it('recovers without an API restart; every order retried with its idempotency key is recorded and credited exactly once; the ledger checks out', async () => {
    const key = await b.apiKey();
    await b.baseRate();
    const members = await Promise.all(Array.from({ length: TILLS }, () => b.member().save()));
    api = await AppProcess.api('api', { DATABASE_URL: env.DATABASE_URL, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, WEBHOOKS_ENABLED: 'false', POINTS_JOBS_CRON: 'off', LOG_LEVEL: 'info' });
    const apiPid = api.child.pid;

    let acknowledged = 0;
    let failedAttempts = 0;
    const failures = new Map<string, number>();
    const statuses = new Set<number>();
    const results = new Map<string, { id: string; pointsEarned: number }>();

    /** Sends one order until the API acknowledges it; a refused or cut-off attempt is retried unchanged. */
    async function sendUntilAcknowledged(input: ReturnType<typeof orderInput>) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const outcome = await api!.gql(RECORD_ORDER, { input }, { 'x-api-key': key.key }, 10_000).catch((err: Error) => ({ transport: err.message }));
        if ('data' in outcome && outcome.data?.recordOrder && !outcome.errors) {
          results.set(input.externalOrderId, { id: outcome.data.recordOrder.id, pointsEarned: outcome.data.recordOrder.pointsEarned });
          acknowledged++;
          return;
        }
        failedAttempts++;
        const first = 'transport' in outcome ? null : outcome.errors?.[0]?.extensions;
        const why = 'transport' in outcome ? 'transport' : first ? `${first.code}${first.dependency ? `:${first.dependency}` : ''}` : `HTTP ${outcome.status}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
        if ('status' in outcome) statuses.add(outcome.status);
        if (first && 'http' in first) throw new Error('extensions.http leaked to the client');
        if (Date.now() > deadline) throw new Error(`order ${input.externalOrderId} never acknowledged; failures ${JSON.stringify([...failures])}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    }

    const sent = new Set<string>();
    const inputs: ReturnType<typeof orderInput>[] = [];
    const tills = members.map(async (member) => {
      for (let i = 0; i < ORDERS_PER_TILL; i++) {
        const input = orderInput(member.id, [{ sku: 'TEA', unitPriceMinor: 1250, quantity: 2 }, { sku: 'CUP', unitPriceMinor: 500 }]);
        sent.add(input.externalOrderId);
        inputs.push(input);
        await sendUntilAcknowledged(input);
      }
    });

    // A third of the way in, PostgreSQL goes away for a second and comes back (same data directory, WAL recovery).
    const restart = (async () => {
      await waitFor('a third of the orders', async () => acknowledged >= (TILLS * ORDERS_PER_TILL) / 3, 60_000, 20);
      await pg.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await pg.start();
    })();
    await Promise.all([...tills, restart]);
    if (process.env.FAULTS_REPORT) process.stderr.write(`pg restart: ${failedAttempts} failed attempts ${JSON.stringify([...failures])}\n`);

    // The restart happened while orders were in flight, and the API process is the one that started.
    expect(failedAttempts).toBeGreaterThan(0);
    expect(api.child.pid).toBe(apiPid);
    expect(api.child.exitCode).toBeNull();
    // Each failure was SERVICE_UNAVAILABLE naming the database (so the client knows to retry), or at worst a
    // connection cut mid-request; never a hang past the client's timeout, never INTERNAL_SERVER_ERROR.
    expect(failures.get('SERVICE_UNAVAILABLE:database')).toBeGreaterThan(0);
    for (const why of failures.keys()) expect(['SERVICE_UNAVAILABLE:database', 'transport']).toContain(why);
    // 503 when the request failed before any resolver ran (authenticating its key), else 200 with the error.
    for (const status of statuses) expect([200, 503]).toContain(status);

    const ready = await waitFor('/readyz', async () => {
      const res = await fetch(`${api!.url}/readyz`);
      return res.status === 200 ? res.json() : null;
    }, 20_000);
    expect(ready).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
    // The import pick-up, which asks PostgreSQL every second, logs the outage once, and its end.
    const pickUpFailures = api.logged('import.pick_up_failed').length;
    expect(pickUpFailures).toBeLessThanOrEqual(1);
    if (pickUpFailures) await waitFor('the pick-up to recover', async () => api!.logged('import.pick_up_recovered').length === 1, 10_000);

    // Nothing lost, nothing twice: one order and one earn row per key sent, each the one its till was told about.
    expect(sent.size).toBe(TILLS * ORDERS_PER_TILL);
    expect(results.size).toBe(sent.size);
    const orders = await h.sql<{ id: string; external_order_id: string }>(`select id, external_order_id from customer_order`);
    expect(orders).toHaveLength(sent.size);
    expect(new Set(orders.map((o) => o.external_order_id))).toEqual(sent);
    for (const o of orders) expect(results.get(o.external_order_id)!.id).toBe(o.id);
    const earns = await h.sql<{ n: number; orders: number; points: number }>(
      `select count(*)::int as n, count(distinct source_id)::int as orders, coalesce(sum(pending_delta + available_delta), 0)::int as points
       from ledger_entry where reason = 'ORDER_EARN'`,
    );
    expect(earns[0]).toEqual({ n: sent.size, orders: sent.size, points: sent.size * 30 });
    expect([...results.values()].every((r) => r.pointsEarned === 30)).toBe(true);

    // A replay of every order now changes nothing.
    for (const input of inputs) {
      const replayed = await api.gql(RECORD_ORDER, { input }, { 'x-api-key': key.key });
      expect(replayed.errors).toBeUndefined();
      expect(replayed.data.recordOrder.id).toBe(results.get(input.externalOrderId)!.id);
    }
    expect((await h.sql(`select count(*)::int as n from customer_order`))[0].n).toBe(sent.size);

    const check = await ledgerCheck(h);
    expect(check.mismatches).toEqual([]);
    expect(check.isConsistent).toBe(true);
  });
});
