import { Migration } from '@mikro-orm/migrations';

/**
 * RFM scoring as SQL functions, so that analytics and (later) segments read the same scores:
 * `select member_id, r, f, m, segment from analytics_rfm(now())`.
 */
export class Migration20261201000000_analytics extends Migration {
  override async up(): Promise<void> {
    // R × FM grid, FM = (F + M) / 2 rounded half up; every one of the 25 cells has exactly one segment (docs/concepts/analytics.md).
    this.addSql(`create function analytics_rfm_segment(r int, f int, m int) returns text
      language sql immutable parallel safe as $$
        select case
          when r = 5 and fm >= 4 then 'CHAMPIONS'
          when r = 5 and fm = 1 then 'NEW_CUSTOMERS'
          when r >= 4 and fm between 2 and 3 then 'POTENTIAL_LOYALISTS'
          when r = 4 and fm = 1 then 'PROMISING'
          when r between 3 and 4 and fm >= 4 then 'LOYAL_CUSTOMERS'
          when r = 3 and fm = 3 then 'NEED_ATTENTION'
          when r = 3 then 'ABOUT_TO_SLEEP'
          when fm = 5 then 'CANT_LOSE_THEM'
          when fm >= 3 then 'AT_RISK'
          when r = 1 and fm = 1 then 'LOST'
          else 'HIBERNATING'
        end
        from (select (f + m + 1) / 2 as fm) x
      $$;`);

    // Quintile score = 1 + floor(5 * (rank - 1) / n), rank() ascending: ties share the lower score, whatever the row order.
    this.addSql(`create function analytics_rfm(as_of timestamptz)
      returns table (member_id uuid, last_order_at timestamptz, orders int, monetary_minor bigint, recency_days int, r int, f int, m int, segment text)
      language sql stable as $$
        with base as (
          select o.member_id, max(o.placed_at) as last_order_at, count(*)::int as orders,
            sum(o.total_minor - o.returned_minor)::bigint as monetary_minor
          from customer_order o
          where o.member_id is not null and o.placed_at < as_of
          group by o.member_id
        ), ranked as (
          select b.*, count(*) over () as n,
            rank() over (order by b.last_order_at) as rr,
            rank() over (order by b.orders) as fr,
            rank() over (order by b.monetary_minor) as mr
          from base b
        ), scored as (
          select ranked.member_id, ranked.last_order_at, ranked.orders, ranked.monetary_minor,
            floor(extract(epoch from (as_of - ranked.last_order_at)) / 86400)::int as recency_days,
            (1 + 5 * (rr - 1) / n)::int as r, (1 + 5 * (fr - 1) / n)::int as f, (1 + 5 * (mr - 1) / n)::int as m
          from ranked
        )
        select s.member_id, s.last_order_at, s.orders, s.monetary_minor, s.recency_days, s.r, s.f, s.m,
          analytics_rfm_segment(s.r, s.f, s.m) as segment
        from scored s
      $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists analytics_rfm(timestamptz);`);
    this.addSql(`drop function if exists analytics_rfm_segment(int, int, int);`);
  }
}
