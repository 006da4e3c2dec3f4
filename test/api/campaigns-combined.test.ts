import { randomUUID } from 'node:crypto';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, SalesChannelKind } from '../fixtures/build';
import { orderInput } from '../support/orders';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import { holdoutGroup } from '../../api/src/modules/campaigns/holdout';
import { CampaignGroup } from '../../api/src/modules/campaigns/campaign.entity';
import type { RecordOrderInput } from '../../api/src/modules/orders/order.types';

// Journey 2: one campaign that combines a personalised offer, double points under a budget and a message, with one
// holdout for all of them, so that their combined effect is measured against one control group.
const h = useHarness({ CAMPAIGNS_SWEEP_MS: '0' });
const b = build(h);

const FIELDS = `id name status actionKind actionKinds budgetPoints spentPoints holdoutShare treatedCount holdoutCount
  bonus { fixedPoints multiplierPercent } offer { kind rewardId discountPercent recommendationCount } message { medium subject body }`;
const CREATE = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation U($input: UpdateCampaignInput!) { updateCampaign(input: $input) { ${FIELDS} } }`;
const LAUNCH = `mutation L($id: ID!) { launchCampaign(id: $id) { ${FIELDS} counts { treated holdout contacted bonused messagesPending } } }`;
const GET = `query G($id: ID!) { campaign(id: $id) { ${FIELDS} counts { treated holdout contacted bonused messagesPending } } }`;
const RESULTS = `query R($id: ID!) { campaign(id: $id) { results {
  treated { members buyers revenueMinor pointsCost } holdout { members buyers revenueMinor pointsCost } } } }`;

let marketer: { token: string };
let channelId: string;
let countryCounter = 0;

/** A fresh two-letter country code per test, so each test's DYNAMIC segment holds only its own members. */
function freshCountry(): string {
  return `Z${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[countryCounter++ % 26]}`;
}

async function segmentOf(country: string) {
  return h.app.services.segments.create(b.ctx(), { name: `combined ${country} ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: country }, kind: SegmentKind.DYNAMIC });
}

/**
 * Member ids that fall `treated` and `holdout` in the campaign's draw (the group is a hash of the two ids, fixed before
 * launch), inserted straight into the table with the given consent: each group's size is then known, not left to chance.
 */
async function membersFor(campaignId: string, share: number, country: string, treated: number, holdout: number, smsConsent = false) {
  const groups = { treated: [] as string[], holdout: [] as string[] };
  while (groups.treated.length < treated || groups.holdout.length < holdout) {
    const id = randomUUID();
    const list = holdoutGroup(campaignId, id, share) === CampaignGroup.HOLDOUT ? groups.holdout : groups.treated;
    if (list.length < (list === groups.holdout ? holdout : treated)) list.push(id);
  }
  const all = [...groups.treated, ...groups.holdout];
  await h.sql(
    `insert into member (id, status, country, enrolment_channel, enrolled_at, updated_at)
     select x::uuid, 'ACTIVE', ?, 'WEB', now(), now() from jsonb_array_elements_text(?::jsonb) as x`,
    [country, JSON.stringify(all)],
  );
  if (smsConsent) {
    await h.sql(
      `insert into member_consent (id, member_id, medium, is_granted, granted_at, source) select gen_random_uuid(), x::uuid, 'SMS', true, now(), 'test' from jsonb_array_elements_text(?::jsonb) as x`,
      [JSON.stringify(all)],
    );
  }
  return groups;
}

