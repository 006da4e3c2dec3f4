import { Migration } from '@mikro-orm/migrations';
import { ORDER_HISTORY_REFRESH_STEPS } from './Migration20261209100000_order_history';
import { RFM_FROM_ORDER_HISTORY } from './Migration20261209100100_rfm_from_order_history';

/** The KPIs' points classes of ledger rows `l`, as bigint sums (points_hour_totals; analytics.service.ts reads the same). */
// Indented as they were inside up(): the SQL text of this migration is unchanged.
export const POINT_CLASSES = (l: string) => `
      sum(case when ${l}.reason in ('ORDER_EARN', 'REFERRAL') or (${l}.reason = 'ADJUSTMENT' and ${l}.lifetime_delta > 0) then ${l}.lifetime_delta else 0 end)::bigint as issued,
      sum(case when ${l}.reason in ('RETURN_CLAWBACK', 'REFERRAL_REVERSAL') then -${l}.lifetime_delta else 0 end)::bigint as clawed_back,
      sum(case when ${l}.reason in ('REDEMPTION', 'REDEMPTION_CANCEL') then -${l}.available_delta else 0 end)::bigint as redeemed,
      sum(case when ${l}.reason = 'EXPIRY' then -${l}.available_delta else 0 end)::bigint as expired`;
export const POINT_ROWS = (l: string) => `(${l}.reason in ('ORDER_EARN', 'REFERRAL', 'RETURN_CLAWBACK', 'REFERRAL_REVERSAL', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY')
      or (${l}.reason = 'ADJUSTMENT' and ${l}.lifetime_delta > 0))`;

// The hourly points totals' recomputation and trigger as this migration creates them (…20261211100000_liability_totals
// replaces both, and its down() restores these).
export const POINTS_HOUR_TOTALS_EXPECTED = `create view points_hour_totals_expected as
      select date_trunc('hour', l.created_at at time zone 'UTC') as hour, member_shard(l.member_id) as shard, ${POINT_CLASSES('l')}
      from ledger_entry l where ${POINT_ROWS('l')} group by 1, 2;`;
export const POINTS_HOUR_TOTALS_AFTER_INSERT = `points_hour_totals_after_insert() returns trigger language plpgsql as $$
      begin
        insert into points_hour_totals as t (hour, shard, issued, clawed_back, redeemed, expired)
          select date_trunc('hour', l.created_at at time zone 'UTC'), member_shard(l.member_id), ${POINT_CLASSES('l')}
          from inserted_entries l where ${POINT_ROWS('l')} group by 1, 2 order by 1, 2
          on conflict (hour, shard) do update set issued = t.issued + excluded.issued, clawed_back = t.clawed_back + excluded.clawed_back,
            redeemed = t.redeemed + excluded.redeemed, expired = t.expired + excluded.expired;
        return null;
      end $$;`;

