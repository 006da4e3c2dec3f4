import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { apiEnv, describeErrors, freePort, graphql, processCpuMs, repoRoot, residentMemory, runCli, startApi } from './lib/api.mjs';
import { onCleanup } from './lib/cleanup.mjs';
import { measureRequests } from './lib/load.mjs';
import { createDatabase, withClient } from './lib/postgres.mjs';

export const name = 'hotpaths';
export const title = 'Hot paths under load (GraphQL), each beside its same-run ceiling';
/** Prints its own table: five operations, each with its own baseline. */
export const standalone = true;

const CASES = ['lookup', 'order', 'redeem', 'preview', 'recommendations'];
const SAMPLE_MEMBERS = 20_000;
const SAMPLE_PRODUCTS = 500;
const RICH_MEMBERS = 5_000;
const REWARD_CODE = 'BENCH-REWARD';
const REWARD_COST = 1;
const CHANNEL = 'Bench POS';

const LOOKUP = 'query Lookup($id: ID!) { member(id: $id) { id country points { available pending } tier { code } } }';
const RECORD_ORDER = 'mutation RecordOrder($input: RecordOrderInput!) { recordOrder(input: $input) { id pointsEarned } }';
const REDEEM = 'mutation Redeem($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }';
const PREVIEW = 'query Preview($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id country tierCode } } }';
const RECOMMENDATIONS = 'query Recs($id: ID!) { member(id: $id) { recommendations(first: 5) { rank reason product { sku } } } }';

/** A realistic marketing rule: frequent buyers outside the top tier who bought in the last 90 days. */
const PREVIEW_RULE = {
  and: [
    { attribute: 'purchaseCount', op: 'gte', value: 2, windowDays: 90 },
    { attribute: 'country', op: 'in', value: ['GB', 'DE', 'FR'] },
    { not: { attribute: 'tier', op: 'eq', value: 'GOLD' } },
  ],
};

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');

/**
 * The API against a generated database: HOTPATHS_DATABASE_URL (e.g. one filled by `npm run gen -- --members 1000000`),
 * or by default a scratch database generated with HOTPATHS_MEMBERS (10,000) members and dropped afterwards. Each
 * case runs the API under `clients` connections, then its ceiling the same way: a bare Node HTTP server with a pg pool
 * running the API's SQL for reads, a pgbench script of the same statements for writes. HOTPATHS=lookup,order picks cases.
 * The API's resident memory (VmRSS, and its peak VmHWM) is read from /proc after each case and at the end.
 * HOTPATHS_CPU_PROFILE_DIR=dir starts the API with `node --cpu-prof` and writes its profile there when it stops.
 */
