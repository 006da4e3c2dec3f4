import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { apiEnv, describeErrors, freePort, graphql, runCli, startApi } from './lib/api.mjs';
import { onCleanup } from './lib/cleanup.mjs';
import { createDatabase, withClient } from './lib/postgres.mjs';

export const name = 'lockhold';
export const title = "One member's lock under contention: concurrent redeemReward on the same member";
/** Prints its own table. */
export const standalone = true;

const REDEEM = 'mutation Redeem($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }';
const METRIC = 'loyalty_member_lock_hold_seconds';
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

/**
 * LOCKHOLD_REQUESTS (100) redeemReward requests for one member sent at once through the real API, LOCKHOLD_ROUNDS (5)
 * times after a warm-up round: every one of them waits for the member's balance lock, so the wall time of a round is
 * about the sum of the lock hold times. Prints each round's wall time, and p50/p99 of the lock hold per write as the API
 * measured it (`loyalty_member_lock_hold_seconds`, read from /metrics before and after, with METRICS_TOKEN if set).
 */
export async function run({ clients }) {
  const requests = Number(process.env.LOCKHOLD_REQUESTS || 100);
  const rounds = Number(process.env.LOCKHOLD_ROUNDS || 5);
  const db = await createDatabase(`loyalty_lockhold_${process.pid}`);
  process.stdout.write(`  setup: migrating ${db.name}…\n`);
  const env = apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: clients + 2 });
  await runCli('migrate', [], env, { timeoutMs: 600_000 });
  const api = await startApi(env, { readyTimeoutMs: 120_000 });
  const stopped = onCleanup('stop the lockhold API', () => api.stop());
  try {
    const keyOut = await runCli('create-api-key', ['--channel', 'Lockhold POS', '--kind', 'STORE', '--scopes', 'members:read,members:write,rewards:redeem'], env);
    const apiKey = keyOut.match(/^key:\s+(lk_\S+)/m)?.[1];
    const email = `lockhold-${randomBytes(4).toString('hex')}@example.com`;
    const password = randomBytes(18).toString('base64url');
    await runCli('create-admin', ['--email', email, `--password=${password}`, '--role', 'ADMIN'], env);
    const login = await graphql(api.url, { query: 'mutation L($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email, password } } });
    if (login.errors) throw new Error(`login failed: ${describeErrors(login)}`);
    const token = login.data.login.token;
    const must = async (what, body) => {
      const res = await graphql(api.url, body);
      if (res.errors) throw new Error(`${what} failed: ${describeErrors(res)}`);
      return res.data;
    };
    const rewardId = (
      await must('upsertReward', {
        query: 'mutation R($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }',
        variables: { i: { code: 'LOCKHOLD', name: 'Lock hold reward', kind: 'DONATION', partner: 'Benchmark charity', costPoints: 1 } },
        token,
      })
    ).upsertReward.id;
    const memberId = (await must('enrolMember', { query: 'mutation E($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }', variables: { i: { email: `m-${email}` } }, token })).enrolMember.id;
    await must('adjustPoints', {
      query: 'mutation A($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }',
      variables: { i: { memberId, points: requests * (rounds + 1) + 10, reason: 'lockhold benchmark', idempotencyKey: `lockhold-${memberId}` } },
      token,
    });

    let counter = 0;
    const round = async () => {
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: requests }, () =>
          graphql(api.url, { query: REDEEM, variables: { input: { memberId, rewardId, idempotencyKey: `lh-${counter++}` } }, apiKey }).catch((err) => ({ errors: [{ message: err.message }] })),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const failed = answers.filter((a) => a.errors);
      return { seconds, errors: failed.length, sample: failed[0] ? describeErrors(failed[0]) : null };
    };

    process.stdout.write(`  warm-up: one round of ${requests}…\n`);
    await round();
    const scrapedBefore = await scrape(api.url);
    const before = histogram(scrapedBefore);
    const loadBefore = load();
    const results = [];
    for (let i = 0; i < rounds; i++) {
      process.stdout.write(`  round ${i + 1}/${rounds}: ${requests} redemptions of one member at once…\n`);
      results.push(await round());
    }
    const loadAfter = load();
    const scrapedAfter = await scrape(api.url);
    const after = histogram(scrapedAfter);
    // The API process's CPU time per request: what a request costs the main thread, much less sensitive than wall
    // times to other work on a shared machine.
    const cpuMs = ((cpuSeconds(scrapedAfter) - cpuSeconds(scrapedBefore)) * 1000) / (rounds * requests);
    const hold = subtract(after, before);
    const available = await withClient(db.url, async (c) => (await c.query('select available::int as a from member_balance where member_id = $1', [memberId])).rows[0].a);

    const walls = results.map((r) => r.seconds).sort((a, b) => a - b);
    const median = walls[Math.floor(walls.length / 2)];
    const errors = results.reduce((s, r) => s + r.errors, 0);
    const q = (p) => quantile(hold, p);
    console.log(`\n  ${requests} concurrent redeemReward on one member, ${rounds} rounds after a warm-up round; API pool ${clients + 2}`);
    console.log(`  wall time per round (s): ${results.map((r) => r.seconds.toFixed(3)).join(', ')}; median ${median.toFixed(3)} (target ≤ 0.5 on a quiet machine)`);
    console.log(`  lock hold per write (${METRIC}, ${hold.count} writes): p50 ${ms(q(0.5))} ms, p99 ${ms(q(0.99))} ms, mean ${ms(hold.count ? hold.sum / hold.count : null)} ms`);
    console.log(`  API process CPU per redemption (process_cpu_seconds_total): ${cpuMs.toFixed(2)} ms`);
    console.log(`  errors: ${errors}${errors ? ` (e.g. ${results.find((r) => r.sample)?.sample})` : ''}; member's available points afterwards ${available}`);
    console.log(`  load average (1/5/15 min) ${loadBefore} → ${loadAfter}\n`);
    if (hold.count === 0) console.log(`  (${METRIC} recorded nothing: this API does not expose it)`);
    return {
      requests,
      rounds,
      wallSeconds: walls,
      medianWallSeconds: median,
      lockHoldMs: { p50: q(0.5) * 1000, p99: q(0.99) * 1000, mean: hold.count ? (hold.sum / hold.count) * 1000 : null, writes: hold.count },
      apiCpuMsPerRequest: cpuMs,
      errors,
      loadAverage: `${loadBefore} → ${loadAfter}`,
    };
  } finally {
    await stopped();
    await db.drop();
  }
}

