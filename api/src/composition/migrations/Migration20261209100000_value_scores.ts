import { Migration } from '@mikro-orm/migrations';

/**
 * The customer-value model (kind VALUE): each version's predicted value per member, in minor units of the programme
 * currency, with P(return), a band and drivers; and how the version's scores were banded (`value_scoring`).
 */
export class Migration20261209100000_value_scores extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "model_version" drop constraint if exists "model_version_kind_check";`);
    this.addSql(`alter table "model_version" add constraint "model_version_kind_check" check ("kind" in ('RECOMMENDER', 'CHURN', 'VALUE'));`);
    this.addSql(`alter table "model_version" add column "value_scoring" jsonb null;`);
    // Bounded so that a sum over every member stays exact below 2^53 (MAX_PREDICTED_VALUE_MINOR).
    this.addSql(`create table "member_value_score" ("model_version_id" uuid not null references "model_version" ("id") on delete cascade, "member_id" uuid not null, "amount_minor" int not null check ("amount_minor" between 0 and 1000000000), "p_return" real not null check ("p_return" between 0 and 1), "band" text check ("band" in ('LOW', 'MEDIUM', 'HIGH')) not null, "drivers" jsonb not null, constraint "member_value_score_pkey" primary key ("model_version_id", "member_id"));`);
    this.addSql(`create index "member_value_score_member_index" on "member_value_score" ("member_id", "model_version_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "member_value_score";`);
    this.addSql(`delete from "model_version" where "kind" = 'VALUE';`);
    this.addSql(`alter table "model_version" drop column "value_scoring";`);
    this.addSql(`alter table "model_version" drop constraint if exists "model_version_kind_check";`);
    this.addSql(`alter table "model_version" add constraint "model_version_kind_check" check ("kind" in ('RECOMMENDER', 'CHURN'));`);
  }
}
