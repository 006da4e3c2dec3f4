import { Migration } from '@mikro-orm/migrations';

/**
 * Per-member order history (orders module; docs/concepts/segments.md, "Order history"): for every member with orders,
 * the times of their orders in ascending (placed_at, id) order and the running sums of their totals and returned
 * amounts, once over all channels (`member_order_history`) and once per sales channel (`member_channel_order_history`).
 * Any "as of T" or "[from, to)" figure is then a binary search (`width_bucket`) and two array reads per member:
 *   k = width_bucket(T - 1 µs, placed_at) = orders placed before T;  last order = placed_at[k];
 *   orders in [from, to) = k(to) - k(from);  their net = (total_cum[k(to)] - total_cum[k(from)]) - (returned… alike).
 * Segments, RFM and the analytics KPIs read these instead of grouping millions of orders.
 *
 * Exact by construction: a member's rows are a pure function of their customer_order rows (the views
 * `*_expected` below are that function), and statement-level triggers on customer_order recompute them for every
 * member an INSERT, UPDATE or DELETE touched, in the same transaction and statement — recordOrder, imports, returns,
 * merges, erasure (the member FK's ON DELETE SET NULL is an UPDATE) and plugins alike; no code path can forget.
 * Concurrent writers of one member serialise on the member's history row (locked before the orders are read; each
 * statement of the refresh takes a fresh READ COMMITTED snapshot, so the recomputation sees every order committed
 * before the lock was granted). Rows are locked in member id order, so two refreshes cannot deadlock each other.
 * `npm run ledger:check` compares the rows with the views (`order_history_mismatches()`).
 *
 * The backfill runs after the triggers exist, in the migration's transaction: CREATE TRIGGER holds a lock on
 * customer_order that blocks writers until the commit, so no order escapes both.
 */
/**
 * order_history_refresh's steps (the body between begin and end): the history rows of these members, locked in id
 * order, then brought to their recomputation. Later migrations that replace the function start from these.
 */
export const ORDER_HISTORY_REFRESH_STEPS = `        if coalesce(cardinality(ids), 0) = 0 then return; end if;
        -- Serialise with every other writer of these members (a placeholder row for a first order), in id order.
        insert into member_order_history (member_id, placed_at, total_cum, returned_cum)
          select id, '{}', '{}', '{}' from unnest(ids) id order by id on conflict do nothing;
        perform 1 from member_order_history where member_id = any(ids) order by member_id for update;
        -- A new snapshot from here on: every order committed before the lock was granted is read.
        update member_order_history h set placed_at = e.placed_at, total_cum = e.total_cum, returned_cum = e.returned_cum
          from member_order_history_expected e
          where e.member_id = any(ids) and h.member_id = e.member_id
            and (h.placed_at, h.total_cum, h.returned_cum) is distinct from (e.placed_at, e.total_cum, e.returned_cum);
        delete from member_order_history h where h.member_id = any(ids)
          and not exists (select 1 from customer_order o where o.member_id = h.member_id);
        insert into member_channel_order_history (member_id, channel_id, channel_kind, placed_at, total_cum, returned_cum)
          select e.member_id, e.channel_id, e.channel_kind, e.placed_at, e.total_cum, e.returned_cum
          from member_channel_order_history_expected e where e.member_id = any(ids)
          on conflict (member_id, channel_id) do update
            set channel_kind = excluded.channel_kind, placed_at = excluded.placed_at, total_cum = excluded.total_cum, returned_cum = excluded.returned_cum
            where (member_channel_order_history.channel_kind, member_channel_order_history.placed_at, member_channel_order_history.total_cum,
                   member_channel_order_history.returned_cum)
              is distinct from (excluded.channel_kind, excluded.placed_at, excluded.total_cum, excluded.returned_cum);
        delete from member_channel_order_history c where c.member_id = any(ids)
          and not exists (select 1 from customer_order o where o.member_id = c.member_id and o.channel_id = c.channel_id);
`;

export class Migration20261209100000_order_history extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table member_order_history (
      member_id uuid primary key,
      placed_at timestamptz[] not null,
      total_cum bigint[] not null,
      returned_cum bigint[] not null
    );`);
    this.addSql(`create table member_channel_order_history (
      member_id uuid not null,
      channel_id uuid not null,
      channel_kind text not null,
      placed_at timestamptz[] not null,
      total_cum bigint[] not null,
      returned_cum bigint[] not null,
      primary key (member_id, channel_id)
    );`);
    // An order's channel_kind is its channel's kind, copied when written (kinds never change): one kind per row.
    this.addSql(`create view member_order_history_expected as
      select o.member_id, array_agg(o.placed_at order by o.placed_at, o.id) as placed_at,
        array_agg(o.total_cum order by o.placed_at, o.id) as total_cum, array_agg(o.returned_cum order by o.placed_at, o.id) as returned_cum
      from (
        select member_id, id, placed_at,
          sum(total_minor) over w as total_cum, sum(returned_minor) over w as returned_cum
        from customer_order where member_id is not null
        window w as (partition by member_id order by placed_at, id rows unbounded preceding)
      ) o group by o.member_id;`);
    this.addSql(`create view member_channel_order_history_expected as
      select o.member_id, o.channel_id, min(o.channel_kind) as channel_kind, array_agg(o.placed_at order by o.placed_at, o.id) as placed_at,
        array_agg(o.total_cum order by o.placed_at, o.id) as total_cum, array_agg(o.returned_cum order by o.placed_at, o.id) as returned_cum
      from (
        select member_id, channel_id, channel_kind, id, placed_at,
          sum(total_minor) over w as total_cum, sum(returned_minor) over w as returned_cum
        from customer_order where member_id is not null
        window w as (partition by member_id, channel_id order by placed_at, id rows unbounded preceding)
      ) o group by o.member_id, o.channel_id;`);

    this.addSql(`create function order_history_refresh(ids uuid[]) returns void language plpgsql as $$
      begin
