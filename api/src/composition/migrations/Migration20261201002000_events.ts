import { Migration } from '@mikro-orm/migrations';

/** Domain-event outbox, webhook endpoints and their delivery log. */
export class Migration20261201002000_events extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "event_outbox" ("id" uuid not null, "type" varchar(64) not null, "member_id" uuid null, "payload" jsonb not null, "dedupe_key" varchar(200) null, "occurred_at" timestamptz not null, "created_at" timestamptz not null, "dispatched_at" timestamptz null, constraint "event_outbox_pkey" primary key ("id"));`);
    this.addSql(`alter table "event_outbox" add constraint "event_outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "event_outbox_member_id_index" on "event_outbox" ("member_id");`);
    // The dispatcher's sweep reads only what is still to dispatch.
    this.addSql(`create index "event_outbox_pending_index" on "event_outbox" ("id") where "dispatched_at" is null;`);

    this.addSql(`create table "webhook" ("id" uuid not null, "url" varchar(2000) not null, "description" varchar(500) null, "event_types" jsonb not null, "secret" varchar(100) not null, "is_active" boolean not null, "consecutive_failures" int not null, "disabled_at" timestamptz null, "disabled_reason" varchar(1000) null, "secret_rotated_at" timestamptz null, "created_by" varchar(80) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "webhook_pkey" primary key ("id"));`);

    this.addSql(`create table "webhook_delivery" ("id" uuid not null, "webhook_id" uuid not null references "webhook" ("id") on delete cascade, "event_id" uuid not null, "event_type" varchar(64) not null, "status" text check ("status" in ('PENDING', 'DELIVERED', 'FAILED', 'SKIPPED')) not null, "attempts" int not null, "last_status_code" int null, "last_error" varchar(1000) null, "attempt_log" jsonb not null, "created_at" timestamptz not null, "finished_at" timestamptz null, constraint "webhook_delivery_pkey" primary key ("id"));`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_event_id_webhook_id_unique" unique ("event_id", "webhook_id");`);
    this.addSql(`create index "webhook_delivery_webhook_id_id_index" on "webhook_delivery" ("webhook_id", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_delivery", "webhook", "event_outbox" cascade;`);
  }
}
