import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useHarness, expectError, type Auth } from '../support/harness';
import { build, AdminRole, ApiKeyScope, SalesChannelKind } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck } from '../support/orders';
import { createLogger } from '../../api/src/base/logger';
import { holdoutGroup } from '../../api/src/modules/campaigns/holdout';
import { segmentPresets } from '../../web-admin/src/segments/presets';
import { CampaignGroup } from '../../api/src/modules/campaigns/campaign.entity';

/**
 * The users' journeys (a shopper, a till, a marketer: the project's journey notes) walked end to end through GraphQL, as a storefront, a till and a marketer
 * call it: each step asserts what the person in the journey would see.
 */
const h = useHarness({ CAMPAIGNS_SWEEP_MS: '0', POINTS_JOBS_CRON: 'off' });
const b = build(h);
const silent = createLogger('silent');
const DAY_MS = 86_400_000;

const ok = <T = any>(res: { data: T; errors?: unknown[] }): T => {
  expect(res.errors).toBeUndefined();
  return res.data;
};

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id email phone enrolmentChannel referralCode } }`;
const FIND = `query F($type: IdentifierType!, $value: String!) { memberByIdentifier(type: $type, value: $value) { id phone firstName } }`;
const MERGE = `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers survivor { id email phone identifiers { type value } } } }`;
const WALLET = `query W($id: ID!) { member(id: $id) {
  id
  points { available pending lifetime nextExpiry { points expiresAt } }
  tier { code }
  tierProgress { current metric missing nextTier { code name threshold } tier { code } }
  recommendedRewards(first: 5) { canAffordNow pointsShort reason reward { id code costPoints } }
  recommendations(first: 3) { rank reason isColdStart product { sku name } }
  orders(first: 10) { totalCount edges { node { id externalOrderId status pointsEarned pointsClawedBack } } }
} }`;
const REDEEM = `mutation R($input: RedeemRewardInput!) { redeemReward(input: $input) { id status points voucherCode expiresAt reward { code } } }`;
const CONSUME = `mutation C($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status consumedAt consumedOrderRef voucherCode } }`;
const FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id kind score npsCategory orderId channelKind storeCode } }`;
const TIMELINE = `query T($id: ID!, $first: Int!) { member(id: $id) { timeline(first: $first) {
  edges { node { type occurredAt node { __typename
    ... on Order { id externalOrderId } ... on LedgerEntry { reason availableDelta pendingDelta } ... on Redemption { id status }
    ... on Feedback { id score } ... on TierChange { toTier } } } }
  pageInfo { hasNextPage } } } }`;
const UPSERT_REWARD = `mutation U($input: UpsertRewardInput!) { upsertReward(input: $input) { id code costPoints } }`;
const UPSERT_TIER = `mutation T($input: UpsertTierInput!) { upsertTier(input: $input) { id code threshold } }`;

