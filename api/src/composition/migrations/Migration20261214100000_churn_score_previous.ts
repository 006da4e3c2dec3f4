import { Migration } from '@mikro-orm/migrations';

/**
 * Each churn score keeps a score of the same member from at least four weeks before (`previous_score`, with when it was
 * computed), so marketers can find customers whose risk is rising (segment attribute `churnScoreChange`,
 * `ChurnRisk.previousScore`), and the oldest younger one (`pending_score`), which takes over once it is four weeks
 * old: the worker carries both forward at every scoring (recommender/src/training/store.ts). Nullable columns:
 * existing rows have no earlier score, and adding them rewrites nothing.
 */
export class Migration20261214100000_churn_score_previous extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "member_churn_score"
      add column "previous_score" real null, add column "previous_scored_at" timestamptz null,
      add column "pending_score" real null, add column "pending_scored_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "member_churn_score"
      drop column "previous_score", drop column "previous_scored_at", drop column "pending_score", drop column "pending_scored_at";`);
  }
}
