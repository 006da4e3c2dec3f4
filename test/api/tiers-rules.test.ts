import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, orderInput, pointsOf } from '../support/orders';

// The API's clock, set back to earn an order before the tier window; null: now.
const clock = { at: null as Date | null, now: () => clock.at ?? new Date() };
const h = useHarness({}, { clock });
const b = build(h);
const DAY = 86_400_000;

const UPSERT_TIER = `mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id code threshold } }`;
const PROGRESS = `query($id: ID!) { member(id: $id) {
  tier { code } tierProgress { tier { code } nextTier { code } current missing metric }
  benefits { earnMultiplierPercent flags } tierHistory { fromTier toTier reason }
} }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let pos: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;

beforeAll(async () => {
  admin = await b.admin();
  pos = await b.apiKey();
  await b.baseRate(1, 100);
  await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'GREEN', name: 'Green', threshold: 0 } });
  await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'GOLD', name: 'Gold', threshold: 100, earnMultiplierPercent: 150, benefitFlags: ['FREE_DELIVERY'] } });
});

describe('tiers', () => {
  it('upgrade on the qualifying order, say what is missing, and raise the earn rate', async () => {
    const m = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 6000 }]) });
    const before = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member;
    expect(before.tier.code).toBe('GREEN');
    expect(before.tierProgress).toMatchObject({ nextTier: { code: 'GOLD' }, current: 60, missing: 40, metric: 'POINTS_EARNED' });

    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 4000 }]) });
    const after = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member;
    expect(after.tier.code).toBe('GOLD');
    expect(after.benefits).toEqual({ earnMultiplierPercent: 150, flags: ['FREE_DELIVERY'] });
    expect(after.tierHistory).toEqual([{ fromTier: 'GREEN', toTier: 'GOLD', reason: 'QUALIFIED' }]);
    expect(after.tierProgress).toMatchObject({ tier: { code: 'GOLD' }, nextTier: null, missing: null });

    const third = await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 2000 }]) });
    expect(third.data.recordOrder.pointsBreakdown.map((x: any) => [x.kind, x.points])).toEqual([['BASE_RATE', 20], ['TIER', 10]]);
  });

  it('keep the tier until the qualification period ends, then move down', async () => {
    const m = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 10000 }]) });
    expect((await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member.tier.code).toBe('GOLD');
    const silent = { info: () => undefined } as never;
    await h.app.services.points.runJobs(h.em(), silent, new Date(Date.now() + 100 * DAY));
    expect((await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member.tier.code).toBe('GOLD');
    await h.app.services.points.runJobs(h.em(), silent, new Date(Date.now() + 366 * DAY));
    const after = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member;
    expect(after.tier.code).toBe('GREEN');
    expect(after.tierHistory[0]).toEqual({ fromTier: 'GOLD', toTier: 'GREEN', reason: 'PERIOD_ENDED' });
  });

  it("end every due period in one run, in batches, however many of a batch only renew", async () => {
    // Four members who still qualify (an order today) and one who no longer does (an order 400 days ago), all due now.
    const renewing = [];
    for (let i = 0; i < 4; i++) {
      const m = await b.member().save();
      await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 10000 }]) });
      renewing.push(m.id);
    }
    clock.at = new Date(Date.now() - 400 * DAY);
    const lapsed = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(lapsed.id, [{ unitPriceMinor: 10000 }], { placedAt: clock.at.toISOString() }) });
    clock.at = null;
    const ours = [...renewing, lapsed.id];
    await h.sql(`update member_tier set retain_until = now() - interval '1 minute' where member_id in (?)`, [ours]);

    const at = new Date();
    const settings = await h.app.services.programme.settings(h.em());
    // Batches of two: the first batch can move at most one member, which once stopped the run there.
    await h.app.services.tiers.endPeriods(h.em(), settings, at, 2);

    const rows = await h.sql(`select s.member_id, t.code, s.retain_until from member_tier s join tier t on t.id = s.tier_id where s.member_id in (?)`, [ours]);
    const byMember = new Map(rows.map((r) => [r.member_id, r]));
    for (const id of renewing) {
      expect(byMember.get(id)?.code).toBe('GOLD');
      expect(new Date(byMember.get(id)!.retain_until).getTime()).toBeGreaterThan(at.getTime());
    }
    expect(byMember.get(lapsed.id)?.code).toBe('GREEN');
    const [{ n: stillDue }] = await h.sql(`select count(*)::int as n from member_tier where member_id in (?) and retain_until <= ?`, [ours, at]);
    expect(stillDue).toBe(0);
  });

  it('count both records after a merge: progress includes the absorbed record, and together they qualify at once', async () => {
    const online = await b.member().save();
    const store = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(online.id, [{ unitPriceMinor: 6000 }]) });
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(store.id, [{ unitPriceMinor: 5000 }]) });
    const merged = await h.gql(admin.auth, `mutation($i: MergeMembersInput!) { mergeMembers(input: $i) { survivor { id } } }`, { i: { survivorId: online.id, absorbedId: store.id } });
    expect(merged.errors).toBeUndefined();
    const after = (await h.gql(admin.auth, PROGRESS, { id: online.id })).data.member;
    expect(after.tierProgress).toMatchObject({ current: 110, tier: { code: 'GOLD' } });
    expect(after.tier.code).toBe('GOLD');
    expect(after.tierHistory).toEqual([{ fromTier: 'GREEN', toTier: 'GOLD', reason: 'QUALIFIED' }]);
  });

  it('count a return against the window its order was earned in: never negative, and the missing points do qualify', async () => {
    const m = await b.member().save();
    const longAgo = new Date(Date.now() - 400 * DAY);
    clock.at = longAgo;
    try {
      const old = await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 8000 }], { placedAt: longAgo.toISOString() }) });
      expect(old.data.recordOrder.pointsEarned).toBe(80);
      clock.at = null;
      const ret = await h.gql(pos.auth, RECORD_RETURN, { input: { orderId: old.data.recordOrder.id, externalReturnId: `R-${m.id}` } });
      expect(ret.data.recordReturn.pointsClawedBack).toBe(80);
    } finally {
      clock.at = null;
    }
    const before = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member;
    expect(before.tierProgress).toMatchObject({ tier: { code: 'GREEN' }, nextTier: { code: 'GOLD' }, current: 0, missing: 100 });

    // Exactly the points progress said were missing reach the tier.
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 10000 }]) });
    const after = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member;
    expect(after.tier.code).toBe('GOLD');
    expect(after.tierProgress).toMatchObject({ current: 100, nextTier: null, missing: null });
  });

  it('refuses two tiers with one threshold and a malformed code', async () => {
    expect(expectError(await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'SILVER', name: 'Silver', threshold: 100 } }), 'CONFLICT').extensions.field).toBe('input.threshold');
    expect(expectError(await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'silver!', name: 'Silver', threshold: 50 } }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.code');
  });
});

describe('paid plans', () => {
  it("combine their benefits with the tier's and earn more", async () => {
    const plan = await h.gql(admin.auth, `mutation { upsertMembershipPlan(input: { code: "PLUS", name: "Plus", feeMinor: 4900, currency: "GBP", durationDays: 365, earnMultiplierPercent: 200, benefitFlags: ["FREE_RETURNS"] }) { id } }`);
    expect(plan.errors).toBeUndefined();
    const m = await b.member().save();
    const sub = await h.gql(admin.auth, `mutation($id: ID!) { subscribeMemberToPlan(input: { memberId: $id, planCode: "PLUS" }) { id startsAt endsAt } }`, { id: m.id });
    expect(Date.parse(sub.data.subscribeMemberToPlan.endsAt) - Date.parse(sub.data.subscribeMemberToPlan.startsAt)).toBe(365 * DAY);
    const benefits = (await h.gql(admin.auth, PROGRESS, { id: m.id })).data.member.benefits;
    expect(benefits).toEqual({ earnMultiplierPercent: 200, flags: ['FREE_RETURNS'] });
    const order = await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 3000 }]) });
    expect(order.data.recordOrder.pointsEarned).toBe(60);
    const renewal = await h.gql(admin.auth, `mutation($id: ID!) { subscribeMemberToPlan(input: { memberId: $id, planCode: "PLUS" }) { startsAt } }`, { id: m.id });
    expect(renewal.data.subscribeMemberToPlan.startsAt).toBe(sub.data.subscribeMemberToPlan.endsAt);
  });

  it('refuses an unknown plan and an unknown currency', async () => {
    const m = await b.member().save();
    const res = await h.gql(admin.auth, `mutation($id: ID!) { subscribeMemberToPlan(input: { memberId: $id, planCode: "NOPE" }) { id } }`, { id: m.id });
    expect(expectError(res, 'NOT_FOUND').extensions.entity).toBe('MembershipPlan');
    const bad = await h.gql(admin.auth, `mutation { upsertMembershipPlan(input: { code: "ODD", name: "Odd", feeMinor: 1, currency: "ABC", durationDays: 30 }) { id } }`);
    expect(expectError(bad, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.currency');
  });
});

describe('earning rules', () => {
  const CREATE = `mutation($i: EarningRuleInput!) { createEarningRule(input: $i) { id ruleKey version } }`;
  const UPDATE = `mutation($i: UpdateEarningRuleInput!) { updateEarningRule(input: $i) { id ruleKey version isActive } }`;

  it('are versioned: orders keep pointing at the version that paid them', async () => {
    const rule = (await h.gql(admin.auth, CREATE, { i: { name: 'Tea double', kind: 'CATEGORY_MULTIPLIER', category: 'Tea', multiplierPercent: 200 } })).data
      .createEarningRule;
    const m = await b.member().save();
    const first = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ sku: 'TEA-1', category: 'Tea', unitPriceMinor: 1000 }]) })).data.recordOrder;
    expect(first.pointsBreakdown.find((x: any) => x.kind === 'CATEGORY_MULTIPLIER')).toMatchObject({ ruleId: rule.id, ruleVersion: 1, points: 10 });

    const v2 = (await h.gql(admin.auth, UPDATE, { i: { ruleKey: rule.ruleKey, name: 'Tea triple', kind: 'CATEGORY_MULTIPLIER', category: 'Tea', multiplierPercent: 300 } })).data
      .updateEarningRule;
    expect(v2).toMatchObject({ ruleKey: rule.ruleKey, version: 2, isActive: true });
    const second = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ sku: 'TEA-1', category: 'Tea', unitPriceMinor: 1000 }]) })).data.recordOrder;
    expect(second.pointsBreakdown.find((x: any) => x.kind === 'CATEGORY_MULTIPLIER')).toMatchObject({ ruleId: v2.id, ruleVersion: 2, points: 20 });
    const stored = await h.gql(admin.auth, `query($id: ID!) { order(id: $id) { pointsBreakdown { ruleVersion } } }`, { id: first.id });
    expect(stored.data.order.pointsBreakdown.map((x: any) => x.ruleVersion)).toContain(1);

    await h.gql(admin.auth, UPDATE, { i: { ruleKey: rule.ruleKey, name: 'Tea off', kind: 'CATEGORY_MULTIPLIER', category: 'Tea', multiplierPercent: 300, isActive: false } });
    const third = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ sku: 'TEA-1', category: 'Tea', unitPriceMinor: 1000 }]) })).data.recordOrder;
    expect(third.pointsBreakdown.find((x: any) => x.kind === 'CATEGORY_MULTIPLIER')).toBeUndefined();
    const history = await h.gql(admin.auth, `{ earningRules(includeHistory: true) { ruleKey version supersededAt } }`);
    expect(history.data.earningRules.filter((r: any) => r.ruleKey === rule.ruleKey).map((r: any) => r.version)).toEqual([3, 2, 1]);
  });

  it('refuse a rule missing what its kind needs, and are managed by admins only', async () => {
    const res = await h.gql(admin.auth, CREATE, { i: { name: 'Broken', kind: 'BASE_RATE', currency: 'GBP' } });
    expect(expectError(res, 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path).sort()).toEqual(['input.perMinor', 'input.points']);
    const marketer = await b.admin('MARKETER' as never);
    expectError(await h.gql(marketer.auth, CREATE, { i: { name: 'x', kind: 'ORDER_CAP', capPoints: 5 } }), 'FORBIDDEN');
  });

  it('apply a daily cap across orders of the same day', async () => {
    const cap = (await h.gql(admin.auth, CREATE, { i: { name: 'Daily 50', kind: 'DAILY_CAP', capPoints: 50 } })).data.createEarningRule;
    try {
      const m = await b.member().save();
      const a = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 4000 }]) })).data.recordOrder;
      const c = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 4000 }]) })).data.recordOrder;
      expect([a.pointsEarned, c.pointsEarned]).toEqual([40, 10]);
      expect(c.pointsBreakdown.at(-1)).toMatchObject({ kind: 'DAILY_CAP', points: -30 });
      expect((await pointsOf(h, admin.auth, m.id)).pending).toBe(50);
    } finally {
      await h.gql(admin.auth, UPDATE, { i: { ruleKey: cap.ruleKey, name: 'off', kind: 'DAILY_CAP', capPoints: 50, isActive: false } });
    }
  });
  it('give a weekend bonus on Saturdays and Sundays only, through the stored rule', async () => {
    const weekend = (await h.gql(admin.auth, CREATE, { i: { name: 'Double at weekends', kind: 'BONUS', multiplierPercent: 200, daysOfWeek: [0, 6] } })).data.createEarningRule;
    try {
      const m = await b.member().save();
      const saturday = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 1000 }], { placedAt: '2026-11-28T12:00:00Z' }) })).data.recordOrder;
      const monday = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 1000 }], { placedAt: '2026-11-30T12:00:00Z' }) })).data.recordOrder;
      expect([saturday.pointsEarned, monday.pointsEarned]).toEqual([20, 10]);
      expect(saturday.pointsBreakdown.map((p: { kind: string }) => p.kind)).toContain('BONUS');
    } finally {
      await h.gql(admin.auth, UPDATE, { i: { ruleKey: weekend.ruleKey, name: 'off', kind: 'BONUS', multiplierPercent: 200, isActive: false } });
    }
  });
});
