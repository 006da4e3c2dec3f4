import { Migration } from '@mikro-orm/migrations';

/**
 * Each churn score keeps the one the member was served before it, and when that was computed: the version's own
 * earlier run when a version is scored again, the version active at the time when a new version is scored. Marketers
 * look for customers whose risk is rising (segment attribute `churnScoreChange`, `ChurnRisk.previousScore`).
 * Nullable columns: existing rows have no earlier score, and adding them rewrites nothing.
 */
export class Migration20261214100000_churn_score_previous extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "member_churn_score" add column "previous_score" real null, add column "previous_scored_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "member_churn_score" drop column "previous_score", drop column "previous_scored_at";`);
  }
}
