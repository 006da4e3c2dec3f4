import { Migration } from '@mikro-orm/migrations';

/**
 * In-process outbox subscribers (modules/events/subscriber-runner.ts). Each outbox row records the id of the transaction that
 * wrote it (`tx_id`); a subscriber reads in (tx_id, id) order below the oldest transaction still running, so an event
 * that commits late can never land behind a cursor. Rows written before this migration get tx_id 0 and come first, in id
 * order. The constant default adds the column without rewriting the table; new rows then take their writer's id.
 */
export class Migration20261206200000_outbox_subscribers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "event_outbox" add column "tx_id" xid8 not null default '0';`);
    this.addSql(`alter table "event_outbox" alter column "tx_id" set default pg_current_xact_id();`);
    this.addSql(`create index "event_outbox_tx_id_id_index" on "event_outbox" ("tx_id", "id");`);
    this.addSql(
      `create table "outbox_subscriber_cursor" ("name" varchar(100) not null, "last_tx_id" xid8 not null default '0',
        "last_event_id" uuid not null default '00000000-0000-0000-0000-000000000000', "attempts" int not null default 0,
        "failing_event_id" uuid null, "last_error" text null, "last_error_at" timestamptz null, "next_attempt_at" timestamptz null,
        "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(),
        constraint "outbox_subscriber_cursor_pkey" primary key ("name"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox_subscriber_cursor";`);
    this.addSql(`drop index if exists "event_outbox_tx_id_id_index";`);
    this.addSql(`alter table "event_outbox" drop column if exists "tx_id";`);
  }
}
