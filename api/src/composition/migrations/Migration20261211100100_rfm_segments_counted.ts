import { Migration } from '@mikro-orm/migrations';
import { RFM_FROM_STATS, RFM_SEGMENTS_FROM_STATS } from './Migration20261210100000_scale_aggregates';

/**
 * `analytics_rfm_segments` (analytics.rfm) with less work per member at 1 M members (issue 18), same results:
 * - the frequency and recency edges by counting instead of sorting a million values: the K-th smallest order count is
 *   the least count whose running total of members reaches K (what percentile_disc at (K - 0.5) / n returns); the K-th
 *   earliest last order is found by its UTC day the same way, then within that day's few thousand members; one pass
 *   counts both (grouping sets) and gives n;
 * - the twelve edges as scalar columns: an array subscript per member and edge cost more than the comparisons.
 * The monetary edges stay a percentile_disc sort (amounts take too many values to count).
 */
const start = RFM_FROM_STATS.indexOf('    with base as materialized (');
const end = RFM_FROM_STATS.indexOf(', q as materialized');
if (start < 0 || end < 0) throw new Error('analytics_rfm: the base was not found');
const BASE = RFM_FROM_STATS.slice(start, end);

/** The start of the UTC day of a time (date_bin: integer arithmetic, cheaper per member than a time zone conversion). */
export const DAY = (t: string) => `date_bin('1 day', ${t}, timestamptz '2000-01-01 00:00:00+00')`;
const scores = (v: string, e: string) => `1 + (${v} > e.${e}1)::int + (${v} > e.${e}2)::int + (${v} > e.${e}3)::int + (${v} > e.${e}4)::int`;

export const RFM_SEGMENTS_COUNTED = `create or replace function analytics_rfm_segments(as_of timestamptz)
  returns table (segment text, members bigint, orders bigint, monetary_minor numeric)
  language sql stable as $$
${BASE},
    -- One pass counts members per order count and per UTC day of the last order (grouping sets).
    counted as materialized (
      select b.orders, ${DAY('b.last_order_at')} as day, grouping(b.orders) as is_day, count(*) as members
      from base b group by grouping sets ((b.orders), (${DAY('b.last_order_at')}))
    ),
    ranks as materialized (
      -- K = ceil(q·n / 5), q = 1…4: the position of each edge, and as a fraction for percentile_disc.
      select array(select (k * c.n + 4) / 5 from generate_series(1, 4) k) as k,
        array(select (((k * c.n + 4) / 5) - 0.5)::float8 / greatest(c.n, 1) from generate_series(1, 4) k) as p
      from (select coalesce(sum(members), 0)::bigint as n from counted where is_day = 0) c
    ),
    running as materialized (
      select c.is_day, c.orders, c.day, sum(c.members) over (partition by c.is_day order by c.orders, c.day) as running, c.members
      from counted c
    ),
    -- Per edge: the order count, and the day, where the running count first reaches K; and K's place within that day.
    targets as materialized (
      select r.i, (select min(x.orders) from running x where x.is_day = 0 and x.running >= r.k) as fe,
        d.day, r.k - (d.running - d.members) as within_day
      from unnest((select k from ranks)) with ordinality r(k, i)
      cross join lateral (select x.day, x.running, x.members from running x where x.is_day = 1 and x.running >= r.k order by x.day limit 1) d
    ),
    -- The recency edges: the K-th last order within its day, read from that day's members only.
    day_orders as materialized (
      select b.last_order_at, row_number() over (partition by ${DAY('b.last_order_at')} order by b.last_order_at) as n
      from base b where ${DAY('b.last_order_at')} in (select day from targets)
    ),
    sorted as materialized (
      select percentile_disc((select p from ranks)) within group (order by b.monetary_minor) as me from base b
    ),
    e as materialized (
      select max(t.fe) filter (where t.i = 1) as f1, max(t.fe) filter (where t.i = 2) as f2, max(t.fe) filter (where t.i = 3) as f3,
        max(t.fe) filter (where t.i = 4) as f4,
        max(o.last_order_at) filter (where t.i = 1) as r1, max(o.last_order_at) filter (where t.i = 2) as r2,
        max(o.last_order_at) filter (where t.i = 3) as r3, max(o.last_order_at) filter (where t.i = 4) as r4,
        (select me[1] from sorted) as m1, (select me[2] from sorted) as m2, (select me[3] from sorted) as m3, (select me[4] from sorted) as m4
      from targets t join day_orders o on ${DAY('o.last_order_at')} = t.day and o.n = t.within_day
    ),
    cells as (
      select ${scores('b.last_order_at', 'r')} as r, ${scores('b.orders', 'f')} as f, ${scores('b.monetary_minor', 'm')} as m,
        count(*) as members, sum(b.orders)::bigint as orders, sum(b.monetary_minor) as monetary_minor
      from base b cross join e
      group by 1, 2, 3
    )
    select analytics_rfm_segment(c.r, c.f, c.m), sum(c.members)::bigint, sum(c.orders)::bigint, sum(c.monetary_minor) from cells c group by 1
  $$;`;

export class Migration20261211100100_rfm_segments_counted extends Migration {
  override async up(): Promise<void> {
    this.addSql(RFM_SEGMENTS_COUNTED);
  }

  override async down(): Promise<void> {
    this.addSql(RFM_SEGMENTS_FROM_STATS.replace('create function', 'create or replace function'));
  }
}
