import { randomUUID } from 'node:crypto';
import { useHarness, expectError, type Auth } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput, pointsOf } from '../support/orders';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import {
  MAX_CAMPAIGN_BUDGET_POINTS,
  MAX_EARN_MULTIPLIER_PERCENT,
  MAX_LINE_QUANTITY,
  MAX_MEMBER_POINTS,
  MAX_ORDER_LINES,
  MAX_ORDER_TOTAL_MINOR,
  MAX_POINTS_PER_ADJUSTMENT,
  MAX_POINTS_PER_ORDER,
  MAX_POINT_VALUE_MINOR,
  MAX_REWARD_COST_POINTS,
  MAX_REWARD_UNITS,
  MAX_RULE_POINTS,
  MAX_TIER_THRESHOLD,
  MAX_UNIT_PRICE_MINOR,
} from '../../api/src/base/bounds';

/**
 * 32-bit overflow (docs/reference/input-bounds.md). Orders of the largest accepted total, many times over for one member, must leave
 * every balance, sum and report answering; every bounded input is accepted at its maximum and refused one above it.
 */
const h = useHarness();
const b = build(h);

const INT32_MAX = 2 ** 31 - 1;
const FAR_FUTURE = '2100-01-01T00:00:00.000Z';

let admin: Auth;
let key: { auth: Auth };

