#!/usr/bin/env node
// `npm run attack`: attacks the platform from outside, over HTTP, as a fraudster, a careless integrator and a
// curious insider would, and reports per class of attack what it sent, what came back and whether the platform held.
// See docs/operations/attack.md.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './lib/api.mjs';
import { cleanupAll, installSignalHandlers, isAborting } from './lib/cleanup.mjs';
import { escalation, csrf, demoKeyJourney, forgedCredentials, loginThrottle } from './attack/auth.mjs';
import { voucherExposure } from './attack/exposure.mjs';
import { Api, must } from './attack/http.mjs';
import { fragmentIds, hostileStrings, integerExtremes, longStrings, overflow } from './attack/inputs.mjs';
import { startOwnPlatform, startProductionApi } from './attack/platform.mjs';
import { doubleSpend, mergeRaces, replays, voucherReuse } from './attack/races.mjs';
import { Report, runClass } from './attack/report.mjs';
import { loadSchema } from './attack/schema.mjs';
import { buildWorld } from './attack/setup.mjs';
import { batchIndependence, expiredVoucher, hostileImport, redisRestart, referralLoops } from './attack/state.mjs';
import { aliasBudget, batching, documentShapes, hugeBodies, productionMode } from './attack/transport.mjs';

const USAGE = `usage: npm run attack -- [options]

Starts the platform itself (a new database on --pg-url, its own redis-server, \`npm start\` on free ports), attacks it,
prints a report, writes it as JSON and stops everything. Exit code 1 if any class fails (or could not be checked).

  --no-build             run node scripts/start.mjs on the existing build instead of npm start (which builds first)
  --pg-url URL           PostgreSQL server for the attack's database (default postgres://postgres@127.0.0.1:5432/postgres)
  --only IDS             run only these classes (comma-separated ids, e.g. 1,2,C5); set-up always runs
  --report FILE          JSON report (default test-output/attack-report.json)
  --no-sql-setup         do not age a voucher by SQL for class 10 (the class is then skipped)
  --redis-wait S         how long class 9 waits for the schedules to come back (default 90)

Against a running instance instead (nothing is started or stopped):
  --url URL              the API, e.g. http://127.0.0.1:4000
  --admin-email E / --admin-password P   an ADMIN login (env ATTACK_ADMIN_EMAIL / ATTACK_ADMIN_PASSWORD)
  --demo-key K           the channel key npm start printed (env ATTACK_DEMO_KEY); without it the demo-key class is skipped
  --database-url URL     its database, for the import classes and class 10 (env ATTACK_DATABASE_URL)
  --redis-url URL        its Redis, for the importer
  --trust-proxy          the instance trusts X-Forwarded-For (TRUST_PROXY): the per-email login bound applies
  --login-max-failures N / --login-max-failures-per-email N   the instance's login throttle (default 5 / 50)`;

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'admin-email': { type: 'string', default: process.env.ATTACK_ADMIN_EMAIL },
      'admin-password': { type: 'string', default: process.env.ATTACK_ADMIN_PASSWORD },
      'demo-key': { type: 'string', default: process.env.ATTACK_DEMO_KEY },
      'database-url': { type: 'string', default: process.env.ATTACK_DATABASE_URL },
      'redis-url': { type: 'string' },
      'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      'no-build': { type: 'boolean', default: false },
      'no-sql-setup': { type: 'boolean', default: false },
      only: { type: 'string' },
      report: { type: 'string', default: path.join(repoRoot, 'test-output', 'attack-report.json') },
      'redis-wait': { type: 'string', default: '90' },
      'trust-proxy': { type: 'boolean', default: false },
      'login-max-failures': { type: 'string', default: '5' },
      'login-max-failures-per-email': { type: 'string', default: '50' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.url && (!values['admin-email'] || !values['admin-password'])) throw new Error(`--url needs --admin-email and --admin-password\n\n${USAGE}`);
  return values;
}

const started = Date.now();
const log = (message) => console.log(`attack | ${Math.round((Date.now() - started) / 1000).toString().padStart(4)} s | ${message}`);

