// Stateful attacks: an expired voucher cancelled for a refund (class 10), referral loops (class 11), hostile and
// batch-dependent import files (classes 8 and 12), and Redis coming back empty (class 9).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../lib/api.mjs';
import { withClient } from '../lib/postgres.mjs';
import { codeOf, summarise } from './http.mjs';
import { uid } from './setup.mjs';

const execFileAsync = promisify(execFile);

/**
 * A voucher past its expiry that the nightly sweep has not reached yet must not be cancellable for a refund.
 * Vouchers live at least a day (voucherValidDays ≥ 1), so the one write outside the API in this script moves this
 * redemption's expiry into the past on the attack's own database (grey-box set-up; the attack itself is HTTP).
 */
export async function expiredVoucher(w, cls, { databaseUrl, allowSqlSetup }) {
  if (!databaseUrl || !allowSqlSetup) {
    cls.skip(databaseUrl ? 'turned off by --no-sql-setup' : 'needs the database (--database-url) to age a voucher: vouchers live at least one day');
    return;
  }
  const { api } = w;
  const reward = await w.reward(cls, { costPoints: 100 });
  const m = await w.enrol(cls);
  await w.givePoints(cls, m.id, 300);
  const expired = (await w.redeem(cls, m.id, reward.id)).data?.redeemReward;
  const fresh = (await w.redeem(cls, m.id, reward.id)).data?.redeemReward;
  if (!expired || !fresh) {
    cls.error('could not redeem the vouchers to age');
    return;
  }
  await withClient(databaseUrl, (c) => c.query(`update redemption set expires_at = now() - interval '1 hour' where id = $1`, [expired.id]));
  cls.note(`grey-box set-up: redemption ${expired.id} given an expiry one hour ago by SQL (the sweep has not run)`);
  const before = await w.points(cls, m.id);
  const CANCEL = 'mutation($i: CancelRedemptionInput!) { cancelRedemption(input: $i) { id status } }';
  const cancel = await api.gql(cls, w.keys.all, CANCEL, { i: { redemptionId: expired.id } }, { label: 'cancelRedemption of an expired voucher' });
  cls.expect(cancel.errors.length > 0, `an expired voucher was cancelled (status ${cancel.data?.cancelRedemption?.status})`);
  const after = await w.points(cls, m.id);
  cls.expect(after.points.available === before.points.available, `cancelling an expired voucher refunded ${after.points.available - before.points.available} points`);
  const consume = await api.gql(cls, w.keys.all, 'mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { id } }', { i: { voucherCode: expired.voucherCode } }, { label: 'consumeVoucher of an expired voucher' });
  cls.expect(codeOf(consume) === 'VOUCHER_UNUSABLE', `an expired voucher was consumed: ${consume.errors.length ? summarise(consume) : 'accepted'}`);
  const parallel = await Promise.all([0, 1, 2, 3, 4].map(() => api.gql(cls, w.keys.all, CANCEL, { i: { redemptionId: expired.id } }, { label: 'cancelRedemption of an expired voucher (parallel)' })));
  cls.expect(parallel.every((r) => r.errors.length > 0), 'an expired voucher was cancelled by one of 5 parallel calls');
  // Control: an unexpired voucher still cancels, so the refusal above is about expiry.
  const control = await api.gql(cls, w.keys.all, CANCEL, { i: { redemptionId: fresh.id } }, { label: 'cancelRedemption of a valid voucher (control)' });
  cls.expect(control.data?.cancelRedemption?.status === 'CANCELLED', `control: a valid voucher could not be cancelled: ${summarise(control)}`);
}