${ORDER_HISTORY_REFRESH_STEPS}      end $$;`);
    this.addSql(`create function order_history_after_insert() returns trigger language plpgsql as $$
      begin
        perform order_history_refresh(array(select distinct member_id from inserted_orders where member_id is not null order by 1));
        return null;
      end $$;`);
    // Only changes of what the history holds (member, time, channel, amounts) cost a refresh: the points columns don't.
    this.addSql(`create function order_history_after_update() returns trigger language plpgsql as $$
      begin
        perform order_history_refresh(array(
          select distinct x.member_id from (
            select o.member_id as a, n.member_id as b
            from old_orders o full join new_orders n on n.id = o.id
            where (o.id, o.member_id, o.placed_at, o.channel_id, o.channel_kind, o.total_minor, o.returned_minor)
              is distinct from (n.id, n.member_id, n.placed_at, n.channel_id, n.channel_kind, n.total_minor, n.returned_minor)
          ) c cross join lateral (values (c.a), (c.b)) x(member_id)
          where x.member_id is not null order by 1));
        return null;
      end $$;`);
    this.addSql(`create function order_history_after_delete() returns trigger language plpgsql as $$
      begin
        perform order_history_refresh(array(select distinct member_id from deleted_orders where member_id is not null order by 1));
        return null;
      end $$;`);
    this.addSql(`create function order_history_after_truncate() returns trigger language plpgsql as $$
      begin
        -- delete, not truncate: a TRUNCATE that lists these tables too has them open already.
        delete from member_order_history;
        delete from member_channel_order_history;
        return null;
      end $$;`);
    this.addSql(`create trigger customer_order_history_insert after insert on customer_order
      referencing new table as inserted_orders for each statement execute function order_history_after_insert();`);
    this.addSql(`create trigger customer_order_history_update after update on customer_order
      referencing old table as old_orders new table as new_orders for each statement execute function order_history_after_update();`);
    this.addSql(`create trigger customer_order_history_delete after delete on customer_order
      referencing old table as deleted_orders for each statement execute function order_history_after_delete();`);
    this.addSql(`create trigger customer_order_history_truncate after truncate on customer_order
      for each statement execute function order_history_after_truncate();`);

    // Members whose stored history differs from a recomputation from customer_order (the ledger check's proof).
    this.addSql(`create function order_history_mismatches(max_rows int) returns table (member_id uuid, channel_id uuid, problem text)
      language sql stable as $$
        (select coalesce(h.member_id, e.member_id), null::uuid, case when h.member_id is null then 'missing' when e.member_id is null then 'extra' else 'differs' end
         from member_order_history h full join member_order_history_expected e on e.member_id = h.member_id
         where h.member_id is null or e.member_id is null
           or (h.placed_at, h.total_cum, h.returned_cum) is distinct from (e.placed_at, e.total_cum, e.returned_cum)
         limit max_rows)
        union all
        (select coalesce(h.member_id, e.member_id), coalesce(h.channel_id, e.channel_id),
           case when h.member_id is null then 'missing' when e.member_id is null then 'extra' else 'differs' end
         from member_channel_order_history h full join member_channel_order_history_expected e on e.member_id = h.member_id and e.channel_id = h.channel_id
         where h.member_id is null or e.member_id is null
           or (h.channel_kind, h.placed_at, h.total_cum, h.returned_cum) is distinct from (e.channel_kind, e.placed_at, e.total_cum, e.returned_cum)
         limit max_rows)
      $$;`);
    // The full rebuild: the backfill here, and what bench/gen.mjs runs after writing orders with triggers off.
    this.addSql(`create function order_history_rebuild() returns void language sql as $$
        truncate member_order_history, member_channel_order_history;
        insert into member_order_history (member_id, placed_at, total_cum, returned_cum)
          select member_id, placed_at, total_cum, returned_cum from member_order_history_expected;
        insert into member_channel_order_history (member_id, channel_id, channel_kind, placed_at, total_cum, returned_cum)
          select member_id, channel_id, channel_kind, placed_at, total_cum, returned_cum from member_channel_order_history_expected;
      $$;`);
    this.addSql(`set local work_mem = '256MB';`);
    this.addSql(`select order_history_rebuild();`);
    this.addSql(`analyze member_order_history;`);
    this.addSql(`analyze member_channel_order_history;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists customer_order_history_insert on customer_order;`);
    this.addSql(`drop trigger if exists customer_order_history_update on customer_order;`);
    this.addSql(`drop trigger if exists customer_order_history_delete on customer_order;`);
    this.addSql(`drop trigger if exists customer_order_history_truncate on customer_order;`);
    this.addSql(`drop function if exists order_history_rebuild();`);
    this.addSql(`drop function if exists order_history_mismatches(int);`);
    this.addSql(`drop function if exists order_history_after_insert();`);
    this.addSql(`drop function if exists order_history_after_update();`);
    this.addSql(`drop function if exists order_history_after_delete();`);
    this.addSql(`drop function if exists order_history_after_truncate();`);
    this.addSql(`drop function if exists order_history_refresh(uuid[]);`);
    this.addSql(`drop view if exists member_channel_order_history_expected;`);
    this.addSql(`drop view if exists member_order_history_expected;`);
    this.addSql(`drop table if exists member_channel_order_history;`);
    this.addSql(`drop table if exists member_order_history;`);
  }
}
