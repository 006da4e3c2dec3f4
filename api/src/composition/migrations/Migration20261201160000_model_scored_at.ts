import { Migration } from '@mikro-orm/migrations';

/** When a version's scores were last written: by its training job, then by each batch-scoring job. */
export class Migration20261201160000_model_scored_at extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "model_version" add column "scored_at" timestamptz null;`);
    this.addSql(`update "model_version" set "scored_at" = "finished_at" where "status" in ('ACTIVE', 'REJECTED', 'RETIRED');`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "model_version" drop column "scored_at";`);
  }
}
