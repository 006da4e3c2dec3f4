import { Migration } from '@mikro-orm/migrations';

/** Admin tokens carry a session id, so logout, revokeAdminSessions and password changes end them at once. */
export class Migration20261201120000_admin_sessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "admin_session" ("id" uuid not null, "admin_id" uuid not null references "admin_user" ("id") on delete cascade, "created_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "admin_session_pkey" primary key ("id"));`);
    this.addSql(`create index "admin_session_admin_id_revoked_at_index" on "admin_session" ("admin_id", "revoked_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "admin_session" cascade;`);
  }
}
