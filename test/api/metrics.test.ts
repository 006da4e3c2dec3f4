import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Queue from 'bull';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { parseExposition, samples, valueOf, type Sample } from '../support/prometheus';
import { WebhookDispatcher, WEBHOOK_DELIVERY_QUEUE } from '../../api/src/modules/webhooks/dispatcher';
import { startPointsScheduler } from '../../api/src/modules/jobs/points-scheduler';
import { createLogger } from '../../api/src/base/logger';

const prefix = `test-metrics-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
// Two attempts 20 ms apart; an endpoint is disabled after one failed delivery. Sweeps are called by the test.
const h = useHarness({
  QUEUE_PREFIX: prefix,
  WEBHOOK_MAX_ATTEMPTS: '2',
  WEBHOOK_BACKOFF_MS: '20',
  WEBHOOK_DISABLE_AFTER: '1',
  WEBHOOK_SWEEP_MS: '600000',
});
const b = build(h);

async function scrape(): Promise<Sample[]> {
  const res = await h.http().get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

/** The counter's value now minus before (a series not there yet counts as 0). */
const grew = (before: Sample[], after: Sample[], name: string, labels: Record<string, string>) =>
  (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);

async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await probe();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('GET /metrics', () => {
  it('counts GraphQL requests by operation and outcome code, with their latency', async () => {
    const admin = await b.admin();
    const before = await scrape();

    const tiers = 'query Tiers { tiers { id } }';
    expect((await h.gql(admin.auth, tiers)).errors).toBeUndefined();
    expect((await h.gql(admin.auth, tiers)).errors).toBeUndefined();
    const refused = await h.gql(null, tiers);
    const refusedCode = refused.errors![0].extensions.code;
    expect(refusedCode).toBe('UNAUTHENTICATED');
    const login = await h.gql(null, 'mutation Login($input: LoginInput!) { login(input: $input) { token } }', {
      input: { email: admin.email, password: 'not the password at all' },
    });
    expect(login.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    // Names clients make up, and very long ones, are one series; so are anonymous operations.
    expect((await h.gql(admin.auth, 'query SomeDashboardOfMine { tiers { id } }')).errors).toBeUndefined();
    expect((await h.gql(admin.auth, `query ${'Tiers'.repeat(40)} { tiers { id } }`)).errors).toBeUndefined();
    expect((await h.gql(admin.auth, '{ tiers { id } }')).errors).toBeUndefined();
    // Refused before Apollo runs: a body that is not JSON.
    const garbled = await h.http().post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(garbled.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    // Refused by Apollo before any operation runs (the text does not parse): labelled with the name the request gives.
    const unparsed = await h.http().post('/graphql').set('authorization', `Bearer ${admin.token}`).send({ query: 'query Tiers { tiers { id }', operationName: 'Tiers' });
    expect(unparsed.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');

    const after = await scrape();
    const requests = 'loyalty_graphql_requests_total';
    expect(grew(before, after, requests, { operation: 'Tiers', code: 'OK' })).toBe(2);
    expect(grew(before, after, requests, { operation: 'Tiers', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(grew(before, after, requests, { operation: 'Login', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(grew(before, after, requests, { operation: 'other', code: 'OK' })).toBe(2);
    expect(grew(before, after, requests, { operation: 'anonymous', code: 'OK' })).toBe(1);
    expect(grew(before, after, requests, { operation: 'anonymous', code: 'BAD_REQUEST' })).toBe(1);
    expect(grew(before, after, requests, { operation: 'Tiers', code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
    expect(samples(after, requests).map((s) => s.labels.operation)).not.toContain('SomeDashboardOfMine');

    const latency = 'loyalty_graphql_request_duration_seconds';
    expect(grew(before, after, `${latency}_count`, { operation: 'Tiers', code: 'OK' })).toBe(2);
    expect(valueOf(after, `${latency}_sum`, { operation: 'Tiers', code: 'OK' })).toBeGreaterThan(0);
    // The histogram's buckets are cumulative: the +Inf one holds every request.
    expect(valueOf(after, `${latency}_bucket`, { operation: 'Tiers', code: 'OK', le: '+Inf' })).toBe(valueOf(after, `${latency}_count`, { operation: 'Tiers', code: 'OK' }));
  });

  it('shows the database pool, the queues, the outbox backlog and the process, read when scraped', async () => {
    await h.sql(`update event_outbox set dispatched_at = now() where dispatched_at is null`);
    const quiet = await scrape();
    expect(valueOf(quiet, 'loyalty_outbox_pending_events')).toBe(0);
    expect(valueOf(quiet, 'loyalty_outbox_oldest_pending_age_seconds')).toBe(0);

    await b.member().save();
    await new Promise((r) => setTimeout(r, 50));
    const all = await scrape();
    expect(valueOf(all, 'loyalty_outbox_pending_events')).toBe(1);
    expect(valueOf(all, 'loyalty_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0.04);
    // No import waits for a runner (test/faults/import-runner.test.ts reads it while one does).
    expect(valueOf(all, 'loyalty_import_queued_age_seconds')).toBe(0);

    expect(valueOf(all, 'loyalty_db_pool_max_connections', { pool: 'primary' })).toBe(h.config.DB_POOL_MAX);
    const pool = samples(all, 'loyalty_db_pool_connections', { pool: 'primary' });
    expect(pool.map((s) => s.labels.state).sort()).toEqual(['free', 'pending_acquires', 'pending_creates', 'used']);
    expect(pool.reduce((n, s) => n + (['used', 'free'].includes(s.labels.state) ? s.value : 0), 0)).toBeGreaterThan(0);

    for (const queue of ['api.webhook-delivery', 'api.points-jobs', 'recommender.train-recommender', 'recommender.score']) {
      expect(samples(all, 'loyalty_queue_jobs', { queue }).map((s) => s.labels.state).sort()).toEqual(['active', 'delayed', 'failed', 'paused', 'waiting']);
      expect(valueOf(all, 'loyalty_queue_workers', { queue })).toEqual(expect.any(Number));
    }
    for (const probe of ['db_pool', 'queues', 'outbox', 'webhooks', 'imports']) expect(valueOf(all, 'loyalty_metrics_probe_success', { probe })).toBe(1);
    // Node's own metrics, under their standard names.
    expect(valueOf(all, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples(all, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('counts webhook attempts that failed, retried or not, and the endpoints disabled for it', async () => {
    await h.sql(`update event_outbox set dispatched_at = now() where dispatched_at is null`);
    const failing = http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => failing.close(resolve)));
    const admin = await b.admin();
    const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/hooks`;
    const registered = await h.gql(admin.auth, 'mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }', {
      input: { url, eventTypes: ['MEMBER_ENROLLED'] },
    });
    expect(registered.errors).toBeUndefined();
    const dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent'), h.app.telemetry.webhooks).start();
    cleanups.push(async () => {
      await dispatcher.close();
      const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, h.config.REDIS_URL, { prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    });
    const before = await scrape();

    await b.member().save();
    expect(await dispatcher.sweep()).toBe(1);
    const pending = await scrape();
    expect(valueOf(pending, 'loyalty_outbox_pending_events')).toBe(0);
    await eventually(
      () => h.sql(`select status from webhook_delivery where webhook_id = ?`, [registered.data.registerWebhook.webhook.id]),
      (rows) => rows[0]?.status === 'FAILED',
      'the delivery to fail its last attempt',
    );

    const after = await scrape();
    expect(grew(before, after, 'loyalty_webhook_attempts_total', { outcome: 'retrying' })).toBe(1);
    expect(grew(before, after, 'loyalty_webhook_attempts_total', { outcome: 'failed' })).toBe(1);
    expect(grew(before, after, 'loyalty_webhook_attempts_total', { outcome: 'delivered' })).toBe(0);
    expect(grew(before, after, 'loyalty_webhook_attempt_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(valueOf(after, 'loyalty_webhook_pending_deliveries')).toBe(0);
    expect(valueOf(after, 'loyalty_webhook_disabled_endpoints', { disabled_by: 'failures' })).toBe(1);
    expect(valueOf(after, 'loyalty_webhook_disabled_endpoints', { disabled_by: 'operator' })).toBe(0);

    const other = await h.gql(admin.auth, 'mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }', {
      input: { url, eventTypes: ['ORDER_RECORDED'] },
    });
    const disabled = await h.gql(admin.auth, 'mutation D($id: ID!) { disableWebhook(id: $id) { isActive } }', { id: other.data.registerWebhook.webhook.id });
    expect(disabled.data.disableWebhook.isActive).toBe(false);
    const later = await scrape();
    expect(valueOf(later, 'loyalty_webhook_disabled_endpoints', { disabled_by: 'failures' })).toBe(1);
    expect(valueOf(later, 'loyalty_webhook_disabled_endpoints', { disabled_by: 'operator' })).toBe(1);
  });

  it('times each run of the points jobs and reports what the ledger check found', async () => {
    const before = await scrape();
    const startedAt = Date.now() / 1000;
    const scheduler = startPointsScheduler({
      orm: h.orm,
      services: h.app.services,
      log: createLogger('silent'),
      connection: h.config,
      cron: '* * * * * *',
      queueName: `test.points-jobs.metrics.${process.pid}`,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        scheduler.queue.once('completed', () => resolve());
        scheduler.queue.once('failed', (_job, err) => reject(err));
      });
    } finally {
      await scheduler.queue.obliterate({ force: true });
      await scheduler.close();
    }

    const after = await scrape();
    expect(grew(before, after, 'loyalty_points_jobs_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'loyalty_points_jobs_last_success_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(valueOf(after, 'loyalty_ledger_check_inconsistencies')).toBe(0);
  });
});
