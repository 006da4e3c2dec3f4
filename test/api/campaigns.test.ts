import { randomUUID } from 'node:crypto';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, SalesChannelKind } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, orderInput, ledgerCheck } from '../support/orders';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import { holdoutGroup } from '../../api/src/modules/campaigns/holdout';
import { CampaignGroup } from '../../api/src/modules/campaigns/campaign.entity';
import type { RecordOrderInput } from '../../api/src/modules/orders/order.types';
import { LINK_EXISTING_LOTS } from '../../api/src/composition/migrations/Migration20261219100000_lot_order';

const h = useHarness({ CAMPAIGNS_SWEEP_MS: '0' });
const b = build(h);

const FIELDS = `id name status actionKind holdoutShare budgetPoints spentPoints startsAt endsAt treatedCount holdoutCount launchedAt cancelledAt
  bonus { fixedPoints multiplierPercent } offer { kind rewardId discountPercent recommendationCount } message { medium subject body }`;
const CREATE = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation U($input: UpdateCampaignInput!) { updateCampaign(input: $input) { ${FIELDS} } }`;
const LAUNCH = `mutation L($id: ID!) { launchCampaign(id: $id) { ${FIELDS} counts { treated holdout contacted bonused messagesPending } } }`;
const CANCEL = `mutation X($id: ID!) { cancelCampaign(id: $id) { id status cancelledAt } }`;
const LIST = `query Q($status: CampaignStatus, $first: Int!, $after: String) { campaigns(status: $status, first: $first, after: $after) {
  totalCount edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`;
const RESULTS = `query R($id: ID!) { campaign(id: $id) { id status results {
  windowStart windowEnd currency significant verdict incrementalBuyers incrementalRevenueMinor
  treated { group members buyers purchaseRate revenueMinor revenuePerMemberMinor pointsCost pointsCostPerMember }
  holdout { group members buyers purchaseRate revenueMinor revenuePerMemberMinor pointsCost pointsCostPerMember }
  purchaseRateUplift { difference low high standardError degreesOfFreedom significant }
  revenuePerMemberUplift { difference low high standardError degreesOfFreedom significant }
  pointsCostPerMemberUplift { difference low high standardError degreesOfFreedom significant } } } }`;

let admin: { token: string };
let marketer: { token: string };
let analyst: { token: string };
let channelId: string;
let countryCounter = 0;

/** A fresh two-letter country code per test, so each test's DYNAMIC segment holds only its own members. */
function freshCountry(): string {
  const n = countryCounter++;
  return `Q${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n % 26]}`;
}

async function segmentOf(country: string, kind = SegmentKind.DYNAMIC) {
  return h.app.services.segments.create(b.ctx(), { name: `campaign test ${country} ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: country }, kind });
}

/** Members straight into the table: the statistics tests need thousands, and enrolment rules are not under test. */
async function insertMembers(country: string, ids: string[]) {
  await h.sql(
    `insert into member (id, status, country, enrolment_channel, enrolled_at, updated_at)
     select x::uuid, 'ACTIVE', ?, 'WEB', now(), now() from jsonb_array_elements_text(?::jsonb) as x`,
    [country, JSON.stringify(ids)],
  );
}

async function members(country: string, n: number, consent?: [ConsentMedium, boolean]) {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let builder = b.member().inCountry(country);
    if (consent) builder = builder.withConsent(...consent);
    out.push((await builder.save()).id);
  }
  return out;
}

function bonusInput(segmentId: string, extra: Record<string, unknown> = {}) {
  return { name: `Bonus ${randomUUID().slice(0, 8)}`, segmentId, bonus: { fixedPoints: 50 }, holdoutShare: 0, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString(), ...extra };
}

async function createAndLaunch(auth: { token: string }, input: Record<string, unknown>) {
  const created = await h.gql(auth, CREATE, { input });
  expect(created.errors).toBeUndefined();
  const launched = await h.gql(auth, LAUNCH, { id: created.data.createCampaign.id });
  expect(launched.errors).toBeUndefined();
  return launched.data.launchCampaign;
}

async function recordOrder(memberId: string, unitPriceMinor = 2000) {
  const input = orderInput(memberId, [{ unitPriceMinor }], { channelId });
  return h.app.services.orders.record(b.ctx(), { ...input, placedAt: new Date(input.placedAt) } as unknown as RecordOrderInput);
}

beforeAll(async () => {
  admin = await b.admin(AdminRole.ADMIN);
  marketer = await b.admin(AdminRole.MARKETER);
  analyst = await b.admin(AdminRole.ANALYST);
  channelId = (await b.channel(SalesChannelKind.WEB)).id;
  await b.baseRate(); // 1 point per £1
});