beforeAll(async () => {
  admin = (await b.admin()).auth;
  key = await b.apiKey();
  await b.baseRate(1, 100); // GBP: 1 point per £1
  await b.baseRate(1, 10, 'JPY'); // JPY: a point per 10 yen, so that a maximal order earns 10^8 before bonuses
  await b.baseRate(1, 2, 'EUR');
  await b.rule({ name: 'Huge category × 100', kind: 'CATEGORY_MULTIPLIER', category: 'Huge', multiplierPercent: MAX_EARN_MULTIPLIER_PERCENT });
  await h.app.services.tiers.upsert(b.ctx(), { code: 'BASIC', name: 'Basic', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
  await h.app.services.tiers.upsert(b.ctx(), { code: 'GOLD', name: 'Gold', threshold: MAX_TIER_THRESHOLD, earnMultiplierPercent: 100, benefitFlags: [] });
});

async function record(input: Record<string, unknown>, auth: Auth = key.auth) {
  return h.gql(auth, RECORD_ORDER, { input });
}

function paths(res: { errors?: Array<{ extensions: Record<string, any> }> }): string[] {
  return (expectError(res as never, 'BAD_USER_INPUT').extensions.fields as Array<{ path: string }>).map((f) => f.path);
}

describe('the reported cases', () => {
  it('refuses the reported line, 3 × 1,000,000,000 less a large discount, with BAD_USER_INPUT (was INTERNAL_SERVER_ERROR), and stores nothing', async () => {
    const m = await b.member().save();
    const input = orderInput(m.id, [{ quantity: 3, unitPriceMinor: MAX_UNIT_PRICE_MINOR, discountMinor: 500_000_000 }], { orderDiscountMinor: MAX_UNIT_PRICE_MINOR });
    const res = await record(input);
    expect(paths(res)).toContain('input.totalMinor');
    expect(await h.sql(`select 1 from customer_order where external_order_id = ?`, [input.externalOrderId])).toHaveLength(0);
  });

  it('names the line when only its price × quantity is out of bounds', async () => {
    const m = await b.member().save();
    const input = orderInput(m.id, [{ quantity: 3, unitPriceMinor: MAX_UNIT_PRICE_MINOR, discountMinor: MAX_UNIT_PRICE_MINOR }], { orderDiscountMinor: MAX_UNIT_PRICE_MINOR });
    expect(input.totalMinor).toBe(MAX_ORDER_TOTAL_MINOR); // every single field is within its own bound
    const res = await record(input);
    expect(paths(res)).toEqual(['input.lines.0.quantity']);
    expect(await h.sql(`select 1 from customer_order where external_order_id = ?`, [input.externalOrderId])).toHaveLength(0);
  });

  it('refuses a totalMinor of 2,147,483,647 (beyond the largest order) with BAD_USER_INPUT on totalMinor', async () => {
    const m = await b.member().save();
    const input = orderInput(m.id, [{ quantity: 3, unitPriceMinor: 715_827_882 }, { unitPriceMinor: 1 }]);
    expect(input.totalMinor).toBe(INT32_MAX);
    expect(paths(await record(input))).toContain('input.totalMinor');
  });

  describe('41 orders of the largest total for one member, with a tenfold campaign bonus', () => {
    const ORDERS = 41;
    let member: string;
    let campaignId: string;
    let marketer: Auth;
    let analyst: Auth;

    beforeAll(async () => {
      marketer = (await b.admin(AdminRole.MARKETER)).auth;
      analyst = (await b.admin(AdminRole.ANALYST)).auth;
      member = (await b.member().inCountry('NZ').save()).id;
      const segment = await h.app.services.segments.create(b.ctx(), { name: `overflow NZ ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: 'NZ' }, kind: SegmentKind.DYNAMIC });
      // No budget: the campaign's spend grows with every order, past int4.
      const created = await h.gql(marketer, `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
        input: { name: 'Ten times', segmentId: segment.id, bonus: { multiplierPercent: 1000 }, holdoutShare: 0, startsAt: new Date(Date.now() - 60_000).toISOString() },
      });
      expect(created.errors).toBeUndefined();
      campaignId = created.data.createCampaign.id;
      expect((await h.gql(marketer, `mutation L($id: ID!) { launchCampaign(id: $id) { id } }`, { id: campaignId })).errors).toBeUndefined();
    }, 60_000);

    it('records every order, each earning the most an order can', async () => {
      for (let i = 0; i < ORDERS; i++) {
        const res = await record(orderInput(member, [{ unitPriceMinor: MAX_UNIT_PRICE_MINOR }], { currency: 'JPY' }));
        expect(res.errors).toBeUndefined();
        expect(res.data.recordOrder).toMatchObject({ totalMinor: MAX_ORDER_TOTAL_MINOR, pointsEarned: MAX_POINTS_PER_ORDER });
        // 10^8 from the base rate, 9 × 10^8 from the campaign.
        expect(res.data.recordOrder.pointsBreakdown.map((x: any) => [x.kind, x.points])).toEqual([
          ['BASE_RATE', 100_000_000],
          ['CAMPAIGN_BONUS', 900_000_000],
        ]);
      }
    }, 120_000);

    const total = ORDERS * MAX_POINTS_PER_ORDER;

    it("answers the member's balance, lifetime points, tier, ledger and bonus beyond 2^31", async () => {
      const res = await h.gql(admin, `query($id: ID!) { member(id: $id) {
        points { available pending lifetime nextExpiry { points } }
        tier { code } tierProgress { current missing tier { code } }
        ledger(first: 2) { edges { node { reason pendingDelta availableDelta lifetimeDelta } } } } }`, { id: member });
      expect(res.errors).toBeUndefined();
      const m = res.data.member;
      expect(m.points).toEqual({ available: 0, pending: total, lifetime: total, nextExpiry: { points: total } });
      expect(m.tier.code).toBe('GOLD');
      expect(m.tierProgress).toMatchObject({ current: total, missing: null, tier: { code: 'GOLD' } });
      expect(m.ledger.edges).toHaveLength(2);
      const [{ bonusPoints }] = await h.sql(`select bonus_points::float8 as "bonusPoints" from campaign_member where campaign_id = ? and member_id = ?`, [campaignId, member]);
      expect(bonusPoints).toBe(ORDERS * 900_000_000);
    });

    it('answers the tier progress on spend too', async () => {
      await b.settings({ tierMetric: 'SPEND_MINOR' });
      try {
        const res = await h.gql(admin, `query($id: ID!) { member(id: $id) { tierProgress { metric current } } }`, { id: member });
        expect(res.errors).toBeUndefined();
        expect(res.data.member.tierProgress).toEqual({ metric: 'SPEND_MINOR', current: ORDERS * MAX_ORDER_TOTAL_MINOR });
      } finally {
        await b.settings({ tierMetric: 'POINTS_EARNED' });
      }
    });

    it('answers analytics.kpis for every role, with the revenue, points issued and liability', async () => {
      const range = { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };
      const KPIS = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) {
        orders grossRevenueMinor netRevenueMinor pointsIssued pointsClawedBack pointsRedeemed pointsExpired liabilityPoints liabilityMinor } } }`;
      for (const auth of [admin, marketer, analyst]) {
        const all = await h.gql(auth, KPIS, { input: range });
        expect(all.errors).toBeUndefined();
        expect(all.data.analytics.kpis.grossRevenueMinor).toBeGreaterThanOrEqual(ORDERS * MAX_ORDER_TOTAL_MINOR);
        expect(all.data.analytics.kpis.liabilityPoints).toBeGreaterThanOrEqual(total);
      }
      const nz = await h.gql(analyst, KPIS, { input: { ...range, country: 'NZ' } });
      expect(nz.errors).toBeUndefined();
      expect(nz.data.analytics.kpis).toEqual({
        orders: ORDERS,
        grossRevenueMinor: ORDERS * MAX_ORDER_TOTAL_MINOR,
        netRevenueMinor: ORDERS * MAX_ORDER_TOTAL_MINOR,
        pointsIssued: total,
        pointsClawedBack: 0,
        pointsRedeemed: 0,
        pointsExpired: 0,
        liabilityPoints: total,
        liabilityMinor: total, // a point is worth 1 minor unit by default
      });
    });

    it('answers the other analytics: RFM, top products, the member RFM', async () => {
      const asOf = new Date(Date.now() + 60_000).toISOString();
      const res = await h.gql(analyst, `query($asOf: DateTimeISO!, $id: ID!) { analytics {
        rfm(asOf: $asOf) { segments { revenueMinor } }
        topProductsBySegment(asOf: $asOf, limit: 5) { products { units revenueMinor } }
        memberRfm(memberId: $id, asOf: $asOf) { orders monetaryMinor } } }`, { asOf, id: member });
      expect(res.errors).toBeUndefined();
      expect(res.data.analytics.memberRfm).toEqual({ orders: ORDERS, monetaryMinor: ORDERS * MAX_ORDER_TOTAL_MINOR });
    });

    it('previews segments on points beyond 2^31', async () => {
      const PREVIEW = `query P($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }`;
      const rule = { and: [{ attribute: 'lifetimePoints', op: 'gte', value: total }, { attribute: 'monetaryMinor', op: 'gte', value: ORDERS * MAX_ORDER_TOTAL_MINOR, windowDays: 30 }] };
      const res = await h.gql(analyst, PREVIEW, { input: { rule } });
      expect(res.errors).toBeUndefined();
      expect(res.data.previewSegment).toEqual({ count: 1, sample: [{ id: member }] });
    });

    it("reports the campaign's spend and results", async () => {
      const res = await h.gql(marketer, `query($id: ID!) { campaign(id: $id) { spentPoints
        members(first: 1) { edges { node { bonusPoints } } }
        results { treated { pointsCost pointsCostPerMember } } } }`, { id: campaignId });
      expect(res.errors).toBeUndefined();
      const spent = ORDERS * 900_000_000;
      expect(res.data.campaign).toEqual({
        spentPoints: spent,
        members: { edges: [{ node: { bonusPoints: spent } }] },
        results: { treated: { pointsCost: spent, pointsCostPerMember: spent } },
      });
    });

    it('keeps the ledger consistent, as ledgerCheck proves over GraphQL too', async () => {
      expect((await ledgerCheck(h)).mismatches).toEqual([]);
      const res = await h.gql(admin, `{ ledgerCheck { isConsistent mismatches { memberId } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.ledgerCheck).toMatchObject({ isConsistent: true, mismatches: [] });
    });

    it('merges the member into another, moving the whole balance in one pair of ledger rows', async () => {
      const survivor = await b.member().save();
      const res = await h.gql(admin, `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { survivor { id points { pending lifetime } } } }`, {
        input: { survivorId: survivor.id, absorbedId: member },
      });
      expect(res.errors).toBeUndefined();
      expect(res.data.mergeMembers.survivor.points).toEqual({ pending: total, lifetime: total });
      const rows = await h.sql(`select reason, pending_delta::float8 as pending from ledger_entry where reason in ('MERGE_OUT', 'MERGE_IN') and member_id in (?, ?) order by reason`, [
        member,
        survivor.id,
      ]);
      expect(rows).toEqual([
        { reason: 'MERGE_IN', pending: total },
        { reason: 'MERGE_OUT', pending: -total },
      ]);
      expect((await ledgerCheck(h)).mismatches).toEqual([]);
    });
  });
});

