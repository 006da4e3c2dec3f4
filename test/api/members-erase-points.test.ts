/**
 * Erasure closes the member's points account: what it holds, available and pending (or a debt), is forfeited by
 * ERASURE_FORFEIT rows in the erasure's transaction, so the liability stops counting points no one can redeem. Lifetime
 * stays. What settles an earlier write afterwards (a return, a voucher cancelled) leaves no points on the account.
 */
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { createLogger } from '../../api/src/base/logger';
import { CLOSE_ERASED_ACCOUNTS } from '../../api/src/composition/migrations/Migration20261220100000_erasure_forfeit';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput, pointsOf } from '../support/orders';
import { ADJUST, CANCEL_REDEMPTION, ERASE, MERGE, REDEEM, UPSERT_REWARD, codesOf, race } from '../support/races';

const h = useHarness();
const b = build(h);
const DAY = 86_400_000;
const silent = createLogger('silent');
const LIABILITY = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) { liabilityPoints } } }`;
const EXPORT = `mutation($id: ID!) { exportMemberData(id: $id) { sections } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let pos: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;
let seq = 0;

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
  pos = await b.apiKey();
});

async function ok<T = any>(answer: Promise<{ data: T; errors?: unknown }>): Promise<T> {
  const res = await answer;
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const adjust = (memberId: string, points: number) =>
  ok(h.gql(admin.auth, ADJUST, { i: { memberId, points, reason: 'seed', idempotencyKey: `seed-${++seq}` } }));
const erase = (memberId: string, reason = 'request 77') => ok(h.gql(admin.auth, ERASE, { input: { id: memberId, reason } }));

/** The liability the KPIs show now, every ledger row so far included. */
async function liability(): Promise<number> {
  const to = new Date(Date.now() + 60_000);
  const data = await ok(h.gql(admin.auth, LIABILITY, { input: { from: new Date(to.getTime() - DAY).toISOString(), to: to.toISOString() } }));
  return data.analytics.kpis.liabilityPoints;
}

async function forfeitRows(memberIds: string[]) {
  return h.sql(
    `select member_id, available_delta::int as available, pending_delta::int as pending, lifetime_delta::int as lifetime, source_type, source_id, note, actor
     from ledger_entry where reason = 'ERASURE_FORFEIT' and member_id in (?) order by id`,
    [memberIds],
  );
}

async function account(memberId: string) {
  const [row] = await h.sql(
    `select available::int, pending::int, lifetime::int, closed_at is not null as "isClosed",
       (select coalesce(sum(remaining), 0)::int from point_lot where member_id = ?) as "lotsRemaining",
       (select count(*)::int from point_lot where member_id = ? and state <> 'CLOSED') as "liveLots"
     from member_balance where member_id = ?`,
    [memberId, memberId, memberId],
  );
  return row;
}

async function expectConsistentLedger() {
  const check = await ledgerCheck(h);
  expect({ mismatches: check.mismatches, mergedAwayHoldings: check.mergedAwayHoldings, erasedHoldings: check.erasedHoldings }).toEqual({
    mismatches: [],
    mergedAwayHoldings: [],
    erasedHoldings: [],
  });
  expect(check.isConsistent).toBe(true);
}

describe('eraseMember and the member’s points', () => {
  it('forfeits available and pending points in one row, empties the lots, keeps lifetime, and lowers the liability by exactly those points', async () => {
    const m = await b.member().named('Erin', 'Forfeit').save();
    await adjust(m.id, 100);
    await ok(h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 2500 }]) }));
    expect(await pointsOf(h, admin.auth, m.id)).toMatchObject({ available: 100, pending: 25, lifetime: 125 });
    const before = await liability();

    await erase(m.id, 'GDPR ticket 77 from Erin Forfeit');

    expect(await forfeitRows([m.id])).toEqual([
      // Who erased, as the audit entry names them; the erasure's reason (it names the member) is not copied.
      { member_id: m.id, available: -100, pending: -25, lifetime: 0, source_type: 'erasure', source_id: m.id, note: null, actor: `admin:${admin.id}` },
    ]);
    expect(await account(m.id)).toEqual({ available: 0, pending: 0, lifetime: 125, isClosed: true, lotsRemaining: 0, liveLots: 0 });
    expect(await pointsOf(h, admin.auth, m.id)).toMatchObject({ available: 0, pending: 0, lifetime: 125, nextExpiry: null });
    expect(await liability()).toBe(before - 125);
    await expectConsistentLedger();
  });

  it('shows the forfeit row in the member’s data export, without personal data', async () => {
    const m = await b.member().named('Xena', 'Exported').save();
    await adjust(m.id, 40);
    await erase(m.id, 'ticket from Xena Exported');
    const { exportMemberData } = await ok(h.gql(admin.auth, EXPORT, { id: m.id }));
    const points = exportMemberData.sections.points;
    expect(points.ledger.map((r: { reason: string; available_delta: unknown }) => [r.reason, Number(r.available_delta)])).toEqual([
      ['ADJUSTMENT', 40],
      ['ERASURE_FORFEIT', -40],
    ]);
    expect(points.balances).toEqual([expect.objectContaining({ member_id: m.id, closed_at: expect.anything() })]);
    expect(JSON.stringify(points)).not.toMatch(/Xena|Exported/);
  });

  it('writes nothing the second time it is erased', async () => {
    const m = await b.member().save();
    await adjust(m.id, 30);
    await erase(m.id);
    const rows = await h.sql('select id from ledger_entry where member_id = ? order by id', [m.id]);
    await erase(m.id);
    expect(await h.sql('select id from ledger_entry where member_id = ? order by id', [m.id])).toEqual(rows);
    expect(await forfeitRows([m.id])).toHaveLength(1);
  });

  it('writes off a debt too: an erased member neither holds nor owes points', async () => {
    await b.settings({ pendingDays: 0 });
    try {
      const m = await b.member().save();
      const order = (await ok(h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 5000 }]) }))).recordOrder;
      await adjust(m.id, -50);
      await ok(h.gql(pos.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: `R-${m.id}` } }));
      expect((await account(m.id)).available).toBe(-50);
      const before = await liability();

      await erase(m.id);

      expect(await forfeitRows([m.id])).toEqual([expect.objectContaining({ available: 50, pending: 0, lifetime: 0 })]);
      expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, isClosed: true });
      // A debt was never a liability: the figure stays.
      expect(await liability()).toBe(before);
      await expectConsistentLedger();
    } finally {
      await b.settings({ pendingDays: 14 });
    }
  });

  it('forfeits what the records merged into it still hold, and closes theirs', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    await adjust(absorbed.id, 60);
    await ok(h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }));
    await adjust(survivor.id, 10);
    expect(await account(survivor.id)).toMatchObject({ available: 70 });
    // A record merged before merges moved points (a lost write ledgerCheck reports): it still holds some.
    const legacy = await b.member().save();
    await adjust(legacy.id, 15);
    await h.sql(`update member set status = 'MERGED', merged_into_id = ?, merged_at = now() where id = ?`, [survivor.id, legacy.id]);

    await erase(survivor.id);

    expect(await forfeitRows([survivor.id, absorbed.id, legacy.id])).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ member_id: survivor.id, available: -70, source_id: survivor.id }),
        expect.objectContaining({ member_id: legacy.id, available: -15, source_id: survivor.id }),
      ]),
    );
    expect(await forfeitRows([absorbed.id])).toEqual([]);
    for (const id of [survivor.id, absorbed.id, legacy.id]) expect(await account(id)).toMatchObject({ available: 0, pending: 0, isClosed: true, liveLots: 0 });
    await expectConsistentLedger();
  });

  it('a return of an erased member’s order takes back lifetime points only: the balance stays at 0', async () => {
    const m = await b.member().save();
    const order = (await ok(h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 4000 }]) }))).recordOrder;
    await erase(m.id);

    const { recordReturn } = await ok(h.gql(pos.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: `R-${m.id}` } }));

    expect(recordReturn.pointsClawedBack).toBe(40);
    const [clawback] = await h.sql(
      `select available_delta::int as available, pending_delta::int as pending, lifetime_delta::int as lifetime from ledger_entry where member_id = ? and reason = 'RETURN_CLAWBACK'`,
      [m.id],
    );
    expect(clawback).toEqual({ available: 0, pending: 0, lifetime: -40 });
    expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, lifetime: 0, isClosed: true });
    await expectConsistentLedger();
  });

  it('keeps issued vouchers: one can still be used, and one cancelled returns its unit to stock while its points are forfeited at once', async () => {
    const reward = (await ok(h.gql(admin.auth, UPSERT_REWARD, { input: { code: `ERASE-${++seq}`, name: 'Coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 30, stock: 5 } }))).upsertReward;
    const m = await b.member().save();
    await adjust(m.id, 100);
    const redeem = async (key: string) => (await ok(h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: reward.id, idempotencyKey: key } }))).redeemReward;
    const used = await redeem('used');
    const cancelled = await redeem('cancelled');
    const [{ voucher_code }] = await h.sql('select voucher_code from redemption where id = ?', [used.id]);
    await erase(m.id);
    expect(await forfeitRows([m.id])).toEqual([expect.objectContaining({ available: -40 })]);

    expect((await ok(h.gql(pos.auth, CONSUME, { input: { voucherCode: voucher_code } }))).consumeVoucher.status).toBe('CONSUMED');
    expect((await ok(h.gql(admin.auth, CANCEL_REDEMPTION, { input: { redemptionId: cancelled.id } }))).cancelRedemption.status).toBe('CANCELLED');

    const rows = await h.sql(`select reason, available_delta::int as available, source_id from ledger_entry where member_id = ? order by id`, [m.id]);
    expect(rows.slice(-2)).toEqual([
      { reason: 'REDEMPTION_CANCEL', available: 30, source_id: cancelled.id },
      { reason: 'ERASURE_FORFEIT', available: -30, source_id: cancelled.id },
    ]);
    expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, isClosed: true, liveLots: 0 });
    expect((await h.sql('select redeemed_count from reward where id = ?', [reward.id]))[0].redeemed_count).toBe(1);
    await expectConsistentLedger();
  });

  it('leaves the points jobs nothing to release, expire or announce for the erased member', async () => {
    // The same points on a member kept: the jobs release, announce and expire theirs.
    const [m, kept] = [await b.member().save(), await b.member().save()];
    for (const id of [m.id, kept.id]) {
      await adjust(id, 20);
      await ok(h.gql(pos.auth, RECORD_ORDER, { input: orderInput(id, [{ unitPriceMinor: 1000 }]) }));
    }
    await erase(m.id);
    const rows = await h.sql('select id from ledger_entry where member_id = ? order by id', [m.id]);

    for (const days of [15, 350, 400, 800]) await h.app.services.points.runJobs(h.em(), silent, new Date(Date.now() + days * DAY));

    const keptReasons = await h.sql(`select reason from ledger_entry where member_id = ? and reason in ('RELEASE', 'EXPIRY') order by id`, [kept.id]);
    expect(keptReasons.map((r) => r.reason)).toEqual(['RELEASE', 'EXPIRY', 'EXPIRY']);
    expect(await h.sql('select id from ledger_entry where member_id = ? order by id', [m.id])).toEqual(rows);
    expect(await h.sql(`select type from event_outbox where member_id = ? and type in ('points.expiring', 'points.expired')`, [m.id])).toEqual([]);
    await expectConsistentLedger();
  });
});

