import { Migration } from '@mikro-orm/migrations';

/**
 * QUEUED: an import started or resumed through an API process that does not run imports (IMPORT_RUNNER=false), waiting
 * for one that does to pick it up.
 */
export class Migration20261218100000_import_queued extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "import_job" drop constraint "import_job_state_check";`);
    this.addSql(`alter table "import_job" add constraint "import_job_state_check" check ("state" in ('UPLOADED', 'QUEUED', 'RUNNING', 'INTERRUPTED', 'FAILED', 'DONE'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`update "import_job" set "state" = case when ("job"->>'runs')::int > 0 then 'INTERRUPTED' else 'UPLOADED' end where "state" = 'QUEUED';`);
    this.addSql(`alter table "import_job" drop constraint "import_job_state_check";`);
    this.addSql(`alter table "import_job" add constraint "import_job_state_check" check ("state" in ('UPLOADED', 'RUNNING', 'INTERRUPTED', 'FAILED', 'DONE'));`);
  }
}
