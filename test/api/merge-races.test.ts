/**
 * Merges and erasures racing the writes of the record they change (issue: hardening round two, defect 1). Each race runs
 * 20 trials with the merge or erasure issued at a different moment among 12 writes sent 3 ms apart. After each trial:
 * no internal error, every write answered or refused with a documented code, nothing left on the merged-away record,
 * no point lost or counted twice, and a consistent ledger.
 */
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput } from '../support/orders';
import { ADJUST, ERASE, MERGE, REDEEM, UPSERT_REWARD as UPSERT, assertNothingLeftBehind, codesOf, race as raceWith } from '../support/races';

const h = useHarness();
const b = build(h);

const TRIALS = 20;
const WRITES = 12;
const GAP_MS = 3;
const RACE_TIMEOUT_MS = 180_000;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let pos: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;

beforeAll(async () => {
  admin = await b.admin();
  pos = await b.apiKey();
  await b.baseRate(1, 100);
  // Points available at once, so redemptions can spend what orders earned.
  await b.settings({ pendingDays: 0 });
});

/** Sends `writes` GAP_MS apart and `interloper` after `offsetMs`; returns every answer. */
const race = <T>(writes: Array<() => Promise<T>>, interloper: () => Promise<T>, offsetMs: number) => raceWith(writes, interloper, offsetMs, GAP_MS);

async function lifetimeOf(memberId: string): Promise<number> {
  const [row] = await h.sql('select lifetime, available from member_balance where member_id = ?', [memberId]);
  return Number(row?.lifetime ?? 0);
}

describe('mergeMembers racing the absorbed record’s writes', () => {
  it(`recordOrder × merge, ${TRIALS} trials: every order ends on the survivor with its points`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const survivor = await b.member().save();
      const absorbed = await b.member().save();
      const inputs = Array.from({ length: WRITES }, (_, i) => orderInput(absorbed.id, [{ unitPriceMinor: 1000 + 100 * i }]));
      const offset = (trial * 37) % (WRITES * GAP_MS + 6);
      const { writes, interloper } = await race(
        inputs.map((input) => () => h.gql(pos.auth, RECORD_ORDER, { input })),
        () => h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }),
        offset,
      );
      expect(codesOf([...writes, interloper])).toEqual([]);
      const stored = await h.sql<{ member_id: string; points_earned: number }>(
        'select member_id, points_earned from customer_order where external_order_id in (?)',
        [inputs.map((i) => i.externalOrderId)],
      );
      expect(stored).toHaveLength(WRITES);
      expect(new Set(stored.map((o) => o.member_id))).toEqual(new Set([survivor.id]));
      const earned = stored.reduce((s, o) => s + Number(o.points_earned), 0);
      expect(earned).toBeGreaterThan(0);
      expect(await lifetimeOf(survivor.id)).toBe(earned);
      await assertNothingLeftBehind(h, absorbed.id);
    }
  }, RACE_TIMEOUT_MS);

  it(`redeemReward × merge, ${TRIALS} trials: no point spent twice or lost`, async () => {
    const reward = (await h.gql(admin.auth, UPSERT, { input: { code: 'RACE-REWARD', name: 'Race', kind: 'FREE_PRODUCT', sku: 'RACE', costPoints: 100 } })).data.upsertReward;
    for (let trial = 0; trial < TRIALS; trial++) {
      const survivor = await b.member().save();
      const absorbed = await b.member().save();
      // Enough for 5 of 12 redemptions on the absorbed record alone, 9 once the survivor's 400 join them.
      await h.gql(admin.auth, ADJUST, { i: { memberId: absorbed.id, points: 500, reason: 'seed', idempotencyKey: `seed-a-${absorbed.id}` } });
      await h.gql(admin.auth, ADJUST, { i: { memberId: survivor.id, points: 400, reason: 'seed', idempotencyKey: `seed-s-${survivor.id}` } });
      const offset = (trial * 37) % (WRITES * GAP_MS + 6);
      const { writes, interloper } = await race(
        Array.from({ length: WRITES }, (_, i) => () => h.gql(pos.auth, REDEEM, { input: { memberId: absorbed.id, rewardId: reward.id, idempotencyKey: `r-${trial}-${i}` } })),
        () => h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }),
        offset,
      );
      const codes = codesOf([...writes, interloper]);
      expect(codes.filter((c) => c !== 'INSUFFICIENT_POINTS')).toEqual([]);
      const redeemed = writes.filter((w) => !w.errors).length;
      expect(redeemed).toBeGreaterThanOrEqual(5);
      expect(redeemed).toBeLessThanOrEqual(9);
      const [bal] = await h.sql('select available from member_balance where member_id = ?', [survivor.id]);
      expect(Number(bal.available)).toBe(900 - 100 * redeemed);
      const held = await h.sql('select member_id from redemption where idempotency_key like ?', [`%:r-${trial}-%`]);
      expect(held.map((r) => r.member_id)).toEqual(Array(redeemed).fill(survivor.id));
      await assertNothingLeftBehind(h, absorbed.id);
    }
  }, RACE_TIMEOUT_MS);

  it(`recordReturn × merge, ${TRIALS} trials: every clawback lands on the survivor`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const survivor = await b.member().save();
      const absorbed = await b.member().save();
      const orders = [];
      for (let i = 0; i < WRITES; i++) {
        const res = await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(absorbed.id, [{ unitPriceMinor: 2000 }]) });
        expect(res.errors).toBeUndefined();
        orders.push(res.data.recordOrder);
      }
      const offset = (trial * 37) % (WRITES * GAP_MS + 6);
      const { writes, interloper } = await race(
        orders.map((o) => () => h.gql(pos.auth, RECORD_RETURN, { input: { orderId: o.id, externalReturnId: `RET-${o.id}` } })),
        () => h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }),
        offset,
      );
      expect(codesOf([...writes, interloper])).toEqual([]);
      expect(writes.map((w) => w.data.recordReturn.pointsClawedBack)).toEqual(Array(WRITES).fill(20));
      // Everything earned was returned: nothing left, on either record.
      expect(await lifetimeOf(survivor.id)).toBe(0);
      await assertNothingLeftBehind(h, absorbed.id);
    }
  }, RACE_TIMEOUT_MS);
});

