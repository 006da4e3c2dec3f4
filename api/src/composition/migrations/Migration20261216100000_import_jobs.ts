import { Migration } from '@mikro-orm/migrations';

/**
 * The admin app's imports in the database instead of on one API process's disk: any replica lists, reads, starts,
 * stops and resumes any import, and an uploaded file or its rejects outlive the process that received them.
 */
export class Migration20261216100000_import_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "import_job" (
      "id" uuid not null,
      "uploaded_at" timestamptz not null,
      "state" text check ("state" in ('UPLOADED', 'RUNNING', 'INTERRUPTED', 'FAILED', 'DONE')) not null,
      "stop_requested" boolean not null default false,
      "job" jsonb not null,
      constraint "import_job_pkey" primary key ("id"));`);
    this.addSql(`create index "import_job_uploaded_at_index" on "import_job" ("uploaded_at");`);
    // The upload (kind 'file') and the last run's rejects (kind 'rejects'), in pieces of at most 1 MiB, so neither is
    // ever held whole in memory, nor near bytea's 1 GB limit.
    this.addSql(`create table "import_blob_chunk" (
      "import_id" uuid not null references "import_job" ("id") on delete cascade,
      "kind" text check ("kind" in ('file', 'rejects')) not null,
      "seq" int not null,
      "data" bytea not null,
      constraint "import_blob_chunk_pkey" primary key ("import_id", "kind", "seq"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "import_blob_chunk", "import_job";`);
  }
}