describe('derived points', () => {
  it("cuts an order's points to the most an order can earn, with an ORDER_LIMIT line", async () => {
    const m = await b.member().save();
    const res = await record(orderInput(m.id, [{ sku: 'HUGE-1', unitPriceMinor: MAX_UNIT_PRICE_MINOR, category: 'Huge' }], { currency: 'JPY' }));
    expect(res.errors).toBeUndefined();
    expect(res.data.recordOrder.pointsEarned).toBe(MAX_POINTS_PER_ORDER);
    // 10^8 base, 99 × 10^8 from the ×100 category rule: 10^10, cut by 9 × 10^9.
    expect(res.data.recordOrder.pointsBreakdown.map((x: any) => [x.kind, x.points])).toEqual([
      ['BASE_RATE', 100_000_000],
      ['CATEGORY_MULTIPLIER', 9_900_000_000],
      ['ORDER_LIMIT', -9_000_000_000],
    ]);
    expect((await pointsOf(h, key.auth, m.id)).pending).toBe(MAX_POINTS_PER_ORDER);
  });

  it('claws back exactly in proportion when points × value passes 2^53', async () => {
    // A point per 2 cents: 594,495,226 earns 297,247,613; a return of 126,350,484 of it is owed back exactly half:
    // 63,175,242 (in doubles, 297,247,613 × 126,350,484 rounds and the division floors to one less).
    const m = await b.member().save();
    const order = (await record(orderInput(m.id, [{ quantity: 4771, unitPriceMinor: 124_606 }], { currency: 'EUR' }))).data.recordOrder;
    expect(order.pointsEarned).toBe(297_247_613);
    const ret = await h.gql(key.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: `R-${randomUUID()}`, lines: [{ lineNo: 1, quantity: 1014 }] } });
    expect(ret.errors).toBeUndefined();
    expect(ret.data.recordReturn).toMatchObject({ valueMinor: 126_350_484, pointsClawedBack: 63_175_242 });
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it("refuses a change beyond a member's points limit with CONFLICT POINTS_LIMIT_REACHED, writing nothing", async () => {
    const m = await b.member().save();
    // A lifetime just under the limit, written as the ledger would (a row and its cached sum) so the check still holds.
    const lifetime = MAX_MEMBER_POINTS - 500_000_000;
    await h.sql(
      `insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, actor, created_at)
       values (?, ?, 'ADJUSTMENT', 0, 0, ?, 'adjustment', ?, ?, 'test', now())`,
      [randomUUID(), m.id, lifetime, m.id, `overflow-test:${m.id}`],
    );
    await h.sql(`insert into member_balance (member_id, available, pending, lifetime, updated_at) values (?, 0, 0, ?, now())`, [m.id, lifetime]);
    const big = orderInput(m.id, [{ sku: 'HUGE-1', unitPriceMinor: MAX_UNIT_PRICE_MINOR, category: 'Huge' }], { currency: 'JPY' });
    const refused = await record(big);
    expect(expectError(refused, 'CONFLICT').extensions).toMatchObject({ reason: 'POINTS_LIMIT_REACHED', limit: MAX_MEMBER_POINTS });
    expect(await h.sql(`select 1 from customer_order where external_order_id = ?`, [big.externalOrderId])).toHaveLength(0);
    // What still fits is earned: 10^8 points.
    const small = await record(orderInput(m.id, [{ unitPriceMinor: MAX_UNIT_PRICE_MINOR }], { currency: 'JPY' }));
    expect(small.errors).toBeUndefined();
    expect((await pointsOf(h, key.auth, m.id)).lifetime).toBe(lifetime + 100_000_000);
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });
});