// analytics_rfm as in Migration20261209100100_rfm_from_order_history, its base (each member's last order, orders and
// net spend before as_of) from the stats for members whose last order is before as_of, from the arrays for the rest.
export const RFM_FROM_STATS = RFM_FROM_ORDER_HISTORY.replace(
  /with base as materialized \([\s\S]*?\), q as materialized/,
  `with base as materialized (
      select s.member_id, s.last_at as last_order_at, s.orders, s.total_minor - s.returned_minor as monetary_minor
      from member_order_stats s where s.last_at < as_of
      union all
      select h.member_id, h.placed_at[x.k], x.k, h.total_cum[x.k] - h.returned_cum[x.k]
      from member_order_stats s join member_order_history h on h.member_id = s.member_id
      cross join lateral (select width_bucket(as_of - interval '1 microsecond', h.placed_at) as k) x
      where s.last_at >= as_of and x.k > 0
    ), q as materialized`,
);
if (RFM_FROM_STATS === RFM_FROM_ORDER_HISTORY) throw new Error('analytics_rfm: the base to replace was not found');
// The segments' sizes alone (analytics.rfm): the same base and edges, members counted per score cell (125 cells,
// one hash aggregate) and the cells named, instead of a scored row per member.
const RFM_TAIL = RFM_FROM_STATS.indexOf('    -- Scores as plain columns');
const RFM_HEAD = RFM_FROM_STATS.indexOf('  language sql stable as $$');
if (RFM_TAIL < 0 || RFM_HEAD < 0) throw new Error('analytics_rfm: the scores to replace were not found');
export const RFM_SEGMENTS_FROM_STATS = `create function analytics_rfm_segments(as_of timestamptz)
  returns table (segment text, members bigint, orders bigint, monetary_minor numeric)
${RFM_FROM_STATS.slice(RFM_HEAD, RFM_TAIL)}    cells as (
      select 1 + (b.last_order_at > e.re[1])::int + (b.last_order_at > e.re[2])::int + (b.last_order_at > e.re[3])::int + (b.last_order_at > e.re[4])::int as r,
        1 + (b.orders > e.fe[1])::int + (b.orders > e.fe[2])::int + (b.orders > e.fe[3])::int + (b.orders > e.fe[4])::int as f,
        1 + (b.monetary_minor > e.me[1])::int + (b.monetary_minor > e.me[2])::int + (b.monetary_minor > e.me[3])::int + (b.monetary_minor > e.me[4])::int as m,
        count(*) as members, sum(b.orders)::bigint as orders, sum(b.monetary_minor) as monetary_minor
      from base b cross join edges e
      group by 1, 2, 3
    )
    select analytics_rfm_segment(c.r, c.f, c.m), sum(c.members)::bigint, sum(c.orders)::bigint, sum(c.monetary_minor) from cells c group by 1
  $$;`;

// From a history row: its last 8 times are the slice [n - 7, n].
const fromHistory = `cardinality(h.placed_at), h.placed_at[1], h.placed_at[cardinality(h.placed_at)],
      h.placed_at[greatest(1, cardinality(h.placed_at) - 7):cardinality(h.placed_at)],
      h.total_cum[cardinality(h.placed_at)], h.returned_cum[cardinality(h.placed_at)]`;
const statsCols = 'orders, first_at, last_at, recent_at, total_minor, returned_minor';
const changed = (t: string) =>
  `(${t}.orders, ${t}.first_at, ${t}.last_at, ${t}.recent_at, ${t}.total_minor, ${t}.returned_minor)
        is distinct from (excluded.orders, excluded.first_at, excluded.last_at, excluded.recent_at, excluded.total_minor, excluded.returned_minor)`;
const setAll = statsCols
  .split(', ')
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

/**
 * The member's columns `member_order_stats` copies (country here; …20261213100000_order_stats_status adds the status):
 * the insert's column list, the values read from member m, the update's assignments and its "changed" test.
 */
function memberColumns(cols: readonly string[]) {
  const list = cols.join(', ');
  const stored = cols.map((c) => `member_order_stats.${c}`).join(', ');
  const excluded = cols.map((c) => `excluded.${c}`).join(', ');
  return {
    list,
    fromMember: cols.map((c) => `m.${c}`).join(', '),
    set: cols.map((c) => `${c} = excluded.${c}`).join(', '),
    differs: cols.length === 1 ? `${stored} is distinct from ${excluded}` : `(${stored}) is distinct from (${excluded})`,
  };
}

// The stats as a function of the orders (not of the histories): the ledger check's independent recomputation.
const statsOf = (partition: string, extra: string) => `
      select o.member_id${extra}, count(*)::int as orders, min(o.placed_at) as first_at, max(o.placed_at) as last_at,
        array_agg(o.placed_at order by o.placed_at, o.id) filter (where o.rn <= 8) as recent_at,
        sum(o.total_minor)::bigint as total_minor, sum(o.returned_minor)::bigint as returned_minor
      from (select o.*, row_number() over (partition by ${partition} order by o.placed_at desc, o.id desc) as rn
            from customer_order o where o.member_id is not null) o`;

/** The member's stats recomputed from its orders, with the member's current `cols`. */
export function memberOrderStatsExpected(verb: 'create' | 'create or replace', cols: readonly string[]): string {
  return `${verb} view member_order_stats_expected as
      select e.*, ${memberColumns(cols).fromMember} from (${statsOf('o.member_id', '')} group by o.member_id) e join member m on m.id = e.member_id;`;
}

