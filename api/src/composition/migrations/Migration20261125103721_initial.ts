import { Migration } from '@mikro-orm/migrations';

export class Migration20261125103721_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "admin_user" ("id" uuid not null, "email" varchar(254) not null, "display_name" varchar(100) null, "password_hash" varchar(200) not null, "role" text check ("role" in ('ADMIN', 'MARKETER', 'ANALYST')) not null, "created_at" timestamptz not null, "last_login_at" timestamptz null, "disabled_at" timestamptz null, constraint "admin_user_pkey" primary key ("id"));`);
    this.addSql(`alter table "admin_user" add constraint "admin_user_email_unique" unique ("email");`);

    this.addSql(`create table "audit_entry" ("id" uuid not null, "actor" varchar(80) not null, "action" varchar(64) not null, "entity_type" varchar(64) not null, "entity_id" varchar(64) not null, "before" jsonb null, "after" jsonb null, "request_id" varchar(64) null, "created_at" timestamptz not null, constraint "audit_entry_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_entry_created_at_index" on "audit_entry" ("created_at");`);
    this.addSql(`create index "audit_entry_entity_type_entity_id_index" on "audit_entry" ("entity_type", "entity_id");`);

    this.addSql(`create table "member" ("id" uuid not null, "status" text check ("status" in ('ACTIVE', 'MERGED', 'ERASED')) not null default 'ACTIVE', "first_name" varchar(100) null, "last_name" varchar(100) null, "email" varchar(254) null, "phone" varchar(20) null, "country" varchar(2) null, "birthday" date null, "preferred_channel" text check ("preferred_channel" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) null, "preferred_store_code" varchar(64) null, "enrolment_channel" text check ("enrolment_channel" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) not null, "enrolled_at" timestamptz not null, "updated_at" timestamptz not null, "merged_into_id" uuid null, "merged_at" timestamptz null, "erased_at" timestamptz null, constraint "member_pkey" primary key ("id"));`);
    this.addSql(`create index "member_email_index" on "member" ("email");`);
    this.addSql(`create index "member_phone_index" on "member" ("phone");`);
    this.addSql(`create index "member_merged_into_id_index" on "member" ("merged_into_id") where "merged_into_id" is not null;`);

    this.addSql(`create table "member_consent" ("id" uuid not null, "member_id" uuid not null, "medium" text check ("medium" in ('EMAIL', 'SMS', 'PUSH')) not null, "is_granted" boolean not null, "granted_at" timestamptz null, "withdrawn_at" timestamptz null, "source" varchar(32) not null, constraint "member_consent_pkey" primary key ("id"));`);
    this.addSql(`alter table "member_consent" add constraint "member_consent_member_id_medium_unique" unique ("member_id", "medium");`);

    this.addSql(`create table "member_identifier" ("id" uuid not null, "member_id" uuid not null, "type" text check ("type" in ('EMAIL', 'PHONE', 'CHANNEL_CUSTOMER_ID')) not null, "scope" varchar(64) not null default '', "value" varchar(254) not null, "created_at" timestamptz not null, constraint "member_identifier_pkey" primary key ("id"));`);
    this.addSql(`create index "member_identifier_member_id_index" on "member_identifier" ("member_id");`);
    this.addSql(`alter table "member_identifier" add constraint "member_identifier_type_scope_value_unique" unique ("type", "scope", "value");`);

    this.addSql(`create table "member_merge" ("id" uuid not null, "survivor_id" uuid not null, "absorbed_id" uuid not null, "reason" varchar(500) null, "merged_by" varchar(80) not null, "moved_identifiers" int not null, "created_at" timestamptz not null, constraint "member_merge_pkey" primary key ("id"));`);
    this.addSql(`create index "member_merge_survivor_id_index" on "member_merge" ("survivor_id");`);
    this.addSql(`alter table "member_merge" add constraint "member_merge_absorbed_id_unique" unique ("absorbed_id");`);

    this.addSql(`create table "sales_channel" ("id" uuid not null, "name" varchar(100) not null, "kind" text check ("kind" in ('WEB', 'APP', 'STORE', 'MARKETPLACE', 'CALL_CENTER', 'ADMIN')) not null, "created_at" timestamptz not null, constraint "sales_channel_pkey" primary key ("id"));`);
    this.addSql(`alter table "sales_channel" add constraint "sales_channel_name_unique" unique ("name");`);

    this.addSql(`create table "api_key" ("id" uuid not null, "channel_id" uuid not null, "name" varchar(100) not null, "prefix" varchar(16) not null, "secret_hash" varchar(64) not null, "scopes" text[] not null, "created_at" timestamptz not null, "created_by" varchar(80) not null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "last_used_at" timestamptz null, "rotated_from_id" uuid null, constraint "api_key_pkey" primary key ("id"));`);
    this.addSql(`create index "api_key_channel_id_index" on "api_key" ("channel_id");`);
    this.addSql(`alter table "api_key" add constraint "api_key_prefix_unique" unique ("prefix");`);

    this.addSql(`alter table "member" add constraint "member_merged_into_id_foreign" foreign key ("merged_into_id") references "member" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "member_consent" add constraint "member_consent_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "member_identifier" add constraint "member_identifier_member_id_foreign" foreign key ("member_id") references "member" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "member_merge" add constraint "member_merge_survivor_id_foreign" foreign key ("survivor_id") references "member" ("id") on update cascade;`);
    this.addSql(`alter table "member_merge" add constraint "member_merge_absorbed_id_foreign" foreign key ("absorbed_id") references "member" ("id") on update cascade;`);

    this.addSql(`alter table "api_key" add constraint "api_key_channel_id_foreign" foreign key ("channel_id") references "sales_channel" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "member" drop constraint "member_merged_into_id_foreign";`);

    this.addSql(`alter table "member_consent" drop constraint "member_consent_member_id_foreign";`);

    this.addSql(`alter table "member_identifier" drop constraint "member_identifier_member_id_foreign";`);

    this.addSql(`alter table "member_merge" drop constraint "member_merge_survivor_id_foreign";`);

    this.addSql(`alter table "member_merge" drop constraint "member_merge_absorbed_id_foreign";`);

    this.addSql(`alter table "api_key" drop constraint "api_key_channel_id_foreign";`);

    this.addSql(`drop table if exists "admin_user" cascade;`);

    this.addSql(`drop table if exists "audit_entry" cascade;`);

    this.addSql(`drop table if exists "member" cascade;`);

    this.addSql(`drop table if exists "member_consent" cascade;`);

    this.addSql(`drop table if exists "member_identifier" cascade;`);

    this.addSql(`drop table if exists "member_merge" cascade;`);

    this.addSql(`drop table if exists "sales_channel" cascade;`);

    this.addSql(`drop table if exists "api_key" cascade;`);
  }

}
