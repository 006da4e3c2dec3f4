import { useHarness, expectError } from '../support/harness';
import { build, ApiKeyScope } from '../fixtures/build';
import { ledgerCheck } from '../support/orders';
import { AppError } from '../../api/src/base/errors';

/**
 * Expiry is a time, not the sweep: once a voucher's `expiresAt` has passed it can be neither cancelled (for a refund)
 * nor consumed, though the points jobs have not marked it EXPIRED yet, and the instant itself counts as expired, as
 * the sweep counts it.
 */
const h = useHarness();
const b = build(h);

const UPSERT = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id status voucherCode expiresAt } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status } }`;
const CANCEL = `mutation($input: CancelRedemptionInput!) { cancelRedemption(input: $input) { id status } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let pos: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;
let seq = 0;

beforeAll(async () => {
  admin = await b.admin();
  pos = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
});

/** A member with 500 points who redeemed a 300-point voucher, and what their books say afterwards. */
async function issuedVoucher() {
  const reward = await h.gql(admin.auth, UPSERT, { input: { code: `EXP-${++seq}`, name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 300 } });
  expect(reward.errors).toBeUndefined();
  const member = await b.member().save();
  const adjusted = await h.gql(admin.auth, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
    i: { memberId: member.id, points: 500, reason: 'test balance', idempotencyKey: `seed-${member.id}` },
  });
  expect(adjusted.errors).toBeUndefined();
  const redeemed = await h.gql(admin.auth, REDEEM, { input: { memberId: member.id, rewardId: reward.data.upsertReward.id, idempotencyKey: `r-${seq}` } });
  expect(redeemed.errors).toBeUndefined();
  const voucher = redeemed.data.redeemReward as { id: string; voucherCode: string };
  return { ...voucher, memberId: member.id, rewardId: reward.data.upsertReward.id as string };
}

/** What a refund or a use would change: the member's ledger rows and balance, the voucher's row, the reward's count. */
async function books(v: { id: string; memberId: string; rewardId: string }) {
  const [ledger, balance, redemption, reward] = await Promise.all([
    h.sql(`select reason, available_delta::int as available from ledger_entry where member_id = ? order by id`, [v.memberId]),
    h.sql(`select available::int, pending::int from member_balance where member_id = ?`, [v.memberId]),
    h.sql(`select status, consumed_at, cancelled_at from redemption where id = ?`, [v.id]),
    h.sql(`select redeemed_count from reward where id = ?`, [v.rewardId]),
  ]);
  return { ledger, balance, redemption, reward };
}

/** The voucher's expiry moved to `at`, as if it had been issued long enough ago; its status stays ISSUED. */
async function expiresAt(id: string, at: Date) {
  await h.sql(`update redemption set expires_at = ? where id = ? and status = 'ISSUED'`, [at, id]);
}

describe('a voucher past its expiry that the sweep has not marked yet', () => {
  it('can be neither cancelled for a refund nor consumed, and nothing is written', async () => {
    const v = await issuedVoucher();
    await expiresAt(v.id, new Date(Date.now() - 60_000));
    const before = await books(v);
    expect(before.redemption).toEqual([{ status: 'ISSUED', consumed_at: null, cancelled_at: null }]);
    expect(before.balance).toEqual([{ available: 200, pending: 0 }]);

    const cancelled = expectError(await h.gql(admin.auth, CANCEL, { input: { redemptionId: v.id } }), 'CONFLICT');
    expect(cancelled.extensions).toMatchObject({ reason: 'REDEMPTION_NOT_CANCELLABLE', status: 'EXPIRED' });
    const consumed = expectError(await h.gql(pos.auth, CONSUME, { input: { voucherCode: v.voucherCode } }), 'VOUCHER_UNUSABLE');
    expect(consumed.extensions.reason).toBe('EXPIRED');
    expect(await books(v)).toEqual(before);

    // The sweep, when it comes, changes none of the answers.
    await h.app.services.rewards.expireVouchers(h.em(), new Date());
    expect((await books(v)).redemption).toEqual([{ status: 'EXPIRED', consumed_at: null, cancelled_at: null }]);
    const cancelledAfterSweep = expectError(await h.gql(admin.auth, CANCEL, { input: { redemptionId: v.id } }), 'CONFLICT');
    expect(cancelledAfterSweep.extensions).toMatchObject({ reason: 'REDEMPTION_NOT_CANCELLABLE', status: 'EXPIRED' });
    expect(expectError(await h.gql(pos.auth, CONSUME, { input: { voucherCode: v.voucherCode } }), 'VOUCHER_UNUSABLE').extensions.reason).toBe('EXPIRED');
    expect((await books(v)).ledger).toEqual(before.ledger);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});

describe('the instant of expiry', () => {
  const expiry = new Date(Date.now() + 86_400_000);
  const justBefore = new Date(expiry.getTime() - 1);
  const rewards = () => h.app.services.rewards;
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).extensions;
  };

  it('counts as expired for cancel, consume and the sweep alike', async () => {
    const v = await issuedVoucher();
    await expiresAt(v.id, expiry);
    const before = await books(v);

    expect(await refusal(rewards().cancel(b.ctx(), { redemptionId: v.id }, expiry))).toMatchObject({ code: 'CONFLICT', reason: 'REDEMPTION_NOT_CANCELLABLE', status: 'EXPIRED' });
    expect(await refusal(rewards().consume(b.ctx(), { voucherCode: v.voucherCode }, expiry))).toMatchObject({ code: 'VOUCHER_UNUSABLE', reason: 'EXPIRED' });
    expect(await books(v)).toEqual(before);

    await rewards().expireVouchers(h.em(), justBefore);
    expect((await books(v)).redemption[0].status).toBe('ISSUED');
    await rewards().expireVouchers(h.em(), expiry);
    expect((await books(v)).redemption[0].status).toBe('EXPIRED');
  });

  it('a millisecond before it, a voucher can still be cancelled for its points, or consumed', async () => {
    const refunded = await issuedVoucher();
    await expiresAt(refunded.id, expiry);
    const cancelled = await rewards().cancel(b.ctx(), { redemptionId: refunded.id }, justBefore);
    expect(cancelled.status).toBe('CANCELLED');
    const after = await books(refunded);
    expect(after.balance).toEqual([{ available: 500, pending: 0 }]);
    expect(after.ledger.map((r) => r.reason)).toEqual(['ADJUSTMENT', 'REDEMPTION', 'REDEMPTION_CANCEL']);

    const used = await issuedVoucher();
    await expiresAt(used.id, expiry);
    const consumed = await rewards().consume(b.ctx(), { voucherCode: used.voucherCode }, justBefore);
    expect(consumed.status).toBe('CONSUMED');
    expect((await books(used)).ledger.map((r) => r.reason)).toEqual(['ADJUSTMENT', 'REDEMPTION']);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});
