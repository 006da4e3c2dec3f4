import { createHash } from 'node:crypto';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

const h = useHarness({ CAMPAIGNS_SWEEP_MS: '0' });
const b = build(h);

const TIMELINE = `query T($id: ID!, $first: Int, $after: String) {
  member(id: $id) {
    timeline(first: $first, after: $after) {
      edges { cursor node { type occurredAt node {
        __typename
        ... on Order { id } ... on LedgerEntry { id reason } ... on Redemption { id } ... on TierChange { id toTier } ... on Feedback { id score } ... on CampaignMember { campaignId memberId group } ... on CampaignMessage { id }
      } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}`;
const ADJUST = `mutation A($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const UPSERT_REWARD = `mutation U($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const REDEEM = `mutation R($input: RedeemRewardInput!) { redeemReward(input: $input) { id } }`;
const FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
const MERGE = `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`;

/** The uuid the timeline gives a campaign_member row: md5 of "<campaign id>:<member id>". */
function campaignMemberKey(campaignId: string, memberId: string): string {
  const hex = createHash('md5').update(`${campaignId}:${memberId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Auth = { token: string } | { apiKey: string };
interface Entry {
  type: string;
  occurredAt: string;
  id: string;
  typename: string;
}

let admin: { auth: Auth };
let key: { auth: Auth; channelId: string };
let rewardId: string;

async function ok<T = any>(auth: Auth, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await h.gql(auth, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

async function page(auth: Auth, memberId: string, first: number, after: string | null = null) {
  const res = await h.gql(auth, TIMELINE, { id: memberId, first, after });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const t = res.data.member.timeline;
  const entries: Entry[] = t.edges.map((e: any) => ({
    type: e.node.type,
    occurredAt: e.node.occurredAt,
    id: e.node.node.id ?? campaignMemberKey(e.node.node.campaignId, e.node.node.memberId),
    typename: e.node.node.__typename,
  }));
  return { entries, pageInfo: t.pageInfo, queries: Number(res.headers['x-db-queries']) };
}

async function allPages(auth: Auth, memberId: string, size: number) {
  const out: Entry[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const p = await page(auth, memberId, size, after);
    out.push(...p.entries);
    if (!p.pageInfo.hasNextPage) {
      expect(p.pageInfo.endCursor === null || p.entries.length > 0).toBe(true);
      return out;
    }
    expect(p.entries).toHaveLength(size);
    after = p.pageInfo.endCursor;
  }
  throw new Error('timeline did not end');
}

/** Every row of the member's history, read straight from the tables, in the documented order. */
async function expectedOf(memberIds: string[], withFeedback = true, withCampaigns = true) {
  const rows = await h.sql<{ type: string; id: string }>(
    `select type, id from (
       select 'ORDER' as type, placed_at as t, id from customer_order where member_id in (?)
       union all select 'LEDGER', created_at, id from ledger_entry where member_id in (?)
       union all select 'REDEMPTION', created_at, id from redemption where member_id in (?)
       union all select 'TIER_CHANGE', changed_at, id from tier_change where member_id in (?)
       union all select 'FEEDBACK', given_at, id from feedback where member_id in (?) and ?
       union all select 'CAMPAIGN_CONTACT', coalesce(contacted_at, assigned_at), md5(campaign_id::text || ':' || member_id::text)::uuid
         from campaign_member where member_id in (?) and ?
       union all select 'MESSAGE', created_at, id from campaign_message where member_id in (?) and ?
     ) x order by t desc, type desc, id desc`,
    [memberIds, memberIds, memberIds, memberIds, memberIds, withFeedback, memberIds, withCampaigns, memberIds, withCampaigns],
  );
  return rows.map((r) => `${r.type}:${r.id}`);
}

const keys = (entries: Entry[]) => entries.map((e) => `${e.type}:${e.id}`);

/** A member with every kind of entry, and ties: three orders and two answers at one same moment. */
async function memberWithHistory() {
  const member = await b.member().save();
  const tie = '2026-06-01T12:00:00.000Z';
  const orders: string[] = [];
  for (let i = 0; i < 3; i++) {
    orders.push((await ok(key.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 6000 }], { placedAt: tie }) })).recordOrder.id);
  }
  const answers: string[] = [];
  for (const score of [9, 3]) answers.push((await ok(key.auth, FEEDBACK, { input: { memberId: member.id, kind: 'NPS', score, givenAt: tie } })).recordFeedback.id);
  await ok(key.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 1500 }], { placedAt: '2026-05-01T08:00:00.000Z' }) });
  await ok(admin.auth, ADJUST, { i: { memberId: member.id, points: 150, reason: 'goodwill', idempotencyKey: `tl-${member.id}` } });
  await ok(admin.auth, REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: `tl-${member.id}` } });
  await ok(key.auth, FEEDBACK, { input: { memberId: member.id, kind: 'CSAT', score: 4 } });
  return { member, tie, orders, answers };
}

beforeAll(async () => {
  admin = await b.admin();
  key = await b.apiKey([ApiKeyScope.ORDERS_WRITE, ApiKeyScope.ORDERS_READ, ApiKeyScope.FEEDBACK_WRITE, ApiKeyScope.MEMBERS_READ]);
  await b.baseRate(1, 100);
  await ok(admin.auth, `mutation T($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`, { i: { code: 'GREEN', name: 'Green', threshold: 0 } });
  await ok(admin.auth, `mutation T($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`, { i: { code: 'GOLD', name: 'Gold', threshold: 100 } });
  rewardId = (await ok(admin.auth, UPSERT_REWARD, { input: { code: 'TL-COFFEE', name: 'Coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100 } })).upsertReward.id;
});

describe('member.timeline', () => {
  it('merges orders, ledger rows, redemptions, tier changes and feedback, newest first', async () => {
    const { member } = await memberWithHistory();
    const { entries, pageInfo } = await page(admin.auth, member.id, 100);
    expect(keys(entries)).toEqual(await expectedOf([member.id]));
    expect(new Set(entries.map((e) => e.type))).toEqual(new Set(['ORDER', 'LEDGER', 'REDEMPTION', 'TIER_CHANGE', 'FEEDBACK']));
    expect(entries.map((e) => e.typename)).toEqual(
      entries.map((e) => ({ ORDER: 'Order', LEDGER: 'LedgerEntry', REDEMPTION: 'Redemption', TIER_CHANGE: 'TierChange', FEEDBACK: 'Feedback' })[e.type]),
    );
    // 4 orders, 4 ORDER_EARN + ADJUSTMENT + REDEMPTION ledger rows, 1 redemption, 1 tier change, 3 answers
    expect(entries).toHaveLength(4 + 6 + 1 + 1 + 3);
    for (let i = 1; i < entries.length; i++) expect(entries[i - 1].occurredAt >= entries[i].occurredAt).toBe(true);
    expect(pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, endCursor: expect.any(String) });
  });

  it('orders entries of one moment by type, descending, then by id, descending', async () => {
    const { member, tie, orders, answers } = await memberWithHistory();
    const { entries } = await page(admin.auth, member.id, 100);
    const atTie = entries.filter((e) => e.occurredAt === tie);
    expect(atTie.map((e) => `${e.type}:${e.id}`)).toEqual([
      ...[...orders].sort().reverse().map((id) => `ORDER:${id}`),
      ...[...answers].sort().reverse().map((id) => `FEEDBACK:${id}`),
    ]);
    // The tier change and its order's points row are written at the same instant too: TIER_CHANGE sorts before LEDGER.
    const tierAt = entries.find((e) => e.type === 'TIER_CHANGE')!.occurredAt;
    expect(entries.filter((e) => e.occurredAt === tierAt).map((e) => e.type)).toEqual(['TIER_CHANGE', 'LEDGER']);
  });

  it('gives the same sequence page by page, whatever the page size, across boundaries inside a tie', async () => {
    const { member } = await memberWithHistory();
    const whole = keys((await page(admin.auth, member.id, 100)).entries);
    for (const size of [1, 2, 3, 4, 7]) expect(keys(await allPages(admin.auth, member.id, size))).toEqual(whole);
  });

  it('continues where the previous page ended when newer entries arrive in between', async () => {
    const { member } = await memberWithHistory();
    const whole = keys((await page(admin.auth, member.id, 100)).entries);
    const first = await page(admin.auth, member.id, 5);
    await ok(key.auth, RECORD_ORDER, { input: orderInput(member.id) });
    await ok(key.auth, FEEDBACK, { input: { memberId: member.id, kind: 'NPS', score: 10 } });
    const second = await page(admin.auth, member.id, 5, first.pageInfo.endCursor);
    expect(keys([...first.entries, ...second.entries])).toEqual(whole.slice(0, 10));
    expect(second.pageInfo.hasPreviousPage).toBe(true);
  });

  it("includes the history of a member merged into this one, through either id", async () => {
    const survivor = await b.member().save();
    const { member: absorbed } = await memberWithHistory();
    await ok(key.auth, RECORD_ORDER, { input: orderInput(survivor.id) });
    await ok(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    const viaSurvivor = keys((await page(admin.auth, survivor.id, 100)).entries);
    expect(viaSurvivor).toEqual(await expectedOf([survivor.id, absorbed.id]));
    expect(viaSurvivor.filter((k) => k.startsWith('LEDGER')).length).toBeGreaterThan(6);
    expect(keys((await page(admin.auth, absorbed.id, 100)).entries)).toEqual(viaSurvivor);
  });

  it('leaves feedback out for a key without feedback:read, and refuses callers without orders:read', async () => {
    const { member } = await memberWithHistory();
    const reader = await b.apiKey([ApiKeyScope.ORDERS_READ, ApiKeyScope.MEMBERS_READ]);
    const seen = keys((await page(reader.auth, member.id, 100)).entries);
    expect(seen).toEqual(await expectedOf([member.id], false, false));
    expect(seen.some((k) => k.startsWith('FEEDBACK'))).toBe(false);
    const analyst = await b.admin(AdminRole.ANALYST);
    expect(keys((await page(analyst.auth, member.id, 100)).entries)).toEqual(await expectedOf([member.id]));
    const noOrders = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    expectError(await h.gql(noOrders.auth, TIMELINE, { id: member.id, first: 5 }), 'FORBIDDEN');
  });

  it('shows campaign contacts and messages to callers who may read campaigns', async () => {
    const { member } = await memberWithHistory();
    const held = await b.member().inCountry('TL').save();
    await ok(admin.auth, `mutation U($input: UpdateMemberInput!) { updateMember(input: $input) { id } }`, {
      input: { id: member.id, country: 'TL', consents: [{ medium: 'EMAIL', isGranted: true }] },
    });
    const segment = await h.app.services.segments.create(b.ctx(), { name: 'timeline TL', rule: { attribute: 'country', op: 'eq', value: 'TL' }, kind: 'DYNAMIC' as never });
    const created = await ok(admin.auth, `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
      input: { name: 'Timeline mail', segmentId: segment.id, message: { medium: 'EMAIL', subject: 'Hi', body: 'Double points' }, holdoutShare: 0, startsAt: new Date().toISOString() },
    });
    await ok(admin.auth, `mutation L($id: ID!) { launchCampaign(id: $id) { id } }`, { id: created.createCampaign.id });
    await h.app.services.campaigns.sweep(h.em(), new Date(Date.now() + 1000));

    const { entries } = await page(admin.auth, member.id, 100);
    expect(keys(entries)).toEqual(await expectedOf([member.id]));
    expect(entries.filter((e) => ['CAMPAIGN_CONTACT', 'MESSAGE'].includes(e.type)).map((e) => [e.type, e.typename]).sort()).toEqual([
      ['CAMPAIGN_CONTACT', 'CampaignMember'],
      ['MESSAGE', 'CampaignMessage'],
    ]);
    // Two pages split between the campaign entries give the same sequence.
    expect(keys(await allPages(admin.auth, member.id, 1))).toEqual(keys(entries));
    // A member without email consent is contacted by nobody's message, but was targeted.
    expect((await page(admin.auth, held.id, 10)).entries.map((e) => e.type)).toEqual(['CAMPAIGN_CONTACT']);
    const reader = await b.apiKey([ApiKeyScope.ORDERS_READ, ApiKeyScope.MEMBERS_READ]);
    expect((await page(reader.auth, member.id, 100)).entries.some((e) => ['CAMPAIGN_CONTACT', 'MESSAGE'].includes(e.type))).toBe(false);
  });

  it('refuses a cursor it did not make and a page size outside 1..100', async () => {
    const member = await b.member().save();
    const cursor = (at: string, type = 'ORDER') => Buffer.from(`t:${at}|${type}|01900000-0000-7000-8000-000000000000`).toString('base64url');
    // Dates PostgreSQL cannot read (no 30 February, no year 0, none past 294276) were once INTERNAL_SERVER_ERROR.
    const dates = ['2026-02-30T00:00:00.000000Z', '2026-01-01T24:00:00.000000Z', '0000-01-01T00:00:00.000000Z', '+294277-01-01T00:00:00.000000Z'];
    for (const after of ['nonsense', cursor('2026-01-01T00:00:00.000000Z', 'PAYMENT'), ...dates.map((at) => cursor(at))]) {
      const err = expectError(await h.gql(admin.auth, TIMELINE, { id: member.id, first: 5, after }), 'BAD_USER_INPUT');
      expect(err.extensions.fields[0].path).toBe('after');
    }
    for (const first of [0, 101]) expectError(await h.gql(admin.auth, TIMELINE, { id: member.id, first }), 'BAD_USER_INPUT');
  });

  it('costs the same statements for a page of 3 as for a page of 15', async () => {
    const { member } = await memberWithHistory();
    const small = await page(admin.auth, member.id, 3);
    const large = await page(admin.auth, member.id, 15);
    expect(new Set(large.entries.map((e) => e.type)).size).toBe(5);
    expect(new Set(small.entries.map((e) => e.type)).size).toBeLessThan(5);
    // One UNION ALL statement plus one load per kind on the page; a larger page with more kinds adds at most those.
    expect(large.queries - small.queries).toBeLessThanOrEqual(5 - new Set(small.entries.map((e) => e.type)).size);
  });
});
