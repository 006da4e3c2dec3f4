import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import type { Context } from '../../api/src/base/context';
import { SalesChannelKind } from '../../api/src/base/enums';
import type { RecordOrderInput, RecordReturnInput } from '../../api/src/modules/orders/order.types';
import type { RedeemRewardInput, UpsertRewardInput } from '../../api/src/modules/rewards/reward.types';

/**
 * The fixture is replayed through the domain services with the clock set to each event's time, so that ledger rows,
 * lots and enrolments carry the fixture's dates. expected.json was computed from the same file by expected.py,
 * which shares no code with the API.
 */
const dir = path.join(__dirname, '..', 'fixtures', 'analytics');
const fixture = JSON.parse(readFileSync(path.join(dir, 'fixture.json'), 'utf8'));
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));

const h = useHarness();
const b = build(h);

/** Every timer stays real; only Date follows the fixture's clock. */
const REAL_TIMERS = [
  'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback',
  'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout',
] as const;

const ROW = 'label channelKind activeMembers orders netRevenueMinor averageOrderValueMinor repeatPurchaseRate';
const KPIS = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) {
  currency activeMembers newMembers orders repeatPurchaseRate purchaseFrequency grossRevenueMinor returnedMinor netRevenueMinor
  averageOrderValueMinor revenuePerActiveMemberMinor pointsIssued pointsClawedBack pointsRedeemed pointsExpired liabilityPoints
  liabilityMinor redemptionRate breakage byChannel { ${ROW} } byCountry { ${ROW} } } } }`;
const RFM = `query($asOf: DateTimeISO!) { analytics { rfm(asOf: $asOf) { scoredMembers segments { segment members share orders revenueMinor } } } }`;
const MEMBER_RFM = `query($id: ID!, $asOf: DateTimeISO!) { analytics { memberRfm(memberId: $id, asOf: $asOf) {
  lastOrderAt recencyDays orders monetaryMinor recencyScore frequencyScore monetaryScore score segment } } }`;
const COHORTS = `query($input: AnalyticsFilterInput!) { analytics { cohorts(input: $input) { cohorts { month size cells { monthOffset members rate } } } } }`;
const INTERVALS = `query($input: AnalyticsFilterInput!) { analytics { purchaseIntervals(input: $input) {
  intervals medianDays meanDays buckets { fromDays toDays count share } } } }`;
const TOP = `query($asOf: DateTimeISO!, $limit: Int!) { analytics { topProductsBySegment(asOf: $asOf, limit: $limit) {
  segment products { rank sku name units revenueMinor buyers } } } }`;

const memberIds = new Map<string, string>();
let analyst: { token: string };

async function loadFixture() {
  await b.settings(fixture.settings);
  await b.baseRate(fixture.baseRate.points, fixture.baseRate.perMinor, fixture.baseRate.currency);
  const channels = new Map<string, { id: string; kind: SalesChannelKind }>();
  for (const c of fixture.channels) {
    const channel = await h.app.services.apiKeys.createChannel(h.em(), null, { name: c.name, kind: c.kind });
    channels.set(c.key, { id: channel.id, kind: channel.kind });
  }
  const reward = await h.app.services.rewards.upsert(b.ctx(), { ...fixture.reward, tierCodes: [], isActive: true } as UpsertRewardInput);
  const orderIds = new Map<string, string>();
  const silent = { info: () => undefined } as never;

  jest.useFakeTimers({ doNotFake: [...REAL_TIMERS] });
  try {
    for (const e of fixture.events) {
      const at = new Date(e.at);
      jest.setSystemTime(at);
      if (e.type === 'enrol') {
        const channel = channels.get(e.channel)!;
        const ctx: Context = {
          ...b.ctx(),
          principal: { kind: 'channel', apiKeyId: 'fixture', channelId: channel.id, channelKind: channel.kind, permissions: new Set() },
        };
        const member = await h.app.services.members.enrol(ctx, { email: `${e.member.toLowerCase()}@fixture.example`, country: e.country ?? null });
        memberIds.set(e.member, member.id);
      } else if (e.type === 'order') {
        const lines = e.lines.map((l: Record<string, unknown>) => ({ ...l, discountMinor: 0 }));
        const input = {
          externalOrderId: e.ref,
          channelId: channels.get(e.channel)!.id,
          member: e.member ? { id: memberIds.get(e.member)! } : null,
          placedAt: at,
          currency: 'GBP',
          lines,
          orderDiscountMinor: 0,
          totalMinor: lines.reduce((s: number, l: { quantity: number; unitPriceMinor: number }) => s + l.quantity * l.unitPriceMinor, 0),
        } as unknown as RecordOrderInput;
        orderIds.set(e.ref, (await h.app.services.orders.record(b.ctx(), input)).id);
      } else if (e.type === 'return') {
        const input: RecordReturnInput = { orderId: orderIds.get(e.order)!, externalReturnId: e.ref, lines: e.lines };
        await h.app.services.orders.recordReturn(b.ctx(), input);
      } else if (e.type === 'redeem') {
        const input: RedeemRewardInput = { memberId: memberIds.get(e.member)!, rewardId: reward.id, idempotencyKey: e.ref };
        await h.app.services.rewards.redeem(b.ctx(), input);
      } else if (e.type === 'jobs') {
        await h.app.services.points.runJobs(h.em(), silent, at);
      } else {
        throw new Error(`unknown fixture event ${e.type}`);
      }
    }
  } finally {
    jest.useRealTimers();
  }
}

beforeAll(async () => {
  await loadFixture();
  analyst = (await b.admin(AdminRole.ANALYST)).auth;
}, 120_000);

async function ask<T = any>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await h.gql(analyst, query, variables);
  expect(res.errors).toBeUndefined();
  return res.data.analytics;
}

describe('the analytics fixture', () => {
  it('was replayed into the same ledger the independent script computed', async () => {
    const [row] = await h.sql(`select count(*)::int as rows, sum(available_delta)::int as available, sum(pending_delta)::int as pending from ledger_entry`);
    expect(row).toEqual(expected.ledgerTotals);
    expect((await h.app.services.points.check(h.em())).isConsistent).toBe(true);
  });
});

describe('analytics.kpis', () => {
  it.each(fixture.queries.kpis.map((q: { name: string }) => [q.name, q]))('matches the independent figures for %s', async (name, q) => {
    const data = await ask(KPIS, { input: (q as { input: unknown }).input });
    expect(data.kpis).toEqual(expected.kpis[name as string]);
  });
});

describe('analytics.kpis over windows that do not start or end on a whole day or hour', () => {
  // Each end reads the shorter side of its partial day (and hour): the rows from the window's edge to the unit boundary
  // added, or those from the boundary to the edge subtracted from a whole unit's totals. These windows take each side at
  // each end, with an order or a redemption exactly at an edge; the figures are recomputed here from the rows.
  const windows = [
    { from: '2025-02-15T17:00:00Z', to: '2025-05-09T13:00:00Z' }, // added at the start, subtracted at the end
    { from: '2025-02-19T12:00:00Z', to: '2025-05-11T18:00:00Z' }, // an order exactly at each edge
    { from: '2025-03-13T07:30:00Z', to: '2025-05-05T11:30:00Z' }, // subtracted at the start, added at the end
    { from: '2025-03-02T10:20:00Z', to: '2025-03-20T11:40:00Z' }, // a return and a redemption in the partial hours
    { from: '2025-04-19T11:50:00Z', to: '2025-04-19T17:50:00Z' }, // inside one day
  ];
  it.each(windows)('equals a recomputation from the orders and the ledger for $from – $to', async (input) => {
    const { kpis } = await ask(KPIS, { input });
    const [orders] = await h.sql(
      `select count(*)::int as orders, coalesce(sum(total_minor), 0)::int as gross, coalesce(sum(returned_minor), 0)::int as returned,
         count(distinct member_id)::int as active,
         (select count(*) from (select member_id from customer_order where member_id is not null and placed_at >= ? and placed_at < ?
           group by member_id having count(*) >= 2) r)::int as repeaters
       from customer_order where member_id is not null and placed_at >= ? and placed_at < ?`,
      [input.from, input.to, input.from, input.to],
    );
    const [points] = await h.sql(
      `select coalesce(sum(case when reason in ('ORDER_EARN', 'REFERRAL') or (reason = 'ADJUSTMENT' and lifetime_delta > 0) then lifetime_delta else 0 end), 0)::int as issued,
         coalesce(sum(case when reason in ('RETURN_CLAWBACK', 'REFERRAL_REVERSAL') then -lifetime_delta else 0 end), 0)::int as clawed_back,
         coalesce(sum(case when reason in ('REDEMPTION', 'REDEMPTION_CANCEL') then -available_delta else 0 end), 0)::int as redeemed,
         coalesce(sum(case when reason = 'EXPIRY' then -available_delta else 0 end), 0)::int as expired
       from ledger_entry where created_at >= ? and created_at < ?`,
      [input.from, input.to],
    );
    const [liability] = await h.sql(
      `select coalesce(sum(greatest(a, 0) + p), 0)::int as points
       from (select member_id, sum(available_delta) as a, sum(pending_delta) as p from ledger_entry where created_at < ? group by member_id) x`,
      [input.to],
    );
    expect(orders.orders).toBeGreaterThan(0);
    expect({
      orders: kpis.orders,
      gross: kpis.grossRevenueMinor,
      returned: kpis.returnedMinor,
      active: kpis.activeMembers,
      repeaters: Math.round((kpis.repeatPurchaseRate ?? 0) * kpis.activeMembers),
    }).toEqual(orders);
    expect(kpis.byChannel.reduce((s: number, r: { orders: number }) => s + r.orders, 0)).toBe(orders.orders);
    expect(kpis.byCountry.reduce((s: number, r: { orders: number }) => s + r.orders, 0)).toBe(orders.orders);
    expect({ issued: kpis.pointsIssued, clawed_back: kpis.pointsClawedBack, redeemed: kpis.pointsRedeemed, expired: kpis.pointsExpired }).toEqual(points);
    // A member in debt at `to` is covered in ledger.test.ts (returns after the points were spent).
    expect(kpis.liabilityPoints).toBe(liability.points);
  });
});

describe('analytics.rfm', () => {
  it('scores every member with an order into the expected segments', async () => {
    const data = await ask(RFM, { asOf: fixture.queries.rfmAsOf });
    expect(data.rfm).toEqual(expected.rfm);
  });

  it.each(fixture.queries.memberRfm.map((m: string) => [m]))("gives %s's own scores and segment", async (m) => {
    const data = await ask(MEMBER_RFM, { id: memberIds.get(m as string), asOf: fixture.queries.rfmAsOf });
    expect(data.memberRfm).toEqual(expected.memberRfm[m as string]);
  });

  it('counts the members of every cell of the R × FM grid as the per-member scoring does, each cell in its segment', async () => {
    const CELLS = `query($asOf: DateTimeISO!) { analytics { rfm(asOf: $asOf) { segments { segment members } cells { recencyScore frequencyMonetaryScore segment members share } } } }`;
    const { rfm } = await ask(CELLS, { asOf: fixture.queries.rfmAsOf });
    expect(rfm.cells.map((c: { recencyScore: number; frequencyMonetaryScore: number }) => `${c.recencyScore}${c.frequencyMonetaryScore}`)).toEqual(
      [5, 4, 3, 2, 1].flatMap((r) => [5, 4, 3, 2, 1].map((fm) => `${r}${fm}`)),
    );
    // analytics_rfm scores each member on its own (the counted function never materialises a member's scores).
    const perMember = await h.sql<{ r: number; fm: number; segment: string; members: number }>(
      `select r, (f + m + 1) / 2 as fm, segment, count(*)::int as members from analytics_rfm(?::timestamptz) group by 1, 2, 3`,
      [fixture.queries.rfmAsOf],
    );
    expect(perMember.length).toBeGreaterThan(2);
    const populated = rfm.cells.filter((c: { members: number }) => c.members > 0).map((c: any) => ({ r: c.recencyScore, fm: c.frequencyMonetaryScore, segment: c.segment, members: c.members }));
    const key = (c: { r: number; fm: number }) => c.r * 10 + c.fm;
    expect(populated.sort((a: any, z: any) => key(a) - key(z))).toEqual(perMember.sort((a, z) => key(a) - key(z)));
    // An empty cell still names its segment (docs/concepts/analytics.md's grid), and cells add up to the segments.
    const cellAt = (r: number, fm: number) => rfm.cells.find((c: any) => c.recencyScore === r && c.frequencyMonetaryScore === fm);
    expect([cellAt(5, 1).segment, cellAt(3, 3).segment, cellAt(1, 2).segment, cellAt(2, 5).segment]).toEqual(['NEW_CUSTOMERS', 'NEED_ATTENTION', 'HIBERNATING', 'CANT_LOSE_THEM']);
    for (const s of rfm.segments) {
      const inCells = rfm.cells.filter((c: any) => c.segment === s.segment).reduce((sum: number, c: any) => sum + c.members, 0);
      expect([s.segment, inCells]).toEqual([s.segment, s.members]);
    }
  });

  it('exposes the same scores to SQL through analytics_rfm(), for segments to filter on', async () => {
    const rows = await h.sql(`select member_id, r, f, m, segment from analytics_rfm(?::timestamptz) where member_id = ?`, [
      fixture.queries.rfmAsOf,
      memberIds.get('M01'),
    ]);
    const want = expected.memberRfm.M01;
    expect(rows).toEqual([{ member_id: memberIds.get('M01'), r: want.recencyScore, f: want.frequencyScore, m: want.monetaryScore, segment: want.segment }]);
  });
});

describe('analytics.cohorts', () => {
  it('builds the monthly retention matrix of first-order cohorts', async () => {
    const data = await ask(COHORTS, { input: fixture.queries.cohorts });
    expect(data.cohorts).toEqual(expected.cohorts);
  });
});

describe('analytics.purchaseIntervals', () => {
  it('buckets the days between consecutive orders and gives their median', async () => {
    const data = await ask(INTERVALS, { input: fixture.queries.intervals });
    expect(data.purchaseIntervals).toEqual(expected.intervals);
  });
});

describe('analytics.topProductsBySegment', () => {
  it('ranks products by revenue net of returns within each segment', async () => {
    const data = await ask(TOP, fixture.queries.topProducts);
    expect(data.topProductsBySegment).toEqual(expected.topProducts);
  });
});

describe('member.rfm', () => {
  it("gives each listed member's scores with one RFM statement for the whole page", async () => {
    const LIST = `query($first: Int, $asOf: DateTimeISO!) { members(first: $first) { edges { node { id rfm(asOf: $asOf) { score segment } } } } }`;
    const small = await h.gql(analyst, LIST, { first: 3, asOf: fixture.queries.rfmAsOf });
    const large = await h.gql(analyst, LIST, { first: 16, asOf: fixture.queries.rfmAsOf });
    expect(large.errors).toBeUndefined();
    const byId = new Map(large.data.members.edges.map((e: { node: { id: string; rfm: unknown } }) => [e.node.id, e.node.rfm]));
    for (const m of fixture.queries.memberRfm as string[]) {
      const want = expected.memberRfm[m];
      expect(byId.get(memberIds.get(m))).toEqual(want ? { score: want.score, segment: want.segment } : null);
    }
    expect(Number(large.headers['x-db-queries'])).toBe(Number(small.headers['x-db-queries']));
  });
});
