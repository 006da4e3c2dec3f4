import { Migration } from '@mikro-orm/migrations';

/** Members' NPS and CSAT answers, about an order or a channel (and optionally one of its stores). */
export class Migration20261201110000_feedback extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "feedback" ("id" uuid not null, "member_id" uuid not null references "member" ("id"), "kind" text check ("kind" in ('NPS', 'CSAT')) not null, "score" smallint not null, "comment" varchar(2000) null, "order_id" uuid null references "customer_order" ("id"), "channel_id" uuid not null references "sales_channel" ("id"), "channel_kind" text check ("channel_kind" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) not null, "store_code" varchar(64) null, "idempotency_key" varchar(180) null, "given_at" timestamptz not null, "recorded_by" varchar(80) not null, "created_at" timestamptz not null, constraint "feedback_pkey" primary key ("id"));`);
    // The service validates the range with a field path; the database refuses anything it let through.
    this.addSql(`alter table "feedback" add constraint "feedback_score_range" check (("kind" = 'NPS' and "score" between 0 and 10) or ("kind" = 'CSAT' and "score" between 1 and 5));`);
    this.addSql(`alter table "feedback" add constraint "feedback_idempotency_key_unique" unique ("idempotency_key");`);
    // One answer of each kind per order: the real guard against two concurrent answers.
    this.addSql(`create unique index "feedback_order_id_kind_unique" on "feedback" ("order_id", "kind") where "order_id" is not null;`);
    this.addSql(`create index "feedback_member_id_kind_given_at_index" on "feedback" ("member_id", "kind", "given_at");`);
    this.addSql(`create index "feedback_given_at_index" on "feedback" ("given_at");`);
    this.addSql(`create index "feedback_order_id_index" on "feedback" ("order_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "feedback" cascade;`);
  }
}