async function main() {
  const opts = options();
  installSignalHandlers();
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'loyalty-attack-'));
  const report = new Report();
  const only = opts.only ? new Set(opts.only.split(',').map((s) => s.trim())) : null;
  const wanted = (id) => !only || only.has(id);

  let platform;
  if (opts.url) {
    platform = {
      url: opts.url,
      admin: { email: opts['admin-email'], password: opts['admin-password'] },
      demoKey: opts['demo-key'] ?? null,
      databaseUrl: opts['database-url'] ?? null,
      redisUrl: opts['redis-url'] ?? null,
      redis: null,
      errorsByRequestId: new Map(),
      isOwn: false,
    };
    log(`attacking ${platform.url}`);
  } else {
    platform = await startOwnPlatform({ serverUrl: opts['pg-url'], tmpDir, noBuild: opts['no-build'], log });
  }
  report.meta = {
    startedAt: new Date(started).toISOString(),
    mode: platform.isOwn ? `own platform (${opts['no-build'] ? 'node scripts/start.mjs' : 'npm start'})` : `--url ${platform.url}`,
    database: platform.databaseName ?? null,
    platformStartSeconds: platform.startSeconds ?? null,
    logs: tmpDir,
  };
  const api = new Api(platform.url);
  const setupCls = report.add('S', 'set-up through the API', 'admin login from the printed credentials, users of each role, keys of each scope, members, rewards');
  let w;
  let schema;
  const ids = {};
  await runClass(setupCls, async (cls) => {
    w = await buildWorld(api, cls, platform, { stamp: Date.now().toString(36) });
    ({ schema } = await loadSchema(api, cls, w.root));
    const m = await w.enrol(cls);
    await w.givePoints(cls, m.id, 100_000);
    const reward = await w.reward(cls, { costPoints: 10 });
    const order = must(cls, await w.recordOrder(cls, w.orderInput(m.id)), 'recordOrder', 'record an order');
    const redemption = must(cls, await w.redeem(cls, m.id, reward.id), 'redeemReward', 'redeem a reward');
    Object.assign(ids, { memberId: m.id, rewardId: reward.id, orderId: order.id, redemptionId: redemption.id, channelId: w.channel.id });
    w.anyMemberId = m.id;
  });
  if (setupCls.status !== 'PASS') return finish(report, opts, platform);
  log('set-up done');

  let prod = null;
  if (platform.isOwn) {
    try {
      const p = await startProductionApi({ databaseUrl: platform.databaseUrl, redisUrl: platform.redis.url });
      prod = { api: new Api(p.url, { isProduction: true }), jwtSecret: p.jwtSecret };
      platform.productionLogTail = p.logTail;
      log(`production-mode API on ${p.url}`);
    } catch (err) {
      setupCls.warn(`the production-mode API did not start: ${String(err.message).split('\n')[0]}`);
    }
  }

  const classes = [
    ['D', 'demo channel key', "the key npm start prints lacks scopes the README's storefront journey needs", (c) => demoKeyJourney(w, c)],
    ['1', 'merge and erasure races', 'merge × 12 orders / redemptions / returns 3 ms apart, erasure × orders: INTERNAL (deadlock), records left on the absorbed member', (c) => mergeRaces(w, c)],
    ['C1', 'double spend and oversell', 'parallel redemptions beyond the balance or the stock', (c) => doubleSpend(w, c)],
    ['C2', 'replays with changed bodies', 'an idempotency key reused with other contents, 30 identical replays at once', (c) => replays(w, c)],
    ['C3', 'voucher reuse', 'a voucher consumed twice, in parallel, by another member, cancelled after use or twice', (c) => voucherReuse(w, c)],
    ['3', 'voucher codes exposed', 'codes readable by ANALYST, members:write (updateMember), members:merge (mergeMembers), the timeline', (c) => voucherExposure(w, c)],
    ['10', 'expired voucher refunded', 'a voucher past expiresAt, not yet swept, cancelled for its points', (c) => expiredVoucher(w, c, { databaseUrl: platform.databaseUrl, allowSqlSetup: !opts['no-sql-setup'] })],
    ['11', 'referral loops', 'A→B→C→A accepted; loops closed by two calls at once', (c) => referralLoops(w, c)],
    ['5', '32-bit overflow', 'order line 3 × 1e9 with a large discount; 41 orders of 2^31-1 ("integer out of range", then analytics fail)', (c) => overflow(w, c)],
    ['6', 'NUL bytes and lone surrogates', 'INTERNAL (and SQL with the values in development) from NUL / surrogates in search, ids, names, SKUs, keys, reasons', (c) => hostileStrings(w, c, ids)],
    ['7', 'malformed ids in fragments', '{ ... on Query { member(id: "abc") } } and named fragments answering INTERNAL', (c) => fragmentIds(w, c)],
    ['4', 'aliases against the rate limit', 'one request of 40–250 aliased recordOrder fields spending one unit of the budget', (c) => aliasBudget(w, c)],
    ['C4', 'batched JSON arrays', 'an array of operations run past the per-request checks', (c) => batching(w, c)],
    ['C5', 'huge and compressed bodies', 'bodies over the limit, gzip bombs, malformed JSON', (c) => hugeBodies(w, c)],
    ['C6', 'deep, wide and cyclic documents', 'depth, complexity, aliases, fragment cycles, directive floods', (c) => documentShapes(w, c)],
    ['C7', 'CSRF', 'GET and simple-content-type POSTs running operations; foreign CORS origins', (c) => csrf(w, c)],
    ['C8', 'forged and stale credentials', 'alg none, tampered claims, guessed secrets, expired, logged-out, revoked keys', (c) => forgedCredentials(w, c, prod)],
    ['C9', 'role and scope escalation', 'every operation the authorization matrix refuses, called by each refused caller', (c) => escalation(w, c, schema, ids)],
    ['2', 'login throttling', '40–150 parallel wrong passwords checked beyond the limit of 5; a new X-Forwarded-For per attempt never throttled', (c) =>
      loginThrottle(w, c, { loginMaxFailures: Number(opts['login-max-failures']), loginMaxFailuresPerEmail: Number(opts['login-max-failures-per-email']), trustProxy: opts['trust-proxy'] })],
    ['8', 'hostile import rows', 'NUL in Description, 150-char InvoiceNo, 300-char CustomerID, 20,000,000.00 × 2 aborting the whole import', (c) => hostileImport(w, c, { tmpDir, platform })],
    ['12', 'import depends on --batch', 'an invoice on non-contiguous lines imported differently with --batch 1, 2 and 500', (c) => batchIndependence(w, c, { tmpDir, platform })],
    ['C10', 'production mode', 'introspection, schema hints, internals in answers and headers with NODE_ENV=production', (c) => productionMode(w, c, prod)],
    ['C11', 'integer extremes and floats', 'every Int argument at ±2^31 edges, beyond, fractional, as a string', (c) => integerExtremes(w, c, schema, ids)],
    ['C12', 'over-long strings', 'every String and ID argument at 10,000 and 100,000 characters', (c) => longStrings(w, c, schema, ids)],
  ];

  // Class 9 restarts Redis first and takes its verdict last: the schedules get the whole attack to come back.
  let redisVerdict = null;
  const redisCls = wanted('9') ? report.add('9', 'Redis restarted empty', 'repeatable schedules (points jobs, retrains, churn scoring) gone until the platform restarts') : null;
  if (redisCls) {
    await runClass(redisCls, async (c) => {
      redisVerdict = await redisRestart(w, c, { platform, waitSeconds: Number(opts['redis-wait']), log });
    });
  }
  for (const [id, title, defect, fn] of classes) {
    if (!wanted(id) || isAborting()) continue;
    log(`class ${id}: ${title}`);
    await runClass(report.add(id, title, defect), fn);
  }
  if (redisCls && redisVerdict && !isAborting()) {
    log('class 9: waiting for the schedules to come back');
    await runClass(redisCls, async () => redisVerdict());
  }
  // After everything: the ledger still balances and the instance is still ready.
  const after = report.add('Z', 'aftermath', 'the ledger check and readiness after the whole attack');
  await runClass(after, async (c) => {
    const check = await w.ledgerCheck(c);
    c.expect(check.data?.ledgerCheck?.isConsistent === true, `ledgerCheck after the attack: ${check.data ? `isConsistent ${check.data.ledgerCheck.isConsistent}, ${check.data.ledgerCheck.mismatches.length} mismatches, ${check.data.ledgerCheck.mergedAwayHoldings.length} merged-away holdings` : check.text.slice(0, 200)}`);
    const ready = await api.request(c, { method: 'GET', path: '/readyz', label: '/readyz', expectJson: false });
    c.expect(ready.status === 200, `/readyz after the attack: HTTP ${ready.status} ${ready.text.slice(0, 100)}`);
  });
  return finish(report, opts, platform);
}

