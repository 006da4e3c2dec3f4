import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { ledgerCheck, pointsOf } from '../support/orders';

const h = useHarness();
const b = build(h);

const UPSERT = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id code costPoints stock redeemedCount } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id status points voucherCode expiresAt reward { code } } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status consumedAt } }`;
const CANCEL = `mutation($input: CancelRedemptionInput!) { cancelRedemption(input: $input) { id status } }`;
const UPSERT_TIER = `mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let seq = 0;

async function reward(overrides: Record<string, unknown> = {}) {
  const res = await h.gql(admin.auth, UPSERT, {
    input: { code: `RW-${++seq}`, name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100, ...overrides },
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.upsertReward;
}

/** A member with `points` available now (an adjustment is available at once). */
async function memberWith(points: number) {
  const m = await b.member().save();
  if (points > 0) await h.gql(admin.auth, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
    i: { memberId: m.id, points, reason: 'test balance', idempotencyKey: `seed-${m.id}` },
  });
  return m;
}

beforeAll(async () => {
  admin = await b.admin();
});

describe('redeemReward', () => {
  it('spends the cost, issues a voucher that works once at checkout, and appends one ledger row', async () => {
    const m = await memberWith(500);
    const r = await reward({ costPoints: 300 });
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'k1' } });
    expect(res.errors).toBeUndefined();
    const redemption = res.data.redeemReward;
    expect(redemption).toMatchObject({ status: 'ISSUED', points: 300, reward: { code: r.code } });
    expect(redemption.voucherCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(200);
    const rows = await h.sql(`select reason, available_delta::int as available_delta from ledger_entry where member_id = ? order by id`, [m.id]);
    expect(rows).toEqual([{ reason: 'ADJUSTMENT', available_delta: 500 }, { reason: 'REDEMPTION', available_delta: -300 }]);

    const pos = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
    const used = await h.gql(pos.auth, CONSUME, { input: { voucherCode: redemption.voucherCode.toLowerCase(), memberId: m.id, orderRef: 'T-1' } });
    expect(used.data.consumeVoucher.status).toBe('CONSUMED');
    const twice = await h.gql(pos.auth, CONSUME, { input: { voucherCode: redemption.voucherCode } });
    expect(expectError(twice, 'VOUCHER_UNUSABLE').extensions.reason).toBe('CONSUMED');
  });

  it("refuses another member's voucher at checkout", async () => {
    const owner = await memberWith(100);
    const stranger = await b.member().save();
    const r = await reward();
    const { voucherCode } = (await h.gql(admin.auth, REDEEM, { input: { memberId: owner.id, rewardId: r.id, idempotencyKey: 'own' } })).data.redeemReward;
    const pos = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
    const res = await h.gql(pos.auth, CONSUME, { input: { voucherCode, memberId: stranger.id } });
    expect(expectError(res, 'VOUCHER_UNUSABLE').extensions.reason).toBe('OTHER_MEMBER');
    expect((await h.sql(`select status from redemption where voucher_code = ?`, [voucherCode]))[0].status).toBe('ISSUED');
  });

  it('refuses a cost above the balance with INSUFFICIENT_POINTS and writes nothing', async () => {
    const m = await memberWith(99);
    const r = await reward({ costPoints: 100 });
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'poor' } });
    expect(expectError(res, 'INSUFFICIENT_POINTS').extensions).toMatchObject({ available: 99, required: 100 });
    expect(await h.sql(`select 1 from redemption where member_id = ?`, [m.id])).toHaveLength(0);
    expect((await h.sql(`select redeemed_count from reward where id = ?`, [r.id]))[0].redeemed_count).toBe(0);
  });

  it('is idempotent per key: a retry returns the first redemption and spends once', async () => {
    const m = await memberWith(1000);
    const r = await reward();
    const [a, c] = await Promise.all([
      h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'retry' } }),
      h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'retry' } }),
    ]);
    expect(a.data.redeemReward.id).toBe(c.data.redeemReward.id);
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(900);
  });

  it('refuses expired, not yet started, inactive and tier-restricted rewards', async () => {
    await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'GOLD', name: 'Gold', threshold: 1000 } });
    const m = await memberWith(1000);
    const day = 86_400_000;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ validTo: new Date(Date.now() - day).toISOString(), validFrom: new Date(Date.now() - 2 * day).toISOString() }, 'ENDED'],
      [{ validFrom: new Date(Date.now() + day).toISOString() }, 'NOT_STARTED'],
      [{ isActive: false }, 'INACTIVE'],
      [{ tierCodes: ['GOLD'] }, 'TIER_REQUIRED'],
    ];
    for (const [overrides, reason] of cases) {
      const r = await reward(overrides);
      const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: `state-${reason}` } });
      expect(expectError(res, 'REWARD_UNAVAILABLE').extensions.reason).toBe(reason);
    }
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(1000);
  });

  it('enforces the per-member limit', async () => {
    const m = await memberWith(1000);
    const r = await reward({ perMemberLimit: 1 });
    await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'l1' } });
    const second = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'l2' } });
    expect(expectError(second, 'REWARD_LIMIT_REACHED').extensions.limit).toBe(1);
  });

  it('refuses a zero-point reward and missing fields per kind', async () => {
    const zero = await h.gql(admin.auth, UPSERT, { input: { code: 'ZERO', name: 'Free', kind: 'FREE_PRODUCT', sku: 'X', costPoints: 0 } });
    expect(expectError(zero, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.costPoints');
    const noValue = await h.gql(admin.auth, UPSERT, { input: { code: 'FIVE-OFF', name: '£5 off', kind: 'FIXED_DISCOUNT', costPoints: 500 } });
    expect(expectError(noValue, 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path).sort()).toEqual(['input.currency', 'input.valueMinor']);
    expect(await h.sql(`select 1 from reward where code in ('ZERO', 'FIVE-OFF')`)).toHaveLength(0);
  });

  it('refuses a tier no tier has, naming the entry, and writes nothing', async () => {
    await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'SILVER', name: 'Silver', threshold: 500 } });
    const created = await h.gql(admin.auth, UPSERT, { input: { code: 'TIERED', name: 'Tiered', kind: 'FREE_PRODUCT', sku: 'X', costPoints: 10, tierCodes: ['SILVER', 'PLATINUM'] } });
    const err = expectError(created, 'BAD_USER_INPUT');
    expect(err.extensions.fields).toEqual([{ path: 'input.tierCodes.1', message: 'no tier has the code PLATINUM' }]);
    expect(await h.sql(`select 1 from reward where code = 'TIERED'`)).toHaveLength(0);

    // An existing reward keeps its tiers, and no audit entry says otherwise.
    const r = await reward({ tierCodes: ['SILVER'] });
    const audits = async () => (await h.sql(`select 1 from audit_entry where entity_id = ?`, [r.id])).length;
    const before = await audits();
    const updated = await h.gql(admin.auth, UPSERT, { input: { code: r.code, name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100, tierCodes: ['PLATINUM'] } });
    expect(expectError(updated, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.tierCodes.0');
    expect(await h.sql(`select tier_codes from reward where id = ?`, [r.id])).toEqual([{ tier_codes: ['SILVER'] }]);
    expect(await audits()).toBe(before);
  });

  it('completes a donation at once, with no voucher', async () => {
    const m = await memberWith(250);
    const r = await reward({ kind: 'DONATION', partner: 'Food bank', sku: null, costPoints: 250 });
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'give' } });
    expect(res.data.redeemReward).toMatchObject({ status: 'CONSUMED', voucherCode: null });
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(0);
  });
});