/** An active recommender version with two products for each member. */
async function recommend(country: string, memberIds: string[]) {
  const versionId = randomUUID();
  await h.sql(`update model_version set status = 'RETIRED' where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
  await h.sql(`insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at) values (?, 'RECOMMENDER', 'ACTIVE', 'TEST', '{}', '{}', '{}', 30, now(), now())`, [versionId]);
  const products: string[] = [];
  for (const sku of ['KETTLE', 'TOASTER']) {
    const [p] = await h.sql<{ id: string }>(`insert into product (id, sku, name, created_at) values (?, ?, ?, now()) returning id`, [randomUUID(), `${country}-${sku}`, sku]);
    products.push(p.id);
  }
  await h.sql(
    `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat)
     select ?, x::uuid, r.rank, r.product_id, 1.0 / r.rank, 'test', false
     from jsonb_array_elements_text(?::jsonb) as x, (values (1, ?::uuid), (2, ?::uuid)) as r(rank, product_id)`,
    [versionId, JSON.stringify(memberIds), ...products],
  );
}

async function recordOrder(memberId: string, unitPriceMinor = 2000) {
  const input = orderInput(memberId, [{ unitPriceMinor }], { channelId });
  return h.app.services.orders.record(b.ctx(), { ...input, placedAt: new Date(input.placedAt) } as unknown as RecordOrderInput);
}

const window = () => ({ startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 14 * 86_400_000).toISOString() });

async function draft(input: Record<string, unknown>) {
  const created = await h.gql(marketer, CREATE, { input: { name: `Combined ${randomUUID().slice(0, 8)}`, holdoutShare: 0.1, ...window(), ...input } });
  expect(created.errors).toBeUndefined();
  return created.data.createCampaign;
}

const stored = async (id: string) => (await h.gql(marketer, GET, { id })).data.campaign;

beforeAll(async () => {
  marketer = await b.admin(AdminRole.MARKETER);
  channelId = (await b.channel(SalesChannelKind.WEB)).id;
  await b.baseRate(); // 1 point per £1
});

describe('a campaign with several actions under one holdout', () => {
  it('a recommendations offer and double points within a budget, 10% held out: treated members get both, held-out members neither, and the results count both groups', async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const campaign = await draft({ segmentId: segment.id, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2 }, bonus: { multiplierPercent: 200 }, budgetPoints: 50 });
    expect(campaign).toMatchObject({ actionKinds: ['BONUS_POINTS', 'OFFER'], actionKind: 'BONUS_POINTS', bonus: { multiplierPercent: 200 }, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2 }, message: null });
    const { treated, holdout } = await membersFor(campaign.id, 0.1, country, 6, 2);
    await recommend(country, [...treated, ...holdout]);

    const launched = (await h.gql(marketer, LAUNCH, { id: campaign.id })).data.launchCampaign;
    expect(launched).toMatchObject({ status: 'ACTIVE', treatedCount: 6, holdoutCount: 2, counts: { treated: 6, holdout: 2, contacted: 6, bonused: 0 } });
    const rows = await h.sql<{ member_id: string; assigned_group: string; offer: any; contacted: boolean }>(
      `select member_id, assigned_group, offer, contacted_at is not null as contacted from campaign_member where campaign_id = ?`,
      [campaign.id],
    );
    for (const r of rows) {
      const expected = treated.includes(r.member_id)
        ? { assigned_group: 'TREATED', contacted: true, skus: [`${country}-KETTLE`, `${country}-TOASTER`] }
        : { assigned_group: 'HOLDOUT', contacted: false, skus: null };
      expect({ assigned_group: r.assigned_group, contacted: r.contacted, skus: r.offer?.products.map((p: any) => p.sku) ?? null }).toEqual(expected);
    }
    const [event] = await h.sql<{ payload: any }>(`select payload from event_outbox where type = 'campaign.launched' and payload->>'campaignId' = ?`, [campaign.id]);
    expect(event.payload).toMatchObject({ actionKind: 'BONUS_POINTS', actionKinds: ['BONUS_POINTS', 'OFFER'], budgetPoints: 50, targetedMembers: 8, holdoutMembers: 2 });

    // £20 earns 20 points, doubled: +20 each until the budget of 50 runs out; the holdout earns no bonus.
    const bonusOf = async (memberId: string) => (await recordOrder(memberId)).pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')?.points ?? 0;
    const bonuses = [];
    for (const id of treated.slice(0, 4)) bonuses.push(await bonusOf(id));
    expect(bonuses).toEqual([20, 20, 10, 0]);
    expect([await bonusOf(holdout[0]), await bonusOf(holdout[1])]).toEqual([0, 0]);

    const after = await stored(campaign.id);
    expect(after).toMatchObject({ spentPoints: 50, counts: { contacted: 6, bonused: 3 } });
    const results = (await h.gql(marketer, RESULTS, { id: campaign.id })).data.campaign.results;
    expect(results).toEqual({
      treated: { members: 6, buyers: 4, revenueMinor: 8000, pointsCost: 50 },
      holdout: { members: 2, buyers: 2, revenueMinor: 4000, pointsCost: 0 },
    });
  });

  it('bonus points, a reward discount and an SMS together: each treated member gets all three, the holdout nothing', async () => {
    const country = freshCountry();
    const segment = await segmentOf(country);
    const reward = await h.app.services.rewards.upsert(b.ctx(), { code: `CMB-${country}`, name: 'Mug', kind: 'FREE_PRODUCT', sku: 'MUG', costPoints: 200, tierCodes: [], isActive: true } as never);
    const campaign = await draft({
      segmentId: segment.id,
      bonus: { fixedPoints: 15 },
      offer: { kind: 'REWARD_DISCOUNT', rewardId: reward.id, discountPercent: 50 },
      message: { medium: 'SMS', body: 'Half price mugs, and 15 extra points on every order' },
    });
    expect(campaign.actionKinds).toEqual(['BONUS_POINTS', 'OFFER', 'MESSAGE']);
    const { treated, holdout } = await membersFor(campaign.id, 0.1, country, 3, 1, true);
    const launched = (await h.gql(marketer, LAUNCH, { id: campaign.id })).data.launchCampaign;
    expect(launched.counts).toEqual({ treated: 3, holdout: 1, contacted: 3, bonused: 0, messagesPending: 3 });
    const messaged = await h.sql<{ member_id: string }>(`select member_id from campaign_message where campaign_id = ? order by member_id`, [campaign.id]);
    expect(messaged.map((m) => m.member_id)).toEqual([...treated].sort());
    const offers = await h.sql<{ member_id: string; cost: number | null }>(`select member_id, (offer->>'costPoints')::int as cost from campaign_member where campaign_id = ?`, [campaign.id]);
    for (const o of offers) expect([o.member_id, o.cost]).toEqual([o.member_id, holdout.includes(o.member_id) ? null : 100]);
    expect((await recordOrder(treated[0])).pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')?.points).toBe(15);
    expect((await recordOrder(holdout[0])).pointsBreakdown.find((x) => x.kind === 'CAMPAIGN_BONUS')).toBeUndefined();
  });
});

describe('actions of a draft', () => {
  it('adds, replaces and removes one action at a time; fields left out stay, and a removed bonus takes its budget', async () => {
    const segment = await segmentOf(freshCountry());
    const campaign = await draft({ segmentId: segment.id, bonus: { fixedPoints: 10 }, budgetPoints: 500 });
    const update = async (input: Record<string, unknown>) => {
      const res = await h.gql(marketer, UPDATE, { input: { id: campaign.id, ...input } });
      expect(res.errors).toBeUndefined();
      return res.data.updateCampaign;
    };
    // A message added: the bonus and its budget stay.
    expect(await update({ message: { medium: 'PUSH', body: 'Double points all week' } })).toMatchObject({
      actionKinds: ['BONUS_POINTS', 'MESSAGE'], bonus: { fixedPoints: 10 }, budgetPoints: 500, message: { medium: 'PUSH', body: 'Double points all week' },
    });
    // Another bonus replaces the first; an unrelated change leaves every action alone.
    expect(await update({ bonus: { multiplierPercent: 200 } })).toMatchObject({ actionKinds: ['BONUS_POINTS', 'MESSAGE'], bonus: { fixedPoints: null, multiplierPercent: 200 }, budgetPoints: 500 });
    expect(await update({ name: 'Renamed' })).toMatchObject({ name: 'Renamed', actionKinds: ['BONUS_POINTS', 'MESSAGE'], budgetPoints: 500 });
    // An offer in, the bonus out (with its budget): the deprecated actionKind follows the first action.
    expect(await update({ offer: { kind: 'RECOMMENDATIONS', recommendationCount: 3 }, bonus: null })).toMatchObject({
      actionKinds: ['OFFER', 'MESSAGE'], actionKind: 'OFFER', bonus: null, budgetPoints: null, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 3 },
    });
    expect(await update({ offer: null })).toMatchObject({ actionKinds: ['MESSAGE'], actionKind: 'MESSAGE', offer: null, message: { medium: 'PUSH' } });
    const [row] = await h.sql(`select action_kind, bonus_fixed_points, bonus_multiplier_percent, offer_kind, budget_points from campaign where id = ?`, [campaign.id]);
    expect(row).toEqual({ action_kind: 'MESSAGE', bonus_fixed_points: null, bonus_multiplier_percent: null, offer_kind: null, budget_points: null });

    // The last action cannot go: the draft stays as it was.
    const before = await stored(campaign.id);
    expect(expectError(await h.gql(marketer, UPDATE, { input: { id: campaign.id, message: null } }), 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path)).toEqual(['input']);
    expect(expectError(await h.gql(marketer, UPDATE, { input: { id: campaign.id, bonus: null, offer: null, message: null } }), 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path)).toEqual(['input']);
    expect(await stored(campaign.id)).toEqual(before);
  });

  it('refuses a budget left behind by a removed bonus when it is given again, and keeps the draft', async () => {
    const segment = await segmentOf(freshCountry());
    const campaign = await draft({ segmentId: segment.id, bonus: { fixedPoints: 10 }, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 1 }, budgetPoints: 100 });
    const res = await h.gql(marketer, UPDATE, { input: { id: campaign.id, bonus: null, budgetPoints: 200 } });
    expect(expectError(res, 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path)).toEqual(['input.budgetPoints']);
    expect(await stored(campaign.id)).toMatchObject({ actionKinds: ['BONUS_POINTS', 'OFFER'], budgetPoints: 100 });
  });
});

describe('input', () => {
  it('refuses a campaign with no action, and bad fields in any one of several actions, with BAD_USER_INPUT naming each field', async () => {
    const segment = await segmentOf(freshCountry());
    const base = { name: 'Combined input', segmentId: segment.id, holdoutShare: 0.1, ...window() };
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [base, ['input']],
      [{ ...base, bonus: null, offer: null, message: null }, ['input']],
      [{ ...base, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2 }, message: { medium: 'SMS', body: 'x' }, budgetPoints: 100 }, ['input.budgetPoints']],
      [{ ...base, bonus: {}, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2 } }, ['input.bonus']],
      [{ ...base, bonus: { fixedPoints: 5 }, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 2, rewardId: randomUUID() } }, ['input.offer.rewardId']],
      [{ ...base, bonus: { fixedPoints: 5 }, message: { medium: 'EMAIL', body: 'no subject' } }, ['input.message.subject']],
      [{ ...base, bonus: { multiplierPercent: 200 }, offer: { kind: 'REWARD_DISCOUNT', rewardId: 'not-a-uuid', discountPercent: 10 } }, ['input.offer.rewardId']],
      [{ ...base, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 0 }, message: { medium: 'SMS', body: '' } }, ['input.message.body', 'input.offer.recommendationCount']],
      [{ ...base, bonus: { fixedPoints: 5 }, message: { medium: 'SMS', body: 'x'.repeat(481) } }, ['input.message.body']],
    ];
    for (const [input, paths] of cases) {
      const err = expectError(await h.gql(marketer, CREATE, { input }), 'BAD_USER_INPUT');
      expect([JSON.stringify(input), err.extensions.fields.map((f: any) => f.path).sort()]).toEqual([JSON.stringify(input), paths]);
    }
    expect(await h.sql(`select 1 from campaign where segment_id = ?`, [segment.id])).toHaveLength(0);
  });

  it('has room for one action of each kind only: a list of bonuses, an unknown field or an out-of-range number is refused before anything is written', async () => {
    const segment = await segmentOf(freshCountry());
    const base = { name: 'Shape', segmentId: segment.id, holdoutShare: 0.1, ...window() };
    const hostile: Record<string, unknown>[] = [
      { ...base, bonus: [{ fixedPoints: 10 }, { multiplierPercent: 200 }] },
      { ...base, bonus: { fixedPoints: 10 }, bonuses: [{ fixedPoints: 20 }] },
      { ...base, bonus: { fixedPoints: 10 }, actionKinds: ['BONUS_POINTS', 'BONUS_POINTS'] },
      { ...base, bonus: { multiplierPercent: 2 ** 31 } },
      { ...base, offer: { kind: 'COUPON', recommendationCount: 1 } },
      { ...base, message: { medium: 'PIGEON', body: 'x' } },
      { ...base, bonus: { fixedPoints: '10; drop table campaign' } },
    ];
    for (const input of hostile) expectError(await h.gql(marketer, CREATE, { input }), 'BAD_USER_INPUT');
    expect(await h.sql(`select 1 from campaign where segment_id = ?`, [segment.id])).toHaveLength(0);

    // Text is stored and sent as written, never read as SQL.
    const text = `'); delete from campaign; -- <script>alert(1)</script>`;
    const campaign = await draft({ segmentId: segment.id, bonus: { fixedPoints: 10 }, message: { medium: 'PUSH', body: text } });
    expect((await stored(campaign.id)).message.body).toBe(text);
    const update = await h.gql(marketer, UPDATE, { input: { id: campaign.id, bonus: [{ fixedPoints: 1 }, { fixedPoints: 2 }] } });
    expectError(update, 'BAD_USER_INPUT');
    expect(await stored(campaign.id)).toMatchObject({ actionKinds: ['BONUS_POINTS', 'MESSAGE'], bonus: { fixedPoints: 10 } });
  });

  it('still answers the deprecated actionKind, marked deprecated in the schema, for clients written for one action', async () => {
    const segment = await segmentOf(freshCountry());
    const campaign = await draft({ segmentId: segment.id, message: { medium: 'PUSH', body: 'Hi' } });
    const old = await h.gql(marketer, `query O($id: ID!) { campaign(id: $id) { actionKind message { body } } }`, { id: campaign.id });
    expect(old.data.campaign).toEqual({ actionKind: 'MESSAGE', message: { body: 'Hi' } });
    const type = await h.gql(marketer, `{ __type(name: "Campaign") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`);
    const fields = type.data.__type.fields.filter((f: any) => f.name.startsWith('actionKind'));
    expect(fields).toEqual([
      { name: 'actionKind', isDeprecated: true, deprecationReason: expect.stringContaining('actionKinds') },
      { name: 'actionKinds', isDeprecated: false, deprecationReason: null },
    ]);
  });
});
