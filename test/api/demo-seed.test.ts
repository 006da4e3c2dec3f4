import type { Job } from 'bull';
import Queue from 'bull';
import pino from 'pino';
import { useHarness, type GqlResult } from '../support/harness';
import { createLogger } from '../../api/src/base/logger';
import { DEMO_ADMIN, demoSteps, seedDemo, type DemoSeedResult } from '../../api/src/composition/seed/demo';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import type { DemoSeedStep } from '../../api/src/composition/seed/demo-context';
import { FINISHED_CAMPAIGN } from '../../api/src/composition/seed/demo-history';
import { CHURN_SEGMENT, DEMO_WEBHOOK_URL, RUNNING_CAMPAIGN } from '../../api/src/composition/seed/demo-engagement';
import { DEMO_MEMBER } from '../../api/src/composition/seed/demo-members';
import { DEMO_REWARDS } from '../../api/src/composition/seed/demo-programme';
import { runImport } from '../support/imports';
import { WebhookDispatcher, WEBHOOK_DELIVERY_QUEUE } from '../../api/src/modules/webhooks/dispatcher';
import { handleTrain } from '../../recommender/src/jobs/train';
import { ModelStore } from '../../recommender/src/training/store';
import { activityPlugin, TEST_ACTIVITY_TABLE } from '../fixtures/plugins/activity-registries-plugin';

/**
 * `npm start`'s demo seed through the services on the first customers of the slice in data/demo (the same code path
 * as the whole slice, which takes longer), with the distribution's plugins and a test plugin loaded: what the demo holds, the README's journey with the
 * printed key, and a second seed that adds nothing.
 */