export async function run({ clients, durationSeconds, warmupSeconds, skipPgbench }) {
  const cases = (process.env.HOTPATHS || CASES.join(',')).split(',').map((s) => s.trim());
  const rounds = Math.max(1, Math.trunc(Number(process.env.HOTPATHS_ROUNDS || 1)));
  const unknown = cases.filter((c) => !CASES.includes(c));
  if (unknown.length) throw new Error(`HOTPATHS: unknown case(s) ${unknown.join(', ')} (known: ${CASES.join(', ')})`);

  let url = process.env.HOTPATHS_DATABASE_URL;
  if (!url) {
    const members = Number(process.env.HOTPATHS_MEMBERS || 10_000);
    const db = await createDatabase(`loyalty_hot_${process.pid}`);
    url = db.url;
    process.stdout.write(`  setup: generating ${members} members in ${db.name}…\n`);
    await runNode([path.join(repoRoot, 'bench', 'gen.mjs'), '--members', String(members), '--database-url', url]);
  } else {
    process.stdout.write('  setup: migrating the given database…\n');
    await runCli('migrate', [], apiEnv({ databaseUrl: url, port: 0, poolMax: 2 }), { timeoutMs: 600_000 });
  }

  const env = apiEnv({ databaseUrl: url, port: await freePort(), poolMax: clients + 2 });
  const volume = await withClient(url, async (c) => {
    const { rows } = await c.query(`select (select count(*) from member)::int as members, (select reltuples::bigint from pg_class where relname = 'ledger_entry') as ledger_rows`);
    return rows[0];
  });
  console.log(`  data: ${volume.members.toLocaleString('en-GB')} members, ~${Number(volume.ledger_rows).toLocaleString('en-GB')} ledger rows`);

  const profileDir = process.env.HOTPATHS_CPU_PROFILE_DIR;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const api = await startApi(env, { readyTimeoutMs: 120_000, nodeArgs });
  const memoryAtStart = await residentMemory(api.pid);
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const adminEmail = `bench-hot-${suffix}@example.com`;
  const helpers = onCleanup('drop the benchmark helper tables', () =>
    withClient(url, (c) => c.query(`drop table if exists bench_member, bench_product, bench_rich; delete from admin_user where email = '${adminEmail}'`)),
  );
  const bare = await startBare(url, clients);
  try {
    const keyOut = await runCli('create-api-key', ['--channel', CHANNEL, '--kind', 'STORE', '--scopes', 'members:read,members:write,orders:write,orders:read,rewards:redeem'], env);
    const apiKey = keyOut.match(/^key:\s+(lk_\S+)/m)?.[1];
    const password = randomBytes(18).toString('base64url');
    await runCli('create-admin', ['--email', adminEmail, `--password=${password}`, '--role', 'ADMIN'], env);
    const login = await graphql(api.url, { query: 'mutation L($i: LoginInput!) { login(input: $i) { token } }', variables: { i: { email: adminEmail, password } } });
    if (login.errors) throw new Error(`login failed: ${describeErrors(login)}`);
    const token = login.data.login.token;
    const reward = await graphql(api.url, {
      query: 'mutation R($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }',
      variables: { i: { code: REWARD_CODE, name: 'Benchmark reward', kind: 'DONATION', partner: 'Benchmark charity', costPoints: REWARD_COST } },
      token,
    });
    if (reward.errors) throw new Error(`upsertReward failed: ${describeErrors(reward)}`);
    const rewardId = reward.data.upsertReward.id;

    const sample = await withClient(url, async (c) => {
      await c.query(`drop table if exists bench_member, bench_product, bench_rich;
        create table bench_member as select row_number() over () as n, id from (select id from member where status = 'ACTIVE' order by random() limit ${SAMPLE_MEMBERS}) s;
        create table bench_product as select row_number() over () as n, sku, coalesce(price_minor, 100) as price from (select sku, price_minor from product order by random() limit ${SAMPLE_PRODUCTS}) s;
        create table bench_rich as select row_number() over () as n, member_id as id from (
          select distinct member_id from point_lot where state = 'AVAILABLE' and remaining >= 200 limit ${RICH_MEMBERS}) s;
        alter table bench_member add primary key (n); alter table bench_product add primary key (n); alter table bench_rich add primary key (n);
        insert into member_balance (member_id, available, pending, lifetime, updated_at) select id, 0, 0, 0, now() from bench_member on conflict do nothing;
        analyze bench_member, bench_product, bench_rich;`);
      const members = await c.query('select id from bench_member');
      const products = await c.query('select sku, price from bench_product');
      const rich = await c.query('select id from bench_rich');
      const last = await c.query('select max(placed_at) as last from customer_order');
      return { members: members.rows.map((r) => r.id), products: products.rows, rich: rich.rows.map((r) => r.id), asOf: new Date(last.rows[0].last ?? Date.now()).toISOString() };
    });
    if (sample.rich.length < 10 && cases.includes('redeem')) throw new Error('fewer than 10 members hold a lot of 200 points: generate more data');

    let counter = 0;
    const orderInput = () => {
      const lines = Array.from({ length: 3 }, () => {
        const p = pick(sample.products);
        return { sku: p.sku, quantity: 1 + Math.floor(Math.random() * 3), unitPriceMinor: p.price, discountMinor: 0 };
      });
      return {
        externalOrderId: `hot-${suffix}-${counter++}`,
        member: { id: pick(sample.members) },
        placedAt: new Date().toISOString(),
        currency: 'GBP',
        lines,
        orderDiscountMinor: 0,
        totalMinor: lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0),
      };
    };

    const common = { clients, warmupSeconds, durationSeconds };
    const gql = (query, variables) => () => JSON.stringify({ query, variables: variables() });
    const specs = {
      lookup: {
        label: 'member lookup with balance and tier',
        api: { headers: { 'x-api-key': apiKey }, buildBody: gql(LOOKUP, () => ({ id: pick(sample.members) })) },
        baseline: { kind: 'bare', path: '/lookup', buildBody: () => JSON.stringify({ id: pick(sample.members) }) },
      },
      order: {
        label: 'recordOrder, 3 lines',
        api: { headers: { 'x-api-key': apiKey }, buildBody: gql(RECORD_ORDER, () => ({ input: orderInput() })) },
        baseline: { kind: 'pgbench', script: 'record-order.sql', vars: { members: sample.members.length, products: sample.products.length } },
      },
      redeem: {
        label: `redeemReward (${REWARD_COST} point${REWARD_COST === 1 ? '' : 's'})`,
        api: { headers: { 'x-api-key': apiKey }, buildBody: gql(REDEEM, () => ({ input: { memberId: pick(sample.rich), rewardId, idempotencyKey: `hot-${suffix}-${counter++}` } })) },
        baseline: { kind: 'pgbench', script: 'redeem.sql', vars: { rich: sample.rich.length } },
      },
      preview: {
        label: 'previewSegment (3 conditions)',
        api: { headers: { authorization: `Bearer ${token}` }, buildBody: gql(PREVIEW, () => ({ input: { rule: PREVIEW_RULE, asOf: sample.asOf } })) },
        baseline: { kind: 'bare', path: '/preview', buildBody: () => JSON.stringify({ rule: PREVIEW_RULE, asOf: sample.asOf }) },
      },
      recommendations: {
        label: 'member recommendations (5)',
        api: { headers: { 'x-api-key': apiKey }, buildBody: gql(RECOMMENDATIONS, () => ({ id: pick(sample.members) })) },
        baseline: { kind: 'bare', path: '/recommendations', buildBody: () => JSON.stringify({ id: pick(sample.members), first: 5 }) },
      },
    };

    // The same answer from both sides before measuring, so the ceiling is a like-for-like one.
    if (cases.includes('preview')) {
      const viaApi = await graphql(api.url, { query: PREVIEW, variables: { input: { rule: PREVIEW_RULE, asOf: sample.asOf } }, token });
      if (viaApi.errors) throw new Error(`previewSegment failed: ${describeErrors(viaApi)}`);
      const viaBare = await (await fetch(`${bare.url}/preview`, { method: 'POST', body: JSON.stringify({ rule: PREVIEW_RULE, asOf: sample.asOf }) })).json();
      if (viaBare.data?.count !== viaApi.data.previewSegment.count) {
        throw new Error(`the bare preview counts ${viaBare.data?.count}, the API ${viaApi.data.previewSegment.count}: not the same statement`);
      }
    }

    const results = [];
    async function measureCase(key, spec) {
      const probe = await graphql(api.url, { ...JSON.parse(spec.api.buildBody()), ...authOf(spec.api.headers) });
      if (probe.errors) throw new Error(`${spec.label}: a single request fails: ${describeErrors(probe)}`);
      const loadBefore = load();
      // HOTPATHS_ROUNDS=N alternates the API and its ceiling N times; the round with the median ratio is reported, every
      // round beside it (the ceiling's own rate drifts on a shared machine).
      const measured = [];
      for (let i = 0; i < rounds; i++) {
        const apiRun = await measuredWithCpu(api.pid, { ...common, label: `${key} (API)`, url: api.url, ...spec.api });
        let base;
        if (spec.baseline.kind === 'bare') {
          base = await measuredWithCpu(bare.pid, { ...common, label: `${key} (bare Node + pg)`, url: bare.url, path: spec.baseline.path, buildBody: spec.baseline.buildBody });
          base.what = 'bare Node + pg, same SQL';
        } else if (skipPgbench) {
          base = null;
        } else {
          base = await runPgbenchScript({ url, script: spec.baseline.script, vars: spec.baseline.vars, clients, durationSeconds, warmupSeconds });
          base.what = `pgbench -M prepared ${spec.baseline.script}`;
        }
        measured.push({ apiRun, base, ratio: base && base.perSecond > 0 ? apiRun.perSecond / base.perSecond : null });
      }
      const byRatio = [...measured].sort((a, b) => (a.ratio ?? 0) - (b.ratio ?? 0));
      const { apiRun, base } = byRatio[(byRatio.length - 1) >> 1];
      const result = {
        case: key,
        label: spec.label,
        api: strip(apiRun),
        baseline: base && strip(base),
        ratio: base && base.perSecond > 0 ? apiRun.perSecond / base.perSecond : null,
        ...(rounds > 1 ? { rounds: measured.map((m) => ({ api: round1(m.apiRun.perSecond), ceiling: round1(m.base?.perSecond), ratio: m.ratio === null ? null : Math.round(m.ratio * 1000) / 1000 })) } : {}),
        loadAverage: `${loadBefore} → ${load()}`,
        apiMemory: await residentMemory(api.pid),
      };
      if (apiRun.errors) console.log(`  ${key}: ${apiRun.errors} errors, e.g. ${JSON.stringify(apiRun.errorSamples[0] ?? apiRun.errorCodes)}`);
      return result;
    }

    for (const key of cases) {
      const spec = specs[key];
      try {
        results.push(await measureCase(key, spec));
      } catch (err) {
        // One broken case (or ceiling) must not lose the others' figures.
        console.error(`  ✗ ${key}: ${err instanceof Error ? err.message : err}`);
        results.push({ case: key, label: spec.label, error: String(err instanceof Error ? err.message : err).slice(0, 500) });
      }
    }

    // HOTPATHS_LEDGER_CHECK=0 leaves it out: on 10 M ledger rows it takes many minutes (run npm run ledger:check later).
    const check =
      process.env.HOTPATHS_LEDGER_CHECK === '0'
        ? '(skipped: HOTPATHS_LEDGER_CHECK=0)'
        : await runCli('points-jobs', ['--check'], apiEnv({ databaseUrl: url, port: 0, poolMax: 2 }), { timeoutMs: 3_600_000 }).catch((err) => `FAILED: ${err.message}`);
    const apiMemory = { atStart: memoryAtStart, atEnd: await residentMemory(api.pid) };
    printResults(results, { clients, durationSeconds, warmupSeconds, members: volume.members });
    console.log(`  API resident memory: ${describeMemory(apiMemory.atStart)} at start, ${describeMemory(apiMemory.atEnd)} after the last case`);
    console.log(`  ledger check afterwards: ${check.trim()}\n`);
    return { database: new URL(url).pathname.slice(1), members: volume.members, clients, durationSeconds, warmupSeconds, results, apiMemory, ledgerCheck: check.trim() };
  } finally {
    await bare.stop();
    await api.stop();
    await helpers();
  }
}

