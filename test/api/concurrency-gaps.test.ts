/**
 * Member writes concurrency-pairs.test.ts does not race, on the member they name: a referral code given (at enrolment
 * or later) while its owner, the referrer, is merged away or erased; a voucher used at a till while it is cancelled,
 * or while its member is merged away or erased; a plan cancelled while its member is erased or merged away; the points
 * jobs ending a member's tier period while an order renews it. The first write is held open where the interleaving
 * matters (a trigger delays one of its last inserts, so it holds its locks and its changes are not yet visible), the
 * rest run many times at once. After each: no internal error, every refusal documented and right, no lost write, a
 * consistent ledger.
 */
import { useHarness, type GqlResult } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { ADJUST, APPLY_REFERRAL, CANCEL_REDEMPTION, ENROL, ERASE, MERGE, UPSERT_REWARD, assertNothingLeftBehind, codesOf, ok, sleep, unexpected } from '../support/races';

// The API's clock, set back to earn an order a year ago (the tier period test); null: now.
const clock = { at: null as Date | null, now: () => clock.at ?? new Date() };
const h = useHarness({}, { clock });
const b = build(h);

const HOLD_MS = 1000;
const REFERRER_POINTS = 300;
const REFERRED_POINTS = 200;
const QUALIFYING_MINOR = 2500;
const REWARD_COST = 50;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id voucherCode } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status } }`;
const SUBSCRIBE = `mutation($input: SubscribeMemberInput!) { subscribeMemberToPlan(input: $input) { id } }`;
const CANCEL_PLAN = `mutation($input: CancelMemberPlanInput!) { cancelMemberPlan(input: $input) { id cancelledAt } }`;

type Result = GqlResult<any>;
type Auth = { token: string } | { apiKey: string };

let admin: { auth: Auth };
let till: { auth: Auth };
let rewardId: string;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.env.JEST_WORKER_ID}-${++seq}`;

const asAdmin = (query: string, variables: Record<string, unknown>) => h.gql(admin.auth, query, variables);
const asTill = (query: string, variables: Record<string, unknown>) => h.gql(till.auth, query, variables);
const enrol = async () => (await ok(asTill(ENROL, { input: { email: `${unique('gaps')}@gaps.example` } }))).enrolMember as { id: string; referralCode: string };
/** A merge given a reason starting "hold" is held HOLD_MS before it commits, with both members' locks and all its changes made. */
const heldMerge = (survivorId: string, absorbedId: string) => asAdmin(MERGE, { input: { survivorId, absorbedId, reason: 'hold: same person' } });
/** An erasure given a reason starting "hold" is held HOLD_MS before it commits, likewise. */
const heldErasure = (id: string) => asAdmin(ERASE, { input: { id, reason: 'hold: asked to be forgotten' } });