const prefix = `test-demo-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix, WEBHOOK_SWEEP_MS: '600000', WEBHOOK_BACKOFF_MS: '50', WEBHOOK_MAX_ATTEMPTS: '2' }, { plugins: [...DISTRIBUTION_PLUGINS, activityPlugin] });
jest.setTimeout(240_000);

/** The first customers of the file: enough for both campaigns' groups, referrers and redemptions. */
const CUSTOMERS = 120;
const log = createLogger('silent');
let seed: DemoSeedResult;
let seedSeconds = 0;
const pluginStepRuns: string[] = [];
/** Stands for the distribution's plugins' demo data: a step after the core's, with the same context. */
const pluginStep: DemoSeedStep = { name: 'test-plugin', run: async (demo) => void pluginStepRuns.push(demo.web.name) };
const steps = [...demoSteps([...DISTRIBUTION_PLUGINS, activityPlugin]), pluginStep];

let admin: { token: string };
const count = async (sql: string, params: unknown[] = []) => Number((await h.sql(sql, params))[0].n);

beforeAll(async () => {
  await h.sql(TEST_ACTIVITY_TABLE);
  const started = performance.now();
  seed = await seedDemo(h.orm.em, h.app.services, log, { history: { customers: CUSTOMERS }, steps });
  seedSeconds = (performance.now() - started) / 1000;
  const login = await h.gql(null, `mutation($i: LoginInput!) { login(input: $i) { token } }`, { i: { email: DEMO_ADMIN.email, password: DEMO_ADMIN.password } });
  admin = { token: login.data.login.token };
});

afterAll(async () => {
  const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, h.config.REDIS_URL, { prefix });
  await queue.obliterate({ force: true });
  await queue.close();
});

async function asKey(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await h.http().post('/graphql').set('content-type', 'application/json').set('x-api-key', seed.apiKey).send({ query, variables });
  const body = res.body as GqlResult<any>;
  expect({ query, errors: body.errors ?? [] }).toEqual({ query, errors: [] });
  return body.data;
}

async function asAdmin(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await h.gql(admin, query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

describe('the demo seed', () => {
  it('imports the first customers of the slice with their orders and returns, and runs the plugin steps after the core ones', async () => {
    expect(seed.counts.customers).toBe(CUSTOMERS);
    expect(await count(`select count(distinct member_id) as n from customer_order where member_id is not null`)).toBeGreaterThanOrEqual(CUSTOMERS);
    expect(await count(`select count(*) as n from order_return`)).toBeGreaterThan(0);
    expect(pluginStepRuns).toEqual(['Demo web shop']);
  });

  it("holds the plugins' demo: two activity types with activities credited, and a running challenge members are part way through", async () => {
    const order = steps.map((step) => step.name);
    // Their programme before the history (which then counts towards the challenge), their activity after the core's.
    expect(order).toEqual(expect.arrayContaining(['activities.programme', 'challenges.programme', 'history', 'activities.activity']));
    expect(order.indexOf('challenges.programme')).toBeLessThan(order.indexOf('history'));
    expect(order.indexOf('activities.activity')).toBeGreaterThan(order.indexOf('history'));
    expect((await h.sql(`select code from activity_type where is_active order by code`)).map((r) => r.code)).toEqual(['review_written', 'store_visit']);
    expect(await count(`select count(*) as n from activity_record where outcome = 'CREDITED' and points > 0`)).toBeGreaterThan(10);
    expect(await count(`select count(*) as n from ledger_entry where reason = 'ACTIVITY'`)).toBeGreaterThan(10);
    const [challenge] = await h.sql(`select id, starts_at, ends_at, is_active from challenge where code = 'three_orders_this_month'`);
    expect(challenge.is_active).toBe(true);
    expect(new Date(challenge.starts_at).getTime()).toBeLessThan(Date.now());
    expect(new Date(challenge.ends_at).getTime()).toBeGreaterThan(Date.now());
    const partWay = await count(`select count(*) as n from challenge_progress where challenge_id = ? and progress > 0 and progress < goal and completed_at is null`, [challenge.id]);
    expect(partWay).toBeGreaterThan(0);
  });

  it('gives members names, emails and consents, and the README its demo member', async () => {
    expect(await count(`select count(*) as n from member where first_name is not null and last_name is not null and email is not null`)).toBeGreaterThanOrEqual(CUSTOMERS);
    expect(await count(`select count(*) as n from member_consent where medium = 'EMAIL' and is_granted`)).toBeGreaterThan(CUSTOMERS / 2);
    expect(await count(`select count(*) as n from member_consent where medium = 'EMAIL' and not is_granted`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from member where email = ? and first_name = ?`, [DEMO_MEMBER.email, DEMO_MEMBER.firstName])).toBe(1);
  });

  it('has redemptions, vouchers used at the checkout, NPS and CSAT answers and referrals, some of them credited', async () => {
    expect(await count(`select count(*) as n from redemption`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from redemption where status = 'CONSUMED' and voucher_code is not null`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from feedback where kind = 'NPS'`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from feedback where kind = 'CSAT'`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from referral where status = 'CREDITED'`)).toBeGreaterThan(0);
    expect(await count(`select count(*) as n from referral where status = 'PENDING'`)).toBeGreaterThan(0);
  });

  it('has a finished campaign whose results give the uplift with its interval, and a running one', async () => {
    const { campaigns } = await asAdmin(`{ campaigns(first: 10) { edges { node { id name status counts { treated holdout bonused } } } } }`);
    const byName = new Map(campaigns.edges.map((e: { node: { name: string } }) => [e.node.name, e.node]));
    const finished = byName.get(FINISHED_CAMPAIGN) as { id: string; status: string; counts: { treated: number; holdout: number; bonused: number } };
    expect(finished).toMatchObject({ status: 'ENDED' });
    expect(finished.counts.holdout).toBeGreaterThanOrEqual(2);
    expect(finished.counts.bonused).toBeGreaterThan(0);
    const { campaign } = await asAdmin(
      `query($id: ID!) { campaign(id: $id) { results { windowStart windowEnd treated { members buyers } holdout { members buyers }
         purchaseRateUplift { difference low high } revenuePerMemberUplift { difference low high } verdict } } }`,
      { id: finished.id },
    );
    const results = campaign.results;
    expect(new Date(results.windowEnd).getTime()).toBeLessThan(Date.now());
    expect(results.treated.buyers).toBeGreaterThan(0);
    expect(results.purchaseRateUplift.low).toBeLessThanOrEqual(results.purchaseRateUplift.difference);
    expect(results.purchaseRateUplift.high).toBeGreaterThanOrEqual(results.purchaseRateUplift.difference);
    expect(results.purchaseRateUplift.high).toBeGreaterThan(results.purchaseRateUplift.low);
    expect(results.verdict).toMatch(/95% CI/);
    expect(byName.get(RUNNING_CAMPAIGN)).toMatchObject({ status: 'ACTIVE', counts: { treated: expect.any(Number) } });
    expect((byName.get(RUNNING_CAMPAIGN) as { counts: { treated: number } }).counts.treated).toBeGreaterThan(0);
  });

  it('has a webhook endpoint whose deliveries record every attempt once the API dispatches them', async () => {
    const { webhooks } = await asAdmin(`{ webhooks { id url eventTypes } }`);
    expect(webhooks).toEqual([expect.objectContaining({ url: DEMO_WEBHOOK_URL, eventTypes: ['CAMPAIGN_LAUNCHED'] })]);
    const dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent')).start();
    try {
      expect(await dispatcher.sweep()).toBeGreaterThan(0);
      const deadline = Date.now() + 30_000;
      let deliveries: { attempts: number; eventType: string; attemptLog: { error: string | null }[] }[] = [];
      while (Date.now() < deadline) {
        deliveries = (await asAdmin(`query($id: ID!) { webhookDeliveries(webhookId: $id, first: 100) { eventType attempts attemptLog { error } } }`, { id: webhooks[0].id }))
          .webhookDeliveries;
        if (deliveries.length > 0 && deliveries.every((d) => d.attempts > 0)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      // The finished and the running campaign's launches.
      expect(deliveries.map((d) => d.eventType)).toEqual(['CAMPAIGN_LAUNCHED', 'CAMPAIGN_LAUNCHED']);
      // Nothing listens at the demo URL: every delivery was tried, and each attempt is logged with its error.
      expect(deliveries.every((d) => d.attempts > 0 && d.attemptLog.length === d.attempts && d.attemptLog.every((a) => a.error === 'ECONNREFUSED'))).toBe(true);
    } finally {
      await dispatcher.close();
    }
  });

  it('has segments on the churn band that fill once a churn model is active', async () => {
    const { segments } = await asAdmin(`{ segments { id name memberCount } }`);
    const churn = segments.find((s: { name: string }) => s.name === CHURN_SEGMENT);
    expect(churn.memberCount).toBe(0);
    // The worker's bootstrap training, in-process; a version the gate keeps out of so small a history is served by hand.
    const store = new ModelStore(h.config.DATABASE_URL);
    try {
      const train = handleTrain('CHURN', { databaseUrl: h.config.DATABASE_URL, store, bands: { medium: 0.3, high: 0.6 }, log: pino({ level: 'silent' }) });
      const trained = await train({ id: 'demo-churn', data: { v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'test' }, attemptsMade: 0, progress: async () => undefined } as unknown as Job<unknown>);
      if (trained.status !== 'ACTIVE') {
        await asAdmin(`mutation($i: ActivateModelVersionInput!) { activateModelVersion(input: $i) { id } }`, { i: { id: trained.modelVersionId, reason: 'demo seed test' } });
      }
    } finally {
      await store.close();
    }
    const { segment } = await asAdmin(`query($id: ID!) { segment(id: $id) { memberCount } }`, { id: churn.id });
    expect(segment.memberCount).toBeGreaterThan(0);
  });
});

