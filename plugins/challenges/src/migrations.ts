import { Migration } from '@mikro-orm/migrations';

/** The challenges plugin's tables: challenges, members' progress in them, and the badges members hold. */
export class Migration20261207130000_challenges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "challenge" (
      "id" uuid primary key,
      "code" varchar(40) not null constraint "challenge_code_unique" unique,
      "name" varchar(100) not null,
      "description" varchar(1000) null,
      "goal_kind" varchar(32) not null check ("goal_kind" in ('ORDER_COUNT', 'SPEND', 'DISTINCT_CATEGORIES', 'ACTIVITY_COUNT', 'STREAK_DAYS', 'STREAK_WEEKS')),
      "target" bigint not null check ("target" > 0),
      "activity_type" varchar(64) null,
      "currency" varchar(3) not null,
      "personalisation" varchar(32) not null default 'NONE' check ("personalisation" in ('NONE', 'PERSONAL_PLUS')),
      "personal_delta" bigint not null default 0 check ("personal_delta" >= 0),
      "personal_lookback_weeks" int not null default 8 check ("personal_lookback_weeks" between 1 and 52),
      "audience_segment_id" uuid null,
      "starts_at" timestamptz not null,
      "ends_at" timestamptz not null,
      "reward_kind" varchar(16) not null check ("reward_kind" in ('POINTS', 'REWARD', 'BADGE')),
      "reward_points" int null,
      "reward_id" uuid null,
      "badge_code" varchar(40) null,
      "badge_name" varchar(100) null,
      "holdout_percent" int not null default 0 check ("holdout_percent" between 0 and 50),
      "is_active" boolean not null default false,
      "created_by" varchar(120) not null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      constraint "challenge_window_valid" check ("ends_at" > "starts_at")
    );`);
    // The earning read looks for active challenges whose window (with its late-arrival grace) is still open.
    this.addSql(`create index "challenge_active_ends_at" on "challenge" ("ends_at") where "is_active";`);

    this.addSql(`create table "challenge_progress" (
      "id" uuid primary key,
      "challenge_id" uuid not null references "challenge" ("id") on delete cascade,
      "member_id" uuid not null references "member" ("id"),
      "goal" bigint not null check ("goal" > 0),
      "progress" bigint not null default 0,
      "state" jsonb not null default '{}',
      "spend_minor" bigint not null default 0,
      "orders" int not null default 0,
      "is_holdout" boolean not null default false,
      "joined_at" timestamptz not null,
      "completed_at" timestamptz null,
      "reward_status" varchar(24) null,
      "reward_ref" varchar(120) null,
      "updated_at" timestamptz not null,
      constraint "challenge_progress_member_unique" unique ("challenge_id", "member_id"),
      constraint "challenge_progress_holdout_never_completes" check (not ("is_holdout" and "completed_at" is not null))
    );`);
    // Member 360, member.challenges and the timeline of completions read a member's rows by time.
    this.addSql(`create index "challenge_progress_member" on "challenge_progress" ("member_id", "completed_at");`);

    this.addSql(`create table "challenge_badge" (
      "id" uuid primary key,
      "member_id" uuid not null references "member" ("id"),
      "code" varchar(40) not null,
      "name" varchar(100) not null,
      "challenge_id" uuid null references "challenge" ("id") on delete set null,
      "awarded_at" timestamptz not null,
      constraint "challenge_badge_member_unique" unique ("member_id", "code")
    );`);
    this.addSql(`create index "challenge_badge_member" on "challenge_badge" ("member_id", "awarded_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "challenge_badge";`);
    this.addSql(`drop table if exists "challenge_progress";`);
    this.addSql(`drop table if exists "challenge";`);
  }
}
