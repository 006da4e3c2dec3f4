/**
 * A return that reverses a referral bonus, raced against the erasure or merge of the referrer (deterministically: a
 * second connection holds a row lock the erasure or merge needs after taking the members' locks). The return must read
 * the referral's lots after it holds their members' locks, or it reverses a lot the erasure has already forfeited.
 */
import { Client } from 'pg';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput } from '../support/orders';
import { APPLY_REFERRAL, ENROL, ERASE, MERGE, sleep } from '../support/races';

const h = useHarness();
const b = build(h);

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let till: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;
let seq = 0;

beforeAll(async () => {
  await b.baseRate(1, 100);
  // pendingDays 14 (the harness default): the referral bonus is pending, so a return reverses it.
  await b.settings({ referralReferrerPoints: 500, referralReferredPoints: 300, referralMinOrderMinor: 2000 });
  admin = await b.admin();
  till = await b.apiKey();
});

async function ok<T = any>(answer: Promise<{ data: T; errors?: unknown }>): Promise<T> {
  const res = await answer;
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const enrol = async () => (await ok(h.gql(till.auth, ENROL, { input: { email: `referral-race-${process.env.JEST_WORKER_ID}-${++seq}@example.com` } }))).enrolMember as { id: string; referralCode: string };

/** A second connection that holds a row lock until `release`. */
async function holdLock(sql: string, params: unknown[]) {
  const client = new Client({ connectionString: h.config.DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('begin');
  const held = await client.query(sql, params);
  expect(held.rowCount).toBeGreaterThan(0);
  return {
    /** Waits until `n` other backends of this database wait for a lock. */
    async waiters(n: number) {
      for (let i = 0; i < 200; i++) {
        const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`);
        if (rows[0].n >= n) return;
        await sleep(25);
      }
      throw new Error(`fewer than ${n} lock waiters`);
    },
    async release() {
      await client.query('commit');
      await client.end();
    },
  };
}

async function referredAndCredited() {
  const referrer = await enrol();
  const referred = await enrol();
  await ok(h.gql(till.auth, APPLY_REFERRAL, { input: { memberId: referred.id, referralCode: referrer.referralCode } }));
  const order = (await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(referred.id, [{ unitPriceMinor: 2500 }]) }))).recordOrder;
  const [referral] = await h.sql(`select status from referral where referred_id = ?`, [referred.id]);
  expect(referral.status).toBe('CREDITED');
  const [bal] = await h.sql(`select pending::int from member_balance where member_id = ?`, [referrer.id]);
  expect(bal.pending).toBe(500);
  return { referrer, referred, orderId: order.id as string };
}

describe('eraseMember of a referrer × a return that reverses the referrer’s pending referral bonus', () => {
  it('leaves the erased referrer’s account closed and empty, and the ledger consistent', async () => {
    const { referrer, referred, orderId } = await referredAndCredited();

    // The erasure takes the referrer's member lock, then stops at the delete of their identifiers (held here).
    const gate = await holdLock(`select 1 from member_identifier where member_id = $1 for update`, [referrer.id]);
    const erasure = h.gql(admin.auth, ERASE, { input: { id: referrer.id, reason: 'race' } });
    await gate.waiters(1);
    // The return locks the referred member, reads the referral's lots (the referrer's still PENDING: the erasure has not
    // committed), then waits for the referrer's lock.
    const ret = h.gql(till.auth, RECORD_RETURN, { input: { orderId, externalReturnId: `R-${++seq}` } });
    await gate.waiters(2);
    await gate.release();
    const [erased, returned] = await Promise.all([erasure, ret]);

    expect(erased.errors).toBeUndefined();
    expect(returned.errors?.map((e) => e.extensions.code)).toBeUndefined();
    const [account] = await h.sql(`select available::int, pending::int, closed_at is not null as "isClosed" from member_balance where member_id = ?`, [referrer.id]);
    expect(account).toEqual({ available: 0, pending: 0, isClosed: true });
    // The referred member's bonus (300) and the order's own points are taken back; the referrer's lot was forfeited.
    const [theirs] = await h.sql(`select available::int, pending::int from member_balance where member_id = ?`, [referred.id]);
    expect(theirs).toEqual({ available: 0, pending: 0 });
    const reversals = await h.sql(`select member_id, pending_delta::int from ledger_entry where reason = 'REFERRAL_REVERSAL' and member_id in (?, ?)`, [referrer.id, referred.id]);
    expect(reversals).toEqual([{ member_id: referred.id, pending_delta: -300 }]);
    const check = await ledgerCheck(h);
    expect({ mismatches: check.mismatches, erasedHoldings: check.erasedHoldings }).toEqual({ mismatches: [], erasedHoldings: [] });
    expect(check.isConsistent).toBe(true);
  });
});

describe('mergeMembers absorbing a referrer × a return that reverses the referrer’s pending referral bonus', () => {
  it('leaves nothing on the merged-away referrer, and the ledger consistent', async () => {
    const { referrer, orderId } = await referredAndCredited();
    const survivor = await enrol();

    // The merge takes both members' locks, then stops at the move of the absorbed record's identifiers (held here).
    const gate = await holdLock(`select 1 from member_identifier where member_id = $1 for update`, [referrer.id]);
    const merge = h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: referrer.id } });
    await gate.waiters(1);
    const ret = h.gql(till.auth, RECORD_RETURN, { input: { orderId, externalReturnId: `R-${++seq}` } });
    await gate.waiters(2);
    await gate.release();
    const [merged, returned] = await Promise.all([merge, ret]);

    expect(merged.errors).toBeUndefined();
    expect(returned.errors).toBeUndefined();
    const check = await ledgerCheck(h);
    expect({ mismatches: check.mismatches, mergedAwayHoldings: check.mergedAwayHoldings }).toEqual({ mismatches: [], mergedAwayHoldings: [] });
    expect(check.isConsistent).toBe(true);
  });
});
