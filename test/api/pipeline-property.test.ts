import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { runImport } from '../support/imports';
import { ledgerCheck } from '../support/orders';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import type { SourceRecord } from '../../api/src/modules/import/source';

// Import versus API (issue 15): a generated history imported by the importer into one set of members, and recorded
// order by order through the API's use cases (OrderService.record / recordReturn, with the clock set to each event's
// time) into another, must give the same orders, breakdowns, ledger rows, lots, balances, tiers, referral and
// campaign spend. Both sets share one database and programme; each history starts from an empty one.

const clock = { at: null as Date | null, now: () => clock.at ?? new Date() };
const h = useHarness({}, { clock });
const b = build(h);

const DAY = 86_400_000;
const HISTORIES = Number(process.env.PIPELINE_HISTORIES ?? 200);
const CATEGORIES = ['Shoes', 'Books', null] as const;

const lineArb = fc.record({ quantity: fc.integer({ min: 1, max: 4 }), priceMinor: fc.integer({ min: 50, max: 6000 }), category: fc.constantFrom(...CATEGORIES) });
const orderArb = fc.record({
  member: fc.nat(),
  /** Minutes after the history's start: up to six weeks. */
  minute: fc.integer({ min: 0, max: 42 * 24 * 60 }),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
  /** A return of this order, some minutes later: each line's share of units taken back (0 to all). */
  ret: fc.option(fc.record({ afterMinutes: fc.integer({ min: 1, max: 20 * 24 * 60 }), shares: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }) }), { nil: null }),
});
const historyArb = fc.record({
  members: fc.integer({ min: 2, max: 4 }),
  orders: fc.array(orderArb, { minLength: 2, maxLength: 9 }),
  pendingDays: fc.constantFrom(0, 14),
  tierMetric: fc.constantFrom('POINTS_EARNED', 'SPEND_MINOR'),
  tierWindowDays: fc.constantFrom(7, 30, 365),
  tiers: fc.option(fc.record({ silver: fc.integer({ min: 20, max: 150 }), gold: fc.integer({ min: 151, max: 600 }), silverPercent: fc.constantFrom(110, 150), goldPercent: fc.constantFrom(150, 200) }), { nil: null }),
  weekendBonus: fc.boolean(),
  shoesMultiplier: fc.boolean(),
  fixedBonus: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
  orderCap: fc.option(fc.integer({ min: 10, max: 120 }), { nil: null }),
  dailyCap: fc.option(fc.integer({ min: 15, max: 200 }), { nil: null }),
  /** A paid plan per member: starting day and length, or none. */
  plans: fc.array(fc.option(fc.record({ day: fc.integer({ min: 0, max: 30 }), days: fc.integer({ min: 3, max: 30 }) }), { nil: null }), { minLength: 4, maxLength: 4 }),
  campaign: fc.option(
    fc.record({
      day: fc.integer({ min: 0, max: 20 }),
      days: fc.option(fc.integer({ min: 2, max: 30 }), { nil: null }),
      fixed: fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }),
      percent: fc.constantFrom(150, 200),
      budget: fc.option(fc.integer({ min: 10, max: 120 }), { nil: null }),
      treated: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    }),
    { nil: null },
  ),
  referral: fc.option(fc.record({ referrer: fc.nat(), step: fc.integer({ min: 1, max: 3 }) }), { nil: null }),
  batchInvoices: fc.constantFrom(1, 2, 500),
});
type History = typeof historyArb extends fc.Arbitrary<infer T> ? T : never;

interface Event {
  at: Date;
  seq: number;
  invoice: string;
  member: number;
  /** An order: its lines; a return: the order and lines (1-based) with the units taken back. */
  lines: { sku: string; quantity: number; priceMinor: number }[];
  returnOf?: { invoice: string; lines: { lineNo: number; quantity: number }[] };
}