/**
 * order_history_refresh as in Migration20261209100000_order_history, then the stats of the same members from the
 * history rows just written (under the history rows' locks, so concurrent refreshes of a member stay serial), with the
 * member's `cols`.
 */
export function orderHistoryRefreshWithStats(cols: readonly string[]): string {
  const m = memberColumns(cols);
  return `create or replace function order_history_refresh(ids uuid[]) returns void language plpgsql as $$
      begin
${ORDER_HISTORY_REFRESH_STEPS}        -- The stats of these members, from their history rows.
        -- The member's ${cols.length === 1 ? cols[0] : cols.join(' and ')} ${cols.length === 1 ? 'is' : 'are'} read under the FOR SHARE lock the daily totals' trigger took (it fires first).
        insert into member_order_stats (member_id, ${statsCols}, ${m.list})
          select h.member_id, ${fromHistory}, ${m.fromMember} from member_order_history h join member m on m.id = h.member_id
          where h.member_id = any(ids) and cardinality(h.placed_at) > 0
          order by h.member_id
          on conflict (member_id) do update set ${setAll}, ${m.set}
            where ${m.differs} or ${changed('member_order_stats')};
        delete from member_order_stats s where s.member_id = any(ids)
          and not exists (select 1 from member_order_history h where h.member_id = s.member_id and cardinality(h.placed_at) > 0);
        insert into member_channel_order_stats (member_id, channel_id, channel_kind, ${statsCols})
          select h.member_id, h.channel_id, h.channel_kind, ${fromHistory} from member_channel_order_history h where h.member_id = any(ids)
          order by h.member_id, h.channel_id
          on conflict (member_id, channel_id) do update set channel_kind = excluded.channel_kind, ${setAll}
            where member_channel_order_stats.channel_kind is distinct from excluded.channel_kind or ${changed('member_channel_order_stats')};
        delete from member_channel_order_stats s where s.member_id = any(ids)
          and not exists (select 1 from member_channel_order_history h where h.member_id = s.member_id and h.channel_id = s.channel_id);
      end $$;`;
}

/** The body of scale_aggregates_rebuild as this migration creates it, the stats with the member's `cols`. */
export function scaleAggregatesRebuildBody(cols: readonly string[]): string {
  const m = memberColumns(cols);
  return `
        truncate member_order_stats, member_channel_order_stats, order_day_totals, points_hour_totals;
        insert into member_order_stats (member_id, ${statsCols}, ${m.list})
          select h.member_id, ${fromHistory}, ${m.fromMember} from member_order_history h join member m on m.id = h.member_id where cardinality(h.placed_at) > 0;
        insert into member_channel_order_stats (member_id, channel_id, channel_kind, ${statsCols})
          select h.member_id, h.channel_id, h.channel_kind, ${fromHistory} from member_channel_order_history h;
        insert into order_day_totals select * from order_day_totals_expected;
        insert into points_hour_totals select * from points_hour_totals_expected where (issued, clawed_back, redeemed, expired) <> (0, 0, 0, 0);
      `;
}

/**
 * Pre-aggregates for segments and analytics at 1 M members (issue 18; docs/operations/performance.md), beside the
 * per-member histories of Migration20261209100000_order_history and …100200_ledger_history, all exact and written in
 * the transaction of their cause:
 *
 * - `member_order_stats` / `member_channel_order_stats`: one narrow row per member (and per member and channel) with
 *   the order count, first and last order time, the last (up to) 8 order times ascending (`recent_at`) and the all-time
 *   totals (and, per member, the member's current country). For a member whose last order is before the evaluation time T — every member when T is "now" — the figures
 *   "as of T" are these scalars: orders in [T - W, T) is how many of `recent_at` are ≥ T - W (when fewer than all 8,
 *   or the member has at most 8 orders); the history arrays are read only for the others. Refreshed by
 *   order_history_refresh (replaced here), after the history rows, from them, for the same members under the same locks.
 * - `order_day_totals`: orders, totals and returned amounts of member orders per UTC day × channel × member country ×
 *   shard (a byte of the member id, so that concurrent orders of different members rarely update one row). KPIs over
 *   any [from, to) sum the whole days of the window here (≤ 366 rows per channel, country and shard for a year) and
 *   read the orders of the two partial days at its ends (customer_order_placed_at_index). The country is the member's
 *   current one, as the KPIs define it: a change of country moves the member's orders (trigger on member), a deleted
 *   member's orders leave before its row goes (the foreign key then nulls their member_id).
 * - `points_hour_totals`: the KPIs' points classes (issued, clawed back, redeemed, expired) per UTC hour × shard, from
 *   the append-only ledger.
 *
 * `npm run ledger:check` compares each with its recomputation (`scale_aggregate_mismatches()`); `scale_aggregates_rebuild()`
 * rebuilds them all (the backfill below, and bench/gen.mjs after writing with triggers off).
 */
