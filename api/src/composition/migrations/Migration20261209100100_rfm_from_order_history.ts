import { Migration } from '@mikro-orm/migrations';

/**
 * `analytics_rfm(as_of)` from the per-member order history (Migration20261209100000_order_history) instead of
 * grouping every order: a member's orders, last order and net spend before `as_of` are k = width_bucket(as_of - 1 µs,
 * placed_at), placed_at[k] and the running sums at k.
 *
 * Same scores: the quintile score 1 + floor(5·c / n), c = members with a strictly lower value (rank() - 1), is at least
 * q + 1 exactly when c ≥ K = ceil(q·n / 5), i.e. when the value is above the K-th smallest value. So each score is
 * 1 + the number of the four edges (the ceil(q·n/5)-th smallest values, q = 1…4) the value is above, and the three
 * rank() windows over every member (three sorts of wide rows) become three narrow percentile_disc sorts. The edges are
 * asked for as fractions (K - 0.5) / n, whose ceil(fraction · n) is K whatever the rounding of the division; they are
 * one materialised row read through scalar subqueries, so each percentile_disc is one plain aggregate (grouping by
 * them sorted a million rows by an array computed per row: 50 s at 1 M members).
 */
export class Migration20261209100100_rfm_from_order_history extends Migration {
  override async up(): Promise<void> {
    this.addSql(RFM_FROM_ORDER_HISTORY);
  }

  override async down(): Promise<void> {
    this.addSql(`create or replace function analytics_rfm(as_of timestamptz)
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
}

/** The function as this migration leaves it (Migration20261210100000_scale_aggregates's down() restores it). */
export const RFM_FROM_ORDER_HISTORY = `create or replace function analytics_rfm(as_of timestamptz)
  returns table (member_id uuid, last_order_at timestamptz, orders int, monetary_minor bigint, recency_days int, r int, f int, m int, segment text)
  language sql stable as $$
    with base as materialized (
      select h.member_id, h.placed_at[x.k] as last_order_at, x.k as orders, (h.total_cum[x.k] - h.returned_cum[x.k]) as monetary_minor
      from member_order_history h cross join lateral (select width_bucket(as_of - interval '1 microsecond', h.placed_at) as k) x
      where x.k > 0
    ), q as materialized (
      select array(select (((k * c.n + 4) / 5) - 0.5)::float8 / greatest(c.n, 1) from generate_series(1, 4) k) as p
      from (select count(*) as n from base) c
    ), edges as materialized (
      select percentile_disc((select p from q)) within group (order by b.last_order_at) as re,
        percentile_disc((select p from q)) within group (order by b.orders) as fe,
        percentile_disc((select p from q)) within group (order by b.monetary_minor) as me
      from base b
    ),
    -- Scores as plain columns, so that analytics_rfm_segment is inlined (with expressions for arguments it ran as a
    -- function call per member).
    scored as materialized (
      select b.member_id, b.last_order_at, b.orders, b.monetary_minor,
        1 + (b.last_order_at > e.re[1])::int + (b.last_order_at > e.re[2])::int + (b.last_order_at > e.re[3])::int + (b.last_order_at > e.re[4])::int as r,
        1 + (b.orders > e.fe[1])::int + (b.orders > e.fe[2])::int + (b.orders > e.fe[3])::int + (b.orders > e.fe[4])::int as f,
        1 + (b.monetary_minor > e.me[1])::int + (b.monetary_minor > e.me[2])::int + (b.monetary_minor > e.me[3])::int + (b.monetary_minor > e.me[4])::int as m
      from base b cross join edges e
    )
    select s.member_id, s.last_order_at, s.orders, s.monetary_minor,
      floor(extract(epoch from (as_of - s.last_order_at)) / 86400)::int as recency_days, s.r, s.f, s.m,
      analytics_rfm_segment(s.r, s.f, s.m) as segment
    from scored s
  $$;`;