/** Referral chains closed into loops of 2, 3 and 4, one at a time and two at once. */
export async function referralLoops(w, cls) {
  const { api } = w;
  const APPLY = 'mutation($i: ApplyReferralCodeInput!) { applyReferralCode(input: $i) { id status } }';
  const chain = async (length) => {
    const first = await w.enrol(cls);
    const members = [first];
    for (let i = 1; i < length; i++) members.push(await w.enrol(cls, { referralCode: members[i - 1].referralCode }));
    return members;
  };
  for (const length of [2, 3, 4, 5]) {
    const members = await chain(length);
    const closing = await api.gql(cls, w.keys.all, APPLY, { i: { memberId: members[0].id, referralCode: members.at(-1).referralCode } }, { label: `applyReferralCode closing a loop of ${length}` });
    cls.expect(codeOf(closing) === 'REFERRAL_NOT_ALLOWED', `a referral loop of ${length} (${members.map((_, i) => String.fromCharCode(65 + i)).join('→')}→A) was ${closing.data?.applyReferralCode ? 'accepted' : summarise(closing)}`);
    if (codeOf(closing) === 'REFERRAL_NOT_ALLOWED') cls.expect(closing.errors[0].extensions?.reason === 'CIRCULAR', `loop of ${length}: refused with reason ${closing.errors[0].extensions?.reason}, not CIRCULAR`);
  }
  // Two members each given the other's code at the same moment: at most one may win.
  let bothWon = 0;
  for (let t = 0; t < 6; t++) {
    const x = await w.enrol(cls);
    const y = await w.enrol(cls);
    const [a, b] = await Promise.all([
      api.gql(cls, w.keys.all, APPLY, { i: { memberId: x.id, referralCode: y.referralCode } }, { label: 'applyReferralCode x←y (race)' }),
      api.gql(cls, w.keys.all, APPLY, { i: { memberId: y.id, referralCode: x.referralCode } }, { label: 'applyReferralCode y←x (race)' }),
    ]);
    if (a.data?.applyReferralCode && b.data?.applyReferralCode) bothWon++;
  }
  cls.expect(bothWon === 0, `two members given each other's code at once: both referrals accepted in ${bothWon} of 6 trials`);
  // A loop closed at enrolment of a new member cannot exist; a loop through a merged record can.
  const [a, b] = await chain(2);
  const c = await w.enrol(cls);
  await api.gql(cls, w.keys.all, 'mutation($i: MergeMembersInput!) { mergeMembers(input: $i) { movedIdentifiers } }', { i: { survivorId: c.id, absorbedId: b.id } }, { label: 'mergeMembers (referral loop set-up)' });
  const viaMerged = await api.gql(cls, w.keys.all, APPLY, { i: { memberId: a.id, referralCode: b.referralCode } }, { label: 'applyReferralCode with the code of a record merged into one the member referred' });
  cls.expect(viaMerged.errors.length > 0, `A referred B, B was merged into C, then A took B's code: accepted (a loop through the survivor)`);
}

const CSV_HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

/** `npm run import -- --file …` against the attack database; returns the summary it prints, or the failure. */
async function runImport(file, args, env) {
  try {
    const { stdout, stderr } = await execFileAsync('npm', ['run', 'import', '--', '--file', file, ...args], { cwd: repoRoot, env, maxBuffer: 32 * 1024 * 1024, timeout: 5 * 60_000 });
    const last = stdout.trim().split('\n').pop();
    try {
      return { ok: true, summary: JSON.parse(last), stderr };
    } catch {
      return { ok: false, reason: `no summary line; stdout ends: ${last?.slice(0, 200)}`, stderr };
    }
  } catch (err) {
    const out = `${err.stderr ?? ''}\n${err.stdout ?? ''}`.trim();
    return { ok: false, code: err.code, reason: out.split('\n').slice(-6).join(' | ').slice(0, 600), isBuildError: /error TS\d+/.test(out) };
  }
}

function importEnv(platform) {
  const env = { ...process.env, DATABASE_URL: platform.databaseUrl, LOG_LEVEL: 'warn' };
  const redisUrl = platform.redis?.url ?? platform.redisUrl;
  if (redisUrl) env.REDIS_URL = redisUrl;
  delete env.NODE_ENV;
  return env;
}

async function channelByName(w, cls, name) {
  const res = await w.api.gql(cls, w.root, '{ salesChannels { id name } }', undefined, { label: 'salesChannels' });
  return res.data?.salesChannels?.find((c) => c.name === name)?.id ?? null;
}