describe('eraseMember racing the member’s orders', () => {
  it(`recordOrder × erasure, ${TRIALS} trials: an order lands before the erasure (its points forfeited with it) or is refused MEMBER_ERASED`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const member = await b.member().save();
      const inputs = Array.from({ length: WRITES }, () => orderInput(member.id, [{ unitPriceMinor: 1500 }]));
      const offset = (trial * 37) % (WRITES * GAP_MS + 6);
      const { writes, interloper } = await race(
        inputs.map((input) => () => h.gql(pos.auth, RECORD_ORDER, { input })),
        () => h.gql(admin.auth, ERASE, { input: { id: member.id, reason: 'race' } }),
        offset,
      );
      expect(interloper.errors).toBeUndefined();
      const codes = codesOf(writes);
      expect(codes.filter((c) => c !== 'CONFLICT:MEMBER_ERASED')).toEqual([]);
      const accepted = writes.filter((w) => !w.errors).length;
      const stored = await h.sql('select points_earned, created_at from customer_order where external_order_id in (?)', [inputs.map((i) => i.externalOrderId)]);
      expect(stored).toHaveLength(accepted);
      expect(await lifetimeOf(member.id)).toBe(15 * accepted);
      // What landed first was forfeited by the erasure (pendingDays 0: all available): the erased member holds nothing.
      const forfeits = await h.sql(`select available_delta::int as available from ledger_entry where member_id = ? and reason = 'ERASURE_FORFEIT'`, [member.id]);
      expect(forfeits).toEqual(accepted ? [{ available: -15 * accepted }] : []);
      expect(await h.sql('select available::int, pending::int from member_balance where member_id = ?', [member.id])).toEqual([{ available: 0, pending: 0 }]);
      const [{ erased_at }] = await h.sql('select erased_at from member where id = ?', [member.id]);
      // No order was written after the erasure committed.
      for (const o of stored) expect(new Date(o.created_at).getTime()).toBeLessThanOrEqual(new Date(erased_at).getTime());
      const check = await ledgerCheck(h);
      expect(check.isConsistent).toBe(true);
    }
  }, RACE_TIMEOUT_MS);
});