describe('journey 1: a shopper across channels', () => {
  it('enrols in the app, buys in store, is merged, earns, returns, redeems once, answers and sees it all', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const marketer = await b.admin(AdminRole.MARKETER);
    await b.baseRate(1, 100); // 1 point per £1
    ok(await h.gql(admin.auth, UPSERT_TIER, { input: { code: 'SILVER', name: 'Silver', threshold: 0 } }));
    ok(await h.gql(admin.auth, UPSERT_TIER, { input: { code: 'GOLD', name: 'Gold', threshold: 200 } }));
    const voucher = ok(await h.gql(marketer.auth, UPSERT_REWARD, { input: { code: 'FIVE-OFF', name: '£5 off', kind: 'FIXED_DISCOUNT', costPoints: 40, valueMinor: 500, currency: 'GBP' } })).upsertReward;
    ok(await h.gql(marketer.auth, UPSERT_REWARD, { input: { code: 'HAMPER', name: 'Hamper', kind: 'FREE_PRODUCT', costPoints: 5000, sku: 'HAMPER' } })).upsertReward;
    // Cold start: the active recommender knows only what is popular.
    const recommender = randomUUID();
    await h.sql(`insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
      values (?, 'RECOMMENDER', 'ACTIVE', 'TEST', '{}', '{}', '{}', 30, now(), now())`, [recommender]);
    const [teapot] = await h.sql<{ id: string }>(`insert into product (id, sku, name, created_at) values (?, 'TEAPOT', 'Blue teapot', now()) returning id`, [randomUUID()]);
    await h.sql(`insert into popular_product (model_version_id, country, rank, product_id, score) values (?, 'GB', 1, ?, 10)`, [recommender, teapot.id]);

    const storefront = await b.apiKey(
      [ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE, ApiKeyScope.ORDERS_WRITE, ApiKeyScope.ORDERS_READ, ApiKeyScope.REWARDS_REDEEM, ApiKeyScope.FEEDBACK_WRITE],
      SalesChannelKind.WEB,
    );
    const till = await b.apiKey([ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE, ApiKeyScope.ORDERS_WRITE, ApiKeyScope.ORDERS_READ, ApiKeyScope.REWARDS_REDEEM], SalesChannelKind.STORE);
    const app: Auth = storefront.auth;
    const pos: Auth = till.auth;

    // 1. Enrols in the app with an email.
    const email = `shopper-${randomUUID().slice(0, 8)}@example.com`;
    const enrolled = ok(await h.gql(app, ENROL, { input: { email, firstName: 'Ada', country: 'GB' } })).enrolMember;
    expect(enrolled).toMatchObject({ email, phone: null, enrolmentChannel: 'WEB' });

    // 2. In store the cashier looks the phone up: unknown, so the till enrols a second record, then finds it.
    const phone = '+447911123456';
    expect(ok(await h.gql(pos, FIND, { type: 'PHONE', value: phone })).memberByIdentifier).toBeNull();
    const inStore = ok(await h.gql(pos, ENROL, { input: { phone, firstName: 'Ada', country: 'GB' } })).enrolMember;
    expect(inStore.enrolmentChannel).toBe('STORE');
    const found = ok(await h.gql(pos, FIND, { type: 'PHONE', value: '07911 123456' })).memberByIdentifier;
    expect(found?.id).toBe(inStore.id);

    const placedAt = new Date(Date.now() - 60_000);
    const storeOrder = ok(await h.gql(pos, RECORD_ORDER, {
      input: {
        externalOrderId: `POS-${randomUUID().slice(0, 8)}`,
        member: { identifierType: 'PHONE', identifierValue: phone },
        placedAt: placedAt.toISOString(),
        currency: 'GBP',
        storeCode: 'LDN-01',
        lines: [
          { sku: 'MUG', name: 'Mug', category: 'Kitchen', quantity: 2, unitPriceMinor: 1250 },
          { sku: 'TEA', name: 'Tea', category: 'Food', quantity: 1, unitPriceMinor: 3000, discountMinor: 500 },
        ],
        totalMinor: 2 * 1250 + 3000 - 500,
      },
    })).recordOrder;
    expect(storeOrder).toMatchObject({ memberId: inStore.id, channelKind: 'STORE', totalMinor: 5000, pointsEarned: 50 });
    // Points explained rule by rule: which rule, at which version, gave which points.
    expect(storeOrder.pointsBreakdown.map((l: any) => [l.kind, l.label, l.ruleVersion, l.points])).toEqual([['BASE_RATE', 'Base GBP', 1, 50]]);
    expect(storeOrder.pointsBreakdown.reduce((s: number, l: any) => s + l.points, 0)).toBe(50);

    // The app order for the email record.
    const appOrder = ok(await h.gql(app, RECORD_ORDER, {
      input: {
        externalOrderId: `WEB-${randomUUID().slice(0, 8)}`,
        member: { id: enrolled.id },
        placedAt: placedAt.toISOString(),
        currency: 'GBP',
        lines: [{ sku: 'SCARF', name: 'Scarf', category: 'Clothing', quantity: 1, unitPriceMinor: 4000 }],
        totalMinor: 4000,
      },
    })).recordOrder;
    expect(appOrder.pointsEarned).toBe(40);

    // 3. The two records are one person: merged into the app record.
    const merged = ok(await h.gql(marketer.auth, MERGE, { input: { survivorId: enrolled.id, absorbedId: inStore.id, reason: 'same person' } })).mergeMembers;
    expect(merged.survivor).toMatchObject({ id: enrolled.id, email, phone });
    expect(ok(await h.gql(pos, FIND, { type: 'PHONE', value: phone })).memberByIdentifier?.id).toBe(enrolled.id);

    // 4. Pending until the return window closes.
    let wallet = ok(await h.gql(app, WALLET, { id: enrolled.id })).member;
    expect(wallet.points).toMatchObject({ available: 0, pending: 90 });
    expect(wallet.orders.totalCount).toBe(2);

    // 5. A return inside the window claws back just the returned line.
    const returned = ok(await h.gql(pos, RECORD_RETURN, { input: { orderId: storeOrder.id, externalReturnId: `RET-${randomUUID().slice(0, 8)}`, lines: [{ lineNo: 1, quantity: 1 }] } })).recordReturn;
    expect(returned).toMatchObject({ valueMinor: 1250, pointsClawedBack: 12 });
    wallet = ok(await h.gql(app, WALLET, { id: enrolled.id })).member;
    expect(wallet.points).toMatchObject({ available: 0, pending: 78 });

    // The window closes: the points job releases the rest.
    await h.app.services.points.runJobs(h.em(), silent, new Date(Date.now() + 15 * DAY_MS));
    wallet = ok(await h.gql(app, WALLET, { id: enrolled.id })).member;
    expect(wallet.points).toMatchObject({ available: 78, pending: 0, lifetime: 78 });
    expect(wallet.points.nextExpiry.points).toBe(78);
    expect(new Date(wallet.points.nextExpiry.expiresAt).getTime()).toBeGreaterThan(Date.now() + 300 * DAY_MS);
    expect(wallet.tier?.code).toBe('SILVER');
    expect(wallet.tierProgress).toMatchObject({ current: 78, missing: 122, nextTier: { code: 'GOLD' } });
    // The hamper (5000 points) is out of reach even with pending points: only the voucher is suggested.
    expect(wallet.recommendedRewards.map((s: any) => [s.reward.code, s.canAffordNow, s.pointsShort])).toEqual([['FIVE-OFF', true, 0]]);
    expect(wallet.recommendedRewards[0].reason).toEqual(expect.any(String));
    expect(wallet.recommendations).toEqual([{ rank: 1, reason: 'Popular in GB', isColdStart: true, product: { sku: 'TEAPOT', name: 'Blue teapot' } }]);

    // 6. Redeems a reward, gets a voucher, uses it once at checkout.
    const redemption = ok(await h.gql(app, REDEEM, { input: { memberId: enrolled.id, rewardId: voucher.id, idempotencyKey: randomUUID() } })).redeemReward;
    expect(redemption).toMatchObject({ status: 'ISSUED', points: 40, reward: { code: 'FIVE-OFF' } });
    expect(redemption.voucherCode).toEqual(expect.any(String));
    const consumed = ok(await h.gql(pos, CONSUME, { input: { voucherCode: redemption.voucherCode, memberId: enrolled.id, orderRef: 'POS-CHECKOUT-2' } })).consumeVoucher;
    expect(consumed).toMatchObject({ id: redemption.id, status: 'CONSUMED', consumedOrderRef: 'POS-CHECKOUT-2' });
    expect(consumed.consumedAt).not.toBeNull();
    const again = await h.gql(app, CONSUME, { input: { voucherCode: redemption.voucherCode, orderRef: 'WEB-CHECKOUT-3' } });
    expect(expectError(again, 'VOUCHER_UNUSABLE').extensions.reason).toBe('CONSUMED');
    wallet = ok(await h.gql(app, WALLET, { id: enrolled.id })).member;
    expect(wallet.points.available).toBe(38);

    // 7. Feedback about the store order.
    const answer = ok(await h.gql(app, FEEDBACK, { input: { memberId: enrolled.id, orderId: storeOrder.id, kind: 'NPS', score: 9, comment: 'Lovely shop' } })).recordFeedback;
    expect(answer).toMatchObject({ kind: 'NPS', score: 9, npsCategory: 'PROMOTER', orderId: storeOrder.id, channelKind: 'STORE', storeCode: 'LDN-01' });

    // 8. The timeline shows it all, newest first.
    const timeline = ok(await h.gql(marketer.auth, TIMELINE, { id: enrolled.id, first: 50 })).member.timeline;
    const entries = timeline.edges.map((e: any) => e.node);
    const times = entries.map((e: any) => new Date(e.occurredAt).getTime());
    expect(times).toEqual([...times].sort((x, y) => y - x));
    // The points job ran as of the window's close, 15 days ahead: its releases are dated when the points became
    // available, above everything done since; then the newest is the answer.
    const ahead = entries.filter((e: any) => new Date(e.occurredAt).getTime() > Date.now());
    expect(ahead.length).toBeGreaterThan(0);
    expect(ahead.map((e: any) => [e.type, e.node.reason])).toEqual(ahead.map(() => ['LEDGER', 'RELEASE']));
    expect(entries[ahead.length]).toMatchObject({ type: 'FEEDBACK', node: { id: answer.id } });
    const types = new Set(entries.map((e: any) => e.type));
    for (const t of ['ORDER', 'LEDGER', 'REDEMPTION', 'FEEDBACK']) expect(types).toContain(t);
    expect(entries.filter((e: any) => e.type === 'ORDER').map((e: any) => e.node.id).sort()).toEqual([storeOrder.id, appOrder.id].sort());
    const reasons = entries.filter((e: any) => e.type === 'LEDGER').map((e: any) => e.node.reason);
    expect(reasons).toEqual(expect.arrayContaining(['ORDER_EARN', 'RETURN_CLAWBACK', 'REDEMPTION']));

    expect(await ledgerCheck(h)).toMatchObject({ mismatches: [] });
  });
});

