import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { apiEnv, describeErrors, freePort, graphql, runCli, startApi } from './lib/api.mjs';
import { databaseUrl, withClient } from './lib/postgres.mjs';

export const name = 'scale';
export const title = 'Latency at scale: the same requests against a small and a large generated database, alternately';
/** Prints its own table: latency per request kind and database. */
export const standalone = true;

const LOOKUP_RUNS = Number(process.env.SCALE_LOOKUP_RUNS || 300);
const HEAVY_RUNS = Number(process.env.SCALE_HEAVY_RUNS || 5);
/** Warm-up runs, not counted: enough to load the plans and the hot index pages. */
const WARMUP_RUNS = { lookup: 2, heavy: 1 };

const BY_ID = 'query M($id: ID!) { member(id: $id) { id country points { available pending } tier { code } } }';
const BY_EMAIL = 'query E($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id points { available } tier { code } } }';
const BALANCE = 'query B($id: ID!) { member(id: $id) { points { available pending lifetime nextExpiry { points expiresAt } } } }';
const PREVIEW = 'query P($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }';
const KPIS = `query K($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) { activeMembers orders netRevenueMinor pointsIssued
  pointsRedeemed liabilityPoints byChannel { key orders } byCountry { key orders } } } }`;
const RFM = 'query R($asOf: DateTimeISO!) { analytics { rfm(asOf: $asOf) { scoredMembers segments { segment members } } } }';
const RULE = {
  and: [
    { attribute: 'purchaseCount', op: 'gte', value: 2, windowDays: 90 },
    { attribute: 'country', op: 'in', value: ['GB', 'DE', 'FR'] },
    { not: { attribute: 'tier', op: 'eq', value: 'GOLD' } },
  ],
};

/** p99 at the large database may be at most this many times the small one's. */
const BOUNDS = { lookup: 1.5, heavy: null };

/**
 * SCALE_SMALL_DATABASE_URL (default database loyalty_gen_10k) and SCALE_LARGE_DATABASE_URL (default loyalty_gen_1m),
 * both filled by `npm run gen`. Both APIs run at once; each request goes to one then the other, one at a time, so
 * that the machine's noise falls on both alike. Lookups must stay within 1.5× at p99; segment previews and
 * analytics scan the data and grow with it (documented bounds in docs/operations/performance.md).
 */