/** measureRequests, with the CPU the serving process spent per request in the measured window (after the warm-up). */
async function measuredWithCpu(pid, options) {
  if (options.warmupSeconds > 0) await measureRequests({ ...options, durationSeconds: options.warmupSeconds, warmupSeconds: 0, label: `${options.label} warm-up` });
  const before = await processCpuMs(pid);
  const run = await measureRequests({ ...options, warmupSeconds: 0 });
  const after = await processCpuMs(pid);
  const requests = run.okResponses + run.errors;
  return { ...run, cpuMsPerRequest: before !== null && after !== null && requests > 0 ? (after - before) / requests : null };
}

const describeMemory = (m) => (m ? `${m.rssMb} MB (peak ${m.peakRssMb} MB)` : '(unknown: no /proc)');
const authOf = (headers) => (headers['x-api-key'] ? { apiKey: headers['x-api-key'] } : { token: headers.authorization.slice(7) });
const strip = (r) => ({ perSecond: round(r.perSecond, 1), p50Ms: round(r.latencyMs.p50, 2), p99Ms: round(r.latencyMs.p99, 2), errors: r.errors, cpuMsPerRequest: round(r.cpuMsPerRequest, 3), what: r.what });
const round1 = (v) => round(v, 1);
const round = (v, d) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);

