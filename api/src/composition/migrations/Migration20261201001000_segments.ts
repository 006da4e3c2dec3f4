import { Migration } from '@mikro-orm/migrations';

/** Saved segments (rule trees) and the members a SNAPSHOT recorded at creation. */
export class Migration20261201001000_segments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "segment" ("id" uuid not null, "name" varchar(100) not null, "description" varchar(500) null, "rule" jsonb not null, "kind" text check ("kind" in ('DYNAMIC', 'SNAPSHOT')) not null, "created_by" varchar(80) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "segment_pkey" primary key ("id"));`);
    this.addSql(`create index "segment_created_at_index" on "segment" ("created_at");`);
    // Names are unique among segments in use; a deleted segment frees its name.
    this.addSql(`create unique index "segment_name_live_unique" on "segment" (lower("name")) where "deleted_at" is null;`);
    this.addSql(`create table "segment_member" ("segment_id" uuid not null references "segment" ("id") on delete cascade, "member_id" uuid not null references "member" ("id") on update cascade, constraint "segment_member_pkey" primary key ("segment_id", "member_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "segment_member", "segment" cascade;`);
  }
}
