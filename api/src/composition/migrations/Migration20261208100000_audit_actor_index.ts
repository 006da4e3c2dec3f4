import { Migration } from '@mikro-orm/migrations';

/** The admin app's audit log filters by actor, newest first: one admin's or one key's changes among everyone's. */
export class Migration20261208100000_audit_actor_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index if not exists "audit_entry_actor_id_index" on "audit_entry" ("actor", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "audit_entry_actor_id_index";`);
  }
}
