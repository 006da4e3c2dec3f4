import { Migration } from '@mikro-orm/migrations';

/**
 * Each run of the points jobs, whoever started it (the schedule, an admin, the CLI), with what it did and the ledger
 * check's verdict: the admin app's Points jobs page reads it, and it survives a Redis that lost the queue's history.
 */
export class Migration20261215100000_points_job_runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "points_job_run" (
      "id" uuid not null,
      "trigger" text check ("trigger" in ('SCHEDULE', 'ADMIN', 'CLI')) not null,
      "triggered_by" varchar(80) null,
      "state" text check ("state" in ('RUNNING', 'DONE', 'FAILED', 'INTERRUPTED')) not null default 'RUNNING',
      "started_at" timestamptz not null,
      "finished_at" timestamptz null,
      "lots_released" int not null default 0,
      "lots_expired" int not null default 0,
      "points_expired" bigint not null default 0,
      "vouchers_expired" int not null default 0,
      "tier_periods_ended" int not null default 0,
      "ledger_consistent" boolean null,
      "ledger_problems" int null,
      "members_checked" int null,
      "error" text null,
      constraint "points_job_run_pkey" primary key ("id"));`);
    this.addSql(`create index "points_job_run_started_at_index" on "points_job_run" ("started_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "points_job_run";`);
  }
}
