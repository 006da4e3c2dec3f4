import { Migration } from '@mikro-orm/migrations';
import { memberOrderStatsExpected, orderHistoryRefreshWithStats, scaleAggregatesRebuildBody } from './Migration20261210100000_scale_aggregates';

/**
 * `member_order_stats` carries the member's status beside its country (issue 18, segment previews at 1 M members), so
 * that a rule which needs an order in a window, and reads only the member's status, country and stats-joined values,
 * is answered from the window's stats rows alone, without probing a million member rows (segment-sql.ts).
 *
 * Kept exact like the country: written from the member row by order_history_refresh, under the same lock; moved by a
 * statement trigger when a member's status changes; compared with the member table by the ledger check
 * (`scale_aggregate_mismatches`) and rebuilt by `scale_aggregates_rebuild()`.
 */
export class Migration20261213100000_order_stats_status extends Migration {
  override async up(): Promise<void> {
    // Refilled rather than updated in place: an update would leave a dead copy of every row, which sequential scans read
    // past until vacuum reclaims it, and the pages half empty after. A stats row whose member is gone would already be
    // a ledger-check mismatch ("extra"); the join leaves it out.
    this.addSql(`create temporary table member_order_stats_with_status on commit drop as
      select s.*, m.status from member_order_stats s join member m on m.id = s.member_id;`);
    this.addSql(`truncate member_order_stats;`);
    this.addSql(`alter table member_order_stats add column status text not null;`);
    this.addSql(`insert into member_order_stats select * from member_order_stats_with_status order by member_id;`);
    this.addSql(orderHistoryRefreshWithStats(['country', 'status']));
    // scale_aggregates_rebuild() calls this one (…20261211100000_liability_totals renamed it), then the points totals.
    this.addSql(`create or replace function scale_aggregates_rebuild_classes() returns void language sql as $$${scaleAggregatesRebuildBody(['country', 'status'])}$$;`);
    // The recomputation gains the status after the country (a view may only grow at its end).
    this.addSql(memberOrderStatsExpected('create or replace', ['country', 'status']));
    this.addSql(`create function member_order_stats_status() returns trigger language plpgsql as $$
      begin
        update member_order_stats s set status = n.status
          from old_members o join new_members n on n.id = o.id
          where o.status is distinct from n.status and s.member_id = n.id;
        return null;
      end $$;`);
    this.addSql(`create trigger member_order_stats_status after update on member
      referencing old table as old_members new table as new_members for each statement execute function member_order_stats_status();`);
    this.addSql(`alter function scale_aggregate_mismatches(int) rename to scale_aggregate_mismatches_without_status;`);
    this.addSql(`create function scale_aggregate_mismatches(max_rows int)
      returns table (aggregate text, member_id uuid, channel_id uuid, key text, problem text) language sql stable as $$
        select * from scale_aggregate_mismatches_without_status(max_rows)
        union all
        -- Against the member row itself: the recomputation view would aggregate every order a second time.
        (select 'member_order_stats', s.member_id, null::uuid, 'status', 'differs'
         from member_order_stats s join member m on m.id = s.member_id
         where s.status is distinct from m.status
         limit max_rows)
      $$;`);
    this.addSql(`analyze member_order_stats;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists scale_aggregate_mismatches(int);`);
    this.addSql(`alter function scale_aggregate_mismatches_without_status(int) rename to scale_aggregate_mismatches;`);
    this.addSql(`drop trigger if exists member_order_stats_status on member;`);
    this.addSql(`drop function if exists member_order_stats_status();`);
    this.addSql(`create or replace function scale_aggregates_rebuild_classes() returns void language sql as $$${scaleAggregatesRebuildBody(['country'])}$$;`);
    this.addSql(orderHistoryRefreshWithStats(['country']));
    this.addSql(`drop view member_order_stats_expected;`);
    this.addSql(memberOrderStatsExpected('create', ['country']));
    this.addSql(`alter table member_order_stats drop column status;`);
  }
}