describe('eraseMember racing points writes of the member', () => {
  const TRIALS = 8;
  const WRITES = 8;
  const GAP_MS = 3;

  it(`adjustPoints × erasure, ${TRIALS} trials: an adjustment lands first (and is forfeited) or is refused MEMBER_ERASED; the account ends at 0`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const m = await b.member().save();
      await adjust(m.id, 50);
      const keys = Array.from({ length: WRITES }, () => `race-${++seq}`);
      const { writes, interloper } = await race(
        keys.map((key, i) => () => h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: i % 2 ? -5 : 10, reason: 'race', idempotencyKey: key } })),
        () => h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'race' } }),
        (trial * 5) % (WRITES * GAP_MS + 4),
        GAP_MS,
      );
      expect(interloper.errors).toBeUndefined();
      expect(codesOf(writes).filter((c) => c !== 'CONFLICT:MEMBER_ERASED')).toEqual([]);
      const landed = writes.flatMap((w, i) => (w.errors ? [] : [i % 2 ? -5 : 10])).reduce((s, p) => s + p, 0);
      // Whatever landed before the erasure is in its forfeit; nothing lands after it.
      expect(await forfeitRows([m.id])).toEqual([expect.objectContaining({ available: -(50 + landed), pending: 0 })]);
      expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, isClosed: true, liveLots: 0 });
      const [{ erasedAt }] = await h.sql('select erased_at as "erasedAt" from member where id = ?', [m.id]);
      expect(await h.sql(`select reason from ledger_entry where member_id = ? and reason = 'ADJUSTMENT' and created_at > ?`, [m.id, erasedAt])).toEqual([]);
    }
    await expectConsistentLedger();
  }, 120_000);

  it(`recordOrder × erasure, ${TRIALS} trials: an order lands first (its pending points forfeited) or is refused MEMBER_ERASED; the account ends at 0`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const m = await b.member().save();
      const inputs = Array.from({ length: WRITES }, () => orderInput(m.id, [{ unitPriceMinor: 1200 }]));
      const { writes, interloper } = await race(
        inputs.map((input) => () => h.gql(pos.auth, RECORD_ORDER, { input })),
        () => h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'race' } }),
        (trial * 5) % (WRITES * GAP_MS + 4),
        GAP_MS,
      );
      expect(interloper.errors).toBeUndefined();
      expect(codesOf(writes).filter((c) => c !== 'CONFLICT:MEMBER_ERASED')).toEqual([]);
      const landed = writes.filter((w) => !w.errors).length;
      expect(await forfeitRows([m.id])).toEqual(landed ? [expect.objectContaining({ available: 0, pending: -12 * landed })] : []);
      expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, lifetime: 12 * landed, isClosed: true, liveLots: 0 });
    }
    await expectConsistentLedger();
  }, 120_000);
});

