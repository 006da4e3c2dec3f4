import { useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { orderInput } from '../support/orders';
import type { RecordOrderInput } from '../../api/src/modules/orders/order.types';
import type { SegmentRule } from '../../api/src/modules/segments/segment-grammar';

/**
 * The compiled rule (segment-sql.ts, reading the per-member order history the orders module keeps) against a plain
 * evaluation in TypeScript of the same rule over the raw rows (customer_order, member, tiers, balances), on members built at the edges: orders exactly at a window's start and at the
 * evaluation time, returns, an absorbed (MERGED) member whose orders moved to the survivor, guest orders, members
 * without orders, tiers and balances.
 */
const h = useHarness();
const b = build(h);

const DAY = 86_400_000;
/** Evaluation time: a whole second, an hour ago, so that every order below is in the past. */
const AS_OF = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);
/** The UTC day after the evaluation time: every fixture member enrolled before it. */
const DAY_AFTER = new Date(AS_OF.getTime() + DAY).toISOString().slice(0, 10);
const ago = (days: number, ms = 0) => new Date(AS_OF.getTime() - days * DAY + ms);

interface Facts {
  members: Array<{ id: string; status: string; country: string | null; enrolled_at: Date }>;
  orders: Array<{ member_id: string | null; placed_at: Date; total_minor: number; returned_minor: number; channel_kind: string }>;
  tiers: Map<string, { code: string; threshold: number }>;
  floorTier: { code: string; threshold: number };
  thresholds: Map<string, number>;
  balances: Map<string, { available: number; lifetime: number }>;
  /** Scores of the active CHURN and VALUE versions; the probability as the double the real column holds. */
  churn: Map<string, number>;
  /** The active CHURN version's previous score of each member that has one. */
  churnPrevious: Map<string, number>;
  value: Map<string, { amount: number; band: string }>;
}

let facts: Facts;

