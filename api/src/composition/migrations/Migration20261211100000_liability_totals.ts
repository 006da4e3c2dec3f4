import { Migration } from '@mikro-orm/migrations';
import { POINT_CLASSES, POINTS_HOUR_TOTALS_AFTER_INSERT, POINTS_HOUR_TOTALS_EXPECTED } from './Migration20261210100000_scale_aggregates';

/**
 * The points liability at any time `to` without reading every member's balance (issue 18, KPIs at 1 M members).
 * Liability is Σ over members of max(available, 0) + pending at `to` (docs/concepts/analytics.md), which is
 * Σ (available + pending) + Σ max(-available, 0): the first sum is that of every ledger row created before `to`, kept per
 * UTC hour × shard in two new columns of `points_hour_totals` (now written for every ledger row, not only the KPIs'
 * classes); the second reads only the members whose available balance is below 0 at `to` — those below 0 now (a new
 * partial index) and those with ledger rows at or after `to`.
 *
 * The ledger check compares the new columns with a recomputation too (`scale_aggregate_mismatches` keeps its rows for
 * the classes and adds one per hour and shard whose sums differ).
 */
const SUMS = (l: string) => `${POINT_CLASSES(l)},
      sum(${l}.available_delta)::bigint as available, sum(${l}.pending_delta)::bigint as pending`;

export class Migration20261211100000_liability_totals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table points_hour_totals add column available bigint not null default 0, add column pending bigint not null default 0;`);
    this.addSql(`create or replace view points_hour_totals_expected as
      select date_trunc('hour', l.created_at at time zone 'UTC') as hour, member_shard(l.member_id) as shard, ${SUMS('l')}
      from ledger_entry l group by 1, 2;`);
    this.addSql(`create or replace function points_hour_totals_after_insert() returns trigger language plpgsql as $$
      begin
        insert into points_hour_totals as t (hour, shard, issued, clawed_back, redeemed, expired, available, pending)
          select date_trunc('hour', l.created_at at time zone 'UTC'), member_shard(l.member_id), ${SUMS('l')}
          from inserted_entries l group by 1, 2 order by 1, 2
          on conflict (hour, shard) do update set issued = t.issued + excluded.issued, clawed_back = t.clawed_back + excluded.clawed_back,
            redeemed = t.redeemed + excluded.redeemed, expired = t.expired + excluded.expired,
            available = t.available + excluded.available, pending = t.pending + excluded.pending;
        return null;
      end $$;`);
    // The classes' comparison as before (rows whose classes are all 0 count as absent), then the new sums'.
    this.addSql(`alter function scale_aggregate_mismatches(int) rename to scale_aggregate_mismatches_classes;`);
    this.addSql(`create function scale_aggregate_mismatches(max_rows int)
      returns table (aggregate text, member_id uuid, channel_id uuid, key text, problem text) language sql stable as $$
        select * from scale_aggregate_mismatches_classes(max_rows)
        union all
        (select 'points_hour_totals', null, null, concat_ws(' ', coalesce(s.hour, e.hour), coalesce(s.shard, e.shard)),
           'differs (available, pending)'
         from points_hour_totals s full join points_hour_totals_expected e on e.hour = s.hour and e.shard = s.shard
         where (coalesce(s.available, 0), coalesce(s.pending, 0)) <> (coalesce(e.available, 0), coalesce(e.pending, 0))
         limit max_rows)
      $$;`);
    // The rebuild as before, then the hourly points totals again with every ledger row.
    this.addSql(`alter function scale_aggregates_rebuild() rename to scale_aggregates_rebuild_classes;`);
    this.addSql(`create function scale_aggregates_rebuild() returns void language sql as $$
        select scale_aggregates_rebuild_classes();
        truncate points_hour_totals;
        insert into points_hour_totals select * from points_hour_totals_expected
          where (issued, clawed_back, redeemed, expired, available, pending) <> (0, 0, 0, 0, 0, 0);
      $$;`);
    // Members whose available balance is below 0 (a clawback after spending): few, read by the liability.
    this.addSql(`create index member_balance_negative_index on member_balance (member_id) where available < 0;`);
    this.addSql(`set local work_mem = '256MB';`);
    this.addSql(`truncate points_hour_totals;`);
    this.addSql(`insert into points_hour_totals select * from points_hour_totals_expected
      where (issued, clawed_back, redeemed, expired, available, pending) <> (0, 0, 0, 0, 0, 0);`);
    this.addSql(`analyze points_hour_totals;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists member_balance_negative_index;`);
    this.addSql(`drop function if exists scale_aggregate_mismatches(int);`);
    this.addSql(`alter function scale_aggregate_mismatches_classes(int) rename to scale_aggregate_mismatches;`);
    this.addSql(`create or replace function ${POINTS_HOUR_TOTALS_AFTER_INSERT}`);
    this.addSql(`drop view points_hour_totals_expected;`);
    this.addSql(POINTS_HOUR_TOTALS_EXPECTED);
    this.addSql(`delete from points_hour_totals where (issued, clawed_back, redeemed, expired) = (0, 0, 0, 0);`);
    this.addSql(`alter table points_hour_totals drop column available, drop column pending;`);
    this.addSql(`drop function if exists scale_aggregates_rebuild();`);
    this.addSql(`alter function scale_aggregates_rebuild_classes() rename to scale_aggregates_rebuild;`);
  }
}
