import path from 'node:path';
import { useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { ledgerCheck, orderInput } from '../support/orders';
import { runImport, syntheticTransactions } from '../support/imports';
import type { RecordOrderInput } from '../../api/src/modules/orders/order.types';

/**
 * The per-member order and points histories (Migration20261209100000_order_history, …100200_ledger_history) that
 * segments and analytics read instead of the orders and the ledger: after every kind of write — orders, returns, a
 * merge, an erasure, an import, plain SQL, concurrent orders of one member — they equal their recomputation from
 * customer_order and ledger_entry (the ledger check), and the ledger check fails when they do not.
 */
const h = useHarness();
const b = build(h);
const DAY = 86_400_000;
let web: string;
let store: string;

const record = (memberId: string | null, placedAt: Date, unitPriceMinor: number, channelId = web, quantity = 1) =>
  h.app.services.orders.record(b.ctx(), orderInput(memberId, [{ sku: 'MUG', unitPriceMinor, quantity }], { channelId, placedAt }) as unknown as RecordOrderInput);

async function history(memberId: string) {
  const [row] = await h.sql<{ placed_at: Date[]; total_cum: string[]; returned_cum: string[] }>(
    'select placed_at, total_cum, returned_cum from member_order_history where member_id = ?',
    [memberId],
  );
  return row && { placedAt: row.placed_at.map((d) => new Date(d).getTime()), totalCum: row.total_cum.map(Number), returnedCum: row.returned_cum.map(Number) };
}

async function expectExact() {
  const check = await ledgerCheck(h);
  expect(check.aggregateMismatches).toEqual([]);
  expect(check.isConsistent).toBe(true);
}

beforeAll(async () => {
  await b.baseRate();
  web = (await b.channel(SalesChannelKind.WEB)).id;
  store = (await b.channel(SalesChannelKind.STORE)).id;
});

describe('order history', () => {
  it('holds each member’s orders in time order with running totals and returns, per member and per channel', async () => {
    const member = (await b.member().save()).id;
    const now = Date.now();
    const late = await record(member, new Date(now - 1 * DAY), 3000);
    await record(member, new Date(now - 10 * DAY), 1000, store);
    await record(member, new Date(now - 5 * DAY), 2000);
    await h.app.services.orders.recordReturn(b.ctx(), { orderId: late.id, externalReturnId: 'R1' });
    expect(await history(member)).toEqual({
      placedAt: [now - 10 * DAY, now - 5 * DAY, now - 1 * DAY],
      totalCum: [1000, 3000, 6000],
      returnedCum: [0, 0, 3000],
    });
    const channels = await h.sql<{ channel_id: string; channel_kind: string; total_cum: string[] }>(
      'select channel_id, channel_kind, total_cum from member_channel_order_history where member_id = ? order by channel_kind',
      [member],
    );
    expect(channels.map((c) => [c.channel_id, c.channel_kind, c.total_cum.map(Number)])).toEqual([
      [store, 'STORE', [1000]],
      [web, 'WEB', [2000, 5000]],
    ]);
    await expectExact();
  });

  it('moves with a merge and goes with an erasure', async () => {
    const survivor = (await b.member().save()).id;
    const absorbed = (await b.member().save()).id;
    const erased = (await b.member().save()).id;
    await record(survivor, new Date(Date.now() - 3 * DAY), 1000);
    await record(absorbed, new Date(Date.now() - 2 * DAY), 2000, store);
    await record(erased, new Date(Date.now() - 2 * DAY), 500);
    await h.app.services.members.merge(b.ctx(), { survivorId: survivor, absorbedId: absorbed });
    await h.app.services.members.erase(b.ctx(), { id: erased, reason: 'asked to be forgotten' });
    expect((await history(survivor)).totalCum).toEqual([1000, 3000]);
    expect(await history(absorbed)).toBeUndefined();
    await expectExact();
  });

  it('follows a bulk import (many members and orders in one statement) and its returns', async () => {
    const { summary } = await runImport(h, syntheticTransactions(40));
    expect(summary.orders).toBeGreaterThan(40);
    const returns = await runImport(h, path.join(__dirname, '..', 'fixtures', 'import', 'returns.csv'));
    expect(returns.summary.returns).toBeGreaterThan(0);
    await expectExact();
  });

  it('follows writes in plain SQL that no service made: several members in one statement, moves, deletes', async () => {
    const [m1, m2] = [(await b.member().save()).id, (await b.member().save()).id];
    await h.sql(
      `insert into customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, currency, subtotal_minor,
         order_discount_minor, total_minor, placed_at, points_breakdown, created_at)
       select gen_random_uuid(), 'sql-' || m || '-' || g, 'x', ?, 'WEB', 'sql-' || m || '-' || g, m, 'GBP', 100 * g, 0, 100 * g, now() - g * interval '1 day', '[]', now()
       from unnest(array[?, ?]::uuid[]) m cross join generate_series(1, 3) g`,
      [web, m1, m2],
    );
    expect((await history(m1)).totalCum).toEqual([300, 500, 600]);
    await h.sql(`update customer_order set member_id = ? where member_id = ? and total_minor = 300`, [m2, m1]);
    await h.sql(`update customer_order set returned_minor = 50 where member_id = ? and total_minor = 100`, [m2]);
    expect((await history(m1)).totalCum).toEqual([200, 300]);
    expect(await history(m2)).toEqual(expect.objectContaining({ totalCum: [300, 600, 800, 900], returnedCum: [0, 0, 0, 50] }));
    await h.sql(`delete from customer_order where member_id = ? and idempotency_key like 'sql-%'`, [m1]);
    expect(await history(m1)).toBeUndefined();
    await expectExact();
  });

  it('stays exact under concurrent orders of one member', async () => {
    const member = (await b.member().save()).id;
    const at = Date.now() - DAY;
    await Promise.all(Array.from({ length: 12 }, (_, i) => record(member, new Date(at + i * 1000), 100 + i, i % 3 ? web : store)));
    const mine = await history(member);
    expect(mine.placedAt).toHaveLength(12);
    expect(mine.totalCum.at(-1)).toBe(Array.from({ length: 12 }, (_, i) => 100 + i).reduce((s, v) => s + v, 0));
    await expectExact();
  });

  it('fails the ledger check when a row is corrupted, missing or left over', async () => {
    const member = (await b.member().save()).id;
    await record(member, new Date(Date.now() - DAY), 1200);
    await expectExact();
    await h.sql(`update member_order_history set total_cum[1] = total_cum[1] + 1 where member_id = ?`, [member]);
    let check = await ledgerCheck(h);
    expect(check.isConsistent).toBe(false);
    expect(check.aggregateMismatches).toEqual([{ aggregate: 'member_order_history', memberId: member, channelId: null, problem: 'differs' }]);
    await h.sql(`delete from member_order_history where member_id = ?`, [member]);
    await h.sql(`update member_channel_order_history set member_id = ? where member_id = ?`, [(await b.member().save()).id, member]);
    check = await ledgerCheck(h);
    expect(check.isConsistent).toBe(false);
    expect(check.aggregateMismatches.map((m) => `${m.aggregate} ${m.problem}`).sort()).toEqual([
      'member_channel_order_history extra',
      'member_channel_order_history missing',
      'member_order_history missing',
    ]);
    await h.sql('select order_history_rebuild()');
    await expectExact();
    // The points history the KPIs read, likewise.
    await h.sql(`update member_points_history set issued_cum[1] = issued_cum[1] - 1 where member_id = ?`, [member]);
    check = await ledgerCheck(h);
    expect(check.isConsistent).toBe(false);
    expect(check.aggregateMismatches).toEqual([{ aggregate: 'member_points_history', memberId: member, channelId: null, problem: 'differs' }]);
    await h.sql('select points_history_rebuild()');
    await expectExact();
  });
});

/**
 * The pre-aggregates of Migration20261210100000_scale_aggregates (per-member order stats, order totals per day,
 * channel, country and shard, points totals per hour and shard) that segments and analytics read at 1 M members: equal
 * to their recomputation after every kind of write, and caught by the ledger check when they are not.
 */
describe('scale aggregates', () => {
  async function stats(memberId: string) {
    const [row] = await h.sql<{ orders: number; first_at: Date; last_at: Date; recent_at: Date[]; total_minor: string; returned_minor: string }>(
      'select orders, first_at, last_at, recent_at, total_minor, returned_minor from member_order_stats where member_id = ?',
      [memberId],
    );
    return row && {
      orders: row.orders,
      firstAt: new Date(row.first_at).getTime(),
      lastAt: new Date(row.last_at).getTime(),
      recentAt: row.recent_at.map((d) => new Date(d).getTime()),
      total: Number(row.total_minor),
      returned: Number(row.returned_minor),
    };
  }
  const dayTotals = async (memberCountry: string) =>
    (await h.sql<{ orders: string; total: string; returned: string }>(
      `select coalesce(sum(orders), 0) as orders, coalesce(sum(total_minor), 0) as total, coalesce(sum(returned_minor), 0) as returned
       from order_day_totals where country = ?`,
      [memberCountry],
    )).map((r) => [Number(r.orders), Number(r.total), Number(r.returned)])[0];

  it('keeps the last 8 order times, the count, the first and last order and the net of returns', async () => {
    const member = (await b.member().save()).id;
    const now = Date.now();
    const placed = Array.from({ length: 10 }, (_, i) => now - (20 - i) * DAY);
    const orders = [];
    for (const [i, at] of placed.entries()) orders.push(await record(member, new Date(at), 100 * (i + 1), i % 2 ? web : store));
    await h.app.services.orders.recordReturn(b.ctx(), { orderId: orders[9].id, externalReturnId: 'R-stats' });
    expect(await stats(member)).toEqual({
      orders: 10,
      firstAt: placed[0],
      lastAt: placed[9],
      recentAt: placed.slice(2),
      total: 5500,
      returned: 1000,
    });
    const channels = await h.sql<{ channel_kind: string; orders: number; recent_at: Date[] }>(
      'select channel_kind, orders, recent_at from member_channel_order_stats where member_id = ? order by channel_kind',
      [member],
    );
    expect(channels.map((c) => [c.channel_kind, c.orders, c.recent_at.length])).toEqual([
      ['STORE', 5, 5],
      ['WEB', 5, 5],
    ]);
    await expectExact();
  });

  it('moves a member’s order totals with a change of country, keeps them through an erasure and drops them with a deleted member', async () => {
    const mover = (await b.member().inCountry('NL').save()).id;
    const erased = (await b.member().inCountry('NO').save()).id;
    const deleted = (await b.member().inCountry('IS').save()).id;
    await record(mover, new Date(Date.now() - 3 * DAY), 1000);
    await record(mover, new Date(Date.now() - 2 * DAY), 2000, store);
    await record(erased, new Date(Date.now() - 2 * DAY), 700);
    // In plain SQL, without points: a member with ledger rows cannot be deleted (the ledger keeps its key).
    await h.sql(
      `insert into customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, currency, subtotal_minor,
         order_discount_minor, total_minor, placed_at, points_breakdown, created_at)
       values (gen_random_uuid(), 'del-' || ?, 'x', ?, 'WEB', 'del-' || ?, ?, 'GBP', 300, 0, 300, now() - interval '1 day', '[]', now())`,
      [deleted, web, deleted, deleted],
    );
    expect(await dayTotals('NL')).toEqual([2, 3000, 0]);
    await h.sql(`update member set country = 'BE' where id = ?`, [mover]);
    expect(await dayTotals('NL')).toEqual([0, 0, 0]);
    expect(await dayTotals('BE')).toEqual(expect.arrayContaining([2]));
    await h.app.services.members.erase(b.ctx(), { id: erased, reason: 'asked to be forgotten' });
    expect(await dayTotals('NO')).toEqual([1, 700, 0]);
    // The stats row carries the member's current country and status (segment previews read it instead of the member).
    const carried = async (id: string) =>
      (await h.sql<{ country: string | null; status: string }>('select country, status from member_order_stats where member_id = ?', [id]))[0];
    expect(await carried(mover)).toEqual({ country: 'BE', status: 'ACTIVE' });
    expect(await carried(erased)).toEqual({ country: (await h.sql<{ country: string | null }>('select country from member where id = ?', [erased]))[0].country, status: 'ERASED' });
    await expectExact();
    // A member row deleted in plain SQL (no service does): its orders leave the totals before the key nulls them.
    expect(await dayTotals('IS')).toEqual([1, 300, 0]);
    await h.sql(`delete from member where id = ?`, [deleted]);
    expect(await h.sql('select id from member where id = ?', [deleted])).toEqual([]);
    expect(await dayTotals('IS')).toEqual([0, 0, 0]);
    expect(await stats(deleted)).toBeUndefined();
    await expectExact();
  });

  it('stays exact under concurrent orders of one member and of many members on one day', async () => {
    const one = (await b.member().inCountry('DK').save()).id;
    const many = await Promise.all(Array.from({ length: 6 }, async () => (await b.member().inCountry('DK').save()).id));
    const at = Date.now() - DAY;
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => record(one, new Date(at + i * 1000), 100 + i, i % 2 ? web : store)),
      ...many.map((m, i) => record(m, new Date(at + i), 50)),
    ]);
    expect((await stats(one)).orders).toBe(8);
    expect(await dayTotals('DK')).toEqual([14, 8 * 100 + 28 + 6 * 50, 0]);
    await expectExact();
  });

  it('fails the ledger check when the stats or the totals are off, and the rebuild repairs them', async () => {
    const member = (await b.member().save()).id;
    await record(member, new Date(Date.now() - DAY), 900);
    await expectExact();
    await h.sql(`update member_order_stats set recent_at = recent_at || now() where member_id = ?`, [member]);
    await h.sql(`update order_day_totals set orders = orders + 1 where (day, channel_id, country, shard) in (select day, channel_id, country, shard from order_day_totals limit 1)`);
    await h.sql(`update points_hour_totals set issued = issued + 1 where (hour, shard) in (select hour, shard from points_hour_totals limit 1)`);
    await h.sql(`delete from member_channel_order_stats where member_id = ?`, [member]);
    const other = (await b.member().save()).id;
    await record(other, new Date(Date.now() - DAY), 400);
    await h.sql(`update member_order_stats set status = 'ERASED' where member_id = ?`, [other]);
    const check = await ledgerCheck(h);
    expect(check.isConsistent).toBe(false);
    const who = (id: string | null) => (id === member ? 'member' : id === other ? 'other' : id);
    expect(check.aggregateMismatches.map((m) => `${m.aggregate} ${m.problem} ${who(m.memberId)}`).sort()).toEqual([
      'member_channel_order_stats missing member',
      'member_order_stats differs member',
      'member_order_stats differs other',
      'order_day_totals differs null',
      'points_hour_totals differs null',
    ]);
    expect(check.aggregateMismatches.filter((m) => m.memberId === null).every((m) => typeof m.key === 'string')).toBe(true);
    await h.sql('select scale_aggregates_rebuild()');
    await expectExact();
  });
});