async function loadFixture() {
  await b.baseRate(); // 1 point per £1
  for (const [code, threshold] of [['BRONZE', 0], ['SILVER', 100], ['GOLD', 500]] as const) {
    await h.app.services.tiers.upsert(b.ctx(), { code, name: code, threshold, earnMultiplierPercent: 100, benefitFlags: [] });
  }
  const web = (await b.channel(SalesChannelKind.WEB)).id;
  const member = async (country: string) => (await b.member().inCountry(country).save()).id;
  const store = (await b.channel(SalesChannelKind.STORE)).id;
  const order = async (memberId: string | null, placedAt: Date, unitPriceMinor: number, quantity = 1, channelId = web) => {
    const input = orderInput(memberId, [{ sku: 'MUG', unitPriceMinor, quantity }], { channelId, placedAt });
    return h.app.services.orders.record(b.ctx(), input as unknown as RecordOrderInput);
  };

  const edge = await member('GB');
  await order(edge, ago(30), 1000); // exactly at the start of a 30-day window: inside it
  await order(edge, ago(30, -1), 1100); // 1 ms earlier: outside it
  await order(edge, AS_OF, 1200); // at the evaluation time: not yet placed
  await order(edge, ago(0, -1), 1300); // 1 ms before it: inside every window
  await order(edge, AS_OF, 1400, 1, store); // in store only at the evaluation time: not a channel used yet
  const returner = await member('GB');
  const returned = await order(returner, ago(10), 2000, 2);
  await h.app.services.orders.recordReturn(b.ctx(), { orderId: returned.id, externalReturnId: 'R-half', lines: [{ lineNo: 1, quantity: 1 }] });
  const whole = await order(returner, ago(45), 60000);
  await h.app.services.orders.recordReturn(b.ctx(), { orderId: whole.id, externalReturnId: 'R-whole' });
  await order(returner, ago(400), 700);
  const survivor = await member('FR');
  const absorbed = await member('FR');
  await order(survivor, ago(5), 800);
  await order(absorbed, ago(20), 50000);
  await order(absorbed, ago(90), 900);
  await h.app.services.members.merge(b.ctx(), { survivorId: survivor, absorbedId: absorbed });
  await order(null, ago(3), 99900); // guest orders: nobody's
  await order(null, ago(31), 500);
  const big = await member('DE');
  for (const d of [1, 2, 60, 89, 90, 91, 364, 365, 366, 3000]) await order(big, ago(d), 15000 + d);
  const neverOrdered = await member('DE');
  const lapsed = await member('IE');
  await order(lapsed, ago(1000, 1), 4000);
  await order(lapsed, ago(1000), 4100, 1, store);
  const adjusted = await member('GB');
  await h.app.services.points.adjust(b.ctx(), { memberId: adjusted, points: 250, reason: 'fixture', idempotencyKey: 'ref-adjusted' });
  const erased = await member('GB');
  await order(erased, ago(7), 3000);
  await h.app.services.members.erase(b.ctx(), { id: erased, reason: 'asked to be forgotten' });

  // Model scores as the worker writes them, an active and a retired version of each kind. The products hit the edges
  // of valueAtRisk: a half (3 × 0.5), the amount bound, a probability stored just below its decimal (0.9), 0 and 1,
  // the absorbed and the erased member, a member with only a value score and one with only a retired version's.
  const version = async (kind: string, status: string) => {
    const [row] = await h.sql<{ id: string }>(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
       values (gen_random_uuid(), ?, ?, 'TEST', '{}', '{}', '{}', 90, now(), now()) returning id`,
      [kind, status],
    );
    return row.id;
  };
  const [churn, oldChurn, value, oldValue] = [await version('CHURN', 'ACTIVE'), await version('CHURN', 'RETIRED'), await version('VALUE', 'ACTIVE'), await version('VALUE', 'RETIRED')];
  // Previous scores for churnScoreChange: 0.7 after 0.6 (exactly 0.1 in decimals, 0.09999996 in float4), a fall, no
  // change, none, a change of a ten-millionth, and one on a retired version.
  const churnScores: Array<[string, string, number, number | null]> = [
    [churn, edge, 0.5, 0.4], [churn, returner, 0.1, 0.3], [churn, survivor, 1, null], [churn, absorbed, 0.9, 0.1], [churn, big, 0.333, 0.333],
    [churn, lapsed, 0, 0.0000001], [churn, erased, 0.7, 0.6], [churn, neverOrdered, 0.7, 0.6], [oldChurn, adjusted, 0.9, 0.1],
  ];
  for (const [v, m, score, previous] of churnScores) {
    await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score) values (?, ?, ?, 'LOW', '[]', ?)`, [v, m, score, previous]);
  }
  const valueScores: Array<[string, string, number, string]> = [
    [value, edge, 3, 'LOW'], [value, returner, 1_000_000_000, 'HIGH'], [value, survivor, 0, 'LOW'], [value, absorbed, 5000, 'HIGH'], [value, big, 123_457, 'MEDIUM'],
    [value, adjusted, 777, 'MEDIUM'], [value, erased, 9999, 'HIGH'], [oldValue, lapsed, 4000, 'HIGH'],
  ];
  for (const [v, m, amount, band] of valueScores) {
    await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, ?, 0.5, ?, '[]')`, [v, m, amount, band]);
  }
}

async function readFacts(): Promise<Facts> {
  const tierRows = await h.sql<{ member_id: string; code: string; threshold: number }>(
    `select mt.member_id, t.code, t.threshold from member_tier mt join tier t on t.id = mt.tier_id`,
  );
  const all = await h.sql<{ code: string; threshold: number }>(`select code, threshold from tier`);
  const balances = await h.sql<{ member_id: string; available: number; lifetime: number }>(`select member_id, available::int as available, lifetime::int as lifetime from member_balance`);
  return {
    members: await h.sql(`select id, status, country, enrolled_at from member`),
    orders: (await h.sql<Facts['orders'][number]>(`select member_id, placed_at, total_minor, returned_minor, channel_kind from customer_order`)).map((o) => ({
      ...o,
      placed_at: new Date(o.placed_at),
    })),
    tiers: new Map(tierRows.map((r) => [r.member_id, r])),
    floorTier: all.find((t) => t.threshold === 0)!,
    thresholds: new Map(all.map((t) => [t.code, t.threshold])),
    balances: new Map(balances.map((r) => [r.member_id, r])),
    churn: new Map(
      (await h.sql<{ member_id: string; score: number }>(
        `select c.member_id, c.score::float8 as score from member_churn_score c join model_version v on v.id = c.model_version_id where v.status = 'ACTIVE'`,
      )).map((r) => [r.member_id, r.score]),
    ),
    churnPrevious: new Map(
      (await h.sql<{ member_id: string; previous: number }>(
        `select c.member_id, c.previous_score::float8 as previous from member_churn_score c join model_version v on v.id = c.model_version_id
         where v.status = 'ACTIVE' and c.previous_score is not null`,
      )).map((r) => [r.member_id, r.previous]),
    ),
    value: new Map(
      (await h.sql<{ member_id: string; amount_minor: number; band: string }>(
        `select s.member_id, s.amount_minor, s.band from member_value_score s join model_version v on v.id = s.model_version_id where v.status = 'ACTIVE'`,
      )).map((r) => [r.member_id, { amount: r.amount_minor, band: r.band }]),
    ),
  };
}

/** The rule read literally: each attribute computed from the member's rows, null when the member has no value. */
function reference(rule: SegmentRule, mentionsStatus: boolean): string[] {
  const value = (m: Facts['members'][number], c: { attribute: string; windowDays?: number }): number | string | null => {
    const mine = facts.orders.filter((o) => o.member_id === m.id && o.placed_at < AS_OF);
    const inWindow = mine.filter((o) => o.placed_at.getTime() >= AS_OF.getTime() - c.windowDays! * DAY);
    const tier = facts.tiers.get(m.id) ?? facts.floorTier;
    switch (c.attribute) {
      case 'purchaseCount':
        return inWindow.length;
      case 'monetaryMinor':
        return inWindow.reduce((s, o) => s + o.total_minor - o.returned_minor, 0);
      case 'daysSinceLastPurchase':
        return mine.length ? Math.floor((AS_OF.getTime() - Math.max(...mine.map((o) => o.placed_at.getTime()))) / DAY) : null;
      case 'tier':
        return tier.code;
      case 'pointsBalance':
        return facts.balances.get(m.id)?.available ?? 0;
      case 'lifetimePoints':
        return facts.balances.get(m.id)?.lifetime ?? 0;
      case 'country':
        return m.country;
      case 'status':
        return m.status;
      case 'enrolledAt':
        // Days compare as their ISO text (the grammar's date values are UTC days).
        return new Date(m.enrolled_at).toISOString().slice(0, 10);
      case 'valueBand':
        return facts.value.get(m.id)?.band ?? null;
      case 'valueAtRisk': {
        const value = facts.value.get(m.id);
        const churn = facts.churn.get(m.id);
        return value && churn !== undefined ? Math.floor(value.amount * churn) : null;
      }
      default:
        throw new Error(`no reference for ${c.attribute}`);
    }
  };
  const holds = (m: Facts['members'][number], r: SegmentRule): boolean => {
    if ('and' in r) return r.and.every((x) => holds(m, x));
    if ('or' in r) return r.or.some((x) => holds(m, x));
    if ('not' in r) return !holds(m, r.not);
    if (r.attribute === 'churnScoreChange') {
      const score = facts.churn.get(m.id);
      const previous = facts.churnPrevious.get(m.id);
      if (score === undefined || previous === undefined) return false;
      const change = asDecimal(score) - asDecimal(previous);
      if (r.op === 'between') {
        const [lo, hi] = (r.value as number[]).map(exactDecimal);
        return change >= lo && change <= hi;
      }
      return compare(change, r.op, exactDecimal(r.value as number));
    }
    if (r.attribute === 'channelsUsed') {
      const used = new Set(facts.orders.filter((o) => o.member_id === m.id && o.placed_at < AS_OF).map((o) => o.channel_kind));
      const wanted = Array.isArray(r.value) ? (r.value as string[]) : [r.value as string];
      return r.op === 'all' ? wanted.every((v) => used.has(v)) : wanted.some((v) => used.has(v));
    }
    const v = value(m, r);
    if (v === null) return false;
    if (r.attribute === 'tier' && ['gt', 'gte', 'lt', 'lte'].includes(r.op)) {
      const mine = (facts.tiers.get(m.id) ?? facts.floorTier).threshold;
      return compare(mine, r.op, facts.thresholds.get(r.value as string)!);
    }
    if (r.op === 'in') return (r.value as unknown[]).includes(v);
    if (r.op === 'between') {
      const [lo, hi] = r.value as number[];
      return (v as number) >= lo && (v as number) <= hi;
    }
    return compare(v, r.op, r.value as number | string);
  };
  return facts.members
    .filter((m) => (mentionsStatus ? m.status !== 'MERGED' : m.status === 'ACTIVE'))
    .filter((m) => holds(m, rule))
    .map((m) => m.id)
    .sort();
}

/** Decimals as integers of 10^-60: exact for every value here. */
const SCALE = 60;
function scaled(text: string): bigint {
  const [mantissa, exponent] = text.split('e');
  const [whole, fraction = ''] = mantissa.replace('-', '').split('.');
  const digits = BigInt(whole + fraction) * (mantissa.startsWith('-') ? -1n : 1n);
  const shift = SCALE + Number(exponent) - fraction.length;
  return shift >= 0 ? digits * 10n ** BigInt(shift) : digits / 10n ** BigInt(-shift);
}
/** A float4 score as a decimal of its 6 significant digits, as PostgreSQL casts real to numeric. */
const asDecimal = (score: number) => scaled(Math.fround(score).toExponential(5));
/** A rule's number as the decimal it was written as. */
const exactDecimal = (value: number) => scaled(value.toExponential());

function compare(a: number | string | bigint, op: string, b: number | string | bigint): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'neq':
      return a !== b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    default:
      throw new Error(`no reference for ${op}`);
  }
}

beforeAll(async () => {
  await loadFixture();
  facts = await readFacts();
}, 120_000);

const c = (attribute: string, op: string, value: unknown, windowDays?: number) => ({ attribute, op, value, ...(windowDays ? { windowDays } : {}) });

describe('compiled segment rules against a reference evaluation', () => {
  const rules: Array<[string, unknown]> = [
    ['purchaseCount over 30 days (an order exactly at the window start counts, one at the evaluation time does not)', c('purchaseCount', 'gte', 2, 30)],
    ['purchaseCount over 30 days eq 0 (members without orders included)', c('purchaseCount', 'eq', 0, 30)],
    ['purchaseCount over 1 day', c('purchaseCount', 'eq', 1, 1)],
    ['purchaseCount over 90 and 91 days', { and: [c('purchaseCount', 'eq', 5, 90), c('purchaseCount', 'eq', 6, 91)] }],
    ['purchaseCount over 365 days between 1 and 3', c('purchaseCount', 'between', [1, 3], 365)],
    ['purchaseCount over 3660 days gte 10', c('purchaseCount', 'gte', 10, 3660)],
    ['monetaryMinor over 30 days, net of returns', c('monetaryMinor', 'gte', 2000, 30)],
    ['monetaryMinor over 60 days lte 0 (a wholly returned order nets to nothing)', c('monetaryMinor', 'lte', 0, 60)],
    ['monetaryMinor over 365 days gt 50000 (the absorbed member’s orders now count for the survivor)', c('monetaryMinor', 'gt', 50000, 365)],
    ['daysSinceLastPurchase lte 0', c('daysSinceLastPurchase', 'lte', 0)],
    ['daysSinceLastPurchase gte 999', c('daysSinceLastPurchase', 'gte', 999)],
    ['not daysSinceLastPurchase lt 100 (non-buyers included)', { not: c('daysSinceLastPurchase', 'lt', 100) }],
    ['two windows and recency in one rule', { or: [c('purchaseCount', 'gte', 3, 7), { and: [c('monetaryMinor', 'gt', 1000, 90), c('daysSinceLastPurchase', 'gt', 3)] }] }],
    ['the same window twice', { and: [c('purchaseCount', 'gte', 1, 45), { not: c('monetaryMinor', 'gt', 100000, 45) }] }],
    ['tier eq BRONZE (members without a tier row)', c('tier', 'eq', 'BRONZE')],
    ['tier gte SILVER', c('tier', 'gte', 'SILVER')],
    ['tier in [BRONZE, GOLD] (with and without tier rows)', c('tier', 'in', ['BRONZE', 'GOLD'])],
    ['tier neq SILVER', c('tier', 'neq', 'SILVER')],
    ['not tier eq GOLD and purchaseCount over 90 days gte 2', { and: [c('purchaseCount', 'gte', 2, 90), { not: c('tier', 'eq', 'GOLD') }] }],
    ['pointsBalance gt 100 or lifetimePoints between 1 and 50', { or: [c('pointsBalance', 'gt', 100), c('lifetimePoints', 'between', [1, 50])] }],
    ['status in ACTIVE, ERASED with orders in 30 days (never the MERGED record)', { and: [c('status', 'in', ['ACTIVE', 'ERASED']), c('purchaseCount', 'gte', 1, 30)] }],
    ['status neq ACTIVE', c('status', 'neq', 'ACTIVE')],
    ['status neq ACTIVE with orders in 3660 days (the stats rows alone)', { and: [c('purchaseCount', 'gte', 1, 3660), c('status', 'neq', 'ACTIVE')] }],
    ['country in GB, FR with 2 orders in 90 days (the stats rows alone)', { and: [c('purchaseCount', 'gte', 2, 90), c('country', 'in', ['GB', 'FR'])] }],
    ['enrolledAt before tomorrow with orders in 365 days (the member row)', { and: [c('purchaseCount', 'gte', 1, 365), c('enrolledAt', 'lt', DAY_AFTER)] }],
    ['enrolledAt on or after tomorrow with orders in 365 days (none)', { and: [c('purchaseCount', 'gte', 1, 365), c('enrolledAt', 'gte', DAY_AFTER)] }],
    ['country in GB, FR and no orders in 3660 days', { and: [c('country', 'in', ['GB', 'FR']), c('purchaseCount', 'eq', 0, 3660)] }],
    ['valueBand eq HIGH (active version only; the absorbed and the erased member left out)', c('valueBand', 'eq', 'HIGH')],
    ['valueBand in LOW, MEDIUM', c('valueBand', 'in', ['LOW', 'MEDIUM'])],
    ['not valueBand neq LOW (unscored members included)', { not: c('valueBand', 'neq', 'LOW') }],
    ['valueBand eq HIGH, erased members included', { and: [c('status', 'in', ['ACTIVE', 'ERASED']), c('valueBand', 'eq', 'HIGH')] }],
    ['valueAtRisk eq 1 (3 × 0.5 rounded down)', c('valueAtRisk', 'eq', 1)],
    ['valueAtRisk gte 0 (both models scored the member)', c('valueAtRisk', 'gte', 0)],
    ['valueAtRisk lte 0 (a probability of 0, an amount of 0)', c('valueAtRisk', 'lte', 0)],
    ['valueAtRisk between 40000 and 1000000000 (the bound × 0.1, a third of 123457)', c('valueAtRisk', 'between', [40000, 1_000_000_000])],
    ['valueAtRisk gt 100000000 (1e9 × 0.1 stored as 0.10000000149)', c('valueAtRisk', 'gt', 100_000_000)],
    ['not valueAtRisk gt 0 (members lacking either score included)', { not: c('valueAtRisk', 'gt', 0) }],
    ['valueAtRisk lt 41111 or valueBand eq MEDIUM, with status', { or: [{ and: [c('status', 'neq', 'ACTIVE'), c('valueAtRisk', 'lt', 41111)] }, c('valueBand', 'eq', 'MEDIUM')] }],
    ['churnScoreChange gte 0.1 (0.7 after 0.6 is exactly 0.1; the erased member left out)', c('churnScoreChange', 'gte', 0.1)],
    ['churnScoreChange eq 0.1', c('churnScoreChange', 'eq', 0.1)],
    ['churnScoreChange lt 0 (a fall, and a change of a ten-millionth)', c('churnScoreChange', 'lt', 0)],
    ['churnScoreChange eq 0 (unchanged)', c('churnScoreChange', 'eq', 0)],
    ['churnScoreChange between -0.0000001 and 0.1', c('churnScoreChange', 'between', [-0.0000001, 0.1])],
    ['not churnScoreChange gt 0 (members without both scores included)', { not: c('churnScoreChange', 'gt', 0) }],
    ['churnScoreChange gte 0.1, erased members included', { and: [c('status', 'in', ['ACTIVE', 'ERASED']), c('churnScoreChange', 'gte', 0.1)] }],
    ['channelsUsed contains STORE (an order at the evaluation time does not count)', c('channelsUsed', 'contains', 'STORE')],
    ['channelsUsed all WEB, STORE', c('channelsUsed', 'all', ['WEB', 'STORE'])],
    ['not channelsUsed any WEB, APP (non-buyers included)', { not: c('channelsUsed', 'any', ['WEB', 'APP']) }],
  ];

  it.each(rules)('%s', async (_name, rule) => {
    const checked = await h.app.services.segments.check(h.em(), rule, 'rule');
    const expected = reference(checked.rule, checked.mentionsStatus);
    const actual = await h.app.services.segments.membersOf(h.em(), { rule }, AS_OF);
    expect(actual).toEqual(expected);
    const preview = await h.app.services.segments.preview(h.em(), { rule, asOf: AS_OF });
    expect(preview.count).toBe(expected.length);
    expect(preview.sample.map((m) => m.id)).toEqual(expected.slice(0, 20));
  });

  it('reads an order history equal to its recomputation from the orders (after returns, a merge, an erasure)', async () => {
    expect(await h.sql('select * from order_history_mismatches(10)')).toEqual([]);
    const [{ n }] = await h.sql<{ n: number }>('select count(*)::int as n from member_order_history');
    expect(n).toBe(new Set(facts.orders.filter((o) => o.member_id).map((o) => o.member_id)).size);
  });

  it('counts 0.7 after 0.6 as a rise of 0.1, which float4 arithmetic would not: the rule matches those two members', async () => {
    const matched = await h.app.services.segments.membersOf(h.em(), { rule: c('churnScoreChange', 'gte', 0.1) }, AS_OF);
    const risen = [...facts.churnPrevious].filter(([id, previous]) => facts.churn.get(id) === Math.fround(0.7) && previous === Math.fround(0.6)).map(([id]) => id);
    const active = new Set(facts.members.filter((m) => m.status === 'ACTIVE').map((m) => m.id));
    expect(Math.fround(Math.fround(0.7) - Math.fround(0.6))).toBeLessThan(Math.fround(0.1));
    expect(risen.filter((id) => active.has(id))).toHaveLength(1);
    expect(matched).toEqual(expect.arrayContaining(risen.filter((id) => active.has(id))));
    expect(matched).toHaveLength(2); // and 0.5 after 0.4
  });

  it('covers every edge it claims: the fixture has them', () => {
    const placed = facts.orders.map((o) => o.placed_at.getTime());
    expect(placed).toContain(ago(30).getTime());
    expect(placed).toContain(AS_OF.getTime());
    expect(facts.orders.some((o) => o.member_id === null)).toBe(true);
    expect(facts.orders.some((o) => o.returned_minor > 0 && o.returned_minor < o.total_minor)).toBe(true);
    expect(facts.orders.some((o) => o.returned_minor > 0 && o.returned_minor === o.total_minor)).toBe(true);
    expect(facts.members.map((m) => m.status).sort()).toEqual(expect.arrayContaining(['ACTIVE', 'ERASED', 'MERGED']));
    expect(facts.tiers.size).toBeGreaterThan(0);
    const risks = [...facts.value].filter(([id]) => facts.churn.has(id)).map(([id, v]) => v.amount * facts.churn.get(id)!);
    expect(risks).toContain(1.5);
    expect(risks.some((r) => r > 100_000_000 && !Number.isInteger(r))).toBe(true);
    expect([...facts.value.values()].map((v) => v.amount)).toContain(1_000_000_000);
    expect(facts.orders.some((o) => o.channel_kind === 'STORE' && o.placed_at.getTime() === AS_OF.getTime())).toBe(true);
  });
});