/** The history as events in time order (invoices are numbers, returns C + the order's). SKUs are the order's own, so a return line matches one order (the importer's rule). */
function eventsOf(hist: History, start: number, tag: string): Event[] {
  const events: Event[] = [];
  hist.orders.forEach((o, i) => {
    const invoice = `${tag}${String(i + 1).padStart(2, '0')}`;
    const member = o.member % hist.members;
    const at = new Date(start + o.minute * 60_000);
    const lines = o.lines.map((l, j) => ({ sku: `P${tag}-${i + 1}-${j + 1}-${l.category ?? 'none'}`, quantity: l.quantity, priceMinor: l.priceMinor }));
    events.push({ at, seq: events.length, invoice, member, lines });
    if (!o.ret) return;
    const back = o.lines.map((l, j) => ({ lineNo: j + 1, quantity: Math.min(l.quantity, o.ret!.shares[j] ?? 0) })).filter((l) => l.quantity > 0);
    if (back.length === 0) return;
    events.push({
      at: new Date(at.getTime() + o.ret.afterMinutes * 60_000),
      seq: events.length,
      invoice: `C${invoice}`,
      member,
      lines: back.map((l) => ({ ...lines[l.lineNo - 1], quantity: l.quantity })),
      returnOf: { invoice, lines: back },
    });
  });
  return events.sort((x, y) => x.at.getTime() - y.at.getTime() || x.seq - y.seq);
}

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

function rowsOf(events: Event[]): SourceRecord[] {
  let line = 1;
  return events.flatMap((e) =>
    e.lines.map((l) => ({
      line: ++line,
      row: {
        InvoiceNo: e.invoice,
        StockCode: l.sku,
        Description: l.sku,
        Quantity: String(e.returnOf ? -l.quantity : l.quantity),
        InvoiceDate: stamp(e.at),
        UnitPrice: (l.priceMinor / 100).toFixed(2),
        CustomerID: `M${e.member}`,
        Country: 'United Kingdom',
      },
    })),
  );
}

let segmentId: string;