export async function run() {
  const dbs = [
    { label: 'small', url: process.env.SCALE_SMALL_DATABASE_URL || databaseUrl('loyalty_gen_10k') },
    { label: 'large', url: process.env.SCALE_LARGE_DATABASE_URL || databaseUrl('loyalty_gen_1m') },
  ];
  const email = `bench-scale-${process.pid}-${randomBytes(3).toString('hex')}@example.com`;
  const stops = [];
  try {
    for (const db of dbs) {
      const exists = await withClient(db.url, (c) => c.query('select count(*)::int as n from member')).then((r) => r.rows[0].n, () => 0);
      if (!exists) {
        console.log(`  skipped: ${db.url} has no members; fill it with npm run gen -- --members N --database-url ${db.url}\n`);
        return { skipped: true };
      }
      const env = apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: 4 });
      await runCli('migrate', [], env, { timeoutMs: 600_000 });
      db.members = exists;
      db.api = await startApi(env, { readyTimeoutMs: 120_000 });
      stops.push(() => db.api.stop());
      const adminEmail = `${db.label}-${email}`;
      stops.push(() => withClient(db.url, (c) => c.query('delete from admin_user where email = $1', [adminEmail])).catch(() => {}));
      const password = randomBytes(18).toString('base64url');
      await runCli('create-admin', ['--email', adminEmail, `--password=${password}`, '--role', 'ADMIN'], env);
      // Again before each kind of request: the heavy ones can outlast a token's lifetime.
      db.login = async () => {
        const login = await graphql(db.api.url, { query: 'mutation L($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email: adminEmail, password } } });
        if (login.errors) throw new Error(`login failed: ${describeErrors(login)}`);
        db.token = login.data.login.token;
      };
      db.sample = await withClient(db.url, async (c) => {
        const { rows } = await c.query(`select i.member_id as id, i.value as email from member_identifier i tablesample system (5)
          where i.type = 'EMAIL' limit 2000`);
        const last = await c.query('select max(placed_at) as last from customer_order');
        return { members: rows, asOf: new Date(last.rows[0].last).toISOString() };
      });
      console.log(`  ${db.label}: ${db.members.toLocaleString('en-GB')} members (${new URL(db.url).pathname.slice(1)})`);
    }

    const pick = (db) => db.sample.members[Math.floor(Math.random() * db.sample.members.length)];
    const yearTo = (db) => ({ from: new Date(new Date(db.sample.asOf).getTime() - 365 * 86_400_000).toISOString(), to: db.sample.asOf });
    const cases = [
      ['member by id, with balance and tier', 'lookup', LOOKUP_RUNS, (db) => [BY_ID, { id: pick(db).id }]],
      ['member by email identifier', 'lookup', LOOKUP_RUNS, (db) => [BY_EMAIL, { v: pick(db).email }]],
      ['balance with next expiry', 'lookup', LOOKUP_RUNS, (db) => [BALANCE, { id: pick(db).id }]],
      ['segment preview (3 conditions)', 'heavy', HEAVY_RUNS, (db) => [PREVIEW, { input: { rule: RULE, asOf: db.sample.asOf } }]],
      ['analytics kpis (last 365 days)', 'heavy', HEAVY_RUNS, (db) => [KPIS, { input: yearTo(db) }]],
      ['analytics rfm segments', 'heavy', HEAVY_RUNS, (db) => [RFM, { asOf: db.sample.asOf }]],
    ];
    const results = [];
    // SCALE_HEAVY_RUNS=0 measures the lookups only (the heavy queries take minutes each at 1 M members).
    for (const [label, kind, runs, request] of cases.filter(([, , runs]) => runs > 0)) {
      process.stdout.write(`  ${label}: ${runs} runs each…`);
      for (const db of dbs) await db.login();
      const times = { small: [], large: [] };
      const loadBefore = loadavg()[0];
      for (let i = 0; i < WARMUP_RUNS[kind] + runs; i++) {
        for (const db of i % 2 ? [...dbs].reverse() : dbs) {
          const [query, variables] = request(db);
          const started = process.hrtime.bigint();
          const body = await graphql(db.api.url, { query, variables, token: db.token });
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          if (body.errors) throw new Error(`${label} on ${db.label}: ${describeErrors(body)}`);
          if (i >= WARMUP_RUNS[kind]) times[db.label].push(ms);
        }
      }
      const small = summary(times.small);
      const large = summary(times.large);
      const ratio = large.p99 / small.p99;
      results.push({ label, kind, runs, small, large, ratioP99: round(ratio, 2), bound: BOUNDS[kind], isWithinBound: BOUNDS[kind] ? ratio <= BOUNDS[kind] : null, loadAverage: `${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)}` });
      // Each line as soon as it is known: a later failure must not lose it.
      console.log(` p50 / p99 ms ${small.p50.toFixed(1)} / ${small.p99.toFixed(1)} vs ${large.p50.toFixed(1)} / ${large.p99.toFixed(1)}, p99 ratio ${ratio.toFixed(2)}`);
    }

    const [s, l] = dbs.map((d) => d.members.toLocaleString('en-GB'));
    console.log(`\n  ${'request'.padEnd(36)} ${`${s} p50 / p99 ms`.padStart(24)} ${`${l} p50 / p99 ms`.padStart(26)}  p99 ratio  bound   load (1 min)`);
    for (const r of results) {
      console.log(
        `  ${r.label.padEnd(36)} ${`${r.small.p50.toFixed(1)} / ${r.small.p99.toFixed(1)}`.padStart(24)} ${`${r.large.p50.toFixed(1)} / ${r.large.p99.toFixed(1)}`.padStart(26)}  ${r.ratioP99.toFixed(2).padStart(9)}  ${r.bound ? `≤ ${r.bound}` : 'doc'}${r.isWithinBound === false ? ' ✗' : '  '}  ${r.loadAverage}`,
      );
    }
    console.log('');
    return { small: { url: redact(dbs[0].url), members: dbs[0].members }, large: { url: redact(dbs[1].url), members: dbs[1].members }, results, isWithinBounds: results.every((r) => r.isWithinBound !== false) };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

function summary(times) {
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.max(0, Math.ceil(p * times.length) - 1))];
  return { p50: round(q(0.5), 2), p99: round(q(0.99), 2), max: round(times.at(-1), 2) };
}

const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;
const redact = (url) => {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
};