export class Migration20261210100000_scale_aggregates extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table member_order_stats (
      member_id uuid primary key,
      orders int not null,
      first_at timestamptz not null,
      last_at timestamptz not null,
      recent_at timestamptz[] not null,
      total_minor bigint not null,
      returned_minor bigint not null,
      country varchar(2)
    );`);
    // "Members whose last order is at or after T" (the few the arrays answer for) and "ordered since T" by index.
    this.addSql(`create index member_order_stats_last_at_index on member_order_stats (last_at);`);
    this.addSql(`create table member_channel_order_stats (
      member_id uuid not null,
      channel_id uuid not null,
      channel_kind text not null,
      orders int not null,
      first_at timestamptz not null,
      last_at timestamptz not null,
      recent_at timestamptz[] not null,
      total_minor bigint not null,
      returned_minor bigint not null,
      primary key (member_id, channel_id)
    );`);
    this.addSql(`create index member_channel_order_stats_last_at_index on member_channel_order_stats (last_at);`);

    // With the member's current country (KPIs count active members per country without joining a million members).
    this.addSql(memberOrderStatsExpected('create', ['country']));
    this.addSql(`create view member_channel_order_stats_expected as
      ${statsOf('o.member_id, o.channel_id', ', o.channel_id, min(o.channel_kind) as channel_kind')} group by o.member_id, o.channel_id;`);

    this.addSql(orderHistoryRefreshWithStats(['country']));

    // Daily totals. The shard: the last byte of the member id (random in a UUIDv7) modulo 16.
    this.addSql(`create function member_shard(id uuid) returns smallint language sql immutable parallel safe as $$
      select (get_byte(uuid_send(id), 15) % 16)::smallint $$;`);
    // Country '' stands for a member without one (a key column cannot be null).
    this.addSql(`create table order_day_totals (
      day date not null,
      channel_id uuid not null,
      country text not null,
      shard smallint not null,
      orders bigint not null,
      total_minor bigint not null,
      returned_minor bigint not null,
      primary key (day, channel_id, country, shard)
    );`);
    this.addSql(`create view order_day_totals_expected as
      select (o.placed_at at time zone 'UTC')::date as day, o.channel_id, coalesce(m.country, '') as country, member_shard(o.member_id) as shard,
        count(*)::bigint as orders, sum(o.total_minor)::bigint as total_minor, sum(o.returned_minor)::bigint as returned_minor
      from customer_order o join member m on m.id = o.member_id
      group by 1, 2, 3, 4;`);
    // Adds signed order rows (member_id, placed_at, channel_id, total_minor, returned_minor, sign) under each member's
    // current country, in key order (two writers cannot deadlock on these rows). Rows that fall to 0 stay (they add
    // nothing; the ledger check reads them as absent): deleting them would need a scan or a second statement per write.
    const addDays = (deltas: string) => `
        with d as (${deltas}), g as (
          select (d.placed_at at time zone 'UTC')::date as day, d.channel_id, coalesce(m.country, '') as country, member_shard(d.member_id) as shard,
            sum(d.sign)::bigint as orders, sum(d.sign * d.total_minor)::bigint as total_minor, sum(d.sign * d.returned_minor)::bigint as returned_minor
          from d join member m on m.id = d.member_id
          group by 1, 2, 3, 4
        )
        insert into order_day_totals as t (day, channel_id, country, shard, orders, total_minor, returned_minor)
          select * from g where (g.orders, g.total_minor, g.returned_minor) <> (0, 0, 0) order by day, channel_id, country, shard
          on conflict (day, channel_id, country, shard) do update
            set orders = t.orders + excluded.orders, total_minor = t.total_minor + excluded.total_minor, returned_minor = t.returned_minor + excluded.returned_minor;`;
    const signed = (rows: string, sign: number, where = '') =>
      `select member_id, placed_at, channel_id, total_minor, returned_minor, ${sign} as sign from ${rows} where member_id is not null${where}`;
    // The members of the orders are locked FOR SHARE first (in id order): a change of a member's country (which locks
    // the row for update) then waits for these orders, or they wait for it and read the new country.
    const lockMembers = (ids: string) => `perform 1 from member where id in (${ids}) order by id for share;`;
    this.addSql(`create function order_day_totals_after_insert() returns trigger language plpgsql as $$
      begin
        ${lockMembers('select member_id from inserted_orders')}
        ${addDays(signed('inserted_orders', 1))}
        return null;
      end $$;`);
    // Only rows whose member, time, channel or amounts changed (points and status columns change often).
    const changedIds = `select n.id from old_orders o join new_orders n on n.id = o.id
      where (o.member_id, o.placed_at, o.channel_id, o.total_minor, o.returned_minor)
        is distinct from (n.member_id, n.placed_at, n.channel_id, n.total_minor, n.returned_minor)`;
    this.addSql(`create function order_day_totals_after_update() returns trigger language plpgsql as $$
      begin
        if not exists (${changedIds}) then return null; end if;
        ${lockMembers(`select member_id from old_orders where id in (${changedIds}) union select member_id from new_orders where id in (${changedIds})`)}
        ${addDays(`${signed('old_orders', -1, ` and id in (${changedIds})`)} union all ${signed('new_orders', 1, ` and id in (${changedIds})`)}`)}
        return null;
      end $$;`);
    this.addSql(`create function order_day_totals_after_delete() returns trigger language plpgsql as $$
      begin
        ${lockMembers('select member_id from deleted_orders')}
        ${addDays(signed('deleted_orders', -1))}
        return null;
      end $$;`);
    this.addSql(`create function order_day_totals_after_truncate() returns trigger language plpgsql as $$
      begin
        delete from order_day_totals;
        return null;
      end $$;`);
    // A member's orders move with its country: out under the old one, in under the new, and its stats row takes the new
    // one (the member rows are locked by the update itself).
    this.addSql(`create function order_day_totals_member_country() returns trigger language plpgsql as $$
      begin
        with moved as (
          select o.id, coalesce(o.country, '') as old_country, coalesce(n.country, '') as new_country
          from old_members o join new_members n on n.id = o.id where o.country is distinct from n.country
        ), g as (
          select (c.placed_at at time zone 'UTC')::date as day, c.channel_id, x.country, member_shard(c.member_id) as shard,
            sum(x.sign)::bigint as orders, sum(x.sign * c.total_minor)::bigint as total_minor, sum(x.sign * c.returned_minor)::bigint as returned_minor
          from moved mv join customer_order c on c.member_id = mv.id
          cross join lateral (values (mv.old_country, -1), (mv.new_country, 1)) x(country, sign)
          group by 1, 2, 3, 4
        )
        insert into order_day_totals as t (day, channel_id, country, shard, orders, total_minor, returned_minor)
          select * from g where (g.orders, g.total_minor, g.returned_minor) <> (0, 0, 0) order by day, channel_id, country, shard
          on conflict (day, channel_id, country, shard) do update
            set orders = t.orders + excluded.orders, total_minor = t.total_minor + excluded.total_minor, returned_minor = t.returned_minor + excluded.returned_minor;
        update member_order_stats s set country = n.country
          from old_members o join new_members n on n.id = o.id
          where o.country is distinct from n.country and s.member_id = n.id;
        return null;
      end $$;`);
    // Before a member row goes, its orders leave the totals (afterwards the foreign key nulls their member_id, and the
    // update trigger no longer finds the member to subtract them under).
    this.addSql(`create function order_day_totals_member_delete() returns trigger language plpgsql as $$
      begin
        ${addDays(signed('customer_order', -1, ' and member_id = old.id'))}
        return old;
      end $$;`);
    this.addSql(`create trigger customer_order_day_totals_insert after insert on customer_order
      referencing new table as inserted_orders for each statement execute function order_day_totals_after_insert();`);
    this.addSql(`create trigger customer_order_day_totals_update after update on customer_order
      referencing old table as old_orders new table as new_orders for each statement execute function order_day_totals_after_update();`);
    this.addSql(`create trigger customer_order_day_totals_delete after delete on customer_order
      referencing old table as deleted_orders for each statement execute function order_day_totals_after_delete();`);
    this.addSql(`create trigger customer_order_day_totals_truncate after truncate on customer_order
      for each statement execute function order_day_totals_after_truncate();`);
    this.addSql(`create trigger member_day_totals_country after update on member
      referencing old table as old_members new table as new_members for each statement execute function order_day_totals_member_country();`);
    this.addSql(`create trigger member_day_totals_delete before delete on member for each row execute function order_day_totals_member_delete();`);
    // The orders of the partial days at a window's ends.
    this.addSql(`create index customer_order_placed_at_index on customer_order (placed_at) include (member_id, channel_id, total_minor, returned_minor);`);

    // Points per UTC hour (not day: a programme's redemptions or expiries can crowd into hours, and the partial ends of
    // a window are read row by row): the classes of member_points_history_expected (Migration20261209100200_ledger_history).
    this.addSql(`create table points_hour_totals (
      hour timestamp not null,
      shard smallint not null,
      issued bigint not null,
      clawed_back bigint not null,
      redeemed bigint not null,
      expired bigint not null,
      primary key (hour, shard)
    );`);
    this.addSql(POINTS_HOUR_TOTALS_EXPECTED);
    this.addSql(`create function ${POINTS_HOUR_TOTALS_AFTER_INSERT}`);
    this.addSql(`create function points_hour_totals_after_truncate() returns trigger language plpgsql as $$
      begin
        delete from points_hour_totals;
        return null;
      end $$;`);
    this.addSql(`create trigger ledger_entry_day_totals_insert after insert on ledger_entry
      referencing new table as inserted_entries for each statement execute function points_hour_totals_after_insert();`);
    this.addSql(`create trigger ledger_entry_day_totals_truncate after truncate on ledger_entry
      for each statement execute function points_hour_totals_after_truncate();`);

    // The ledger check's comparison: (aggregate, member, channel, key, problem) of every stored row that differs from
    // its recomputation, at most max_rows per aggregate. Points rows whose classes are all 0 count as absent.
    const problem = (stored: string, expected: string) =>
      `case when ${stored} is null then 'missing' when ${expected} is null then 'extra' else 'differs' end`;
    this.addSql(`create function scale_aggregate_mismatches(max_rows int)
      returns table (aggregate text, member_id uuid, channel_id uuid, key text, problem text) language sql stable as $$
        (select 'member_order_stats', coalesce(s.member_id, e.member_id), null::uuid, null::text, ${problem('s.member_id', 'e.member_id')}
         from member_order_stats s full join member_order_stats_expected e on e.member_id = s.member_id
         where s.member_id is null or e.member_id is null
           or (s.orders, s.first_at, s.last_at, s.recent_at, s.total_minor, s.returned_minor, s.country)
             is distinct from (e.orders, e.first_at, e.last_at, e.recent_at, e.total_minor, e.returned_minor, e.country)
         limit max_rows)
        union all
        (select 'member_channel_order_stats', coalesce(s.member_id, e.member_id), coalesce(s.channel_id, e.channel_id), null, ${problem('s.member_id', 'e.member_id')}
         from member_channel_order_stats s full join member_channel_order_stats_expected e on e.member_id = s.member_id and e.channel_id = s.channel_id
         where s.member_id is null or e.member_id is null
           or (s.channel_kind, s.orders, s.first_at, s.last_at, s.recent_at, s.total_minor, s.returned_minor)
             is distinct from (e.channel_kind, e.orders, e.first_at, e.last_at, e.recent_at, e.total_minor, e.returned_minor)
         limit max_rows)
        union all
        (select 'order_day_totals', null, coalesce(s.channel_id, e.channel_id),
           concat_ws(' ', coalesce(s.day, e.day), coalesce(s.country, e.country), coalesce(s.shard, e.shard)), ${problem('s.day', 'e.day')}
         from (select * from order_day_totals where (orders, total_minor, returned_minor) <> (0, 0, 0)) s full join order_day_totals_expected e
           on e.day = s.day and e.channel_id = s.channel_id and e.country = s.country and e.shard = s.shard
         where s.day is null or e.day is null or (s.orders, s.total_minor, s.returned_minor) <> (e.orders, e.total_minor, e.returned_minor)
         limit max_rows)
        union all
        (select 'points_hour_totals', null, null, concat_ws(' ', coalesce(s.hour, e.hour), coalesce(s.shard, e.shard)), ${problem('s.hour', 'e.hour')}
         from (select * from points_hour_totals where (issued, clawed_back, redeemed, expired) <> (0, 0, 0, 0)) s
         full join (select * from points_hour_totals_expected where (issued, clawed_back, redeemed, expired) <> (0, 0, 0, 0)) e on e.hour = s.hour and e.shard = s.shard
         where s.hour is null or e.hour is null or (s.issued, s.clawed_back, s.redeemed, s.expired) <> (e.issued, e.clawed_back, e.redeemed, e.expired)
         limit max_rows)
      $$;`);
    this.addSql(`create function scale_aggregates_rebuild() returns void language sql as $$${scaleAggregatesRebuildBody(['country'])}$$;`);
    this.addSql(RFM_FROM_STATS);
    this.addSql(RFM_SEGMENTS_FROM_STATS);
    this.addSql(`set local work_mem = '256MB';`);
    this.addSql(`select scale_aggregates_rebuild();`);
    this.addSql(`analyze member_order_stats;`);
    this.addSql(`analyze member_channel_order_stats;`);
    this.addSql(`analyze order_day_totals;`);
    this.addSql(`analyze points_hour_totals;`);
  }

  override async down(): Promise<void> {
    for (const [trigger, table] of [
      ['customer_order_day_totals_insert', 'customer_order'],
      ['customer_order_day_totals_update', 'customer_order'],
      ['customer_order_day_totals_delete', 'customer_order'],
      ['customer_order_day_totals_truncate', 'customer_order'],
      ['member_day_totals_country', 'member'],
      ['member_day_totals_delete', 'member'],
      ['ledger_entry_day_totals_insert', 'ledger_entry'],
      ['ledger_entry_day_totals_truncate', 'ledger_entry'],
    ]) {
      this.addSql(`drop trigger if exists ${trigger} on ${table};`);
    }
    for (const fn of [
      'scale_aggregates_rebuild()',
      'scale_aggregate_mismatches(int)',
      'points_hour_totals_after_insert()',
      'points_hour_totals_after_truncate()',
      'order_day_totals_after_insert()',
      'order_day_totals_after_update()',
      'order_day_totals_after_delete()',
      'order_day_totals_after_truncate()',
      'order_day_totals_member_country()',
      'order_day_totals_member_delete()',
    ]) {
      this.addSql(`drop function if exists ${fn};`);
    }
    for (const view of ['points_hour_totals_expected', 'order_day_totals_expected', 'member_channel_order_stats_expected', 'member_order_stats_expected']) {
      this.addSql(`drop view if exists ${view};`);
    }
    this.addSql(`drop index if exists customer_order_placed_at_index;`);
    for (const table of ['points_hour_totals', 'order_day_totals', 'member_channel_order_stats', 'member_order_stats']) this.addSql(`drop table if exists ${table};`);
    this.addSql(`drop function if exists member_shard(uuid);`);
    this.addSql(`drop function if exists analytics_rfm_segments(timestamptz);`);
    this.addSql(RFM_FROM_ORDER_HISTORY);
    // order_history_refresh without the stats: Migration20261209100000_order_history's body.
    this.addSql(`create or replace function order_history_refresh(ids uuid[]) returns void language plpgsql as $$
      begin
${ORDER_HISTORY_REFRESH_STEPS}      end $$;`);
  }
}