describe('launchCampaign', () => {
  it('assigns every active segment member once, records campaign.launched with the counts, and starts an open window at once', async () => {
    const country = freshCountry();
    const ids = await members(country, 6);
    const segment = await segmentOf(country);
    const launched = await createAndLaunch(marketer, bonusInput(segment.id, { holdoutShare: 0.5 }));
    expect(launched.status).toBe('ACTIVE');
    expect(launched.treatedCount + launched.holdoutCount).toBe(6);
    expect(new Date(launched.startsAt).getTime()).toBeGreaterThanOrEqual(new Date(launched.launchedAt).getTime());
    const rows = await h.sql<{ member_id: string; assigned_group: string }>(`select member_id, assigned_group from campaign_member where campaign_id = ? order by member_id`, [launched.id]);
    expect(rows.map((r) => r.member_id)).toEqual([...ids].sort());
    for (const r of rows) expect(r.assigned_group).toBe(holdoutGroup(launched.id, r.member_id, 0.5));
    const events = await h.sql<{ payload: Record<string, unknown> }>(`select payload from event_outbox where type = 'campaign.launched' and payload->>'campaignId' = ?`, [launched.id]);
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({ segmentId: segment.id, actionKind: 'BONUS_POINTS', targetedMembers: 6, holdoutMembers: launched.holdoutCount, budgetPoints: null });
  });

  it('a launch that fails leaves the draft with no members, no event and no audit row', async () => {
    const country = freshCountry();
    await members(country, 3);
    const segment = await segmentOf(country);
    const created = await h.gql(marketer, CREATE, { input: bonusInput(segment.id) });
    const id = created.data.createCampaign.id;
    // The failure comes after the member insert and the event insert: both must roll back with it.
    await h.sql(`create or replace function test_fail_launch() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await h.sql(`create trigger test_fail_launch before insert on audit_entry for each row when (new.action = 'campaign.launch') execute function test_fail_launch()`);
    try {
      const res = await h.gql(marketer, LAUNCH, { id });
      expectError(res, 'INTERNAL_SERVER_ERROR');
    } finally {
      await h.sql(`drop trigger test_fail_launch on audit_entry`);
    }
    expect(await h.sql(`select 1 from campaign_member where campaign_id = ?`, [id])).toHaveLength(0);
    expect(await h.sql(`select 1 from event_outbox where type = 'campaign.launched' and payload->>'campaignId' = ?`, [id])).toHaveLength(0);
    const [row] = await h.sql(`select status, launched_at from campaign where id = ?`, [id]);
    expect(row).toEqual({ status: 'DRAFT', launched_at: null });
    // And it launches once the fault is gone.
    const retried = await h.gql(marketer, LAUNCH, { id });
    expect(retried.data.launchCampaign.treatedCount).toBe(3);
  });

  it('a scheduled campaign contacts nobody until its start, then the runner starts it', async () => {
    const country = freshCountry();
    await members(country, 2, [ConsentMedium.SMS, true]);
    const segment = await segmentOf(country);
    const startsAt = new Date(Date.now() + 3_600_000);
    const launched = await createAndLaunch(marketer, { name: 'Later', segmentId: segment.id, message: { medium: 'SMS', body: 'Hello' }, holdoutShare: 0, startsAt: startsAt.toISOString() });
    expect(launched.status).toBe('SCHEDULED');
    expect(launched.counts).toMatchObject({ treated: 2, contacted: 0, messagesPending: 0 });
    await h.app.services.campaigns.sweep(h.em(), new Date(Date.now() + 1000));
    expect(await h.sql(`select 1 from campaign_message where campaign_id = ?`, [launched.id])).toHaveLength(0);
    await h.app.services.campaigns.sweep(h.em(), new Date(startsAt.getTime() + 1000));
    const sent = await h.sql<{ status: string }>(`select status from campaign_message where campaign_id = ?`, [launched.id]);
    expect(sent.map((r) => r.status)).toEqual(['SENT', 'SENT']);
  });
});

describe('bonus points', () => {
  it('adds the bonus to an order as its own ledger row, shown in pointsBreakdown', async () => {
    const country = freshCountry();
    const [member] = await members(country, 1);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id, { bonus: { multiplierPercent: 300 } }));
    const key = await b.apiKey();
    const res = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member, [{ unitPriceMinor: 2000 }]) });
    expect(res.errors).toBeUndefined();
    // £20 at 1 point per £1 is 20 points; 300% makes the extra 40.
    expect(res.data.recordOrder.pointsEarned).toBe(60);
    expect(res.data.recordOrder.pointsBreakdown.map((x: any) => [x.kind, x.ruleId, x.points])).toEqual([
      ['BASE_RATE', expect.any(String), 20],
      ['CAMPAIGN_BONUS', campaign.id, 40],
    ]);
    const rows = await h.sql(`select reason, pending_delta::int as pending_delta, source_type from ledger_entry where member_id = ? order by created_at, id`, [member]);
    expect(rows).toEqual([
      { reason: 'ORDER_EARN', pending_delta: 20, source_type: 'order' },
      { reason: 'ORDER_EARN', pending_delta: 40, source_type: 'campaign' },
    ]);
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it("claws a returned order's bonus back from the bonus's own lot, never from the member's other points", async () => {
    const country = freshCountry();
    const [member] = await members(country, 1);
    const segment = await segmentOf(country);
    await createAndLaunch(marketer, bonusInput(segment.id, { bonus: { multiplierPercent: 300 } }));
    const key = await b.apiKey();
    // Two lines of £10: 20 base points and 40 bonus, two pending lots of the order.
    const order = (await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member, [{ unitPriceMinor: 1000 }, { unitPriceMinor: 1000 }]) })).data.recordOrder;
    expect(order.pointsEarned).toBe(60);
    const lots = () => h.sql<{ source_type: string; remaining: number; state: string }>(`select source_type, remaining, state from point_lot where member_id = ? order by source_type`, [member]);
    expect(await lots()).toEqual([
      { source_type: 'campaign', remaining: 40, state: 'PENDING' },
      { source_type: 'order', remaining: 20, state: 'PENDING' },
    ]);
    // Half returned: 30 points, the order's own lot first, then the bonus's.
    const half = await h.gql(key.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'half', lines: [{ lineNo: 1, quantity: 1 }] } });
    expect(half.errors).toBeUndefined();
    expect(half.data.recordReturn.pointsClawedBack).toBe(30);
    expect(await lots()).toEqual([
      { source_type: 'campaign', remaining: 30, state: 'PENDING' },
      { source_type: 'order', remaining: 0, state: 'PENDING' },
    ]);
    // The rest: the bonus's lot is emptied, and the balance owes nothing, as nothing was spent (returns after spending:
    // ledger.test.ts).
    const rest = await h.gql(key.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'rest' } });
    expect(rest.data.recordReturn.pointsClawedBack).toBe(30);
    expect(await lots()).toEqual([
      { source_type: 'campaign', remaining: 0, state: 'PENDING' },
      { source_type: 'order', remaining: 0, state: 'PENDING' },
    ]);
    const [balance] = await h.sql(`select available::int, pending::int, lifetime::int from member_balance where member_id = ?`, [member]);
    expect(balance).toEqual({ available: 0, pending: 0, lifetime: 0 });
    const clawbacks = await h.sql(`select pending_delta::int, available_delta::int from ledger_entry where member_id = ? and reason = 'RETURN_CLAWBACK' order by created_at, id`, [member]);
    expect(clawbacks).toEqual([{ pending_delta: -30, available_delta: 0 }, { pending_delta: -30, available_delta: 0 }]);

    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it('links the lots written before lots named their order (the migration): an order\'s own by its source, a bonus by its ledger key', async () => {
    const country = freshCountry();
    const [member] = await members(country, 1);
    const segment = await segmentOf(country);
    await createAndLaunch(marketer, bonusInput(segment.id));
    const order = await recordOrder(member);
    const linked = () => h.sql<{ source_type: string; order_id: string | null }>(`select source_type, order_id from point_lot where member_id = ? order by source_type`, [member]);
    const now = await linked();
    expect(now).toEqual([{ source_type: 'campaign', order_id: order.id }, { source_type: 'order', order_id: order.id }]);
    await h.sql(`update point_lot set order_id = null where member_id = ?`, [member]);
    for (const sql of LINK_EXISTING_LOTS) await h.sql(sql);
    expect(await linked()).toEqual(now);
    // Not a bonus of another member's order, nor a lot whose key names no order.
    const [other] = await members(country, 1);
    await h.sql(`update point_lot set order_id = null where member_id = ?`, [member]);
    await h.sql(`update customer_order set member_id = ? where id = ?`, [other, order.id]);
    for (const sql of LINK_EXISTING_LOTS) await h.sql(sql);
    expect(await linked()).toEqual([{ source_type: 'campaign', order_id: null }, { source_type: 'order', order_id: order.id }]);
    await h.sql(`update customer_order set member_id = ? where id = ?`, [member, order.id]);
  });

  it('never exceeds the budget under 30 concurrent orders: exactly 10 bonuses of 50 from a budget of 500', async () => {
    const country = freshCountry();
    const ids = await members(country, 30);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id, { budgetPoints: 500 }));
    const key = await b.apiKey();
    const results = await Promise.all(ids.map((id) => h.gql(key.auth, RECORD_ORDER, { input: orderInput(id, [{ unitPriceMinor: 1000 }]) })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const bonused = results.filter((r) => r.data.recordOrder.pointsBreakdown.some((x: any) => x.kind === 'CAMPAIGN_BONUS'));
    expect(bonused).toHaveLength(10);
    const [ledger] = await h.sql(`select count(*)::int as n, sum(pending_delta + available_delta)::int as points from ledger_entry where source_type = 'campaign' and source_id = ?`, [campaign.id]);
    expect(ledger).toEqual({ n: 10, points: 500 });
    const [spent] = await h.sql(`select spent_points::int as spent_points, (select sum(bonus_points)::int from campaign_member where campaign_id = c.id) as per_member from campaign c where id = ?`, [campaign.id]);
    expect(spent).toEqual({ spent_points: 500, per_member: 500 });
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it('gives the last order what is left of the budget, and nothing after', async () => {
    const country = freshCountry();
    const ids = await members(country, 3);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id, { budgetPoints: 70 }));
    const orders = [];
    for (const id of ids) orders.push(await recordOrder(id));
    expect(orders.map((o) => o.pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')?.points ?? 0)).toEqual([50, 20, 0]);
    expect(orders[1].pointsBreakdown.at(-1)?.label).toMatch(/budget reached/);
    const [row] = await h.sql(`select spent_points::int as spent_points from campaign where id = ?`, [campaign.id]);
    expect(row.spent_points).toBe(70);
  });

  it('gives holdout members no bonus', async () => {
    const country = freshCountry();
    const ids = await members(country, 12);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id, { holdoutShare: 0.5 }));
    const groups = await h.sql<{ member_id: string; assigned_group: string }>(`select member_id, assigned_group from campaign_member where campaign_id = ?`, [campaign.id]);
    const holdout = groups.filter((g) => g.assigned_group === 'HOLDOUT').map((g) => g.member_id);
    const treated = groups.filter((g) => g.assigned_group === 'TREATED').map((g) => g.member_id);
    expect(holdout.length).toBeGreaterThan(0);
    expect(treated.length).toBeGreaterThan(0);
    for (const id of ids) {
      const order = await recordOrder(id);
      const bonus = order.pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')?.points ?? 0;
      expect([id, bonus]).toEqual([id, holdout.includes(id) ? 0 : 50]);
    }
    const [ledger] = await h.sql(`select count(*)::int as n from ledger_entry where source_type = 'campaign' and source_id = ? and member_id in (select x::uuid from jsonb_array_elements_text(?::jsonb) x)`, [campaign.id, JSON.stringify(holdout)]);
    expect(ledger.n).toBe(0);
  });

  it('stops at cancel and ignores orders outside the window', async () => {
    const country = freshCountry();
    const [a, c] = await members(country, 2);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id));
    const before = await h.app.services.orders.record(b.ctx(), { ...orderInput(a, [{}], { channelId }), placedAt: new Date(Date.now() - 3_600_000) } as unknown as RecordOrderInput);
    expect(before.pointsBreakdown.some((x) => x.kind === 'CAMPAIGN_BONUS')).toBe(false);
    const cancelled = await h.gql(marketer, CANCEL, { id: campaign.id });
    expect(cancelled.data.cancelCampaign.status).toBe('CANCELLED');
    const after = await recordOrder(c);
    expect(after.pointsBreakdown.some((x) => x.kind === 'CAMPAIGN_BONUS')).toBe(false);
  });
});

describe('holdout assignment', () => {
  it('holds out the configured share of 2000 members, the same members every time, and others under another campaign', async () => {
    const country = freshCountry();
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    await insertMembers(country, ids);
    const segment = await segmentOf(country);
    const first = await createAndLaunch(marketer, { name: 'Share A', segmentId: segment.id, message: { medium: 'PUSH', body: 'Hi' }, holdoutShare: 0.2, startsAt: new Date().toISOString() });
    const second = await createAndLaunch(marketer, { name: 'Share B', segmentId: segment.id, message: { medium: 'PUSH', body: 'Hi' }, holdoutShare: 0.2, startsAt: new Date().toISOString() });
    // Binomial(2000, 0.2): mean 400, sd √(2000·0.2·0.8) = 17.9; 4 sd is ±71.6, so 329..471 (a chance of about 6e-5 to fail).
    for (const c of [first, second]) {
      expect(c.treatedCount + c.holdoutCount).toBe(2000);
      expect(c.holdoutCount).toBeGreaterThanOrEqual(329);
      expect(c.holdoutCount).toBeLessThanOrEqual(471);
    }
    const groupsOf = async (id: string) =>
      new Map((await h.sql<{ member_id: string; assigned_group: string }>(`select member_id, assigned_group from campaign_member where campaign_id = ?`, [id])).map((r) => [r.member_id, r.assigned_group]));
    const a = await groupsOf(first.id);
    const bGroups = await groupsOf(second.id);
    // Stable: the stored group is the deterministic hash of (campaign id, member id), recomputed here.
    for (const id of ids) expect(a.get(id)).toBe(holdoutGroup(first.id, id, 0.2));
    // Another campaign draws its own holdout: if independent, about 2·0.2·0.8 = 32% (640) of members differ.
    const differing = ids.filter((id) => a.get(id) !== bGroups.get(id)).length;
    expect(differing).toBeGreaterThan(400);
    // Messages go to treated members only (PUSH needs consent, which none of these members gave).
    const [msgs] = await h.sql(`select count(*)::int as n from campaign_message where campaign_id = ?`, [first.id]);
    expect(msgs.n).toBe(0);
  });
});

describe('messages', () => {
  it('writes one outbox row per treated member who consents to the medium, and none for the others', async () => {
    const country = freshCountry();
    const yes = await members(country, 3, [ConsentMedium.EMAIL, true]);
    const no = await members(country, 2, [ConsentMedium.EMAIL, false]);
    const none = await members(country, 2);
    const smsOnly = await members(country, 1, [ConsentMedium.SMS, true]);
    const segment = await segmentOf(country);
    const launched = await createAndLaunch(marketer, { name: 'Mail', segmentId: segment.id, message: { medium: 'EMAIL', subject: 'Hi', body: 'Double points this week' }, holdoutShare: 0, startsAt: new Date().toISOString() });
    expect(launched.counts).toMatchObject({ treated: 8, contacted: 3, messagesPending: 3 });
    const rows = await h.sql<{ member_id: string; status: string }>(`select member_id, status from campaign_message where campaign_id = ? order by member_id`, [launched.id]);
    expect(rows.map((r) => r.member_id)).toEqual([...yes].sort());
    for (const id of [...no, ...none, ...smsOnly]) expect(rows.some((r) => r.member_id === id)).toBe(false);

    // Consent withdrawn after launch: skipped at delivery, never sent.
    await h.app.services.members.update(b.ctx(), { id: yes[0], consents: [{ medium: ConsentMedium.EMAIL, isGranted: false }] } as never);
    const delivered: string[] = [];
    h.app.services.campaigns.useDeliveryAdapter({ name: 'test', deliver: async (m) => void delivered.push(m.memberId) });
    const report = await h.app.services.campaigns.sweep(h.em());
    expect(report.messages).toMatchObject({ sent: 2, skipped: 1 });
    expect(delivered.sort()).toEqual([yes[1], yes[2]].sort());
  });
});

describe('results', () => {
  it('computes purchase rate, revenue and points cost uplift with 95% intervals as worked out by hand', async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const created = await h.gql(marketer, CREATE, { input: { ...bonusInput(segment.id), bonus: { fixedPoints: 100 }, holdoutShare: 0.5 } });
    const campaignId = created.data.createCampaign.id;
    // Members chosen so that exactly 10 hash into each group of this campaign.
    const treated: string[] = [];
    const holdout: string[] = [];
    while (treated.length < 10 || holdout.length < 10) {
      const id = randomUUID();
      const group = holdoutGroup(campaignId, id, 0.5) === CampaignGroup.TREATED ? treated : holdout;
      if (group.length < 10) group.push(id);
    }
    await insertMembers(country, [...treated, ...holdout]);
    const launched = await h.gql(marketer, LAUNCH, { id: campaignId });
    expect(launched.data.launchCampaign).toMatchObject({ treatedCount: 10, holdoutCount: 10 });

    // Before any order: nothing to compare, and it says so.
    const empty = (await h.gql(analyst, RESULTS, { id: campaignId })).data.campaign.results;
    expect(empty).toMatchObject({ significant: false, purchaseRateUplift: null, revenuePerMemberUplift: null });
    expect(empty.verdict).toMatch(/^No uplift can be measured yet: .*let it run longer or target more members\.$/);
    // No interval was estimated, so none can be said to include zero.
    expect(empty.verdict).not.toMatch(/include zero|No significant difference/);

    // Treated: 6 of 10 buy, for £30, £20, £20, £10, £10, £10 (100 bonus points each). Holdout: 2 of 10, £20 and £10.
    for (const [i, price] of [3000, 2000, 2000, 1000, 1000, 1000].entries()) await recordOrder(treated[i], price);
    for (const [i, price] of [2000, 1000].entries()) await recordOrder(holdout[i], price);
    const res = await h.gql(analyst, RESULTS, { id: campaignId });
    expect(res.errors).toBeUndefined();
    const r = res.data.campaign.results;
    expect(r.currency).toBe('GBP');
    expect(r.treated).toEqual({ group: 'TREATED', members: 10, buyers: 6, purchaseRate: 0.6, revenueMinor: 10000, revenuePerMemberMinor: 1000, pointsCost: 600, pointsCostPerMember: 60 });
    expect(r.holdout).toEqual({ group: 'HOLDOUT', members: 10, buyers: 2, purchaseRate: 0.2, revenueMinor: 3000, revenuePerMemberMinor: 300, pointsCost: 0, pointsCostPerMember: 0 });

    // Purchase rate: d = 0.6 − 0.2 = 0.4; SE = √(0.6·0.4/10 + 0.2·0.8/10) = √(0.024 + 0.016) = √0.04 = 0.2;
    // 95% CI = 0.4 ± 1.959964·0.2 = 0.4 ± 0.391993 = [0.008007, 0.791993]: excludes 0, significant.
    expect(r.purchaseRateUplift.difference).toBeCloseTo(0.4, 10);
    expect(r.purchaseRateUplift.standardError).toBeCloseTo(0.2, 10);
    expect(r.purchaseRateUplift.low).toBeCloseTo(0.008007, 5);
    expect(r.purchaseRateUplift.high).toBeCloseTo(0.791993, 5);
    expect(r.purchaseRateUplift.significant).toBe(true);
    expect(r.incrementalBuyers).toBeCloseTo(4, 10);

    // Revenue per member: treated values 3000,2000,2000,1000,1000,1000,0,0,0,0 → mean 1000, squared deviations
    // 4e6+1e6+1e6+0+0+0+4·1e6 = 10e6, s² = 10e6/9 = 1,111,111.1. Holdout 2000,1000,0×8 → mean 300, squared deviations
    // 1700²+700²+8·300² = 2,890,000+490,000+720,000 = 4.1e6, s² = 455,555.6. d = 700.
    // SE = √(111,111.1 + 45,555.6) = √156,666.7 = 395.811. Welch df = 156,666.7² / ((111,111.1² + 45,555.6²)/9) = 15.318.
    // t(0.975, 15.318) = 2.1276 (between 2.1314 at 15 and 2.1199 at 16), so CI = 700 ± 842.13 = [−142.13, 1542.13]: includes 0.
    expect(r.revenuePerMemberUplift.difference).toBeCloseTo(700, 8);
    expect(r.revenuePerMemberUplift.standardError).toBeCloseTo(395.8114, 3);
    expect(r.revenuePerMemberUplift.degreesOfFreedom).toBeCloseTo(15.318, 3);
    expect(r.revenuePerMemberUplift.low).toBeCloseTo(-142.13, 1);
    expect(r.revenuePerMemberUplift.high).toBeCloseTo(1542.13, 1);
    expect(r.revenuePerMemberUplift.significant).toBe(false);
    expect(r.incrementalRevenueMinor).toBeCloseTo(7000, 6);

    // Points cost per member: treated 100×6, 0×4 → mean 60, s² = (6·40² + 4·60²)/9 = 2666.7; holdout all 0.
    // SE = √(2666.7/10) = 16.330, df = 9, t(0.975, 9) = 2.262157, CI = 60 ± 36.941 = [23.059, 96.941].
    expect(r.pointsCostPerMemberUplift.difference).toBeCloseTo(60, 8);
    expect(r.pointsCostPerMemberUplift.degreesOfFreedom).toBeCloseTo(9, 8);
    expect(r.pointsCostPerMemberUplift.low).toBeCloseTo(23.059, 2);
    expect(r.pointsCostPerMemberUplift.high).toBeCloseTo(96.941, 2);

    expect(r.significant).toBe(true);
    expect(r.verdict).toMatch(/^The campaign made a significant difference: purchase rate 60\.0% treated vs 20\.0% holdout, \+40\.0 points/);
    // Money as the admin app's tiles write it (£7.00), not "7.00 GBP".
    expect(r.verdict).toContain('revenue per member +£7.00 (95% CI -£1.42 to +£15.42)');
  });

  it("writes the verdict's money in the programme currency's own decimals: yen have none", async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const setCurrency = (code: string) => h.gql(admin, `mutation S($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { pointValueCurrency } }`, { input: { pointValueCurrency: code } });
    expect((await setCurrency('JPY')).errors).toBeUndefined();
    try {
      const created = await h.gql(marketer, CREATE, { input: { ...bonusInput(segment.id), holdoutShare: 0.5 } });
      const campaignId = created.data.createCampaign.id;
      const treated: string[] = [];
      const holdout: string[] = [];
      while (treated.length < 3 || holdout.length < 3) {
        const id = randomUUID();
        const group = holdoutGroup(campaignId, id, 0.5) === CampaignGroup.TREATED ? treated : holdout;
        if (group.length < 3) group.push(id);
      }
      await insertMembers(country, [...treated, ...holdout]);
      expect((await h.gql(marketer, LAUNCH, { id: campaignId })).errors).toBeUndefined();
      // Treated spend ¥900, ¥600, ¥0 (mean ¥500); holdout ¥300, ¥0, ¥0 (mean ¥100): ¥400 more per member, written as the tiles write yen (JP¥).
      for (const [memberId, yen] of [[treated[0], 900], [treated[1], 600], [holdout[0], 300]] as const) {
        const input = orderInput(memberId, [{ unitPriceMinor: yen }], { channelId, currency: 'JPY' });
        await h.app.services.orders.record(b.ctx(), { ...input, placedAt: new Date(input.placedAt) } as unknown as RecordOrderInput);
      }
      const r = (await h.gql(analyst, RESULTS, { id: campaignId })).data.campaign.results;
      expect(r).toMatchObject({ currency: 'JPY', treated: { revenuePerMemberMinor: 500 }, holdout: { revenuePerMemberMinor: 100 } });
      expect(r.verdict).toContain('revenue per member +JP¥400 (95% CI -JP¥594 to +JP¥1,394)');
      expect(r.verdict).not.toMatch(/JPY|4\.00/);
    } finally {
      expect((await setCurrency('GBP')).errors).toBeUndefined();
    }
  });

  it('with no holdout says that uplift cannot be measured', async () => {
    const country = freshCountry();
    const [m] = await members(country, 2);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id));
    await recordOrder(m);
    const r = (await h.gql(analyst, RESULTS, { id: campaign.id })).data.campaign.results;
    expect(r).toMatchObject({ significant: false, purchaseRateUplift: null });
    expect(r.verdict).toMatch(/^No uplift can be measured/);
  });

  it("says of a campaign whose window is over that it cannot be said to have worked, not to let it run longer", async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const created = await h.gql(marketer, CREATE, { input: { ...bonusInput(segment.id), holdoutShare: 0.5 } });
    const id = created.data.createCampaign.id;
    const ids = Array.from({ length: 40 }, () => randomUUID());
    await insertMembers(country, ids);
    expect((await h.gql(marketer, LAUNCH, { id })).errors).toBeUndefined();
    // Nobody has bought yet: no interval, so nothing "includes zero" yet either.
    const before = (await h.gql(analyst, RESULTS, { id })).data.campaign.results;
    expect(before.verdict).toMatch(/^No uplift can be measured yet: .*let it run longer or target more members\.$/);
    // One buyer in each group: intervals that include zero.
    const group = (memberId: string) => holdoutGroup(id, memberId, 0.5);
    await recordOrder(ids.find((m) => group(m) === CampaignGroup.TREATED)!);
    await recordOrder(ids.find((m) => group(m) === CampaignGroup.HOLDOUT)!);
    const running = (await h.gql(analyst, RESULTS, { id })).data.campaign.results;
    expect(running.verdict).toMatch(/^No significant difference yet: .*let it run longer or target more members\.$/);
    expect((await h.gql(marketer, CANCEL, { id })).errors).toBeUndefined();
    const over = (await h.gql(analyst, RESULTS, { id })).data.campaign.results;
    expect(over.significant).toBe(false);
    expect(over.verdict).toMatch(/^No significant difference: .*cannot be said to have worked; telling a difference this size apart needs more members, or a larger holdout, next time\.$/);
    expect(over.verdict).not.toMatch(/run longer/);
  });
});

describe('offers', () => {
  const REDEEM = `mutation R($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }`;

  it('records a discounted reward for treated members only, redeemable once at that cost while the campaign runs', async () => {
    const country = freshCountry();
    // Each member's group is a hash of the campaign and member ids, so both groups need enough members: with 10, all land
    // in one group 2 times in 1,024 (it happened in a CI run); with 30, 2 times in a billion.
    const ids = await members(country, 30);
    for (const id of ids) await h.app.services.points.adjust(b.ctx(), { memberId: id, points: 1000, reason: 'offer test', idempotencyKey: `offer-${id}` });
    const segment = await segmentOf(country);
    const reward = await h.app.services.rewards.upsert(b.ctx(), { code: `OFF-${country}`, name: 'Tote bag', kind: 'FREE_PRODUCT', sku: 'TOTE', costPoints: 300, tierCodes: [], isActive: true } as never);
    const campaign = await createAndLaunch(marketer, { name: 'Tote', segmentId: segment.id, offer: { kind: 'REWARD_DISCOUNT', rewardId: reward.id, discountPercent: 25 }, holdoutShare: 0.5, startsAt: new Date().toISOString() });
    const rows = await h.sql<{ member_id: string; assigned_group: string; offer: any }>(`select member_id, assigned_group, offer from campaign_member where campaign_id = ?`, [campaign.id]);
    const treated = rows.find((r) => r.assigned_group === 'TREATED')!;
    const holdout = rows.find((r) => r.assigned_group === 'HOLDOUT')!;
    expect(treated && holdout).toBeTruthy();
    // 300 points less 25% is 225.
    for (const r of rows) expect([r.member_id, r.offer]).toEqual([r.member_id, r.assigned_group === 'TREATED' ? { rewardId: reward.id, rewardCode: reward.code, discountPercent: 25, costPoints: 225 } : null]);
    const redeem = (memberId: string, key: string) => h.gql(marketer, REDEEM, { input: { memberId, rewardId: reward.id, idempotencyKey: key } });
    expect((await redeem(treated.member_id, 'first')).data.redeemReward.points).toBe(225);
    expect((await redeem(treated.member_id, 'second')).data.redeemReward.points).toBe(300);
    expect((await redeem(holdout.member_id, 'first')).data.redeemReward.points).toBe(300);
    const [used] = await h.sql(`select offer->>'redemptionId' as redemption_id from campaign_member where campaign_id = ? and member_id = ?`, [campaign.id, treated.member_id]);
    expect(used.redemption_id).toEqual(expect.any(String));
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it("records each treated member's top recommendations from the active recommender", async () => {
    const country = freshCountry();
    const [member] = await members(country, 1);
    const segment = await segmentOf(country);
    const versionId = randomUUID();
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    await h.sql(`insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at) values (?, 'RECOMMENDER', 'ACTIVE', 'TEST', '{}', '{}', '{}', 30, now(), now())`, [versionId]);
    for (const [i, sku] of ['MUG', 'LAMP', 'RUG'].entries()) {
      const [p] = await h.sql(`insert into product (id, sku, name, created_at) values (?, ?, ?, now()) on conflict (sku) do update set name = excluded.name returning id`, [randomUUID(), `${country}-${sku}`, sku]);
      await h.sql(`insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat) values (?, ?, ?, ?, ?, 'test', false)`, [versionId, member, i + 1, p.id, 1 - i / 10]);
    }
    const campaign = await createAndLaunch(marketer, { name: 'Recs', segmentId: segment.id, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2 }, holdoutShare: 0, startsAt: new Date().toISOString() });
    const [row] = await h.sql(`select offer, contacted_at from campaign_member where campaign_id = ?`, [campaign.id]);
    expect(row.offer.products.map((p: any) => [p.rank, p.sku])).toEqual([[1, `${country}-MUG`], [2, `${country}-LAMP`]]);
    expect(row.contacted_at).not.toBeNull();
  });
});

describe('message delivery', () => {
  it('retries a failing adapter on each sweep and marks the message FAILED after the last attempt', async () => {
    const country = freshCountry();
    await members(country, 1, [ConsentMedium.SMS, true]);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, { name: 'Flaky', segmentId: segment.id, message: { medium: 'SMS', body: 'Hi' }, holdoutShare: 0, startsAt: new Date().toISOString() });
    let calls = 0;
    h.app.services.campaigns.useDeliveryAdapter({ name: 'broken', deliver: async () => { calls++; throw new Error('provider down'); } });
    const max = h.config.CAMPAIGN_MESSAGE_MAX_ATTEMPTS;
    for (let i = 0; i < max + 1; i++) await h.app.services.campaigns.sweep(h.em());
    const [row] = await h.sql(`select status, attempts, last_error, adapter from campaign_message where campaign_id = ?`, [campaign.id]);
    expect(row).toEqual({ status: 'FAILED', attempts: max, last_error: 'provider down', adapter: 'broken' });
    expect(calls).toBe(max);
  });
});

describe('member merge', () => {
  it("moves the absorbed member's campaign group to the survivor, whose orders then earn the bonus", async () => {
    const country = freshCountry();
    const [absorbed] = await members(country, 1);
    const segment = await segmentOf(country);
    const campaign = await createAndLaunch(marketer, bonusInput(segment.id));
    const survivor = (await b.member().inCountry('GB').save()).id;
    const merged = await h.gql(admin, `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { survivor { id } } }`, { input: { survivorId: survivor, absorbedId: absorbed } });
    expect(merged.errors).toBeUndefined();
    expect(await h.sql(`select member_id from campaign_member where campaign_id = ?`, [campaign.id])).toEqual([{ member_id: survivor }]);
    const order = await recordOrder(survivor);
    expect(order.pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')?.points).toBe(50);
  });
});

describe('campaign lifecycle and input', () => {
  it('lists by status now, newest first, with pages', async () => {
    const country = freshCountry();
    await members(country, 1);
    const segment = await segmentOf(country);
    const draft = (await h.gql(marketer, CREATE, { input: bonusInput(segment.id) })).data.createCampaign;
    const active = await createAndLaunch(marketer, bonusInput(segment.id));
    const drafts = await h.gql(analyst, LIST, { status: 'DRAFT', first: 100 });
    expect(drafts.data.campaigns.edges.map((e: any) => e.node.id)).toContain(draft.id);
    expect(drafts.data.campaigns.edges.every((e: any) => e.node.status === 'DRAFT')).toBe(true);
    const actives = await h.gql(analyst, LIST, { status: 'ACTIVE', first: 100 });
    expect(actives.data.campaigns.edges.map((e: any) => e.node.id)).toContain(active.id);
    expect(actives.data.campaigns.edges.map((e: any) => e.node.id)).not.toContain(draft.id);
    const page = await h.gql(analyst, LIST, { first: 1 });
    expect(page.data.campaigns.edges[0].node.id).toBe(active.id);
    expect(page.data.campaigns.pageInfo.hasNextPage).toBe(true);
    const next = await h.gql(analyst, LIST, { first: 1, after: page.data.campaigns.pageInfo.endCursor });
    expect(next.data.campaigns.edges[0].node.id).toBe(draft.id);
  });

  it('a page of campaigns with counts and segment costs the same statements for 2 as for 6 campaigns', async () => {
    const country = freshCountry();
    await members(country, 2, [ConsentMedium.SMS, true]);
    const segment = await segmentOf(country);
    for (let i = 0; i < 6; i++) await createAndLaunch(marketer, { name: `Page ${i}`, segmentId: segment.id, message: { medium: 'SMS', body: 'Hi' }, holdoutShare: 0, startsAt: new Date().toISOString() });
    const PAGE = `query P($first: Int!) { campaigns(first: $first) { edges { node { id segment { id } counts { treated contacted messagesPending } } } } }`;
    const small = await h.gql(analyst, PAGE, { first: 2 });
    const large = await h.gql(analyst, PAGE, { first: 6 });
    expect(large.errors).toBeUndefined();
    expect(large.data.campaigns.edges.map((e: any) => e.node.counts)).toEqual(Array(6).fill({ treated: 2, contacted: 2, messagesPending: 2 }));
    expect(Number(large.headers['x-db-queries'])).toBe(Number(small.headers['x-db-queries']));
  });

  it('updates a draft, and refuses to update or launch it again once launched (CAMPAIGN_NOT_EDITABLE)', async () => {
    const country = freshCountry();
    await members(country, 1);
    const segment = await segmentOf(country);
    const draft = (await h.gql(marketer, CREATE, { input: bonusInput(segment.id) })).data.createCampaign;
    // The message in, the bonus out: each action is added, replaced or (as null) removed on its own.
    const updated = await h.gql(marketer, UPDATE, { input: { id: draft.id, message: { medium: 'SMS', body: 'Hi' }, bonus: null, name: 'Now a message' } });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateCampaign).toMatchObject({ name: 'Now a message', actionKind: 'MESSAGE', bonus: null, message: { medium: 'SMS', subject: null, body: 'Hi' } });
    await h.gql(marketer, LAUNCH, { id: draft.id });
    expect(expectError(await h.gql(marketer, UPDATE, { input: { id: draft.id, name: 'x' } }), 'CAMPAIGN_NOT_EDITABLE').extensions.status).toBe('ACTIVE');
    expectError(await h.gql(marketer, LAUNCH, { id: draft.id }), 'CAMPAIGN_NOT_EDITABLE');
    await h.gql(marketer, CANCEL, { id: draft.id });
    expect(expectError(await h.gql(marketer, CANCEL, { id: draft.id }), 'CAMPAIGN_NOT_EDITABLE').extensions.status).toBe('CANCELLED');
  });

  it('refuses bad input with BAD_USER_INPUT naming each field, and unknown references with NOT_FOUND', async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const base = bonusInput(segment.id);
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ ...base, bonus: null }, ['input']],
      [{ ...base, bonus: null, offer: null, message: null }, ['input']],
      [{ ...base, bonus: { fixedPoints: 10, multiplierPercent: 200 } }, ['input.bonus']],
      [{ ...base, bonus: { fixedPoints: 0 } }, ['input.bonus.fixedPoints']],
      [{ ...base, bonus: { multiplierPercent: 100 } }, ['input.bonus.multiplierPercent']],
      [{ ...base, holdoutShare: 0.6 }, ['input.holdoutShare']],
      [{ ...base, holdoutShare: -0.1 }, ['input.holdoutShare']],
      [{ ...base, budgetPoints: 0 }, ['input.budgetPoints']],
      [{ ...base, endsAt: base.startsAt }, ['input.endsAt']],
      [{ ...base, name: '' }, ['input.name']],
      [{ ...base, bonus: null, message: { medium: 'EMAIL', body: 'x' } }, ['input.message.subject']],
      [{ ...base, bonus: null, message: { medium: 'PUSH', subject: 's', body: 'x' } }, ['input.message.subject']],
      [{ ...base, bonus: null, message: { medium: 'SMS', body: 'x'.repeat(481) } }, ['input.message.body']],
      [{ ...base, bonus: null, message: { medium: 'SMS', body: '' } }, ['input.message.body']],
      [{ ...base, bonus: null, budgetPoints: 10, message: { medium: 'SMS', body: 'x' } }, ['input.budgetPoints']],
      [{ ...base, bonus: null, offer: { kind: 'REWARD_DISCOUNT', discountPercent: 10 } }, ['input.offer.rewardId']],
      [{ ...base, bonus: null, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 11 } }, ['input.offer.recommendationCount']],
      [{ ...base, bonus: null, offer: { kind: 'RECOMMENDATIONS' } }, ['input.offer.recommendationCount']],
    ];
    for (const [input, paths] of cases) {
      const err = expectError(await h.gql(marketer, CREATE, { input }), 'BAD_USER_INPUT');
      expect([JSON.stringify(input), err.extensions.fields.map((f: any) => f.path)]).toEqual([JSON.stringify(input), paths]);
    }
    expect(expectError(await h.gql(marketer, CREATE, { input: { ...base, segmentId: randomUUID() } }), 'NOT_FOUND').extensions.entity).toBe('Segment');
    expect(expectError(await h.gql(marketer, CREATE, { input: { ...base, bonus: null, offer: { kind: 'REWARD_DISCOUNT', rewardId: randomUUID(), discountPercent: 10 } } }), 'NOT_FOUND').extensions.entity).toBe('Reward');
    expectError(await h.gql(marketer, LAUNCH, { id: randomUUID() }), 'NOT_FOUND');
    expect(await h.sql(`select 1 from campaign where segment_id = ?`, [segment.id])).toHaveLength(0);
  });

  it('refuses to launch a segment with no active members (CONFLICT CAMPAIGN_TARGETS_NO_MEMBERS) and a window already over', async () => {
    const segment = await segmentOf(freshCountry());
    const draft = (await h.gql(marketer, CREATE, { input: bonusInput(segment.id) })).data.createCampaign;
    expect(expectError(await h.gql(marketer, LAUNCH, { id: draft.id }), 'CONFLICT').extensions.reason).toBe('CAMPAIGN_TARGETS_NO_MEMBERS');
    const past = (await h.gql(marketer, CREATE, { input: bonusInput(segment.id, { startsAt: new Date(Date.now() - 7_200_000).toISOString(), endsAt: new Date(Date.now() - 3_600_000).toISOString() }) })).data.createCampaign;
    expect(expectError(await h.gql(marketer, LAUNCH, { id: past.id }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('endsAt');
  });

  it('lets MARKETER and ADMIN manage, ANALYST only read, and nobody in without credentials', async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    expect((await h.gql(admin, CREATE, { input: bonusInput(segment.id) })).errors).toBeUndefined();
    expectError(await h.gql(analyst, CREATE, { input: bonusInput(segment.id) }), 'FORBIDDEN');
    const draft = (await h.gql(marketer, CREATE, { input: bonusInput(segment.id) })).data.createCampaign;
    expectError(await h.gql(analyst, LAUNCH, { id: draft.id }), 'FORBIDDEN');
    expectError(await h.gql(analyst, CANCEL, { id: draft.id }), 'FORBIDDEN');
    expectError(await h.gql(analyst, UPDATE, { input: { id: draft.id, name: 'x' } }), 'FORBIDDEN');
    expect((await h.gql(analyst, RESULTS, { id: draft.id })).data.campaign.results).toBeNull();
    const key = await b.apiKey();
    expectError(await h.gql(key.auth, LIST, { first: 5 }), 'FORBIDDEN');
    expectError(await h.gql(null, LIST, { first: 5 }), 'UNAUTHENTICATED');
  });
});
