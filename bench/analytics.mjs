import { randomBytes } from 'node:crypto';
import { apiEnv, describeErrors, freePort, graphql, runCli, startApi } from './lib/api.mjs';
import { databaseUrl, serverUrl, withClient } from './lib/postgres.mjs';

export const name = 'analytics';
export const title = 'CRM analytics queries (GraphQL, one at a time)';
/** Prints its own table: latency per query, not a request rate under load. */
export const standalone = true;

const RUNS = Number(process.env.ANALYTICS_RUNS || 20);
const WARMUP_RUNS = 2;
const TARGET_MS = 2000;

const KPIS = `query Kpis($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) {
  activeMembers newMembers orders repeatPurchaseRate purchaseFrequency netRevenueMinor averageOrderValueMinor
  revenuePerActiveMemberMinor pointsIssued pointsRedeemed pointsExpired liabilityPoints liabilityMinor redemptionRate breakage
  byChannel { key activeMembers orders netRevenueMinor } byCountry { key activeMembers orders netRevenueMinor } } } }`;
const RFM = `query Rfm($asOf: DateTimeISO!) { analytics { rfm(asOf: $asOf) { scoredMembers segments { segment members revenueMinor } } } }`;
const MEMBER_RFM = `query MemberRfm($id: ID!, $asOf: DateTimeISO!) { analytics { memberRfm(memberId: $id, asOf: $asOf) { score segment } } }`;
const COHORTS = `query Cohorts($input: AnalyticsFilterInput!) { analytics { cohorts(input: $input) { cohorts { month size cells { monthOffset members rate } } } } }`;
const INTERVALS = `query Intervals($input: AnalyticsFilterInput!) { analytics { purchaseIntervals(input: $input) { intervals medianDays buckets { fromDays count } } } }`;
const TOP = `query Top($asOf: DateTimeISO!) { analytics { topProductsBySegment(asOf: $asOf, limit: 10) { segment products { sku units revenueMinor } } } }`;

const quoteIdent = (s) => `"${s.replaceAll('"', '""')}"`;

/**
 * Times each analytics query through the real API against an imported database: ANALYTICS_DATABASE_URL, by default
 * the database `analytics_full` on the bench server (the full Online Retail import). ANALYTICS_SYNTHETIC=1 first
 * (re)builds `analytics_synthetic` with generate_series at the same volume and measures that instead.
 */