async function customer(w, cls, channelId, customerId) {
  const res = await w.api.gql(
    cls,
    w.root,
    'query($v: String!, $c: ID) { memberByIdentifier(type: CHANNEL_CUSTOMER_ID, value: $v, channelId: $c) { id points { pending available lifetime } orders(first: 50) { totalCount edges { node { externalOrderId totalMinor pointsEarned returnedMinor lines { sku quantity unitPriceMinor } } } } } }',
    { v: customerId, c: channelId },
    { label: `imported customer ${customerId}` },
  );
  return res.data?.memberByIdentifier ?? null;
}

/** One file of good invoices with hostile rows among them: the hostile rows are rejected, the rest imported. */
export async function hostileImport(w, cls, { tmpDir, platform }) {
  if (!platform.databaseUrl) {
    cls.skip('needs --database-url: npm run import writes to the database directly');
    return;
  }
  const when = '2026-10-01 10:00:00';
  const rows = [
    CSV_HEADER,
    `910001,ATK-MUG,Enamel mug,2,${when},2.50,91001,United Kingdom`,
    `910002,ATK-NUL,Bad\u0000description,1,${when},3.00,91002,United Kingdom`,
    `910003,ATK-PLATE,Dinner plate,1,${when},10.00,91003,France`,
    `${'9'.repeat(150)},ATK-LONG,Long invoice,1,${when},1.00,91004,United Kingdom`,
    `910005,ATK-BOWL,Bowl,1,${when},4.00,${'7'.repeat(300)},United Kingdom`,
    `910006,ATK-GOLD,Gold bar,2,${when},20000000.00,91006,United Kingdom`,
    `910007,ATK-CANDLE,Scented candle,4,${when},1.25,91007,United Kingdom`,
    `910008,ATK-SURR,"Broken @@SURROGATE@@ and @@BADBYTES@@ bytes",1,${when},1.00,91008,United Kingdom`,
    `910009,${'S'.repeat(5000)},Huge stock code,1,${when},1.00,91009,United Kingdom`,
    `910010,ATK-ESC,"=cmd|' /C calc'!A0",1,${when},1.00,91010,United Kingdom`,
    `910011,ATK-NEG,Negative price,1,${when},-5.00,91011,United Kingdom`,
    `910012,ATK-EXP,Exponent price,1,${when},1e9,91012,United Kingdom`,
    `910013,ATK-QTY,Huge quantity,99999999999,${when},1.00,91013,United Kingdom`,
    `910014,ATK-DATE,Bad date,1,2026-13-45 99:99:99,1.00,91014,United Kingdom`,
    `910015,ATK-CTRY,Country with NUL,1,${when},1.00,91015,Uni\u0000ted`,
    `910016,ATK-LAST,Last good row,3,${when},2.00,91016,United Kingdom`,
  ];
  const file = path.join(tmpDir, 'hostile-import.csv');
  // Bytes no UTF-8 decoder accepts: an encoded surrogate half (CESU-8) and 0xFF 0xFE.
  const text = `${rows.join('\n')}\n`;
  const [head, rest] = text.split('@@SURROGATE@@');
  const [middle, tail] = rest.split('@@BADBYTES@@');
  writeFileSync(file, Buffer.concat([Buffer.from(head), Buffer.from([0xed, 0xa0, 0xbd]), Buffer.from(middle), Buffer.from([0xff, 0xfe]), Buffer.from(tail)]));
  const channel = `Attack import ${uid()}`;
  const run = await runImport(file, ['--channel', channel, '--rejects', path.join(tmpDir, 'hostile-import.rejects.csv')], importEnv(platform));
  cls.count(run.ok ? 'npm run import: exit 0' : 'npm run import: failed', run.ok ? [] : ['IMPORT_FAILED']);
  if (!run.ok) {
    if (run.isBuildError) cls.error(`npm run import could not build the server (someone's work in progress?): ${run.reason}`);
    else cls.fail(`npm run import aborted on the hostile file (exit ${run.code}): ${run.reason}`);
    return;
  }
  const s = run.summary;
  cls.note(`summary: rows ${s.rowsRead}, orders ${s.orders}, members created ${s.membersCreated}, rejects ${JSON.stringify(s.rejects)}, complete ${s.isComplete}`);
  cls.expect(s.isComplete !== false, 'the import reported itself incomplete');
  const channelId = await channelByName(w, cls, channel);
  for (const good of ['91001', '91003', '91007', '91016']) {
    const m = await customer(w, cls, channelId, good);
    cls.expect(m?.orders?.totalCount === 1, `the good invoice of customer ${good} is ${m ? `there ${m.orders.totalCount} times` : 'missing'} after the hostile import`);
  }
  // Which hostile rows were taken or rejected is the importer's documented choice; what is asserted is that none of
  // them aborted the import or cost the good invoices.
}

