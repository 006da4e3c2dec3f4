import { Migration } from '@mikro-orm/migrations';

/**
 * Campaigns (docs/concepts/campaigns.md): the campaign with its action, budget and window; the members assigned at launch
 * (TREATED/HOLDOUT); and the message outbox.
 */
export class Migration20261201100000_campaigns extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "campaign" (
      "id" uuid not null, "name" varchar(100) not null, "description" varchar(500) null,
      "segment_id" uuid not null references "segment" ("id"),
      "status" text check ("status" in ('DRAFT', 'SCHEDULED', 'ACTIVE', 'ENDED', 'CANCELLED')) not null default 'DRAFT',
      "action_kind" text check ("action_kind" in ('BONUS_POINTS', 'OFFER', 'MESSAGE')) not null,
      "bonus_fixed_points" int null, "bonus_multiplier_percent" int null,
      "offer_kind" text check ("offer_kind" in ('REWARD_DISCOUNT', 'RECOMMENDATIONS')) null,
      "offer_reward_id" uuid null references "reward" ("id"), "offer_discount_percent" int null, "offer_recommendation_count" int null,
      "message_medium" text check ("message_medium" in ('EMAIL', 'SMS', 'PUSH')) null, "message_subject" varchar(200) null, "message_body" text null,
      "holdout_share" double precision not null check ("holdout_share" >= 0 and "holdout_share" <= 0.5),
      "budget_points" int null check ("budget_points" > 0),
      "spent_points" int not null default 0,
      "starts_at" timestamptz not null, "ends_at" timestamptz null,
      "treated_count" int null, "holdout_count" int null,
      "launched_at" timestamptz null, "contacted_at" timestamptz null, "cancelled_at" timestamptz null,
      "created_by" varchar(80) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null,
      constraint "campaign_pkey" primary key ("id"),
      -- The last guard of the budget: the service never tries, but a bug could not overspend either.
      constraint "campaign_budget_kept" check ("spent_points" >= 0 and ("budget_points" is null or "spent_points" <= "budget_points")),
      constraint "campaign_window" check ("ends_at" is null or "ends_at" > "starts_at"));`);
    this.addSql(`create index "campaign_created_at_index" on "campaign" ("created_at");`);
    // The earning path looks up running bonus campaigns on every order.
    this.addSql(`create index "campaign_running_index" on "campaign" ("action_kind", "starts_at") where "status" in ('SCHEDULED', 'ACTIVE');`);

    this.addSql(`create table "campaign_member" (
      "campaign_id" uuid not null references "campaign" ("id") on delete cascade,
      "member_id" uuid not null references "member" ("id") on update cascade,
      "assigned_group" text check ("assigned_group" in ('TREATED', 'HOLDOUT')) not null,
      "assigned_at" timestamptz not null, "bonus_points" int not null default 0,
      "contacted_at" timestamptz null, "offer" jsonb null,
      constraint "campaign_member_pkey" primary key ("campaign_id", "member_id"));`);
    this.addSql(`create index "campaign_member_member_id_index" on "campaign_member" ("member_id");`);

    this.addSql(`create table "campaign_message" (
      "id" uuid not null, "campaign_id" uuid not null references "campaign" ("id") on delete cascade,
      "member_id" uuid not null references "member" ("id") on update cascade,
      "medium" text check ("medium" in ('EMAIL', 'SMS', 'PUSH')) not null,
      "subject" varchar(200) null, "body" text not null,
      "status" text check ("status" in ('PENDING', 'SENT', 'SKIPPED', 'FAILED', 'CANCELLED')) not null default 'PENDING',
      "attempts" int not null default 0, "last_error" varchar(500) null, "adapter" varchar(40) null,
      "created_at" timestamptz not null, "sent_at" timestamptz null,
      constraint "campaign_message_pkey" primary key ("id"),
      constraint "campaign_message_once" unique ("campaign_id", "member_id"));`);
    this.addSql(`create index "campaign_message_member_id_created_at_index" on "campaign_message" ("member_id", "created_at");`);
    this.addSql(`create index "campaign_message_pending_index" on "campaign_message" ("created_at") where "status" = 'PENDING';`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "campaign_message", "campaign_member", "campaign" cascade;`);
  }
}