const ms = (s) => (s === null || s === undefined || !Number.isFinite(s) ? '—' : (s * 1000).toFixed(2));

async function scrape(url) {
  const headers = process.env.METRICS_TOKEN ? { authorization: `Bearer ${process.env.METRICS_TOKEN}` } : {};
  const res = await fetch(`${url}/metrics`, { headers });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}${res.status === 401 ? ' (set METRICS_TOKEN)' : ''}`);
  return res.text();
}

const cpuSeconds = (text) => Number(text.match(/^process_cpu_seconds_total (\S+)$/m)?.[1] ?? NaN);

/** The histogram's cumulative buckets, sum and count, over every label (commits and rollbacks alike). */
function histogram(text) {
  const buckets = new Map();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(METRIC)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${METRIC}_bucket`)) {
      const le = line.match(/le="([^"]+)"/)[1];
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${METRIC}_sum`)) sum += value;
    else if (line.startsWith(`${METRIC}_count`)) count += value;
  }
  return { buckets, sum, count };
}

function subtract(a, b) {
  const buckets = new Map([...a.buckets].map(([le, v]) => [le, v - (b.buckets.get(le) ?? 0)]));
  return { buckets, sum: a.sum - b.sum, count: a.count - b.count };
}

/** As PromQL's histogram_quantile: linear within the bucket that holds the rank. */
function quantile({ buckets, count }, p) {
  if (!count) return null;
  const bounds = [...buckets.keys()].sort((x, y) => x - y);
  const rank = p * count;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const n = buckets.get(le);
    if (n >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(n - below, 1e-9);
    }
    lower = le;
    below = n;
  }
  return lower;
}