/** Adds the API's own log of the cause to each INTERNAL_SERVER_ERROR, prints and writes the report. */
function finish(report, opts, platform) {
  // The production-mode API logs pino JSON lines of its own.
  for (const line of (platform.productionLogTail?.(200) ?? '').split('\n')) {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'graphql.unexpected_error' && entry.requestId) platform.errorsByRequestId.set(entry.requestId, String(entry.err?.message ?? entry.err ?? ''));
    } catch {
      // not a JSON line
    }
  }
  for (const c of report.classes) {
    for (const entry of c.failures.values()) {
      const cause = entry.requestIds.map((id) => platform.errorsByRequestId?.get(id)).find(Boolean);
      // A driver error reads "<statement> - <message>": the message is what tells the cause.
      if (cause) entry.cause = (cause.includes(' - ') ? cause.slice(cause.indexOf(' - ') + 3) : cause).replace(/\s*\n\s*-?\s*/g, ' | ').slice(0, 240);
    }
  }
  report.meta.seconds = Math.round((Date.now() - started) / 1000);
  if (isAborting()) report.meta.interrupted = true;
  report.print();
  if (isAborting()) console.log('\nInterrupted: the report covers what ran before the signal, and requests cut off by the stop count as failures.');
  report.write(opts.report);
  console.log(`\nJSON report: ${path.relative(process.cwd(), opts.report) || opts.report}; logs: ${report.meta.logs}`);
  console.log(`Run time: ${report.meta.seconds} s${report.meta.platformStartSeconds ? ` (of which ${report.meta.platformStartSeconds} s starting the platform)` : ''}`);
  return report.isFailed ? 1 : 0;
}

let exitCode = 2;
try {
  exitCode = await main();
} catch (err) {
  console.error(`attack: ${err?.stack ?? err}`);
  exitCode = 2;
} finally {
  log('cleaning up');
  await cleanupAll();
}
process.exit(exitCode);