describe('the printed demo key', () => {
  it('holds every channel scope, the plugins’ included', () => {
    const all = h.app.services.apiKeys.access.listScopes().map((s) => s.scope);
    expect([...seed.apiKeyScopes].sort()).toEqual([...all].sort());
    expect(seed.apiKeyScopes).toContain('test-activities:write');
  });

  it("runs the README's journey: enrol, find, order, then the demo member redeems and uses the voucher, and answers", async () => {
    const email = 'Ann.Smith@example.com';
    const enrolled = (
      await asKey(`mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id email phone enrolmentChannel } }`, {
        i: { email, phone: '07911 123456', firstName: 'Ann', lastName: 'Smith', consents: [{ medium: 'EMAIL', isGranted: true }] },
      })
    ).enrolMember;
    expect(enrolled).toMatchObject({ email: email.toLowerCase(), enrolmentChannel: 'WEB' });
    expect((await asKey(`{ memberByIdentifier(type: PHONE, value: "+44 7911 123456") { id firstName email } }`)).memberByIdentifier.id).toBe(enrolled.id);
    expect((await asKey(`{ members(first: 10, search: "ann smith") { totalCount edges { node { id email } } } }`)).members.totalCount).toBe(1);
    const order = (
      await asKey(`mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id pointsEarned } }`, {
        i: { externalOrderId: 'README-1', member: { id: enrolled.id }, placedAt: new Date().toISOString(), currency: 'GBP', lines: [{ sku: '85099B', name: 'JUMBO BAG RED RETROSPOT', quantity: 10, unitPriceMinor: 195 }], totalMinor: 1950 },
      })
    ).recordOrder;
    expect(order.pointsEarned).toBeGreaterThan(0);

    const member = (await asKey(`query($e: String!) { memberByIdentifier(type: EMAIL, value: $e) { id points { available } } }`, { e: DEMO_MEMBER.email })).memberByIdentifier;
    const rewards = (await asKey(`{ rewards { id code costPoints } }`)).rewards as { id: string; code: string; costPoints: number }[];
    const fiveOff = rewards.find((r) => r.code === DEMO_REWARDS.fiveOff)!;
    expect(member.points.available).toBeGreaterThanOrEqual(fiveOff.costPoints);
    const redemption = (
      await asKey(`mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id status voucherCode points } }`, { i: { memberId: member.id, rewardId: fiveOff.id, idempotencyKey: 'readme-1' } })
    ).redeemReward;
    expect(redemption).toMatchObject({ status: 'ISSUED', points: fiveOff.costPoints, voucherCode: expect.any(String) });
    const consumed = (
      await asKey(`mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { status consumedOrderRef } }`, { i: { voucherCode: redemption.voucherCode, memberId: member.id, orderRef: 'README-CHECKOUT-1' } })
    ).consumeVoucher;
    expect(consumed).toEqual({ status: 'CONSUMED', consumedOrderRef: 'README-CHECKOUT-1' });
    const after = (await asKey(`query($id: ID!) { member(id: $id) { points { available } tier { code } } }`, { id: member.id })).member;
    expect(after.points.available).toBe(member.points.available - fiveOff.costPoints);
    const answer = (await asKey(`mutation($i: RecordFeedbackInput!) { recordFeedback(input: $i) { kind score } }`, { i: { memberId: member.id, kind: 'NPS', score: 9 } })).recordFeedback;
    expect(answer).toEqual({ kind: 'NPS', score: 9 });
  });
});