describe('cancelRedemption', () => {
  it('returns the points of an unused voucher as a new ledger row, and its unit to stock', async () => {
    const m = await memberWith(300);
    const r = await reward({ costPoints: 300, stock: 1 });
    const { id } = (await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'c1' } })).data.redeemReward;
    const res = await h.gql(admin.auth, CANCEL, { input: { redemptionId: id } });
    expect(res.data.cancelRedemption.status).toBe('CANCELLED');
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(300);
    expect((await h.sql(`select redeemed_count from reward where id = ?`, [r.id]))[0].redeemed_count).toBe(0);
    const rows = await h.sql(`select reason, available_delta::int as available_delta from ledger_entry where member_id = ? order by id`, [m.id]);
    expect(rows.map((x) => x.reason)).toEqual(['ADJUSTMENT', 'REDEMPTION', 'REDEMPTION_CANCEL']);
    const again = await h.gql(admin.auth, CANCEL, { input: { redemptionId: id } });
    expect(expectError(again, 'CONFLICT').extensions.reason).toBe('REDEMPTION_NOT_CANCELLABLE');
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('is refused to analysts', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    expectError(await h.gql(analyst.auth, CANCEL, { input: { redemptionId: '01900000-0000-7000-8000-000000000000' } }), 'FORBIDDEN');
  });
});

