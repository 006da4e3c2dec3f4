import { useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { orderInput, RECORD_ORDER } from '../../../test/support/orders';
import { plugin } from '../src';
import { activityFixturePlugin, recordActivity } from './fixtures/activity-fixture';
import { isInHoldout } from '../src/goals';
import { CHALLENGE_RESULTS, challengeLedger, createChallenge, eventsOf, progressOf, progressRows, recordOrder, returnOrder } from './support';

// The clock the earning use cases are stamped with: real time unless a test sets it (the streaks run in June).
let now: Date | null = null;
const clock = { now: () => now ?? new Date() };
const h = useHarness({}, { plugins: [plugin, activityFixturePlugin], clock });
const b = build(h);
const DAY = 86_400_000;

// Each test's challenges stop counting once it ends, so that the next test's orders meet only its own.
afterEach(async () => {
  now = null;
  await h.sql(`update challenge set is_active = false`);
});

describe('challenges.progress: orders', () => {
  it('completes an ORDER_COUNT challenge exactly once when 20 orders of the member arrive at once', async () => {
    const admin = await b.admin(AdminRole.MARKETER);
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 5, reward: { kind: 'POINTS', points: 250 } });
    const member = await b.member().save();

    const results = await Promise.all(Array.from({ length: 20 }, () => h.gql(web.auth, RECORD_ORDER, { input: orderInput(member.id) })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);

    const row = await progressOf(h, challenge.id, member.id);
    expect(row).toMatchObject({ goal: 5, progress: 5, orders: 20, spend_minor: 20_000, reward_status: 'GRANTED', is_holdout: false });
    expect(row!.completed_at).not.toBeNull();
    expect(await challengeLedger(h, challenge.id, member.id)).toEqual([{ delta: 250, reason: 'BONUS' }]);
    const completed = await eventsOf(h, 'challenge.completed', member.id);
    expect(completed).toHaveLength(1);
    expect(completed[0].payload).toMatchObject({ challengeId: challenge.id, challengeCode: challenge.code, goal: 5, progress: 5, rewardKind: 'POINTS', points: 250, rewardStatus: 'GRANTED' });
    // The points are available at once: no return of an order can take a completed challenge's reward back.
    const [lot] = await h.sql(`select state, points from point_lot where source_type = 'challenge' and member_id = ?`, [member.id]);
    expect(lot).toMatchObject({ state: 'AVAILABLE', points: 250 });
  });

  it('counts a replayed order once (the same idempotency key, sent again and concurrently)', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 2 });
    const member = await b.member().save();
    const input = orderInput(member.id);
    const replies = await Promise.all(Array.from({ length: 8 }, () => h.gql(web.auth, RECORD_ORDER, { input })));
    expect(replies.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(new Set(replies.map((r) => r.data.recordOrder.id)).size).toBe(1);
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 1, orders: 1, completed_at: null });
    expect(await challengeLedger(h, challenge.id, member.id)).toEqual([]);
  });

  it('takes a wholly returned order’s contribution back before completion, and keeps a completed challenge completed', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const spend = await createChallenge(h, admin.auth, { goalKind: 'SPEND', target: 5000, currency: 'GBP' });
    const count = await createChallenge(h, admin.auth, { goalKind: 'ORDER_COUNT', target: 2 });
    const member = await b.member().save();

    const first = await recordOrder(h, web.auth, member.id, { lines: [{ unitPriceMinor: 1500 }, { unitPriceMinor: 1500 }] });
    await recordOrder(h, web.auth, member.id, { lines: [{ unitPriceMinor: 1000, discountMinor: 200 }] });
    // Net of discounts: 3000 + 800.
    expect(await progressOf(h, spend.id, member.id)).toMatchObject({ progress: 3800, spend_minor: 3800, completed_at: null });
    expect(await progressOf(h, count.id, member.id)).toMatchObject({ progress: 2, reward_status: 'GRANTED' });

    // A partial return takes its value from the spend; the order still counts as an order.
    await returnOrder(h, web.auth, first.order.id, [{ lineNo: 1, quantity: 1 }]);
    expect(await progressOf(h, spend.id, member.id)).toMatchObject({ progress: 2300, spend_minor: 2300, orders: 2 });
    // The rest of it: the order no longer counts at all.
    await returnOrder(h, web.auth, first.order.id, [{ lineNo: 2, quantity: 1 }]);
    expect(await progressOf(h, spend.id, member.id)).toMatchObject({ progress: 800, spend_minor: 800, orders: 1, completed_at: null });

    // The completed ORDER_COUNT challenge keeps its completion, progress and reward; only its spend figure follows.
    const counted = await progressOf(h, count.id, member.id);
    expect(counted).toMatchObject({ progress: 2, reward_status: 'GRANTED', spend_minor: 800, orders: 1 });
    expect(counted!.completed_at).not.toBeNull();
    expect(await challengeLedger(h, count.id, member.id)).toEqual([{ delta: 100, reason: 'BONUS' }]);
    expect(await eventsOf(h, 'challenge.completed', member.id)).toHaveLength(1);
  });

  it('counts orders placed in the window only, and not those reaching it more than three days after it closed', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const t = Date.now();
    const ended = await createChallenge(h, admin.auth, { target: 5, startsAt: new Date(t - 20 * DAY).toISOString(), endsAt: new Date(t - 10 * DAY).toISOString() });
    const recent = await createChallenge(h, admin.auth, { target: 5, startsAt: new Date(t - 20 * DAY).toISOString(), endsAt: new Date(t - DAY).toISOString() });
    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id, { placedAt: new Date(t - 15 * DAY) });
    await recordOrder(h, web.auth, member.id, { placedAt: new Date(t - 25 * DAY) });
    await recordOrder(h, web.auth, member.id, { placedAt: new Date(t - 12 * HOUR) });
    expect(await progressOf(h, ended.id, member.id)).toBeUndefined();
    expect(await progressOf(h, recent.id, member.id)).toMatchObject({ progress: 1, orders: 1 });
  });

  it('counts distinct categories across orders', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { goalKind: 'DISTINCT_CATEGORIES', target: 3 });
    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id, { lines: [{ sku: 'TEA-1', category: 'Tea' }, { sku: 'MUG-1', category: 'Mugs' }] });
    await recordOrder(h, web.auth, member.id, { lines: [{ sku: 'TEA-2', category: 'Tea' }] });
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 2, completed_at: null });
    await recordOrder(h, web.auth, member.id, { lines: [{ sku: 'CAKE-1', category: 'Cakes' }] });
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 3, reward_status: 'GRANTED' });
  });

  it('sets a PERSONAL_PLUS goal from the member’s own usual per window when they join, never below the target', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const start = Date.now() - DAY;
    const regular = await b.member().save();
    const frequent = await b.member().save();
    const newcomer = await b.member().save();
    // Four weeks before the start: the regular shops twice a week (8 orders), the frequent one five times (20).
    for (let i = 0; i < 8; i++) await recordOrder(h, web.auth, regular.id, { placedAt: new Date(start - (i * 3 + 1) * DAY) });
    for (let i = 0; i < 20; i++) await recordOrder(h, web.auth, frequent.id, { placedAt: new Date(start - (i + 1) * 26 * HOUR) });
    // Long before the lookback: not their usual.
    await recordOrder(h, web.auth, newcomer.id, { placedAt: new Date(start - 60 * DAY) });

    const challenge = await createChallenge(h, admin.auth, {
      target: 2,
      personalisation: 'PERSONAL_PLUS',
      personalDelta: 1,
      personalLookbackWeeks: 4,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 7 * DAY).toISOString(),
    });
    for (const m of [regular, frequent, newcomer]) await recordOrder(h, web.auth, m.id);
    expect(await progressOf(h, challenge.id, regular.id)).toMatchObject({ goal: 3, progress: 1 });
    expect(await progressOf(h, challenge.id, frequent.id)).toMatchObject({ goal: 6, progress: 1 });
    expect(await progressOf(h, challenge.id, newcomer.id)).toMatchObject({ goal: 2, progress: 1 });

    // The goal was fixed when they joined: orders since do not move it, and the regular completes on the third.
    await recordOrder(h, web.auth, regular.id);
    await recordOrder(h, web.auth, regular.id);
    const row = await progressOf(h, challenge.id, regular.id);
    expect(row).toMatchObject({ goal: 3, progress: 3, reward_status: 'GRANTED' });
  });

  it('counts only members of the audience segment', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const seg = await h.gql(admin.auth, `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
      input: { name: 'British members', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'GB' } },
    });
    expect(seg.errors).toBeUndefined();
    const challenge = await createChallenge(h, admin.auth, { target: 1, audienceSegmentId: seg.data.createSegment.id });
    const british = await b.member().inCountry('GB').save();
    const french = await b.member().inCountry('FR').save();
    await recordOrder(h, web.auth, british.id);
    await recordOrder(h, web.auth, french.id);
    expect((await progressRows(h, challenge.id)).map((r) => r.member_id)).toEqual([british.id]);
    expect(await challengeLedger(h, challenge.id, british.id)).toHaveLength(1);
    expect(await challengeLedger(h, challenge.id, french.id)).toEqual([]);
  });

  it('tracks held-out members without rewarding them, and compares the spend of both groups', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 2, holdoutPercent: 50, reward: { kind: 'BADGE', badgeCode: 'regular', badgeName: 'Regular' } });
    const members = [];
    for (let i = 0; i < 16; i++) members.push(await b.member().save());
    for (const [i, m] of members.entries()) {
      await recordOrder(h, web.auth, m.id, { lines: [{ unitPriceMinor: 1000 + i * 100 }] });
      await recordOrder(h, web.auth, m.id, { lines: [{ unitPriceMinor: 500 }] });
    }
    const rows = await progressRows(h, challenge.id);
    const held = rows.filter((r) => r.is_holdout);
    const treated = rows.filter((r) => !r.is_holdout);
    expect(held.length).toBeGreaterThan(0);
    expect(treated.length).toBeGreaterThan(0);
    for (const r of held) expect(r).toMatchObject({ progress: 2, completed_at: null, reward_status: null });
    for (const r of treated) expect(r).toMatchObject({ progress: 2, reward_status: 'GRANTED' });
    expect(await h.sql(`select member_id from challenge_badge where code = 'regular' order by member_id`)).toEqual(treated.map((r) => ({ member_id: r.member_id })));

    const analyst = await b.admin(AdminRole.ANALYST);
    const res = await h.gql(analyst.auth, CHALLENGE_RESULTS, { id: challenge.id });
    expect(res.errors).toBeUndefined();
    const spendOf = (list: typeof rows) => list.reduce((s, r) => s + r.spend_minor, 0);
    // The audience is everyone active (the members of this file's other tests too), split by the same hash.
    const everyone = (await h.sql<{ id: string }>(`select id from member where status = 'ACTIVE'`)).map((m) => m.id);
    const heldAudience = everyone.filter((id) => isInHoldout(challenge.id, id, 50)).length;
    const r = res.data.challenge.results;
    expect(r).toMatchObject({
      joined: treated.length,
      completed: treated.length,
      completionRate: 1,
      holdoutMembers: held.length,
      audienceMembers: everyone.length,
      audienceHoldoutMembers: heldAudience,
      currency: 'GBP',
      participantSpendMinor: spendOf(treated),
      holdoutSpendMinor: spendOf(held),
      rewardsUnavailable: 0,
    });
    expect(r.incrementalSpendPerMemberMinor).toBeCloseTo(spendOf(treated) / (everyone.length - heldAudience) - spendOf(held) / heldAudience, 6);
  });
});

describe('challenges.progress: streaks across days, weeks and time zones', () => {
  const june = (iso: string) => new Date(`2026-06-${iso}Z`);
  const window = { startsAt: '2026-06-01T00:00:00Z', endsAt: '2026-07-01T00:00:00Z' };

  it('23:30 and 00:30 in London are two days (one UTC day): a 2-day streak completes in Europe/London, not in UTC', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    now = june('12T12:00:00');
    const member = await b.member().save();

    await b.settings({ timeZone: 'Europe/London' });
    const london = await createChallenge(h, admin.auth, { goalKind: 'STREAK_DAYS', target: 2, ...window });
    // 22:30Z is 23:30 BST on the 10th; 23:30Z is 00:30 BST on the 11th.
    await recordOrder(h, web.auth, member.id, { placedAt: june('10T22:30:00') });
    await recordOrder(h, web.auth, member.id, { placedAt: june('10T23:30:00') });
    expect(await progressOf(h, london.id, member.id)).toMatchObject({ progress: 2, reward_status: 'GRANTED' });

    // The same two moments in a UTC programme fall on one day.
    await b.settings({ timeZone: 'UTC' });
    const utc = await createChallenge(h, admin.auth, { goalKind: 'STREAK_DAYS', target: 2, ...window });
    const other = await b.member().save();
    await recordOrder(h, web.auth, other.id, { placedAt: june('10T22:30:00') });
    await recordOrder(h, web.auth, other.id, { placedAt: june('10T23:30:00') });
    expect(await progressOf(h, utc.id, other.id)).toMatchObject({ progress: 1, completed_at: null });
    // The next UTC day continues it.
    await recordOrder(h, web.auth, other.id, { placedAt: june('11T08:00:00') });
    expect(await progressOf(h, utc.id, other.id)).toMatchObject({ progress: 2, reward_status: 'GRANTED' });
    await b.settings({ timeZone: 'UTC' });
  });

  it('needs consecutive days: a gap restarts the run, and the longest run counts, whatever the order events arrive in', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    now = june('20T12:00:00');
    await b.settings({ timeZone: 'Asia/Tokyo' });
    const challenge = await createChallenge(h, admin.auth, { goalKind: 'STREAK_DAYS', target: 3, ...window });
    const member = await b.member().save();
    // Tokyo days 2, 3, then 5, 6 (a day missed): two runs of two.
    for (const at of ['02T03:00:00', '05T01:00:00', '03T14:59:00', '06T14:59:59']) await recordOrder(h, web.auth, member.id, { placedAt: june(at) });
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 2, completed_at: null });
    // 15:00Z on the 3rd is the 4th in Tokyo: the gap is filled, and the run is five days.
    await recordOrder(h, web.auth, member.id, { placedAt: june('03T15:00:00') });
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 5, reward_status: 'GRANTED' });
    await b.settings({ timeZone: 'UTC' });
  });

  it('counts weeks from Monday in the programme’s time zone, and activities of its type only when one is set', async () => {
    const admin = await b.admin();
    now = june('20T12:00:00');
    await b.settings({ timeZone: 'Europe/London' });
    const weeks = await createChallenge(h, admin.auth, { goalKind: 'STREAK_WEEKS', target: 2, activityType: 'store_visit', ...window });
    const member = await b.member().save();
    const ctx = b.ctx();
    // Sunday 14 June 23:30 BST, then Monday 00:30 BST: two London weeks, one UTC week.
    await recordActivity(h, ctx, { memberId: member.id, type: 'store_visit', key: `w-${member.id}-1`, occurredAt: june('14T22:30:00') });
    await recordActivity(h, ctx, { memberId: member.id, type: 'review_written', key: `w-${member.id}-2`, occurredAt: june('21T10:00:00') });
    expect(await progressOf(h, weeks.id, member.id)).toMatchObject({ progress: 1 });
    // An order does not make a streak of store visits.
    await recordOrder(h, await b.apiKey().then((k) => k.auth), member.id, { placedAt: june('15T09:00:00') });
    expect(await progressOf(h, weeks.id, member.id)).toMatchObject({ progress: 1, orders: 1 });
    await recordActivity(h, ctx, { memberId: member.id, type: 'store_visit', key: `w-${member.id}-3`, occurredAt: june('14T23:30:00') });
    expect(await progressOf(h, weeks.id, member.id)).toMatchObject({ progress: 2, reward_status: 'GRANTED' });
    await b.settings({ timeZone: 'UTC' });
  });
});

describe('challenges.progress: activities', () => {
  it('completes an ACTIVITY_COUNT challenge once, with one badge, when 20 activities arrive at once', async () => {
    const admin = await b.admin();
    const challenge = await createChallenge(h, admin.auth, {
      goalKind: 'ACTIVITY_COUNT',
      activityType: 'review_written',
      target: 5,
      reward: { kind: 'BADGE', badgeCode: 'critic', badgeName: 'Critic' },
    });
    const member = await b.member().save();
    const ctx = () => b.ctx();
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordActivity(h, ctx(), { memberId: member.id, type: 'review_written', key: `a-${member.id}-${i}` })));

    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 5, reward_status: 'GRANTED' });
    const badges = await h.sql(`select id, code, name, challenge_id from challenge_badge where member_id = ?`, [member.id]);
    expect(badges).toEqual([{ id: expect.any(String), code: 'critic', name: 'Critic', challenge_id: challenge.id }]);
    const awarded = await eventsOf(h, 'badge.awarded', member.id);
    expect(awarded.map((e) => e.payload)).toEqual([expect.objectContaining({ badgeId: badges[0].id, badgeCode: 'critic', challengeId: challenge.id })]);
    expect(await eventsOf(h, 'challenge.completed', member.id)).toHaveLength(1);
  });

  it('counts one activity replayed 50 times once', async () => {
    const admin = await b.admin();
    const challenge = await createChallenge(h, admin.auth, { goalKind: 'ACTIVITY_COUNT', activityType: 'app_check_in', target: 3 });
    const member = await b.member().save();
    const ids = await Promise.all(Array.from({ length: 50 }, () => recordActivity(h, b.ctx(), { memberId: member.id, type: 'app_check_in', key: `r-${member.id}` })));
    expect(new Set(ids).size).toBe(1);
    expect(await progressOf(h, challenge.id, member.id)).toMatchObject({ progress: 1, completed_at: null });
  });

  it('gives a badge once: a second challenge with the same badge completes without a second one', async () => {
    const admin = await b.admin();
    const reward = { kind: 'BADGE', badgeCode: 'explorer', badgeName: 'Explorer' };
    const first = await createChallenge(h, admin.auth, { goalKind: 'ACTIVITY_COUNT', activityType: 'store_visit', target: 1, reward });
    const second = await createChallenge(h, admin.auth, { goalKind: 'ACTIVITY_COUNT', activityType: 'store_visit', target: 2, reward });
    const member = await b.member().save();
    await recordActivity(h, b.ctx(), { memberId: member.id, type: 'store_visit', key: `b-${member.id}-1` });
    await recordActivity(h, b.ctx(), { memberId: member.id, type: 'store_visit', key: `b-${member.id}-2` });
    const [badge] = await h.sql(`select id, challenge_id from challenge_badge where member_id = ?`, [member.id]);
    expect(badge.challenge_id).toBe(first.id);
    expect(await progressOf(h, second.id, member.id)).toMatchObject({ reward_status: 'GRANTED' });
    expect((await h.sql(`select reward_ref from challenge_progress where member_id = ? order by reward_ref`, [member.id])).map((r) => r.reward_ref)).toEqual([badge.id, badge.id]);
    expect(await eventsOf(h, 'badge.awarded', member.id)).toHaveLength(1);
    expect(await eventsOf(h, 'challenge.completed', member.id)).toHaveLength(2);
  });
});

describe('challenges.progress: catalogue rewards', () => {
  const UPSERT_REWARD = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;

  it('grants a catalogue reward for 0 points, and records the completion as REWARD_UNAVAILABLE when it cannot be given', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const upsert = async (code: string, isActive: boolean) => {
      const res = await h.gql(admin.auth, UPSERT_REWARD, { input: { code, name: `Free coffee ${code}`, kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 300, isActive } });
      expect(res.errors).toBeUndefined();
      return res.data.upsertReward.id as string;
    };
    const coffee = await upsert(`COFFEE-${Date.now()}`, true);
    const retired = await upsert(`RETIRED-${Date.now()}`, false);
    const granted = await createChallenge(h, admin.auth, { target: 1, reward: { kind: 'REWARD', rewardId: coffee } });
    const unavailable = await createChallenge(h, admin.auth, { target: 1, reward: { kind: 'REWARD', rewardId: retired } });
    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id);

    const [redemption] = await h.sql(`select id, points, granted_by from redemption where member_id = ?`, [member.id]);
    expect(redemption).toMatchObject({ points: 0, granted_by: `challenge:${granted.code}` });
    expect(await progressOf(h, granted.id, member.id)).toMatchObject({ reward_status: 'GRANTED' });
    const failed = await progressOf(h, unavailable.id, member.id);
    expect(failed).toMatchObject({ reward_status: 'REWARD_UNAVAILABLE' });
    expect(failed!.completed_at).not.toBeNull();
    const events = (await eventsOf(h, 'challenge.completed', member.id)).map((e) => e.payload);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ challengeId: granted.id, rewardStatus: 'GRANTED', rewardRef: redemption.id }),
        expect.objectContaining({ challengeId: unavailable.id, rewardStatus: 'REWARD_UNAVAILABLE', rewardRef: null }),
      ]),
    );
  });
});

const HOUR = 3_600_000;