describe('a second demo seed (a restart of npm start)', () => {
  it('adds nothing but a new key, and revokes the old one', async () => {
    const tables = ['member', 'customer_order', 'order_return', 'redemption', 'feedback', 'referral', 'campaign', 'segment', 'webhook', 'reward', 'tier', 'earning_rule'];
    const before = await Promise.all(tables.map((t) => count(`select count(*) as n from ${t}`)));
    const again = await seedDemo(h.orm.em, h.app.services, log, { history: { customers: CUSTOMERS }, steps });
    expect(await Promise.all(tables.map((t) => count(`select count(*) as n from ${t}`)))).toEqual(before);
    expect(again.ordersImported).toBe(0);
    expect(again.apiKey).not.toBe(seed.apiKey);
    expect(await h.sql(`select prefix, revoked_at is null as "isLive" from api_key where name like 'demo key%' order by created_at`)).toEqual([
      { prefix: expect.any(String), isLive: false },
      { prefix: expect.any(String), isLive: true },
    ]);
  });

  it("still seeds after an analyst imported the same customers into another channel, and leaves that channel's members as imported", async () => {
    // The README's `npm run import` on the demo's database: the Online Retail file holds the demo slice's customers too.
    const demoCustomers = await h.sql<{ value: string }>(
      `select i.value from member_identifier i join sales_channel c on c.id::text = i.scope where c.name = ? and i.type = 'CHANNEL_CUSTOMER_ID' order by i.value limit 3`,
      [seed.channelName],
    );
    expect(demoCustomers).toHaveLength(3);
    const rows = demoCustomers.map(({ value }, n) => ({
      line: n + 2,
      row: { InvoiceNo: `ANALYST-${n}`, StockCode: '85123A', Description: 'WHITE HANGING HEART T-LIGHT HOLDER', Quantity: '2', InvoiceDate: '2011-01-10 10:00:00', UnitPrice: '2.55', CustomerID: value, Country: 'United Kingdom' },
    }));
    const imported = await runImport(h, rows, { channelName: "Analyst's import" });
    expect(imported.summary.membersCreated).toBe(3);
    const members = await count(`select count(*) as n from member`);

    await seedDemo(h.orm.em, h.app.services, log, { history: { customers: CUSTOMERS }, steps });
    expect(await count(`select count(*) as n from member`)).toBe(members);
    expect(
      await count(
        `select count(*) as n from member m join member_identifier i on i.member_id = m.id join sales_channel c on c.id::text = i.scope
          where c.name = ? and m.email is null and m.first_name is null`,
        ["Analyst's import"],
      ),
    ).toBe(3);
  });
});