/** The same file, invoices split across non-contiguous lines, imported with --batch 1 and --batch 500, gives the same. */
export async function batchIndependence(w, cls, { tmpDir, platform }) {
  if (!platform.databaseUrl) {
    cls.skip('needs --database-url: npm run import writes to the database directly');
    return;
  }
  const when = (d, h) => `2026-10-0${d} ${String(h).padStart(2, '0')}:00:00`;
  const rows = [
    CSV_HEADER,
    `920001,MUG,Enamel mug,2,${when(1, 10)},2.50,92001,United Kingdom`,
    `920002,MUG,Enamel mug,1,${when(1, 11)},2.50,92002,France`,
    `920001,PLATE,Dinner plate,1,${when(1, 10)},10.00,92001,United Kingdom`,
    `920003,CANDLE,Scented candle,4,${when(1, 12)},1.25,,United Kingdom`,
    `920002,PLATE,Dinner plate,2,${when(1, 11)},10.00,92002,France`,
    `920001,BOWL,Bowl,3,${when(1, 10)},4.00,92001,United Kingdom`,
    `C920004,BOWL,Bowl,-1,${when(2, 9)},4.00,92001,United Kingdom`,
    `920005,MUG,Enamel mug,40,${when(3, 10)},2.50,92001,United Kingdom`,
    `920003,LANTERN,Lantern,1,${when(1, 12)},3.39,,United Kingdom`,
    `C920004,MUG,Enamel mug,-2,${when(2, 9)},2.50,92001,United Kingdom`,
    `920006,PLATE,Dinner plate,1,${when(4, 10)},10.00,92002,France`,
    `920001,CANDLE,Scented candle,2,${when(1, 10)},1.25,92001,United Kingdom`,
    `920006,BOWL,Bowl,1,${when(4, 10)},4.00,92002,France`,
    `920005,PLATE,Dinner plate,1,${when(3, 10)},10.00,92001,United Kingdom`,
  ];
  const file = path.join(tmpDir, 'apart-import.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  const results = {};
  for (const batch of [1, 2, 500]) {
    const channel = `Attack batch ${batch} ${uid()}`;
    const run = await runImport(file, ['--channel', channel, '--batch', String(batch), '--rejects', path.join(tmpDir, `apart-${batch}.rejects.csv`)], importEnv(platform));
    cls.count(run.ok ? 'npm run import: exit 0' : 'npm run import: failed', run.ok ? [] : ['IMPORT_FAILED']);
    if (!run.ok) {
      if (run.isBuildError) cls.error(`npm run import could not build the server: ${run.reason}`);
      else cls.fail(`--batch ${batch}: npm run import failed (exit ${run.code}): ${run.reason}`);
      return;
    }
    const channelId = await channelByName(w, cls, channel);
    const members = {};
    for (const c of ['92001', '92002']) {
      const m = await customer(w, cls, channelId, c);
      members[c] = m && {
        points: m.points,
        orders: m.orders.edges
          .map((e) => ({ ...e.node, lines: [...e.node.lines].sort((x, y) => x.sku.localeCompare(y.sku)) }))
          .sort((x, y) => x.externalOrderId.localeCompare(y.externalOrderId)),
      };
    }
    // Counts only: the channel id and the timings differ between any two runs.
    const stable = Object.fromEntries(Object.entries(run.summary).filter(([k]) => !/id$|ms|seconds|persecond/i.test(k)));
    results[batch] = { summary: stable, members };
  }
  const reference = JSON.stringify(results[500]);
  for (const batch of [1, 2]) {
    const same = JSON.stringify(results[batch]) === reference;
    if (!same) {
      const diff = Object.keys(results[500].summary).filter((k) => JSON.stringify(results[batch].summary[k]) !== JSON.stringify(results[500].summary[k]));
      cls.fail(`--batch ${batch} and --batch 500 give different results (summary fields ${diff.join(', ') || 'same'}; members ${JSON.stringify(results[batch].members) === JSON.stringify(results[500].members) ? 'same' : 'differ'}): ${JSON.stringify(results[batch].members).slice(0, 300)} vs ${JSON.stringify(results[500].members).slice(0, 300)}`);
    }
  }
  const orders920001 = results[500].members['92001']?.orders?.find((o) => o.externalOrderId === '920001');
  cls.expect(orders920001?.lines?.length === 4, `invoice 920001 (4 lines apart in the file) became ${orders920001 ? `an order of ${orders920001.lines.length} lines` : 'no order'}`);
}

const SCHEDULE_QUEUES = ['api.points-jobs', 'recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value', 'recommender.score'];

/**
 * Restart our redis-server empty; every repeatable schedule (points jobs, retrains, churn scoring) must come back
 * without restarting the platform. Returns a function that waits for the verdict (the check runs in the background
 * while other classes attack).
 */
export async function redisRestart(w, cls, { platform, waitSeconds, log }) {
  if (!platform.redis) {
    cls.skip('needs a Redis the script started itself (not with --url)');
    return async () => {};
  }
  const { default: Redis } = await import('ioredis');
  const client = new Redis(platform.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200, enableOfflineQueue: true });
  client.on('error', () => {});
  const prefix = process.env.QUEUE_PREFIX || 'bull';
  const schedules = async () => {
    const out = {};
    for (const q of SCHEDULE_QUEUES) out[q] = await client.zcard(`${prefix}:${q}:repeat`).catch(() => -1);
    return out;
  };
  await client.connect().catch(() => {});
  const before = await schedules();
  cls.note(`schedules before the restart: ${JSON.stringify(before)}`);
  const missingBefore = SCHEDULE_QUEUES.filter((q) => !(before[q] > 0));
  if (missingBefore.length) cls.fail(`before any restart, no schedule in Redis for ${missingBefore.join(', ')}`);
  log('restarting redis-server empty');
  await platform.redis.restart();
  const restartedAt = Date.now();
  const seenAt = {};
  let done = false;
  const poll = (async () => {
    while (!done && Date.now() - restartedAt < waitSeconds * 1000) {
      const now = await schedules();
      for (const q of SCHEDULE_QUEUES) if (now[q] > 0 && !seenAt[q]) seenAt[q] = Math.round((Date.now() - restartedAt) / 100) / 10;
      if (SCHEDULE_QUEUES.every((q) => seenAt[q])) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return async () => {
    await poll;
    done = true;
    const ready = await w.api.request(cls, { method: 'GET', path: '/readyz', label: '/readyz after the Redis restart', expectJson: false });
    cls.expect(ready.status === 200 && /ready/.test(ready.text) && !/degraded/.test(ready.text), `/readyz after the Redis restart: HTTP ${ready.status} ${ready.text.slice(0, 100)}`);
    const health = await w.api.gql(cls, w.analyst, '{ queueHealth { name delayed isWorkerAlive } }', undefined, { label: 'queueHealth after the Redis restart' });
    if (health.data) cls.note(`queueHealth after: ${health.data.queueHealth.map((q) => `${q.name} delayed ${q.delayed}${q.isWorkerAlive ? '' : ' (no worker)'}`).join('; ')}`);
    for (const q of SCHEDULE_QUEUES) {
      if (seenAt[q]) cls.note(`${q}: schedule back ${seenAt[q]} s after the restart`);
      else cls.fail(`${q}: no repeatable schedule in Redis ${waitSeconds} s after it restarted empty`);
    }
    client.disconnect();
  };
}
