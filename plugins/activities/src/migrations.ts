import { Migration } from '@mikro-orm/migrations';

/** Activity types and members' activities (docs/activities.md). */
export class Migration20261207120000_activities extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "activity_type" (
      "id" uuid primary key,
      "code" varchar(40) not null constraint "activity_type_code_unique" unique constraint "activity_type_code_form" check ("code" ~ '^[a-z][a-z0-9_]{1,39}$'),
      "name" varchar(100) not null,
      "description" varchar(500) null,
      "points" int not null check ("points" between 0 and 1000000),
      "cap_per_day" int null check ("cap_per_day" between 1 and 1000000),
      "cap_per_week" int null check ("cap_per_week" between 1 and 1000000),
      "cap_lifetime" int null check ("cap_lifetime" between 1 and 1000000),
      "min_gap_minutes" int null check ("min_gap_minutes" between 1 and 527040),
      "tier_codes" text[] not null default '{}',
      "segment_id" uuid null,
      "channel_kinds" text[] not null default '{}',
      "is_active" boolean not null default true,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null);`);
    this.addSql(`create table "activity_record" (
      "id" uuid primary key,
      "member_id" uuid not null references "member" ("id"),
      "activity_type_id" uuid not null references "activity_type" ("id"),
      "type" varchar(40) not null,
      "channel_id" uuid null references "sales_channel" ("id"),
      "channel_kind" varchar(20) null,
      "idempotency_key" varchar(200) not null constraint "activity_record_idempotency_key_unique" unique,
      "body_hash" varchar(64) not null,
      "occurred_at" timestamptz not null,
      "recorded_at" timestamptz not null,
      "attributes" jsonb not null default '{}',
      "points" int not null default 0 check ("points" between 0 and 1000000),
      "outcome" varchar(20) not null check ("outcome" in ('CREDITED', 'CAPPED_DAY', 'CAPPED_WEEK', 'CAPPED_LIFETIME', 'TOO_SOON', 'NOT_ELIGIBLE', 'NO_POINTS')));`);
    // The member's timeline and page of activities, newest first (also the merge's and erasure's lookups).
    this.addSql(`create index "activity_record_member_occurred_idx" on "activity_record" ("member_id", "occurred_at" desc, "id" desc);`);
    // Caps and the gap count a member's credited activities of one type, under the member's balance lock.
    this.addSql(`create index "activity_record_credited_idx" on "activity_record" ("member_id", "type", "occurred_at") where "outcome" = 'CREDITED';`);
    // Segments (activityCount of a type in a window) and per-type statistics.
    this.addSql(`create index "activity_record_type_occurred_idx" on "activity_record" ("type", "occurred_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "activity_record";`);
    this.addSql(`drop table if exists "activity_type";`);
  }
}