/** One named operation of the admin app's committed documents (schema/operations), sent as the admin app sends it. */
async function adminOperation(token: string, file: string, operationName: string, variables: Record<string, unknown> = {}) {
  const document = readFileSync(path.join(__dirname, '..', '..', 'schema', 'operations', file), 'utf8');
  const res = await h.http().post('/graphql').set('authorization', `Bearer ${token}`).send({ query: document, operationName, variables });
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
}

describe('journey 2: a marketer, Monday morning', () => {
  it('reads the dashboard, finds drifting high spenders with a live count, launches double points with a holdout and reads the uplift', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    await b.baseRate(1, 100);
    const web = await b.apiKey([ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE, ApiKeyScope.ORDERS_WRITE, ApiKeyScope.FEEDBACK_WRITE], SalesChannelKind.WEB);
    const store = await b.apiKey([ApiKeyScope.MEMBERS_READ, ApiKeyScope.ORDERS_WRITE], SalesChannelKind.STORE);
    const churn = randomUUID();
    await h.sql(`insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
      values (?, 'CHURN', 'ACTIVE', 'TEST', '{}', '{}', '{}', 90, now(), now())`, [churn]);

    const DAYS_AGO_40 = new Date(Date.now() - 40 * DAY_MS).toISOString();
    const order = (auth: Auth, memberId: string, unitPriceMinor: number, placedAt = new Date().toISOString()) =>
      h.gql(auth, RECORD_ORDER, {
        input: { externalOrderId: randomUUID(), member: { id: memberId }, placedAt, currency: 'GBP', lines: [{ sku: 'LAMP', name: 'Lamp', quantity: 1, unitPriceMinor }], totalMinor: unitPriceMinor },
      });
    // 24 high spenders drifting away (HIGH churn), 4 loyal high spenders (LOW), 4 small spenders drifting away (HIGH).
    const cohort: Array<{ id: string; spend: number; band: 'HIGH' | 'LOW'; auth: Auth }> = [];
    for (let i = 0; i < 32; i++) {
      const band = i < 24 || i >= 28 ? 'HIGH' : 'LOW';
      const spend = i < 28 ? 25_000 : 3_000;
      const auth = i % 2 === 0 ? web.auth : store.auth;
      const member = ok(await h.gql(web.auth, ENROL, { input: { email: `drift-${i}-${randomUUID().slice(0, 6)}@example.com`, country: 'IE' } })).enrolMember;
      ok(await order(auth, member.id, spend, DAYS_AGO_40));
      // Drifting: the risk rose from 0.5 a month ago; loyal: it held at 0.1.
      await h.sql(
        `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at) values (?, ?, ?, ?, '[]', ?, now() - interval '30 days')`,
        [churn, member.id, band === 'HIGH' ? 0.8 : 0.1, band, band === 'HIGH' ? 0.5 : 0.1],
      );
      cohort.push({ id: member.id, spend, band, auth });
    }
    for (const [i, score] of [10, 9, 3].entries()) {
      ok(await h.gql(web.auth, FEEDBACK, { input: { memberId: cohort[i].id, kind: 'NPS', score, givenAt: DAYS_AGO_40 } }));
    }

    // The dashboard, with the admin app's own operations.
    const from = new Date(Date.now() - 90 * DAY_MS).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const { analytics: { kpis } } = await adminOperation(marketer.token, 'analytics.graphql', 'AnalyticsKpis', { input: { from, to, country: 'IE' } }); // this test's members only
    const webSpend = cohort.filter((_, i) => i % 2 === 0).reduce((s, m) => s + m.spend, 0);
    const storeSpend = cohort.filter((_, i) => i % 2 === 1).reduce((s, m) => s + m.spend, 0);
    expect(kpis).toMatchObject({ currency: 'GBP', activeMembers: 32, newMembers: 32, orders: 32, netRevenueMinor: webSpend + storeSpend });
    expect(Object.fromEntries(kpis.byChannel.map((r: any) => [r.channelKind, r.netRevenueMinor]))).toEqual({ WEB: webSpend, STORE: storeSpend });
    expect(kpis.liabilityPoints).toBe((webSpend + storeSpend) / 100); // all still pending: no points job has run
    const risingRule = segmentPresets.find((p) => p.id === 'rising-risk')!.rule; // what the dashboard sends
    const distribution = await adminOperation(marketer.token, 'dashboard.graphql', 'ChurnDistribution', { risingRule });
    expect([distribution.high.totalCount, distribution.medium.totalCount, distribution.low.totalCount]).toEqual([28, 0, 4]);
    expect(distribution.rising.count).toBe(28); // every HIGH member's risk rose from 0.5 to 0.8
    const { analytics: { feedback } } = await adminOperation(marketer.token, 'dashboard.graphql', 'FeedbackTrend', { input: { from, to, bucket: 'MONTH', channelKind: 'WEB' } });
    // 1 promoter... 2 promoters (10, 9) and 1 detractor (3) of 3: NPS = round(100 × (2 − 1) / 3) = 33.
    expect(feedback.nps).toMatchObject({ responses: 3, promoters: 2, passives: 0, detractors: 1 });
    expect(Math.round(feedback.nps.score)).toBe(33);

    // High spend and a rising churn risk (up 10 points or more over the month), with a live count.
    const rule = { and: [{ attribute: 'monetaryMinor', op: 'gte', value: 20_000, windowDays: 365 }, { attribute: 'churnScoreChange', op: 'gte', value: 0.1 }] };
    const preview = (await adminOperation(marketer.token, 'segments.graphql', 'PreviewSegment', { input: { rule } })).previewSegment;
    const drifting = cohort.filter((m) => m.spend >= 20_000 && m.band === 'HIGH').map((m) => m.id);
    expect(preview.count).toBe(24);
    expect(preview.sample.map((s: any) => s.id).sort()).toEqual([...drifting].sort().slice(0, preview.sample.length));
    const segment = (await adminOperation(marketer.token, 'segments.graphql', 'CreateSegment', { input: { name: 'Drifting high spenders', kind: 'DYNAMIC', rule } })).createSegment;

    // Double points for two weeks, a budget cap, 10% held out.
    const startsAt = new Date(Date.now() - 1000);
    const endsAt = new Date(startsAt.getTime() + 14 * DAY_MS);
    // The holdout is a hash of campaign and member ids: with 24 members and 10% held out, about one campaign id in
    // twelve holds nobody out. Keep drafting until this one holds out at least two, so the uplift has two sides.
    let created: { id: string };
    for (let attempt = 1; ; attempt++) {
      created = (await adminOperation(marketer.token, 'campaigns.graphql', 'CreateCampaign', {
        input: { name: `Come back: double points (${attempt})`, segmentId: segment.id, bonus: { multiplierPercent: 200 }, budgetPoints: 300, holdoutShare: 0.1, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() },
      })).createCampaign;
      if (drifting.filter((id) => holdoutGroup(created.id, id, 0.1) === CampaignGroup.HOLDOUT).length >= 2) break;
      expect(attempt).toBeLessThan(100);
    }
    const launched = (await adminOperation(marketer.token, 'campaigns.graphql', 'LaunchCampaign', { id: created.id })).launchCampaign;
    const holdout = drifting.filter((id) => holdoutGroup(launched.id, id, 0.1) === CampaignGroup.HOLDOUT);
    const treated = drifting.filter((id) => !holdout.includes(id));
    expect(holdout.length).toBeGreaterThan(0);
    const campaign = (await adminOperation(marketer.token, 'campaigns.graphql', 'Campaign', { id: launched.id })).campaign;
    expect(campaign).toMatchObject({ status: 'ACTIVE', treatedCount: treated.length, holdoutCount: holdout.length, budgetPoints: 300 });

    // Orders in the window: double points for the treated until the budget runs out; the holdout earns the base rate.
    const earned: number[] = [];
    for (const id of treated.slice(0, 4)) earned.push(ok(await order(web.auth, id, 10_000)).recordOrder.pointsEarned);
    expect(earned).toEqual([200, 200, 200, 100 + 0]); // 100 + 100 + 100 of bonus, then the cap of 300 is spent
    const control = ok(await order(web.auth, holdout[0], 10_000)).recordOrder;
    expect(control.pointsEarned).toBe(100);
    const outsider = ok(await order(web.auth, cohort[24].id, 10_000)).recordOrder; // loyal: not in the segment
    expect(outsider.pointsEarned).toBe(100);

    const { campaign: withResults } = await adminOperation(marketer.token, 'campaigns.graphql', 'CampaignResults', { id: launched.id });
    const r = withResults.results;
    expect(r.treated).toMatchObject({ members: treated.length, buyers: 4, revenueMinor: 40_000, pointsCost: 300 });
    expect(r.holdout).toMatchObject({ members: holdout.length, buyers: 1, revenueMinor: 10_000 });
    const rpmTreated = 40_000 / treated.length;
    const rpmHoldout = 10_000 / holdout.length;
    expect(r.revenuePerMemberUplift.difference).toBeCloseTo(rpmTreated - rpmHoldout, 6);
    expect(r.revenuePerMemberUplift.low).toBeLessThan(r.revenuePerMemberUplift.difference);
    expect(r.revenuePerMemberUplift.high).toBeGreaterThan(r.revenuePerMemberUplift.difference);
    expect(r.incrementalRevenueMinor).toBeCloseTo((rpmTreated - rpmHoldout) * treated.length, 6);
    expect(typeof r.significant).toBe('boolean');
    expect(r.verdict.length).toBeGreaterThan(20);
  });
});