/** One bounded input: accepted at `max`, BAD_USER_INPUT naming `path` at max + 1. */
interface BoundCase {
  mutation: string;
  input: (value: number) => Record<string, unknown> | Promise<Record<string, unknown>>;
  max: number;
  path: string;
}

const RECORD = RECORD_ORDER;
const RETURN = RECORD_RETURN;
const REWARD = `mutation R($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const RULE = `mutation E($input: EarningRuleInput!) { createEarningRule(input: $input) { id } }`;
const TIER = `mutation T($input: UpsertTierInput!) { upsertTier(input: $input) { code } }`;
const PLAN = `mutation P($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { id } }`;
const SETTINGS = `mutation S($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { pointValueMinor } }`;
const ADJUST = `mutation A($input: AdjustPointsInput!) { adjustPoints(input: $input) { available } }`;
const CAMPAIGN = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;

// Rules start in 2100: created at their bounds, they never apply to this file's orders.
const rule = (fields: Record<string, unknown>) => ({ name: 'Bound', startsAt: FAR_FUTURE, ...fields });
const reward = (fields: Record<string, unknown>) => ({ code: 'BOUND-R', name: 'Bound', kind: 'FIXED_DISCOUNT', costPoints: 100, valueMinor: 100, currency: 'GBP', ...fields });
const plan = (fields: Record<string, unknown>) => ({ code: 'BOUND_P', name: 'Bound', feeMinor: 100, currency: 'GBP', durationDays: 30, ...fields });

async function orderWith(lines: number, quantity: number) {
  const res = await record(orderInput(null, Array.from({ length: lines }, (_, i) => ({ sku: `B-${i}`, quantity, unitPriceMinor: 1 }))));
  expect(res.errors).toBeUndefined();
  return res.data.recordOrder.id as string;
}

describe('every bounded input: accepted at its maximum, BAD_USER_INPUT one beyond', () => {
  let segmentId: string;
  let memberId: string;

  beforeAll(async () => {
    segmentId = (await h.app.services.segments.create(b.ctx(), { name: `bounds ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: 'IS' }, kind: SegmentKind.DYNAMIC })).id;
    memberId = (await b.member().save()).id;
  });

  const campaign = (fields: Record<string, unknown>) => ({ name: 'Bound', segmentId, bonus: { fixedPoints: 1 }, holdoutShare: 0, startsAt: FAR_FUTURE, ...fields });

  const cases: Array<[string, BoundCase]> = [
    ['order line unitPriceMinor', { mutation: RECORD, input: (v) => orderInput(null, [{ unitPriceMinor: v }]), max: MAX_UNIT_PRICE_MINOR, path: 'input.lines.0.unitPriceMinor' }],
    ['order line quantity', { mutation: RECORD, input: (v) => orderInput(null, [{ quantity: v, unitPriceMinor: 1 }]), max: MAX_LINE_QUANTITY, path: 'input.lines.0.quantity' }],
    [
      'order line quantity × unitPriceMinor',
      // 10,000 × 100,000 = 10^9, discounted to nothing so that only the product is out of bounds one above.
      { mutation: RECORD, input: (v) => orderInput(null, [{ quantity: MAX_LINE_QUANTITY, unitPriceMinor: v, discountMinor: MAX_UNIT_PRICE_MINOR }]), max: 100_000, path: 'input.lines.0.quantity' },
    ],
    ['order line discountMinor', { mutation: RECORD, input: (v) => orderInput(null, [{ unitPriceMinor: MAX_UNIT_PRICE_MINOR, discountMinor: v }]), max: MAX_UNIT_PRICE_MINOR, path: 'input.lines.0.discountMinor' }],
    [
      'order lines together',
      { mutation: RECORD, input: (v) => orderInput(null, [{ unitPriceMinor: 500_000_000 }, { unitPriceMinor: v }], { orderDiscountMinor: MAX_ORDER_TOTAL_MINOR }), max: 500_000_000, path: 'input.lines' },
    ],
    ['orderDiscountMinor', { mutation: RECORD, input: (v) => orderInput(null, [{ unitPriceMinor: MAX_UNIT_PRICE_MINOR }], { orderDiscountMinor: v }), max: MAX_ORDER_TOTAL_MINOR, path: 'input.orderDiscountMinor' }],
    ['totalMinor', { mutation: RECORD, input: (v) => orderInput(null, [{ unitPriceMinor: v }]), max: MAX_ORDER_TOTAL_MINOR, path: 'input.totalMinor' }],
    ['order lines count', { mutation: RECORD, input: (v) => orderInput(null, Array.from({ length: v }, (_, i) => ({ sku: `L-${i}`, unitPriceMinor: 1 }))), max: MAX_ORDER_LINES, path: 'input.lines' }],
    [
      'return line quantity',
      { mutation: RETURN, input: async (v) => ({ orderId: await orderWith(1, MAX_LINE_QUANTITY), externalReturnId: randomUUID(), lines: [{ lineNo: 1, quantity: v }] }), max: MAX_LINE_QUANTITY, path: 'input.lines.0.quantity' },
    ],
    [
      'return lineNo',
      { mutation: RETURN, input: async (v) => ({ orderId: await orderWith(MAX_ORDER_LINES, 1), externalReturnId: randomUUID(), lines: [{ lineNo: v, quantity: 1 }] }), max: MAX_ORDER_LINES, path: 'input.lines.0.lineNo' },
    ],
    ['adjustPoints points', { mutation: ADJUST, input: (v) => ({ memberId, points: v, reason: 'bounds', idempotencyKey: randomUUID() }), max: MAX_POINTS_PER_ADJUSTMENT, path: 'input.points' }],
    [
      'adjustPoints points, negative',
      { mutation: ADJUST, input: (v) => ({ memberId, points: -v, reason: 'bounds', idempotencyKey: randomUUID() }), max: MAX_POINTS_PER_ADJUSTMENT, path: 'input.points' },
    ],
    ['reward costPoints', { mutation: REWARD, input: (v) => reward({ costPoints: v }), max: MAX_REWARD_COST_POINTS, path: 'input.costPoints' }],
    ['reward valueMinor', { mutation: REWARD, input: (v) => reward({ valueMinor: v }), max: MAX_UNIT_PRICE_MINOR, path: 'input.valueMinor' }],
    ['reward percentOff', { mutation: REWARD, input: (v) => reward({ kind: 'PERCENT_DISCOUNT', valueMinor: null, percentOff: v }), max: 100, path: 'input.percentOff' }],
    ['reward stock', { mutation: REWARD, input: (v) => reward({ stock: v }), max: MAX_REWARD_UNITS, path: 'input.stock' }],
    ['reward perMemberLimit', { mutation: REWARD, input: (v) => reward({ perMemberLimit: v }), max: MAX_REWARD_UNITS, path: 'input.perMemberLimit' }],
    ['base rate points', { mutation: RULE, input: (v) => rule({ kind: 'BASE_RATE', currency: 'CHF', points: v, perMinor: MAX_RULE_POINTS + 1 }), max: MAX_RULE_POINTS, path: 'input.points' }],
    ['base rate points per minor unit', { mutation: RULE, input: (v) => rule({ kind: 'BASE_RATE', currency: 'CHF', points: v, perMinor: 7 }), max: 7, path: 'input.points' }],
    ['base rate perMinor', { mutation: RULE, input: (v) => rule({ kind: 'BASE_RATE', currency: 'CHF', points: 1, perMinor: v }), max: 1_000_000_000, path: 'input.perMinor' }],
    [
      'rule multiplierPercent',
      { mutation: RULE, input: (v) => rule({ kind: 'CATEGORY_MULTIPLIER', category: 'Bound', multiplierPercent: v }), max: MAX_EARN_MULTIPLIER_PERCENT, path: 'input.multiplierPercent' },
    ],
    ['rule fixedPoints', { mutation: RULE, input: (v) => rule({ kind: 'BONUS', fixedPoints: v }), max: MAX_RULE_POINTS, path: 'input.fixedPoints' }],
    ['rule capPoints', { mutation: RULE, input: (v) => rule({ kind: 'ORDER_CAP', capPoints: v }), max: MAX_POINTS_PER_ORDER, path: 'input.capPoints' }],
    // GOLD already sits at the largest threshold (thresholds are unique): upserting it there again is accepted.
    ['tier threshold', { mutation: TIER, input: (v) => ({ code: 'GOLD', name: 'Gold', threshold: v, benefitFlags: [] }), max: MAX_TIER_THRESHOLD, path: 'input.threshold' }],
    [
      'tier earnMultiplierPercent',
      { mutation: TIER, input: (v) => ({ code: 'BOUND_M', name: 'Bound', threshold: 123, earnMultiplierPercent: v, benefitFlags: [] }), max: MAX_EARN_MULTIPLIER_PERCENT, path: 'input.earnMultiplierPercent' },
    ],
    ['plan feeMinor', { mutation: PLAN, input: (v) => plan({ feeMinor: v }), max: MAX_UNIT_PRICE_MINOR, path: 'input.feeMinor' }],
    ['plan earnMultiplierPercent', { mutation: PLAN, input: (v) => plan({ earnMultiplierPercent: v }), max: MAX_EARN_MULTIPLIER_PERCENT, path: 'input.earnMultiplierPercent' }],
    ['plan durationDays', { mutation: PLAN, input: (v) => plan({ durationDays: v }), max: 3660, path: 'input.durationDays' }],
    ['settings pointValueMinor', { mutation: SETTINGS, input: (v) => ({ pointValueMinor: v }), max: MAX_POINT_VALUE_MINOR, path: 'input.pointValueMinor' }],
    ['settings referralReferrerPoints', { mutation: SETTINGS, input: (v) => ({ referralReferrerPoints: v }), max: MAX_RULE_POINTS, path: 'input.referralReferrerPoints' }],
    ['settings referralReferredPoints', { mutation: SETTINGS, input: (v) => ({ referralReferredPoints: v }), max: MAX_RULE_POINTS, path: 'input.referralReferredPoints' }],
    ['settings referralMinOrderMinor', { mutation: SETTINGS, input: (v) => ({ referralMinOrderMinor: v }), max: MAX_ORDER_TOTAL_MINOR, path: 'input.referralMinOrderMinor' }],
    ['campaign budgetPoints', { mutation: CAMPAIGN, input: (v) => campaign({ budgetPoints: v }), max: MAX_CAMPAIGN_BUDGET_POINTS, path: 'input.budgetPoints' }],
    ['campaign bonus fixedPoints', { mutation: CAMPAIGN, input: (v) => campaign({ bonus: { fixedPoints: v } }), max: 100_000, path: 'input.bonus.fixedPoints' }],
    ['campaign bonus multiplierPercent', { mutation: CAMPAIGN, input: (v) => campaign({ bonus: { multiplierPercent: v } }), max: 1000, path: 'input.bonus.multiplierPercent' }],
  ];

  it.each(cases)('%s', async (_name, c) => {
    const auth = c.mutation === RECORD || c.mutation === RETURN ? key.auth : admin;
    const atMax = await h.gql(auth, c.mutation, { input: await c.input(c.max) });
    expect(atMax.errors).toBeUndefined();
    const beyond = await h.gql(auth, c.mutation, { input: await c.input(c.max + 1) });
    expect(paths(beyond)).toContain(c.path);
  }, 60_000);

  it('the settings restored, the ledger is still consistent', async () => {
    await b.settings({ pointValueMinor: 1, referralReferrerPoints: 500, referralReferredPoints: 500, referralMinOrderMinor: 2000 });
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });
});
