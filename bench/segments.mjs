import { randomBytes } from 'node:crypto';
import { apiEnv, describeErrors, freePort, graphql, runCli, startApi } from './lib/api.mjs';
import { databaseUrl, serverUrl, withClient } from './lib/postgres.mjs';

export const name = 'segments';
export const title = 'Segment previews (GraphQL previewSegment, one at a time)';
/** Prints its own table: latency per rule, not a request rate under load. */
export const standalone = true;

const RUNS = Number(process.env.SEGMENTS_RUNS || 20);
const WARMUP_RUNS = 2;
const TARGET_MS = 1000;

const PREVIEW = `query Preview($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id country tierCode } } }`;

const c = (attribute, op, value, windowDays) => ({ attribute, op, value, ...(windowDays ? { windowDays } : {}) });

/** Realistic rules; `tier` is a code of the database's top tier, filled in at run time. */
function rules(topTier) {
  return [
    ['country eq GB', c('country', 'eq', 'GB')],
    ['frequent and valuable (count 90 d, spend 365 d)', { and: [c('purchaseCount', 'gte', 3, 90), c('monetaryMinor', 'gt', 50_000, 365)] }],
    [
      'lapsed: RFM at risk, or 60-180 days quiet outside GB',
      { or: [c('rfmSegment', 'in', ['AT_RISK', 'CANT_LOSE_THEM']), { and: [c('daysSinceLastPurchase', 'between', [60, 180]), { not: c('country', 'eq', 'GB') }] }] },
    ],
    [
      '13 conditions on 13 attributes',
      {
        and: [
          c('country', 'in', ['GB', 'FR', 'DE']),
          c('tier', 'lte', topTier),
          c('pointsBalance', 'gte', 0),
          c('lifetimePoints', 'gte', 100),
          c('channelsUsed', 'contains', 'WEB'),
          { not: c('consents', 'any', ['EMAIL']) },
          { or: [c('categoriesBought', 'any', ['Home', 'Garden']), c('purchaseCount', 'gte', 2, 365)] },
          { not: c('churnBand', 'eq', 'HIGH') },
          c('enrolledAt', 'gte', '2000-01-01'),
          c('daysSinceLastPurchase', 'lte', 365),
          c('status', 'eq', 'ACTIVE'),
          c('rfmSegment', 'neq', 'LOST'),
        ],
      },
    ],
  ];
}

/**
 * Times previewSegment through the real API against an imported database: SEGMENTS_DATABASE_URL, by default the
 * database `analytics_full` (the full Online Retail import). Rules are evaluated as of the day after the last order,
 * so that windows and recency see the data as it was then.
 */
export async function run() {
  const url = process.env.SEGMENTS_DATABASE_URL || databaseUrl('analytics_full');
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  const exists = await withClient(serverUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount > 0);
  if (!exists) {
    console.log(`  skipped: database "${dbName}" does not exist. Import the full Online Retail file into it first (npm run import), or set SEGMENTS_DATABASE_URL.\n`);
    return { skipped: true };
  }

  const env = apiEnv({ databaseUrl: url, port: await freePort(), poolMax: 4 });
  process.stdout.write(`  setup: database ${dbName}, migrating (adds the segment tables if missing)…\n`);
  await runCli('migrate', [], env);
  const volume = await withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT (SELECT count(*) FROM member)::int AS members, (SELECT count(*) FROM customer_order)::int AS orders,
      (SELECT count(*) FROM order_line)::int AS lines, (SELECT max(placed_at) FROM customer_order) AS last,
      (SELECT code FROM tier ORDER BY threshold DESC LIMIT 1) AS top_tier`);
    return rows[0];
  });
  if (!volume.orders || !volume.top_tier) {
    console.log(`  skipped: database "${dbName}" has no orders or no tiers.\n`);
    return { skipped: true };
  }
  console.log(`  data: ${volume.members} members, ${volume.orders} orders, ${volume.lines} order lines`);

  const api = await startApi(env);
  const email = `bench-segments-${process.pid}-${randomBytes(3).toString('hex')}@example.com`;
  try {
    const password = randomBytes(18).toString('base64url');
    await runCli('create-admin', ['--email', email, `--password=${password}`, '--role', 'ANALYST'], env);
    const login = await graphql(api.url, { query: 'mutation Login($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email, password } } });
    if (login.errors) throw new Error(`login failed: ${describeErrors(login)}`);
    const token = login.data.login.token;
    const asOf = new Date(new Date(volume.last).getTime() + 86_400_000).toISOString();

    const results = [];
    for (const [label, rule] of rules(volume.top_tier)) {
      const times = [];
      let count = 0;
      for (let i = 0; i < WARMUP_RUNS + RUNS; i++) {
        const started = process.hrtime.bigint();
        const body = await graphql(api.url, { query: PREVIEW, variables: { input: { rule, asOf } }, token });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (body.errors) throw new Error(`${label} failed: ${describeErrors(body)}`);
        count = body.data.previewSegment.count;
        if (i >= WARMUP_RUNS) times.push(ms);
      }
      times.sort((a, b) => a - b);
      results.push({ rule: label, members: count, p50Ms: round(quantile(times, 0.5)), p99Ms: round(quantile(times, 0.99)), maxMs: round(times.at(-1)) });
    }

    const width = Math.max(...results.map((r) => r.rule.length));
    console.log(`  ${'rule'.padEnd(width)}   members   p50 ms   p99 ms   (${RUNS} runs after ${WARMUP_RUNS} warm-up, as of ${asOf.slice(0, 10)}, target < ${TARGET_MS} ms)`);
    for (const r of results) {
      console.log(
        `  ${r.rule.padEnd(width)}  ${String(r.members).padStart(8)}  ${r.p50Ms.toFixed(1).padStart(7)}  ${r.p99Ms.toFixed(1).padStart(7)}${r.p99Ms >= TARGET_MS ? '   ✗ over target' : ''}`,
      );
    }
    console.log('');
    return { database: dbName, runs: RUNS, asOf, volume: { members: volume.members, orders: volume.orders, lines: volume.lines }, results, isWithinTarget: results.every((r) => r.p99Ms < TARGET_MS) };
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
