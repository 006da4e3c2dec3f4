import { Migration } from '@mikro-orm/migrations';

/** Model registry and the scores the worker writes per version (served only while their version is ACTIVE). */
export class Migration20261201000100_models extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "model_version" ("id" uuid not null, "kind" text check ("kind" in ('RECOMMENDER', 'CHURN')) not null, "status" text check ("status" in ('TRAINING', 'REJECTED', 'ACTIVE', 'RETIRED', 'FAILED')) not null, "algorithm" varchar(60) not null, "job_id" varchar(100) null, "params" jsonb not null, "data_from" timestamptz null, "cutoff" timestamptz null, "data_to" timestamptz null, "horizon_days" int null, "train_rows" int null, "metrics" jsonb not null, "baseline_metrics" jsonb not null, "backend" varchar(20) null, "duration_ms" int null, "artefact" bytea null, "is_promoted" boolean null, "gate_reason" varchar(500) null, "failure_reason" varchar(1000) null, "created_at" timestamptz not null, "finished_at" timestamptz null, "activated_at" timestamptz null, "activated_by" varchar(80) null, constraint "model_version_pkey" primary key ("id"));`);
    this.addSql(`create index "model_version_kind_created_at_index" on "model_version" ("kind", "created_at");`);
    // The database itself guarantees one served version per kind.
    this.addSql(`create unique index "model_version_one_active" on "model_version" ("kind") where "status" = 'ACTIVE';`);

    this.addSql(`create table "member_recommendation" ("model_version_id" uuid not null references "model_version" ("id") on delete cascade, "member_id" uuid not null, "rank" smallint not null, "product_id" uuid not null, "score" real not null, "reason" varchar(200) not null, "because_product_id" uuid null, "is_repeat" boolean not null default false, constraint "member_recommendation_pkey" primary key ("model_version_id", "member_id", "rank"));`);
    this.addSql(`create index "member_recommendation_member_index" on "member_recommendation" ("member_id", "model_version_id");`);

    this.addSql(`create table "popular_product" ("model_version_id" uuid not null references "model_version" ("id") on delete cascade, "country" varchar(100) not null, "rank" smallint not null, "product_id" uuid not null, "score" real not null, constraint "popular_product_pkey" primary key ("model_version_id", "country", "rank"));`);

    this.addSql(`create table "product_similarity" ("model_version_id" uuid not null references "model_version" ("id") on delete cascade, "product_id" uuid not null, "rank" smallint not null, "similar_product_id" uuid not null, "score" real not null, constraint "product_similarity_pkey" primary key ("model_version_id", "product_id", "rank"));`);

    this.addSql(`create table "member_churn_score" ("model_version_id" uuid not null references "model_version" ("id") on delete cascade, "member_id" uuid not null, "score" real not null, "band" text check ("band" in ('LOW', 'MEDIUM', 'HIGH')) not null, "drivers" jsonb not null, constraint "member_churn_score_pkey" primary key ("model_version_id", "member_id"));`);
    this.addSql(`create index "member_churn_score_member_index" on "member_churn_score" ("member_id", "model_version_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "member_churn_score", "product_similarity", "popular_product", "member_recommendation", "model_version" cascade;`);
  }
}
