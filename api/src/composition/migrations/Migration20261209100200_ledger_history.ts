import { Migration } from '@mikro-orm/migrations';

/**
 * Per-member points history (ledger module), for the analytics points KPIs over any [from, to): for every member, the
 * times of their ledger rows that count as points issued, clawed back, redeemed or expired (the KPIs' classes;
 * analytics.service.ts) in ascending (created_at, id) order, with the running sum of each class at each of them. A
 * class the member never moved is null (read as 0). The points of [from, to) are then, per member, differences of
 * running sums at k(to) and k(from), k(t) = width_bucket(t - 1 µs, created_at): one row per member instead of the
 * ledger rows of the window (7 M of 10 M at 1 M members for a year).
 *
 * Kept exact like the order history (Migration20261209100000_order_history): the ledger is append-only (its trigger
 * refuses updates and deletes), so a statement-level trigger on INSERT recomputes the members a statement wrote, in its
 * transaction, after locking their rows in id order; TRUNCATE empties it. `npm run ledger:check` compares it with the
 * view `member_points_history_expected` (`points_history_mismatches()`).
 */
export class Migration20261209100200_ledger_history extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table member_points_history (
      member_id uuid primary key,
      created_at timestamptz[] not null,
      issued_cum bigint[],
      clawed_back_cum bigint[],
      redeemed_cum bigint[],
      expired_cum bigint[]
    );`);
    // The classes, as the KPIs define them: issued = lifetime of earning (ORDER_EARN, REFERRAL, positive ADJUSTMENT);
    // clawed back = -lifetime of RETURN_CLAWBACK and REFERRAL_REVERSAL; redeemed = -available of REDEMPTION and
    // REDEMPTION_CANCEL; expired = -available of EXPIRY. Stored as running sums of the signed deltas.
    this.addSql(`create view member_points_history_expected as
      select l.member_id, array_agg(l.created_at order by l.created_at, l.id) as created_at,
        case when bool_or(l.issued <> 0) then array_agg(l.issued order by l.created_at, l.id) end as issued_cum,
        case when bool_or(l.clawed_back <> 0) then array_agg(l.clawed_back order by l.created_at, l.id) end as clawed_back_cum,
        case when bool_or(l.redeemed <> 0) then array_agg(l.redeemed order by l.created_at, l.id) end as redeemed_cum,
        case when bool_or(l.expired <> 0) then array_agg(l.expired order by l.created_at, l.id) end as expired_cum
      from (
        select member_id, id, created_at,
          (sum(case when reason in ('ORDER_EARN', 'REFERRAL') or (reason = 'ADJUSTMENT' and lifetime_delta > 0) then lifetime_delta else 0 end) over w)::bigint as issued,
          (sum(case when reason in ('RETURN_CLAWBACK', 'REFERRAL_REVERSAL') then -lifetime_delta else 0 end) over w)::bigint as clawed_back,
          (sum(case when reason in ('REDEMPTION', 'REDEMPTION_CANCEL') then -available_delta else 0 end) over w)::bigint as redeemed,
          (sum(case when reason = 'EXPIRY' then -available_delta else 0 end) over w)::bigint as expired
        from ledger_entry
        where reason in ('ORDER_EARN', 'REFERRAL', 'RETURN_CLAWBACK', 'REFERRAL_REVERSAL', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY')
          or (reason = 'ADJUSTMENT' and lifetime_delta > 0)
        window w as (partition by member_id order by created_at, id rows unbounded preceding)
      ) l group by l.member_id;`);
    this.addSql(`create function points_history_refresh(ids uuid[]) returns void language plpgsql as $$
      begin
        if coalesce(cardinality(ids), 0) = 0 then return; end if;
        insert into member_points_history (member_id, created_at) select id, '{}' from unnest(ids) id order by id on conflict do nothing;
        perform 1 from member_points_history where member_id = any(ids) order by member_id for update;
        -- A new snapshot from here on: every row committed before the lock was granted is read.
        update member_points_history h set created_at = e.created_at, issued_cum = e.issued_cum, clawed_back_cum = e.clawed_back_cum,
            redeemed_cum = e.redeemed_cum, expired_cum = e.expired_cum
          from member_points_history_expected e
          where e.member_id = any(ids) and h.member_id = e.member_id
            and (h.created_at, h.issued_cum, h.clawed_back_cum, h.redeemed_cum, h.expired_cum)
              is distinct from (e.created_at, e.issued_cum, e.clawed_back_cum, e.redeemed_cum, e.expired_cum);
        delete from member_points_history h where h.member_id = any(ids) and cardinality(h.created_at) = 0;
      end $$;`);
    this.addSql(`create function points_history_after_insert() returns trigger language plpgsql as $$
      begin
        perform points_history_refresh(array(
          select distinct member_id from inserted_entries
          where reason in ('ORDER_EARN', 'REFERRAL', 'RETURN_CLAWBACK', 'REFERRAL_REVERSAL', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY')
            or (reason = 'ADJUSTMENT' and lifetime_delta > 0)
          order by 1));
        return null;
      end $$;`);
    this.addSql(`create function points_history_after_truncate() returns trigger language plpgsql as $$
      begin
        delete from member_points_history;
        return null;
      end $$;`);
    this.addSql(`create trigger ledger_entry_points_history_insert after insert on ledger_entry
      referencing new table as inserted_entries for each statement execute function points_history_after_insert();`);
    this.addSql(`create trigger ledger_entry_points_history_truncate after truncate on ledger_entry
      for each statement execute function points_history_after_truncate();`);
    this.addSql(`create function points_history_mismatches(max_rows int) returns table (member_id uuid, problem text)
      language sql stable as $$
        select coalesce(h.member_id, e.member_id), case when h.member_id is null then 'missing' when e.member_id is null then 'extra' else 'differs' end
        from member_points_history h full join member_points_history_expected e on e.member_id = h.member_id
        where h.member_id is null or e.member_id is null
          or (h.created_at, h.issued_cum, h.clawed_back_cum, h.redeemed_cum, h.expired_cum)
            is distinct from (e.created_at, e.issued_cum, e.clawed_back_cum, e.redeemed_cum, e.expired_cum)
        limit max_rows
      $$;`);
    this.addSql(`create function points_history_rebuild() returns void language sql as $$
        truncate member_points_history;
        insert into member_points_history (member_id, created_at, issued_cum, clawed_back_cum, redeemed_cum, expired_cum)
          select member_id, created_at, issued_cum, clawed_back_cum, redeemed_cum, expired_cum from member_points_history_expected;
      $$;`);
    this.addSql(`set local work_mem = '256MB';`);
    this.addSql(`select points_history_rebuild();`);
    this.addSql(`analyze member_points_history;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists ledger_entry_points_history_insert on ledger_entry;`);
    this.addSql(`drop trigger if exists ledger_entry_points_history_truncate on ledger_entry;`);
    this.addSql(`drop function if exists points_history_rebuild();`);
    this.addSql(`drop function if exists points_history_mismatches(int);`);
    this.addSql(`drop function if exists points_history_after_insert();`);
    this.addSql(`drop function if exists points_history_after_truncate();`);
    this.addSql(`drop function if exists points_history_refresh(uuid[]);`);
    this.addSql(`drop view if exists member_points_history_expected;`);
    this.addSql(`drop table if exists member_points_history;`);
  }
}