beforeAll(async () => {
  admin = await b.admin();
  till = await b.apiKey();
  await b.baseRate(1, 100);
  await b.settings({ pendingDays: 0, referralReferrerPoints: REFERRER_POINTS, referralReferredPoints: REFERRED_POINTS, referralMinOrderMinor: 2000 });
  rewardId = (await ok(asAdmin(UPSERT_REWARD, { input: { code: 'GAPS', name: 'Gaps', kind: 'FREE_PRODUCT', sku: 'GAPS', costPoints: REWARD_COST } }))).upsertReward.id;
  await ok(asAdmin(`mutation($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { code } }`, {
    input: { code: 'GAPS', name: 'Gaps', currency: 'GBP', durationDays: 30, feeMinor: 100, earnMultiplierPercent: 100 },
  }));
  // The merge's record and the erasure's audit entry are the last rows they write: held there, they hold every lock they took.
  await h.sql(`create or replace function test_hold_insert() returns trigger language plpgsql as $$ begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
  await h.sql(`create or replace trigger test_hold_merge before insert on member_merge for each row when (new.reason like 'hold%') execute function test_hold_insert()`);
  await h.sql(`create or replace trigger test_hold_erasure before insert on audit_entry for each row when (new.action = 'member.erase' and new.after->>'reason' like 'hold%') execute function test_hold_insert()`);
});

/** Starts `held` (a write a trigger holds HOLD_MS before it commits), and `rival` HOLD_MS / 4 later; both answers. */
async function heldRace(held: () => Promise<Result>, rival: () => Promise<Result>) {
  const first = held();
  await sleep(HOLD_MS / 4);
  const second = rival();
  return { held: await first, rival: await second };
}

describe('a referral code given while its owner is merged away', () => {
  it.each([
    ['applyReferralCode', async () => (await enrol()).id, (memberId: string, code: string) => asTill(APPLY_REFERRAL, { input: { memberId, referralCode: code } })],
    ['enrolMember', async () => null, (_memberId: string | null, code: string) => asTill(ENROL, { input: { email: `${unique('referred')}@gaps.example`, referralCode: code } })],
  ] as const)('%s: the referral goes to the survivor, whose bonus the referred member’s first order credits', async (_name, prepare, give) => {
    const referrer = await enrol();
    const survivor = await enrol();
    const referredId = await prepare();
    const answers = await heldRace(() => heldMerge(survivor.id, referrer.id), () => give(referredId as never, referrer.referralCode));
    expect([answers.held.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    const referred = referredId ?? answers.rival.data.enrolMember.id;
    // A referral left naming the merged-away record would fail every qualifying order of the referred member.
    const ordered = await asTill(RECORD_ORDER, { input: orderInput(referred, [{ unitPriceMinor: QUALIFYING_MINOR }]) });
    expect(codesOf([ordered])).toEqual([]);
    expect(await h.sql(`select referrer_id, status from referral where referred_id = ?`, [referred])).toEqual([{ referrer_id: survivor.id, status: 'CREDITED' }]);
    const [bal] = await h.sql(`select available::int from member_balance where member_id = ?`, [survivor.id]);
    expect(bal.available).toBe(REFERRER_POINTS);
    await assertNothingLeftBehind(h, referrer.id);
    expect(await h.sql(`select id from referral where referrer_id = ?`, [referrer.id])).toEqual([]);
  });
});

describe('a referral code given while its owner is erased', () => {
  it.each([
    ['applyReferralCode', async () => (await enrol()).id, (memberId: string, code: string) => asTill(APPLY_REFERRAL, { input: { memberId, referralCode: code } })],
    ['enrolMember', async () => null, (_memberId: string | null, code: string) => asTill(ENROL, { input: { email: `${unique('referred')}@gaps.example`, referralCode: code } })],
  ] as const)('%s: is refused REFERRER_INACTIVE, as after the erasure; no referral names the erased member', async (_name, prepare, give) => {
    const referrer = await enrol();
    const referredId = await prepare();
    const answers = await heldRace(() => heldErasure(referrer.id), () => give(referredId as never, referrer.referralCode));
    expect(answers.held.errors).toBeUndefined();
    expect(codesOf([answers.rival])).toEqual(['REFERRAL_NOT_ALLOWED:REFERRER_INACTIVE']);
    expect(await h.sql(`select id from referral where referrer_id = ?`, [referrer.id])).toEqual([]);
  });
});

describe('consumeVoucher × cancelRedemption of the same voucher', () => {
  const TRIALS = 10;

  it(`${TRIALS} trials, 3 + 3 at once: the voucher is used or cancelled, once, and its points come back only if cancelled`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const member = await enrol();
      await ok(asAdmin(ADJUST, { i: { memberId: member.id, points: REWARD_COST, reason: 'seed', idempotencyKey: unique('seed') } }));
      const { redeemReward } = await ok(asTill(REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: unique('voucher') } }));
      const fire = Array.from({ length: 6 }, (_, i) =>
        i % 2 === trial % 2
          ? () => asTill(CONSUME, { input: { voucherCode: redeemReward.voucherCode, memberId: member.id, orderRef: unique('till') } })
          : () => asTill(CANCEL_REDEMPTION, { input: { redemptionId: redeemReward.id } }),
      );
      const results = await Promise.all(fire.map(async (f, i) => (await sleep(i), f())));
      expect(unexpected(results, ['VOUCHER_UNUSABLE:CONSUMED', 'VOUCHER_UNUSABLE:CANCELLED', 'CONFLICT:REDEMPTION_NOT_CANCELLABLE'])).toEqual([]);
      const consumed = results.filter((r) => r.data?.consumeVoucher).length;
      const cancelled = results.filter((r) => r.data?.cancelRedemption).length;
      const [row] = await h.sql(`select status from redemption where id = ?`, [redeemReward.id]);
      const [bal] = await h.sql(`select available::int from member_balance where member_id = ?`, [member.id]);
      // Cancelling twice answers the cancellation again; using twice is refused.
      expect({ status: row.status, consumed: Math.min(consumed, 2), cancelled: cancelled > 0, available: bal.available }).toEqual(
        row.status === 'CONSUMED' ? { status: 'CONSUMED', consumed: 1, cancelled: false, available: 0 } : { status: 'CANCELLED', consumed: 0, cancelled: true, available: REWARD_COST },
      );
      await assertNothingLeftBehind(h, []);
    }
  }, 30_000);
});

describe('consumeVoucher naming its member × a merge of that member', () => {
  it('a voucher used at the till while its member is merged away is used (it is the same person’s), not refused OTHER_MEMBER', async () => {
    const member = await enrol();
    const survivor = await enrol();
    await ok(asAdmin(ADJUST, { i: { memberId: member.id, points: REWARD_COST, reason: 'seed', idempotencyKey: unique('seed') } }));
    const { redeemReward } = await ok(asTill(REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: unique('voucher') } }));
    const answers = await heldRace(
      () => heldMerge(survivor.id, member.id),
      () => asTill(CONSUME, { input: { voucherCode: redeemReward.voucherCode, memberId: member.id, orderRef: unique('till') } }),
    );
    expect([answers.held.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    expect(await h.sql(`select member_id, status from redemption where id = ?`, [redeemReward.id])).toEqual([{ member_id: survivor.id, status: 'CONSUMED' }]);
    // Another member's card is still refused.
    const stranger = await enrol();
    const { redeemReward: second } = await ok(
      (async () => {
        await ok(asAdmin(ADJUST, { i: { memberId: survivor.id, points: REWARD_COST, reason: 'seed', idempotencyKey: unique('seed') } }));
        return asTill(REDEEM, { input: { memberId: survivor.id, rewardId, idempotencyKey: unique('voucher') } });
      })(),
    );
    expect(codesOf([await asTill(CONSUME, { input: { voucherCode: second.voucherCode, memberId: stranger.id } })])).toEqual(['VOUCHER_UNUSABLE:OTHER_MEMBER']);
    await assertNothingLeftBehind(h, member.id);
  });

  it('a voucher used while its member is erased is used: erasure keeps issued vouchers', async () => {
    const member = await enrol();
    await ok(asAdmin(ADJUST, { i: { memberId: member.id, points: REWARD_COST, reason: 'seed', idempotencyKey: unique('seed') } }));
    const { redeemReward } = await ok(asTill(REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: unique('voucher') } }));
    const answers = await heldRace(
      () => heldErasure(member.id),
      () => asTill(CONSUME, { input: { voucherCode: redeemReward.voucherCode, memberId: member.id, orderRef: unique('till') } }),
    );
    expect([answers.held.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    expect(await h.sql(`select status from redemption where id = ?`, [redeemReward.id])).toEqual([{ status: 'CONSUMED' }]);
    await assertNothingLeftBehind(h, []);
  });
});

describe('cancelMemberPlan × the erasure or merge of the plan’s member', () => {
  const TRIALS = 6;

  it(`${TRIALS} trials each: the plan is cancelled once, at one time, and ends on the record that holds it`, async () => {
    for (let trial = 0; trial < 2 * TRIALS; trial++) {
      const isErasure = trial % 2 === 0;
      const member = await enrol();
      const survivor = await enrol();
      const plans = [];
      for (let i = 0; i < 2; i++) plans.push((await ok(asAdmin(SUBSCRIBE, { input: { memberId: member.id, planCode: 'GAPS' } }))).subscribeMemberToPlan.id as string);
      const rival = isErasure
        ? () => asAdmin(ERASE, { input: { id: member.id, reason: 'plan race' } })
        : () => asAdmin(MERGE, { input: { survivorId: survivor.id, absorbedId: member.id } });
      const cancels = [0, 1, 0, 1].map((k) => () => asAdmin(CANCEL_PLAN, { input: { memberPlanId: plans[k] } }));
      const offset = (trial * 3) % 12;
      const results = await Promise.all([...cancels.map(async (c, i) => (await sleep(i * 2), c())), sleep(offset).then(rival)]);
      expect(codesOf(results)).toEqual([]);
      const rows = await h.sql(`select id, member_id, cancelled_at from member_plan where id in (?) order by id`, [plans]);
      // Both answers of each plan's two cancellations give the same time, the one stored.
      for (const [k, row] of rows.entries()) {
        const answered = results.slice(0, 4).filter((_, i) => i % 2 === k).map((r) => Date.parse(r.data.cancelMemberPlan.cancelledAt));
        expect(answered).toEqual([new Date(row.cancelled_at).getTime(), new Date(row.cancelled_at).getTime()]);
        expect(row.member_id).toBe(isErasure ? member.id : survivor.id);
      }
      await assertNothingLeftBehind(h, isErasure ? [] : member.id);
    }
  }, 30_000);
});

describe('runPointsJobs (the end of a tier period) × an order that keeps the member in their tier', () => {
  const UPSERT_TIER = `mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;
  const RUN_JOBS = `mutation { runPointsJobs { state tierPeriodsEnded ledgerConsistent } }`;

  afterAll(async () => {
    await h.sql(`drop trigger if exists test_hold_period_end on event_outbox`);
  });

  it('the member keeps the tier the order qualifies them for: the period’s end does not write over it', async () => {
    await ok(asAdmin(UPSERT_TIER, { i: { code: 'GREEN', name: 'Green', threshold: 0 } }));
    await ok(asAdmin(UPSERT_TIER, { i: { code: 'GOLD', name: 'Gold', threshold: 100 } }));
    const member = await enrol();
    // GOLD for an order 400 days ago: the points that qualified them have left the window, and the period has ended.
    const longAgo = new Date(Date.now() - 400 * 86_400_000);
    clock.at = longAgo;
    try {
      await ok(asTill(RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 10000 }], { placedAt: longAgo.toISOString() }) }));
    } finally {
      clock.at = null;
    }
    expect(await h.sql(`select t.code, mt.retain_until < now() as "hasEnded" from member_tier mt join tier t on t.id = mt.tier_id where mt.member_id = ?`, [member.id])).toEqual([
      { code: 'GOLD', hasEnded: true },
    ]);
    // The job's move down is held once it has read the member's tier and metric (its event is its first write).
    await h.sql(`create or replace trigger test_hold_period_end before insert on event_outbox for each row
      when (new.type = 'tier.changed' and new.member_id = '${member.id}' and new.payload->>'reason' = 'PERIOD_ENDED') execute function test_hold_insert()`);

    const answers = await heldRace(
      () => asAdmin(RUN_JOBS, {}),
      // 100 points today: the member qualifies for GOLD again, for another period.
      () => asTill(RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 10000 }]) }),
    );
    expect(codesOf([answers.held, answers.rival])).toEqual([]);
    expect(answers.held.data.runPointsJobs).toMatchObject({ state: 'DONE', ledgerConsistent: true });
    const [state] = await h.sql(`select t.code, mt.retain_until > now() + interval '300 days' as "isRenewed" from member_tier mt join tier t on t.id = mt.tier_id where mt.member_id = ?`, [member.id]);
    expect(state).toEqual({ code: 'GOLD', isRenewed: true });
  });
});
