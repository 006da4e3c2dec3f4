import { useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { orderInput, RECORD_ORDER } from '../../../test/support/orders';
import { OutboxSubscriberRunner } from '../../../api/src/modules/events/subscriber-runner';
import { createLogger } from '../../../api/src/base/logger';
import { brandTallySubscriber, plugin } from '../src';

// The plugin's outbox subscriber end to end: orders recorded through GraphQL, the subscriber run as main.ts runs it
// (here one pass at a time), the tally read through the plugin's GraphQL field.
const h = useHarness({}, { plugins: [plugin] });
const b = build(h);

const CREATE_RULE = `mutation Create($input: EarningRuleInput!) { createEarningRule(input: $input) { id } }`;
const TALLY = `query Tally($brand: String!) { brandBonusTally(brand: $brand) { brand points orders updatedAt } }`;

function brandedOrder(memberId: string, lines: Array<{ sku: string; brand: string | null; unitPriceMinor: number }>) {
  const input = orderInput(memberId, lines.map(({ sku, unitPriceMinor }) => ({ sku, unitPriceMinor })));
  return { ...input, lines: input.lines.map((l, i) => ({ ...l, brand: lines[i].brand })) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Passes until the subscriber has caught up with the outbox (a transaction elsewhere on the server can hold it back). */
async function catchUp(runner: OutboxSubscriberRunner): Promise<void> {
  for (let i = 0; i < 250; i++) {
    await runner.runOnce();
    const [{ lag }] = await h.sql<{ lag: number }>(
      `select count(*)::int as lag from event_outbox e, outbox_subscriber_cursor c
       where c.name = ? and e.type = 'points.earned' and (e.tx_id, e.id) > (c.last_tx_id, c.last_event_id)`,
      [brandTallySubscriber.name],
    );
    if (lag === 0) return;
    await sleep(20);
  }
  throw new Error('the tally subscriber never caught up');
}

describe('brand-bonus plugin: the per-brand tally', () => {
  let runner: OutboxSubscriberRunner;
  afterAll(() => runner?.close());

  it('adds each order’s BRAND_BONUS points to its brand once, and serves them through brandBonusTally', async () => {
    await b.baseRate(1, 100);
    const admin = await b.admin(AdminRole.ADMIN);
    for (const [brand, extraPercent] of [['Acme', 100], ['Other', 50]] as const) {
      const res = await h.gql(admin.auth, CREATE_RULE, { input: { name: `${brand} bonus`, kind: 'BRAND_BONUS', priority: 0, params: { brand, extraPercent } } });
      expect(res.errors).toBeUndefined();
    }
    const member = await b.member().save();
    const web = await b.apiKey();
    const record = async (lines: Parameters<typeof brandedOrder>[1]) => {
      const res = await h.gql(web.auth, RECORD_ORDER, { input: brandedOrder(member.id, lines) });
      expect(res.errors).toBeUndefined();
      return res.data.recordOrder;
    };
    // Acme: £20 (20 base, +20) and £7 (7, +7); Other: £10 (10, +5) in the first order; an order with no brand gives no bonus.
    await record([
      { sku: 'ACME-KETTLE', brand: 'ACME', unitPriceMinor: 2000 },
      { sku: 'OTHER-TEA', brand: 'Other', unitPriceMinor: 1000 },
    ]);
    await record([{ sku: 'ACME-MUG', brand: 'acme ', unitPriceMinor: 700 }]);
    const plain = await record([{ sku: 'LOOSE-SUGAR', brand: null, unitPriceMinor: 500 }]);
    expect(plain.pointsEarned).toBe(5);

    const analyst = await b.admin(AdminRole.ANALYST);
    expect((await h.gql(analyst.auth, TALLY, { brand: 'Acme' })).data.brandBonusTally).toBeNull();

    runner = new OutboxSubscriberRunner(h.orm, h.app.services.events.subscribers, h.config, createLogger('silent'));
    await catchUp(runner);
    const acme = await h.gql(analyst.auth, TALLY, { brand: ' ACME' });
    expect(acme.errors).toBeUndefined();
    expect(acme.data.brandBonusTally).toMatchObject({ brand: 'acme', points: 27, orders: 2 });
    expect((await h.gql(analyst.auth, TALLY, { brand: 'other' })).data.brandBonusTally).toMatchObject({ brand: 'other', points: 5, orders: 1 });
    expect((await h.gql(analyst.auth, TALLY, { brand: 'Nobody' })).data.brandBonusTally).toBeNull();

    // Handled events are not handled again: more passes leave the tally as it is, a new order adds to it.
    await runner.runOnce();
    await record([{ sku: 'ACME-KETTLE', brand: 'Acme', unitPriceMinor: 1000 }]);
    await catchUp(runner);
    expect((await h.gql(analyst.auth, TALLY, { brand: 'acme' })).data.brandBonusTally).toMatchObject({ points: 37, orders: 3 });
  });

  it('is read with analytics:read: a channel key is refused', async () => {
    const web = await b.apiKey();
    const res = await h.gql(web.auth, TALLY, { brand: 'acme' });
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
  });
});