describe('under concurrency', () => {
  it('100 parallel redemptions never overspend, and the balance equals the ledger sum', async () => {
    const m = await memberWith(1000);
    const r = await reward({ costPoints: 30 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: `p${i}` } })),
    );
    const ok = results.filter((x) => !x.errors).length;
    const poor = results.filter((x) => x.errors?.[0].extensions.code === 'INSUFFICIENT_POINTS').length;
    expect(ok).toBe(33);
    expect(poor).toBe(67);
    const points = await pointsOf(h, admin.auth, m.id);
    expect(points.available).toBe(1000 - 33 * 30);
    const [sum] = await h.sql(`select sum(available_delta)::int as s from ledger_entry where member_id = ?`, [m.id]);
    expect(sum.s).toBe(points.available);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it("one member's parallel retries of a key spend once and all answer with the first redemption", async () => {
    const m = await memberWith(1000);
    const r = await reward({ costPoints: 10 });
    // Retries of one key among other keys: one member's redemptions in flight together share a statement (redeem-batches.ts).
    const keys = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'retried' : `other-${i}`));
    const results = await Promise.all(keys.map((idempotencyKey) => h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey } })));
    expect(results.filter((x) => x.errors)).toEqual([]);
    const retried = new Set(results.filter((_, i) => keys[i] === 'retried').map((x) => x.data.redeemReward.id));
    expect(retried.size).toBe(1);
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(1000 - 21 * 10);
    expect((await h.sql(`select count(*)::int as n from redemption where member_id = ?`, [m.id]))[0].n).toBe(21);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it("one member's parallel redemptions stop at the reward's per-member limit", async () => {
    const m = await memberWith(1000);
    const r = await reward({ costPoints: 10, perMemberLimit: 3 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: `lim${i}` } })),
    );
    expect(results.filter((x) => !x.errors)).toHaveLength(3);
    expect(results.filter((x) => x.errors?.[0].extensions.code === 'REWARD_LIMIT_REACHED')).toHaveLength(17);
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(1000 - 3 * 10);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('never oversells stock when many members redeem the last units at once', async () => {
    const r = await reward({ costPoints: 10, stock: 5 });
    const members = await Promise.all(Array.from({ length: 20 }, () => memberWith(10)));
    const results = await Promise.all(
      members.map((m) => h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: 'last' } })),
    );
    expect(results.filter((x) => !x.errors)).toHaveLength(5);
    expect(results.filter((x) => x.errors?.[0].extensions.code === 'REWARD_OUT_OF_STOCK')).toHaveLength(15);
    expect((await h.sql(`select redeemed_count from reward where id = ?`, [r.id]))[0].redeemed_count).toBe(5);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});

describe('Member.redemptions', () => {
  const LIST = `query($search: String!, $first: Int!) { members(search: $search, first: 100) { edges { node { id redemptions(first: $first) { id points reward { code } } } } } }`;

  it("lists each member's newest redemptions first, at most `first`, in the same SQL statements for 8 members as for 1", async () => {
    const r = await reward({ costPoints: 10 });
    const members = [];
    for (let i = 0; i < 8; i++) {
      const m = await b.member().named('Redeemer', `List${i}`).save();
      await h.gql(admin.auth, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
        i: { memberId: m.id, points: 100, reason: 'test balance', idempotencyKey: `seed-${m.id}` },
      });
      const ids = [];
      for (let k = 0; k < 1 + (i % 4); k++) {
        ids.push((await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: r.id, idempotencyKey: `list-${i}-${k}` } })).data.redeemReward.id);
      }
      members.push({ id: m.id, newestFirst: ids.reverse() });
    }
    const one = await h.gql(admin.auth, LIST, { search: 'List3', first: 2 });
    expect(one.data.members.edges).toHaveLength(1);
    expect(one.errors).toBeUndefined();
    const all = await h.gql(admin.auth, LIST, { search: 'Redeemer', first: 2 });
    expect(all.errors).toBeUndefined();
    expect(all.data.members.edges).toHaveLength(8);
    const byId = new Map(all.data.members.edges.map((e: any) => [e.node.id, e.node.redemptions]));
    for (const m of members) {
      expect((byId.get(m.id) as any[]).map((x) => x.id)).toEqual(m.newestFirst.slice(0, 2));
    }
    expect((byId.get(members[0].id) as any[])[0]).toMatchObject({ points: 10, reward: { code: r.code } });
    expect(Number(all.headers['x-db-queries'])).toBe(Number(one.headers['x-db-queries']));
  });

  it('refuses a page size outside 1 to 100 with BAD_USER_INPUT on `first`, and one too large to cost with QUERY_TOO_COMPLEX', async () => {
    const m = await memberWith(0);
    const ask = (first: number) => h.gql(admin.auth, `query($id: ID!, $first: Int!) { member(id: $id) { redemptions(first: $first) { id } } }`, { id: m.id, first });
    for (const first of [0, -1, 101]) expect(expectError(await ask(first), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('first');
    expectError(await ask(2 ** 31 - 1), 'QUERY_TOO_COMPLEX');
    expect((await ask(100)).data.member.redemptions).toEqual([]);
  });
});
