import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { expectError, useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { ledgerCheck, orderInput, RECORD_ORDER } from '../support/orders';
import { runImport } from '../support/imports';
import { EarningEventKind, EarningStage, type EarningContributor } from '../../api/src/modules/earning/pipeline';
import { createServices } from '../../api/src/composition/services';
import { PluginError, type LoyaltyPlugin } from '../../api/src/composition/plugin';
import type { SourceRecord } from '../../api/src/modules/import/source';

// A plugin's earning contributors (issue 15): one that credits a member's first order with tea and writes a row of its
// own table, one that throws on demand. They run in the pipeline with the core's, for recordOrder and the importer
// alike, in the transaction of the order.

@Entity({ tableName: 'tea_plugin_award' })
class TeaAward {
  @PrimaryKey({ type: 'uuid' })
  orderId: string;

  @Property({ type: 'uuid' })
  memberId: string;

  @Property({ type: 'integer' })
  points: number;
}

class Migration20261206210000_tea_awards extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "tea_plugin_award" ("order_id" uuid primary key, "member_id" uuid not null, "points" int not null);`);
    this.addSql(`create index "tea_plugin_award_member_id_index" on "tea_plugin_award" ("member_id");`);
  }
}

const TEA_POINTS = 25;

/** 25 points on a member's first order with a line of category Tea, once per member. */
const teaWelcome: EarningContributor<{ awarded: boolean }> = {
  name: 'tea.welcome',
  stage: EarningStage.BONUS + 10,
  read: {
    kinds: [EarningEventKind.ORDER],
    select: `exists (select 1 from tea_plugin_award a where a.member_id = k.member_id)`,
    parse: (value: boolean | null) => ({ awarded: value === true }),
  },
  onOrder({ memberId, order, lines, at }, state, run) {
    if (state.awarded || !lines.some((l) => l.category === 'Tea')) return;
    run.earn(memberId, TEA_POINTS, { sourceType: 'tea-welcome', sourceId: order.id, key: `tea-welcome:${order.id}`, actor: run.actor, at });
    order.pointsEarned += TEA_POINTS;
    order.pointsBreakdown = [...order.pointsBreakdown, { kind: 'TEA_WELCOME', label: 'Tea welcome', ruleId: null, ruleVersion: null, points: TEA_POINTS }];
    run.em.create(TeaAward, { orderId: order.id, memberId, points: TEA_POINTS });
  },
  // Later orders of the member in the same batch are not the first any more.
  afterOrder({ lines }, state) {
    if (lines.some((l) => l.category === 'Tea')) state.awarded = true;
  },
};

/** Throws on an order with a BOOM line while `boom.on`: after every other stage has written. */
const boom = { on: true };
const boomGuard: EarningContributor = {
  name: 'tea.boom',
  stage: EarningStage.SETTLE + 100,
  onOrder({ lines }) {
    if (boom.on && lines.some((l) => l.sku.startsWith('BOOM'))) throw new Error('plugin bug');
  },
};

const plugin: LoyaltyPlugin = {
  name: 'tea',
  entities: [TeaAward],
  migrations: [{ name: 'Migration20261206210000_tea_awards', class: Migration20261206210000_tea_awards }],
  earningContributors: [teaWelcome, boomGuard],
};

const clock = { at: null as Date | null, now: () => clock.at ?? new Date() };
const h = useHarness({}, { plugins: [plugin], clock });
const b = build(h);

const MINUTE = 60_000;
const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

beforeAll(async () => {
  await b.baseRate(1, 100);
  await h.sql(
    `insert into product (id, sku, name, category, brand, price_minor, currency, created_at) values
       (gen_random_uuid(), 'TEA-1', 'Tea', 'Tea', null, 500, 'GBP', now()),
       (gen_random_uuid(), 'MUG-1', 'Mug', 'Kitchen', null, 800, 'GBP', now()),
       (gen_random_uuid(), 'BOOM-1', 'Boom', 'Kitchen', null, 100, 'GBP', now())`,
  );
});

afterEach(() => {
  boom.on = true;
  clock.at = null;
});

interface Sale {
  invoice: string;
  customer: number;
  minute: number;
  lines: Array<{ sku: string; quantity: number; priceMinor: number }>;
}

/** Two members, A (M0) and B (M1): A's first order has no tea, the second has, the third has tea again. */
const SALES: Sale[] = [
  { invoice: 'T1', customer: 0, minute: 0, lines: [{ sku: 'MUG-1', quantity: 1, priceMinor: 800 }] },
  { invoice: 'T2', customer: 1, minute: 5, lines: [{ sku: 'TEA-1', quantity: 2, priceMinor: 500 }] },
  { invoice: 'T3', customer: 0, minute: 10, lines: [{ sku: 'TEA-1', quantity: 1, priceMinor: 500 }, { sku: 'MUG-1', quantity: 1, priceMinor: 800 }] },
  { invoice: 'T4', customer: 0, minute: 15, lines: [{ sku: 'TEA-1', quantity: 3, priceMinor: 500 }] },
];

function rowsOf(sales: Sale[], start: number): SourceRecord[] {
  let line = 1;
  return sales.flatMap((s) =>
    s.lines.map((l) => ({
      line: ++line,
      row: {
        InvoiceNo: s.invoice,
        StockCode: l.sku,
        Description: l.sku,
        Quantity: String(l.quantity),
        InvoiceDate: stamp(new Date(start + s.minute * MINUTE)),
        UnitPrice: (l.priceMinor / 100).toFixed(2),
        CustomerID: `M${s.customer}`,
        Country: 'United Kingdom',
      },
    })),
  );
}

/** A channel whose customers M0, M1 are new members. */
async function world(name: string) {
  const channel = await h.app.services.apiKeys.createChannel(h.em(), null, { name, kind: SalesChannelKind.WEB });
  const members = [(await b.member().save()).id, (await b.member().save()).id];
  await h.sql(
    `insert into member_identifier (id, member_id, type, scope, value, created_at)
     select gen_random_uuid(), (x->>'id')::uuid, 'CHANNEL_CUSTOMER_ID', ?, x->>'value', now() from jsonb_array_elements(?::jsonb) x`,
    [channel.id, JSON.stringify(members.map((id, i) => ({ id, value: `M${i}` })))],
  );
  return { channelId: channel.id, members };
}

/** What the two paths must agree on, by external order id and customer. */
async function stateOf(channelId: string) {
  const customer = `(select i.value from member_identifier i where i.member_id = o.member_id and i.type = 'CHANNEL_CUSTOMER_ID' and i.scope = ?)`;
  return {
    orders: await h.sql(
      `select o.external_order_id, ${customer} as customer, o.points_earned, o.points_breakdown from customer_order o where o.channel_id = ? order by 1`,
      [channelId, channelId],
    ),
    awards: await h.sql(
      `select o.external_order_id, ${customer} as customer, a.points from tea_plugin_award a join customer_order o on o.id = a.order_id where o.channel_id = ? order by 1`,
      [channelId, channelId],
    ),
    ledger: await h.sql(
      `select o.external_order_id, e.reason, e.source_type, (e.pending_delta + e.available_delta)::int as delta, e.created_at
       from ledger_entry e join customer_order o on o.id = e.source_id where o.channel_id = ? and e.source_type in ('order', 'tea-welcome') order by 1, 3`,
      [channelId],
    ),
  };
}

describe("a plugin's earning contributors", () => {
  it('run after the core’s, in stage order', () => {
    expect(h.app.services.earning.contributorNames).toEqual(['base-rules', 'tiers', 'plans', 'campaign-bonus', 'referrals', 'tea.welcome', 'tea.boom']);
  });

  it('credit the same points and write the same rows whether the orders are recorded through the API or imported', async () => {
    const start = Math.floor((Date.now() - 3 * 86_400_000) / MINUTE) * MINUTE;
    const imported = await world('Tea import');
    const viaApi = await world('Tea API');

    const { summary, rejects } = await runImport(h, rowsOf(SALES, start), { channelName: 'Tea import', batchInvoices: 500 });
    expect(rejects).toEqual([]);
    expect(summary.orders).toBe(4);
    for (const s of SALES) {
      clock.at = new Date(start + s.minute * MINUTE);
      await h.app.services.orders.record(b.ctx(), {
        channelId: viaApi.channelId,
        externalOrderId: s.invoice,
        member: { id: viaApi.members[s.customer] },
        placedAt: clock.at,
        currency: 'GBP',
        lines: s.lines.map((l) => ({ sku: l.sku, name: l.sku, quantity: l.quantity, unitPriceMinor: l.priceMinor, discountMinor: 0 })),
        orderDiscountMinor: 0,
        totalMinor: s.lines.reduce((n, l) => n + l.quantity * l.priceMinor, 0),
      } as never);
    }

    const want = await stateOf(viaApi.channelId);
    expect(await stateOf(imported.channelId)).toEqual(want);
    // What the contributor did: the first order with tea of each member, once (T4 is A's second order with tea).
    expect(want.orders.map((o: any) => [o.external_order_id, o.points_earned])).toEqual([
      ['T1', 8],
      ['T2', 10 + TEA_POINTS],
      ['T3', 13 + TEA_POINTS],
      ['T4', 15],
    ]);
    expect(want.orders[2].points_breakdown.at(-1)).toEqual({ kind: 'TEA_WELCOME', label: 'Tea welcome', ruleId: null, ruleVersion: null, points: TEA_POINTS });
    expect(want.awards).toEqual([
      { external_order_id: 'T2', customer: 'M1', points: TEA_POINTS },
      { external_order_id: 'T3', customer: 'M0', points: TEA_POINTS },
    ]);
    expect(want.ledger.filter((r: any) => r.source_type === 'tea-welcome').map((r: any) => [r.external_order_id, r.delta])).toEqual([
      ['T2', TEA_POINTS],
      ['T3', TEA_POINTS],
    ]);
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it('that throws rolls the whole order back: EARNING_FAILED naming it, and nothing written, not even the earlier stages’ rows', async () => {
    const member = await b.member().save();
    const web = await b.apiKey();
    const input = orderInput(member.id, [
      { sku: 'TEA-1', unitPriceMinor: 500 },
      { sku: 'BOOM-1', unitPriceMinor: 100 },
    ]);
    const outboxBefore = await h.sql<{ n: number }>(`select count(*)::int as n from event_outbox`);

    const failed = await h.gql(web.auth, RECORD_ORDER, { input });
    const error = expectError(failed, 'EARNING_FAILED');
    expect(error.extensions.contributor).toBe('tea.boom');
    expect(error.message).toMatch(/"tea\.boom" of plugin "tea" failed/);
    expect(await h.sql(`select id from customer_order where external_order_id = ?`, [input.externalOrderId])).toEqual([]);
    expect(await h.sql(`select id from ledger_entry where member_id = ?`, [member.id])).toEqual([]);
    expect(await h.sql(`select id from point_lot where member_id = ?`, [member.id])).toEqual([]);
    expect(await h.sql(`select order_id from tea_plugin_award where member_id = ?`, [member.id])).toEqual([]);
    // The balance row is written with the member's first points: none, or all zero.
    expect(await h.sql(`select 1 from member_balance where member_id = ? and (available <> 0 or pending <> 0 or lifetime <> 0)`, [member.id])).toEqual([]);
    expect((await h.sql<{ n: number }>(`select count(*)::int as n from event_outbox`))[0].n).toBe(outboxBefore[0].n);

    // Nothing was stored under the order's key: once the plugin is fixed, the channel's retry credits it whole.
    boom.on = false;
    const retried = await h.gql(web.auth, RECORD_ORDER, { input });
    expect(retried.errors).toBeUndefined();
    expect(retried.data.recordOrder.pointsEarned).toBe(6 + TEA_POINTS);
    expect(await h.sql(`select points from tea_plugin_award where member_id = ?`, [member.id])).toEqual([{ points: TEA_POINTS }]);
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it('that throws stops an import at its batch, with nothing of the batch written; a re-run resumes it', async () => {
    const start = Math.floor((Date.now() - 2 * 86_400_000) / MINUTE) * MINUTE;
    const imported = await world('Boom import');
    const sales: Sale[] = [
      { invoice: 'B1', customer: 0, minute: 0, lines: [{ sku: 'TEA-1', quantity: 1, priceMinor: 500 }] },
      { invoice: 'B2', customer: 1, minute: 1, lines: [{ sku: 'BOOM-1', quantity: 1, priceMinor: 100 }] },
    ];
    await expect(runImport(h, rowsOf(sales, start), { channelName: 'Boom import', batchInvoices: 500 })).rejects.toMatchObject({
      code: 'EARNING_FAILED',
      extensions: { contributor: 'tea.boom' },
    });
    expect(await h.sql(`select id from customer_order where channel_id = ?`, [imported.channelId])).toEqual([]);
    expect(await h.sql(`select order_id from tea_plugin_award where member_id = any(?::uuid[])`, [`{${imported.members.join(',')}}`])).toEqual([]);

    boom.on = false;
    const { summary, rejects } = await runImport(h, rowsOf(sales, start), { channelName: 'Boom import', batchInvoices: 500 });
    expect(rejects).toEqual([]);
    expect(summary.orders).toBe(2);
    expect((await stateOf(imported.channelId)).awards).toEqual([{ external_order_id: 'B1', customer: 'M0', points: TEA_POINTS }]);
  });

  it('are checked at start-up: a name the core uses stops the services being built', () => {
    const clash: LoyaltyPlugin = { name: 'clash', earningContributors: [{ name: 'base-rules', stage: EarningStage.EARN, onOrder: () => undefined }] };
    expect(() => createServices(h.config, { plugins: [clash] })).toThrow(PluginError);
    expect(() => createServices(h.config, { plugins: [clash] })).toThrow(/plugin "clash": earning contributor "base-rules" is registered already/);
  });
});