beforeAll(async () => {
  segmentId = (await h.app.services.segments.create(b.ctx(), { name: `pipeline ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: 'ZZ' }, kind: SegmentKind.DYNAMIC } as never)).id;
  await h.sql(`insert into membership_plan (id, code, name, fee_minor, currency, duration_days, earn_multiplier_percent, benefit_flags) values (?, 'PLUS', 'Plus', 500, 'GBP', 30, 150, '{}')`, [randomUUID()]);
});

afterEach(() => {
  clock.at = null;
});

/**
 * The history's programme: its settings, rules and tiers in place of the last history's, and its products with
 * categories and brands. Members, channels, SKUs and campaigns are each history's own, so nothing else is cleared.
 */
async function programmeFor(hist: History, events: Event[]) {
  await h.sql(`update earning_rule set is_active = false where is_active`);
  await h.sql(`delete from member_tier`);
  await h.sql(`delete from tier`);
  await b.settings({
    pendingDays: hist.pendingDays,
    tierMetric: hist.tierMetric,
    tierWindowDays: hist.tierWindowDays,
    referralReferrerPoints: 50,
    referralReferredPoints: 30,
    referralMinOrderMinor: 2000,
  });
  const ctx = b.ctx();
  await b.baseRate(1, 100);
  if (hist.weekendBonus) await b.rule({ name: 'Weekend', kind: 'BONUS', multiplierPercent: 200, daysOfWeek: [0, 6] });
  if (hist.shoesMultiplier) await b.rule({ name: 'Shoes', kind: 'CATEGORY_MULTIPLIER', category: 'Shoes', multiplierPercent: 300 });
  if (hist.fixedBonus) await b.rule({ name: 'Thanks', kind: 'BONUS', fixedPoints: hist.fixedBonus });
  if (hist.orderCap) await b.rule({ name: 'Order cap', kind: 'ORDER_CAP', capPoints: hist.orderCap });
  if (hist.dailyCap) await b.rule({ name: 'Daily cap', kind: 'DAILY_CAP', capPoints: hist.dailyCap });
  if (hist.tiers) {
    const spend = hist.tierMetric === 'SPEND_MINOR' ? 50 : 1;
    await h.app.services.tiers.upsert(ctx, { code: 'BASE', name: 'Base', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
    await h.app.services.tiers.upsert(ctx, { code: 'SILVER', name: 'Silver', threshold: hist.tiers.silver * spend, earnMultiplierPercent: hist.tiers.silverPercent, benefitFlags: [] });
    await h.app.services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: hist.tiers.gold * spend, earnMultiplierPercent: hist.tiers.goldPercent, benefitFlags: [] });
  }
  const products = new Map(events.flatMap((e) => e.lines.map((l) => [l.sku, l.sku.split('-').at(-1)] as const)));
  await h.sql(
    `insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
     select gen_random_uuid(), x.sku, x.sku, nullif(x.category, 'none'), 'Acme', 100, 'GBP', now() from jsonb_to_recordset(?::jsonb) as x(sku text, category text)`,
    [JSON.stringify([...products].map(([sku, category]) => ({ sku, category })))],
  );
}

/** A channel with the history's members (known to it by customer id M0, M1, ...), their plans, campaign and referral. */
async function worldFor(hist: History, start: number, name: string) {
  const channel = await h.app.services.apiKeys.createChannel(h.em(), null, { name, kind: SalesChannelKind.WEB });
  const members = Array.from({ length: hist.members }, () => randomUUID());
  await h.sql(
    `insert into member (id, status, enrolment_channel, enrolled_at, updated_at) select x::uuid, 'ACTIVE', 'WEB', ?, now() from jsonb_array_elements_text(?::jsonb) x`,
    [new Date(start - DAY), JSON.stringify(members)],
  );
  await h.sql(
    `insert into member_identifier (id, member_id, type, scope, value, created_at)
     select gen_random_uuid(), (x->>'id')::uuid, 'CHANNEL_CUSTOMER_ID', ?, x->>'value', now() from jsonb_array_elements(?::jsonb) x`,
    [channel.id, JSON.stringify(members.map((id, i) => ({ id, value: `M${i}` })))],
  );
  for (const [i, plan] of hist.plans.slice(0, hist.members).entries()) {
    if (!plan) continue;
    await h.sql(
      `insert into member_plan (id, member_id, plan_id, starts_at, ends_at) select ?, ?, id, ?, ? from membership_plan where code = 'PLUS'`,
      [randomUUID(), members[i], new Date(start + plan.day * DAY), new Date(start + (plan.day + plan.days) * DAY)],
    );
  }
  const c = hist.campaign;
  if (c) {
    const id = randomUUID();
    await h.sql(
      `insert into campaign (id, name, segment_id, status, action_kind, bonus_fixed_points, bonus_multiplier_percent, holdout_share, budget_points, starts_at, ends_at, created_by, created_at, updated_at)
       values (?, 'Bonus', ?, 'ACTIVE', 'BONUS_POINTS', ?, ?, 0, ?, ?, ?, 'test', now(), now())`,
      [id, segmentId, c.fixed, c.fixed ? null : c.percent, c.budget, new Date(start + c.day * DAY), c.days ? new Date(start + (c.day + c.days) * DAY) : null],
    );
    const treated = members.filter((_, i) => c.treated[i]);
    if (treated.length) {
      await h.sql(
        `insert into campaign_member (campaign_id, member_id, assigned_group, assigned_at) select ?, x::uuid, 'TREATED', now() from jsonb_array_elements_text(?::jsonb) x`,
        [id, JSON.stringify(treated)],
      );
    }
  }
  if (hist.referral) {
    const referrer = hist.referral.referrer % hist.members;
    const referred = (referrer + hist.referral.step) % hist.members;
    if (referrer !== referred) {
      await h.sql(`insert into referral (id, referrer_id, referred_id, code, status, created_at) values (?, ?, ?, 'ABCDEFGH', 'PENDING', now())`, [randomUUID(), members[referrer], members[referred]]);
    }
  }
  return { channelId: channel.id, members };
}

/** The same events through the API's use cases, each at its own time on the clock. */
async function recordThroughApi(events: Event[], world: { channelId: string; members: string[] }) {
  const orderIds = new Map<string, string>();
  for (const e of events) {
    clock.at = e.at;
    const ctx = b.ctx();
    if (e.returnOf) {
      await h.app.services.orders.recordReturn(ctx, { orderId: orderIds.get(e.returnOf.invoice)!, externalReturnId: e.invoice, lines: e.returnOf.lines });
      continue;
    }
    const order = await h.app.services.orders.record(ctx, {
      channelId: world.channelId,
      externalOrderId: e.invoice,
      member: { id: world.members[e.member] },
      placedAt: e.at,
      currency: 'GBP',
      lines: e.lines.map((l) => ({ sku: l.sku, name: l.sku, quantity: l.quantity, unitPriceMinor: l.priceMinor, discountMinor: 0 })),
      orderDiscountMinor: 0,
      totalMinor: e.lines.reduce((s, l) => s + l.quantity * l.priceMinor, 0),
    } as never);
    orderIds.set(e.invoice, order.id);
  }
  clock.at = null;
}

/** Everything the two paths must agree on, by external ids and customer ids (never by row ids). */
async function stateOf(channelId: string) {
  const customer = (col: string) => `(select i.value from member_identifier i where i.member_id = ${col} and i.type = 'CHANNEL_CUSTOMER_ID' and i.scope = '${channelId}')`;
  const source = `case e.source_type
      when 'order' then (select o.external_order_id from customer_order o where o.id = e.source_id)
      when 'return' then (select r.external_return_id || ':' || o.external_order_id from order_return r join customer_order o on o.id = r.order_id where r.id = e.source_id)
      else e.source_type end`;
  const orders = await h.sql(
    `select o.external_order_id, ${customer('o.member_id')} as customer, o.status, o.total_minor, o.returned_minor, o.points_earned, o.points_clawed_back,
       o.points_basis_minor, o.returned_at_credit_minor, o.points_breakdown, o.placed_at,
       (select jsonb_agg(jsonb_build_array(l.line_no, l.sku, l.quantity, l.returned_quantity, l.net_minor) order by l.line_no) from order_line l where l.order_id = o.id) as lines
     from customer_order o where o.channel_id = ? order by o.external_order_id`,
    [channelId],
  );
  for (const o of orders) for (const item of o.points_breakdown) if (item.kind === 'CAMPAIGN_BONUS') item.ruleId = 'campaign';
  const returns = await h.sql(
    `select r.external_return_id, o.external_order_id, r.value_minor, r.points_clawed_back, r.lines, r.created_at
     from order_return r join customer_order o on o.id = r.order_id where o.channel_id = ? order by 1, 2`,
    [channelId],
  );
  const inChannel = `e.member_id in (select member_id from member_identifier where type = 'CHANNEL_CUSTOMER_ID' and scope = '${channelId}')`;
  const ledger = await h.sql(
    `select ${customer('e.member_id')} as customer, e.reason, ${source} as source, e.pending_delta::int, e.available_delta::int, e.lifetime_delta::int, e.created_at
     from ledger_entry e where ${inChannel} order by 1, e.created_at, 2, 3, 6, 4`,
  );
  const lots = await h.sql(
    `select ${customer('e.member_id')} as customer, ${source} as source, (select o.external_order_id from customer_order o where o.id = e.order_id) as order_ext,
       e.points, e.remaining, e.state, e.earned_at, e.available_at, e.expires_at
     from point_lot e where ${inChannel} order by 1, e.earned_at, 2, 3, 4, 5`,
  );
  const balances = await h.sql(
    `select ${customer('e.member_id')} as customer, e.available::int, e.pending::int, e.lifetime::int from member_balance e where ${inChannel} order by 1`,
  );
  const tiers = await h.sql(
    `select ${customer('e.member_id')} as customer, t.code, e.achieved_at, e.retain_until from member_tier e join tier t on t.id = e.tier_id where ${inChannel} order by 1`,
  );
  const tierChanges = await h.sql(
    `select ${customer('e.member_id')} as customer, e.from_tier, e.to_tier, e.reason, e.changed_at from tier_change e where ${inChannel} order by 1, e.changed_at, 3`,
  );
  const referrals = await h.sql(
    `select ${customer('e.referrer_id')} as referrer, ${customer('e.referred_id')} as referred, e.status, e.void_reason,
       (select o.external_order_id from customer_order o where o.id = e.order_id) as order_ext, e.referrer_points, e.referred_points, e.credited_at
     from referral e where ${inChannel.replace('e.member_id', 'e.referred_id')}`,
  );
  const campaigns = await h.sql(
    `select c.spent_points::int, (select jsonb_object_agg(${customer('cm.member_id')}, cm.bonus_points) from campaign_member cm where cm.campaign_id = c.id) as bonus
     from campaign c where exists (select 1 from campaign_member cm where cm.campaign_id = c.id and ${inChannel.replace('e.member_id', 'cm.member_id')})`,
  );
  return { orders, returns, ledger, lots, balances, tiers, tierChanges, referrals, campaigns };
}

describe('the earning pipeline: importing a history and recording it through the API', () => {
  it(`give identical orders, breakdowns, ledger rows, lots, balances and tiers over ${HISTORIES} generated histories`, async () => {
    const seen = { returns: 0, clawbacks: 0, capped: 0, tierMoves: 0, planned: 0, bonused: 0, referralCredits: 0, referralReversals: 0 };
    let n = 0;
    /** Milliseconds per step over all histories, to see where the file's time goes. */
    const timing: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(historyArb, async (hist) => {
        n++;
        // Whole minutes: the file has seconds.
        const start = Math.floor((Date.now() - 120 * DAY) / 60_000) * 60_000 + (n % 7) * 3_600_000;
        const events = eventsOf(hist, start, String(n));
        let t = performance.now();
        const lap = (step: string) => {
          timing[step] = Math.round((timing[step] ?? 0) + performance.now() - t);
          t = performance.now();
        };
        await programmeFor(hist, events);
        lap('programme');
        const imported = await worldFor(hist, start, `Import ${n}`);
        const viaApi = await worldFor(hist, start, `API ${n}`);
        lap('worlds');

        // The two worlds share no row a write locks (members, channels and campaigns are each world's own): side by side.
        const [{ summary, rejects }] = await Promise.all([
          runImport(h, rowsOf(events), { channelName: `Import ${n}`, batchInvoices: hist.batchInvoices }),
          recordThroughApi(events, viaApi),
        ]);
        lap('importAndApi');
        expect(rejects).toEqual([]);
        expect(summary.membersCreated).toBe(0);

        const want = await stateOf(viaApi.channelId);
        const got = await stateOf(imported.channelId);
        lap('compare');
        expect(got).toEqual(want);
        expect((await ledgerCheck(h)).mismatches).toEqual([]);
        // Nothing is spent in these histories, so a return always finds its points in the lots its order earned (the
        // order's own and its campaign bonus): no balance ever owes points.
        expect(want.balances.filter((b: any) => b.available < 0 || b.pending < 0)).toEqual([]);
        // Each campaign bonus belongs to an order, and an order's own lot to that order.
        expect(want.lots.filter((l: any) => l.source === 'campaign' && l.order_ext === null)).toEqual([]);
        expect(want.lots.filter((l: any) => l.order_ext !== null && l.source !== 'campaign' && l.source !== l.order_ext)).toEqual([]);

        // What the histories exercised, so that a generator gone narrow shows.
        seen.returns += want.returns.length;
        seen.clawbacks += want.ledger.filter((r: any) => r.reason === 'RETURN_CLAWBACK').length;
        seen.capped += want.orders.filter((o: any) => o.points_breakdown.some((i: any) => i.kind === 'ORDER_CAP' || i.kind === 'DAILY_CAP')).length;
        seen.tierMoves += want.tierChanges.filter((t: any) => t.from_tier !== null).length;
        seen.planned += want.orders.filter((o: any) => o.points_breakdown.some((i: any) => i.kind === 'PLAN')).length;
        seen.bonused += want.orders.filter((o: any) => o.points_breakdown.some((i: any) => i.kind === 'CAMPAIGN_BONUS')).length;
        seen.referralCredits += want.ledger.filter((r: any) => r.reason === 'REFERRAL').length;
        seen.referralReversals += want.ledger.filter((r: any) => r.reason === 'REFERRAL_REVERSAL').length;
      }),
      { numRuns: HISTORIES, endOnFailure: true },
    );
    console.log(`pipeline property: ${n} histories; ${JSON.stringify(seen)} ${JSON.stringify(timing)}`);
    if (HISTORIES >= 200) for (const [what, count] of Object.entries(seen)) expect([what, count > 0]).toEqual([what, true]);
  }, 600_000);
});