function printResults(results, { clients, durationSeconds, warmupSeconds, members }) {
  const n = (v, d = 0) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('en-GB', { minimumFractionDigits: d, maximumFractionDigits: d }));
  const rows = [['operation', 'API req/s', 'p50 ms', 'p99 ms', 'errors', 'ceiling req/s', 'p50 ms', 'p99 ms', 'errors', 'ratio', 'ceiling', 'API RSS MB after', 'load average (1/5/15 min) before → after']];
  for (const r of results) {
    if (r.error) {
      rows.push([r.label, 'failed', '', '', '', '', '', '', '', '', r.error.split('\n')[0].slice(0, 60), '', '']);
      continue;
    }
    const b = r.baseline ?? {};
    rows.push([r.label, n(r.api.perSecond, 1), n(r.api.p50Ms, 2), n(r.api.p99Ms, 2), n(r.api.errors), n(b.perSecond, 1), n(b.p50Ms, 2), n(b.p99Ms, 2), n(b.errors), r.ratio === null ? '—' : r.ratio.toFixed(3), b.what ?? '(skipped)', r.apiMemory ? n(r.apiMemory.rssMb, 1) : '—', r.loadAverage]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  console.log(`\n  ${members.toLocaleString('en-GB')} members; ${clients} clients, ${warmupSeconds} s warm-up, ${durationSeconds} s measured per side`);
  for (const row of rows) console.log(`  ${row.map((c, i) => (i === 0 || i === 10 || i === 12 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')}`);
  for (const r of results) {
    if (r.rounds) console.log(`  ${r.label}: ${r.rounds.length} rounds, API / ceiling req/s (ratio): ${r.rounds.map((x) => `${n(x.api, 1)} / ${n(x.ceiling, 1)} (${x.ratio ?? '—'})`).join(', ')}; the median round is in the table`);
  }
  for (const r of results) {
    if (r.api?.cpuMsPerRequest != null) {
      const b = r.baseline?.cpuMsPerRequest != null ? `, the ceiling's server ${r.baseline.cpuMsPerRequest.toFixed(3)} ms` : '';
      console.log(`  ${r.label}: CPU per request, API process ${r.api.cpuMsPerRequest.toFixed(3)} ms${b}`);
    }
  }
  for (const r of results) {
    if (r.baseline && r.baseline.perSecond === 0) {
      console.log(`  ${r.label}: the ceiling finished no request inside the measured window (each takes longer than it), so there is no ratio; time it one request at a time with \`npm run bench -- --only scale\`.`);
    }
  }
}

/** The bare read server (bench/lib/bare-server.mjs) in its own process, as the API is. */
async function startBare(databaseUrl, clients) {
  const port = await freePort();
  const child = fork(path.join(repoRoot, 'bench', 'lib', 'bare-server.mjs'), [], {
    env: { ...process.env, BARE_DATABASE_URL: databaseUrl, BARE_PORT: String(port), BARE_POOL: String(clients + 2) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = onCleanup(`stop the bare server (pid ${child.pid})`, () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    return new Promise((r) => child.once('exit', r));
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop, pid: child.pid };
}

/** pgbench with a custom script against the benchmark database: a warm-up run, then the measured one. */
async function runPgbenchScript({ url, script, vars, clients, durationSeconds, warmupSeconds }) {
  const u = new URL(url);
  const env = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres'), PGDATABASE: decodeURIComponent(u.pathname.slice(1)) };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const args = (seconds) => [
    '-n', '-M', 'prepared', '-f', path.join(repoRoot, 'bench', 'pgbench', script), '-c', String(clients), '-j', String(Math.min(2, clients)),
    '-T', String(seconds), ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
  ];
  if (warmupSeconds > 0) {
    process.stdout.write(`  ${script}: pgbench warming up ${warmupSeconds} s…\n`);
    await pgbench(args(warmupSeconds), env);
  }
  process.stdout.write(`  ${script}: pgbench measuring ${durationSeconds} s with ${clients} clients…\n`);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  const logPrefix = path.join(repoRoot, 'bench', 'results', `pgbench-${process.pid}-${Date.now()}`);
  const out = await pgbench([...args(durationSeconds), '-l', '--log-prefix', logPrefix], env);
  const tps = Number(out.match(/tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/)?.[1]);
  const failed = Number(out.match(/number of failed transactions: (\d+)/)?.[1] ?? 0);
  const latencies = await readPgbenchLog(logPrefix);
  return { perSecond: tps, latencyMs: { p50: latencies.p50, p99: latencies.p99 }, errors: failed };
}

/** Per-transaction latencies from pgbench's -l log files (microseconds in the third column). */
async function readPgbenchLog(prefix) {
  const { readdir, readFile, rm } = await import('node:fs/promises');
  const dir = path.dirname(prefix);
  const files = (await readdir(dir)).filter((f) => f.startsWith(path.basename(prefix)));
  const values = [];
  for (const f of files) {
    for (const line of (await readFile(path.join(dir, f), 'utf8')).split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && us > 0) values.push(us / 1000);
    }
    await rm(path.join(dir, f));
  }
  values.sort((a, b) => a - b);
  const q = (p) => (values.length ? values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] : null);
  return { p50: q(50), p99: q(99) };
}

function pgbench(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stopEarly = onCleanup(`stop pgbench (pid ${child.pid})`, () => child.exitCode === null && child.kill('SIGTERM'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', (err) => reject(err.code === 'ENOENT' ? new Error('pgbench is not installed (Debian: apt-get install postgresql-client)') : err));
    child.once('exit', (code) => {
      void stopEarly();
      if (code === 0) resolve(out);
      else reject(new Error(`pgbench exited with ${code}:\n${out.trim().split('\n').slice(-15).join('\n')}`));
    });
  });
}

function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}