describe('members erased before erasure closed accounts (Migration20261220100000_erasure_forfeit)', () => {
  it('are closed by the migration’s statements as erasure closes them now, and running them again writes nothing', async () => {
    const m = await b.member().save();
    await adjust(m.id, 25);
    await ok(h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 1000 }]) }));
    const never = await b.member().save();
    // What an erasure left before this release: the member erased, the account open and holding points.
    await h.sql(`update member set status = 'ERASED', erased_at = now(), email = null where id in (?)`, [[m.id, never.id]]);
    expect((await ledgerCheck(h)).erasedHoldings.map((e) => e.memberId).sort()).toEqual([m.id, never.id].sort());

    for (const sql of CLOSE_ERASED_ACCOUNTS) await h.sql(sql);
    const rows = await h.sql('select id from ledger_entry order by id');
    for (const sql of CLOSE_ERASED_ACCOUNTS) await h.sql(sql);

    expect(await h.sql('select id from ledger_entry order by id')).toEqual(rows);
    expect(await forfeitRows([m.id, never.id])).toEqual([
      { member_id: m.id, available: -25, pending: -10, lifetime: 0, source_type: 'erasure', source_id: m.id, note: null, actor: 'system' },
    ]);
    expect(await account(m.id)).toMatchObject({ available: 0, pending: 0, lifetime: 35, isClosed: true, liveLots: 0 });
    expect(await account(never.id)).toMatchObject({ available: 0, pending: 0, isClosed: true });
    // The forfeit row's id is time-ordered like the API's (UUIDv7), so it lists last in the member's history.
    const [last] = await h.sql('select reason from ledger_entry where member_id = ? order by id desc limit 1', [m.id]);
    expect(last.reason).toBe('ERASURE_FORFEIT');
    await expectConsistentLedger();
  });

  it('answers an adjustment of an erased member with CONFLICT MEMBER_ERASED and writes nothing', async () => {
    const m = await b.member().save();
    await adjust(m.id, 5);
    await erase(m.id);
    const refused = await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 5, reason: 'late', idempotencyKey: `late-${m.id}` } });
    expect(expectError(refused, 'CONFLICT').extensions.reason).toBe('MEMBER_ERASED');
    expect(await account(m.id)).toMatchObject({ available: 0, pending: 0 });
  });
});