export async function run() {
  let url = process.env.ANALYTICS_DATABASE_URL || databaseUrl('analytics_full');
  if (process.env.ANALYTICS_SYNTHETIC === '1') {
    url = databaseUrl('analytics_synthetic');
    await buildSynthetic(url);
  }
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  const exists = await withClient(serverUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount > 0);
  if (!exists) {
    console.log(
      `  skipped: database "${dbName}" does not exist. Import the full Online Retail file into it first ` +
        `(npm run import), point ANALYTICS_DATABASE_URL at another imported database, or set ANALYTICS_SYNTHETIC=1.\n`,
    );
    return { skipped: true };
  }

  const env = apiEnv({ databaseUrl: url, port: await freePort(), poolMax: 4 });
  process.stdout.write(`  setup: database ${dbName}, migrating (adds the analytics functions if missing)…\n`);
  await runCli('migrate', [], env);
  const volume = await withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT (SELECT count(*) FROM member)::int AS members, (SELECT count(*) FROM customer_order)::int AS orders,
      (SELECT count(*) FROM order_line)::int AS lines, (SELECT count(*) FROM ledger_entry)::int AS ledger_rows,
      (SELECT min(placed_at) FROM customer_order) AS first, (SELECT max(placed_at) FROM customer_order) AS last,
      (SELECT member_id FROM customer_order WHERE member_id IS NOT NULL GROUP BY member_id ORDER BY count(*) DESC, member_id LIMIT 1) AS member_id`);
    return rows[0];
  });
  if (!volume.orders) {
    console.log(`  skipped: database "${dbName}" has no orders to analyse.\n`);
    return { skipped: true };
  }
  console.log(`  data: ${volume.members} members, ${volume.orders} orders, ${volume.lines} order lines, ${volume.ledger_rows} ledger rows`);

  const api = await startApi(env);
  const email = `bench-analytics-${process.pid}-${randomBytes(3).toString('hex')}@example.com`;
  try {
    const password = randomBytes(18).toString('base64url');
    await runCli('create-admin', ['--email', email, `--password=${password}`, '--role', 'ANALYST'], env);
    const login = await graphql(api.url, { query: 'mutation Login($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email, password } } });
    if (login.errors) throw new Error(`login failed: ${describeErrors(login)}`);
    const token = login.data.login.token;

    const to = new Date(new Date(volume.last).getTime() + 86_400_000).toISOString();
    const from = new Date(volume.first).toISOString();
    const whole = { from, to };
    const cases = [
      ['kpis (whole range, by channel and country)', KPIS, { input: whole }],
      ['kpis (one country)', KPIS, { input: { ...whole, country: 'GB' } }],
      ['rfm segments', RFM, { asOf: to }],
      ['memberRfm', MEMBER_RFM, { id: volume.member_id, asOf: to }],
      ['cohort retention matrix', COHORTS, { input: whole }],
      ['time between purchases', INTERVALS, { input: whole }],
      ['top 10 products by segment', TOP, { asOf: to }],
    ];
    const results = [];
    for (const [label, query, variables] of cases) {
      const times = [];
      for (let i = 0; i < WARMUP_RUNS + RUNS; i++) {
        const started = process.hrtime.bigint();
        const body = await graphql(api.url, { query, variables, token });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (body.errors) throw new Error(`${label} failed: ${describeErrors(body)}`);
        if (i >= WARMUP_RUNS) times.push(ms);
      }
      times.sort((a, b) => a - b);
      results.push({ query: label, p50Ms: round(quantile(times, 0.5)), p99Ms: round(quantile(times, 0.99)), maxMs: round(times.at(-1)) });
    }

    const width = Math.max(...results.map((r) => r.query.length));
    console.log(`  ${'query'.padEnd(width)}   p50 ms   p99 ms   (${RUNS} runs after ${WARMUP_RUNS} warm-up, target < ${TARGET_MS} ms)`);
    for (const r of results) {
      console.log(`  ${r.query.padEnd(width)}  ${r.p50Ms.toFixed(1).padStart(7)}  ${r.p99Ms.toFixed(1).padStart(7)}${r.p99Ms >= TARGET_MS ? '   ✗ over target' : ''}`);
    }
    console.log('');
    return { database: dbName, runs: RUNS, volume: { ...volume, member_id: undefined }, results, isWithinTarget: results.every((r) => r.p99Ms < TARGET_MS) };
  } finally {
    await api.stop();
    await withClient(url, (c) => c.query('DELETE FROM admin_user WHERE email = $1', [email])).catch(() => {});
  }
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (v) => Math.round(v * 10) / 10;

/**
 * A database shaped like the Online Retail import: 4,372 members (7 in 10 in GB), 3,700 products, 22,000 orders
 * skewed towards a few heavy buyers over 13 months, about 400,000 lines, 2% partly returned, and ledger rows
 * (earn, release, some redemptions and expiries) dated like the orders.
 */
async function buildSynthetic(url) {
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  process.stdout.write(`  setup: building synthetic database ${dbName}…\n`);
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
  });
  await runCli('migrate', [], apiEnv({ databaseUrl: url, port: 0, poolMax: 2 }));
  await withClient(url, async (c) => {
    await c.query('SELECT setseed(0.42)');
    await c.query(`
      INSERT INTO sales_channel (id, name, kind, created_at) VALUES
        (gen_random_uuid(), 'Synthetic web', 'WEB', now()), (gen_random_uuid(), 'Synthetic store', 'STORE', now());
      CREATE TEMP TABLE ch AS SELECT id, kind, row_number() OVER (ORDER BY name) AS rn FROM sales_channel;
      INSERT INTO member (id, status, country, enrolment_channel, enrolled_at, updated_at)
        SELECT gen_random_uuid(), 'ACTIVE', (ARRAY['GB','GB','GB','GB','GB','GB','GB','DE','FR','EI'])[1 + i % 10], 'WEB',
          timestamptz '2010-12-01' + random() * interval '365 days', now()
        FROM generate_series(1, 4372) i;
      CREATE TEMP TABLE mem AS SELECT id, row_number() OVER (ORDER BY id) AS rn FROM member;
      INSERT INTO product (id, sku, name, created_at) SELECT gen_random_uuid(), 'SKU' || i, 'Product ' || i, now() FROM generate_series(1, 3700) i;
      CREATE TEMP TABLE prod AS SELECT id, sku, row_number() OVER (ORDER BY sku) AS rn FROM product;
      CREATE TEMP TABLE ord AS
        SELECT gen_random_uuid() AS id, i, 1 + floor(4372 * power(random(), 2))::int AS mrn, 1 + (i % 5 = 0)::int AS crn,
          timestamptz '2010-12-01' + random() * interval '373 days' AS placed_at, 1 + floor(random() * 36)::int AS nlines
        FROM generate_series(1, 22000) i;
      INSERT INTO customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, currency,
          subtotal_minor, order_discount_minor, total_minor, placed_at, points_breakdown, created_at)
        SELECT o.id, ch.id || ':' || o.i, '', ch.id, ch.kind, o.i::text, mem.id, 'GBP', 0, 0, 0, o.placed_at, '[]', now()
        FROM ord o JOIN mem ON mem.rn = o.mrn JOIN ch ON ch.rn = o.crn;
      INSERT INTO order_line (id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor)
        SELECT gen_random_uuid(), o.id, n, p.id, p.sku, q, u, 0, q * u, q * u
        FROM ord o CROSS JOIN LATERAL generate_series(1, o.nlines) n
        CROSS JOIN LATERAL (SELECT 1 + floor(random() * 24)::int AS q, 50 + floor(random() * 900)::int AS u, 1 + floor(3700 * power(random(), 1.5))::int AS prn WHERE n IS NOT NULL) r
        JOIN prod p ON p.rn = r.prn;
      UPDATE customer_order o SET subtotal_minor = t.s, total_minor = t.s, points_basis_minor = t.s, points_earned = t.s / 100
        FROM (SELECT order_id, sum(net_minor)::int AS s FROM order_line GROUP BY order_id) t WHERE t.order_id = o.id;
      UPDATE order_line l SET returned_quantity = 1 FROM customer_order o WHERE o.id = l.order_id AND l.line_no = 1 AND random() < 0.02;
      UPDATE customer_order o SET returned_minor = t.r, status = 'PARTIALLY_RETURNED'
        FROM (SELECT order_id, sum(net_minor / quantity)::int AS r FROM order_line WHERE returned_quantity > 0 GROUP BY order_id) t WHERE t.order_id = o.id;
      INSERT INTO ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, actor, created_at)
        SELECT gen_random_uuid(), member_id, 'ORDER_EARN', points_earned, 0, points_earned, 'order', id, 'order:' || id, 'system', placed_at FROM customer_order
        UNION ALL
        SELECT gen_random_uuid(), member_id, 'RELEASE', -points_earned, points_earned, 0, 'order', id, 'release:' || id, 'system', placed_at + interval '14 days' FROM customer_order
        UNION ALL
        SELECT gen_random_uuid(), member_id, 'REDEMPTION', 0, -least(points_earned, 500), 0, 'redemption', id, 'redemption:' || id, 'system', placed_at + interval '20 days'
          FROM customer_order WHERE random() < 0.15
        UNION ALL
        SELECT gen_random_uuid(), member_id, 'EXPIRY', 0, -(points_earned / 4), 0, 'lot', id, 'expiry:' || id, 'system', placed_at + interval '365 days'
          FROM customer_order WHERE random() < 0.1;
      ANALYZE;`);
  });
}
