import { Migration } from '@mikro-orm/migrations';

/**
 * The version of the earning terms (the programme settings and the earning rules), bumped in the transaction of every
 * change to either table, whoever makes it (the API, a script, psql): an API process caches the terms and reads only
 * this number on each order (EarningPipeline.readTerms), so a change is seen by the first order read after its commit.
 */
export class Migration20261209130500_earning_terms_version extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "earning_terms_version" ("id" int primary key check ("id" = 1), "version" bigint not null);`);
    this.addSql(`insert into "earning_terms_version" ("id", "version") values (1, 1);`);
    this.addSql(`create function earning_terms_changed() returns trigger language plpgsql as $$
      begin
        update earning_terms_version set version = version + 1 where id = 1;
        return null;
      end $$;`);
    this.addSql(`create trigger programme_settings_terms_version after insert or update or delete or truncate on "programme_settings"
      for each statement execute function earning_terms_changed();`);
    this.addSql(`create trigger earning_rule_terms_version after insert or update or delete or truncate on "earning_rule"
      for each statement execute function earning_terms_changed();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists earning_rule_terms_version on "earning_rule";`);
    this.addSql(`drop trigger if exists programme_settings_terms_version on "programme_settings";`);
    this.addSql(`drop function if exists earning_terms_changed();`);
    this.addSql(`drop table if exists "earning_terms_version";`);
  }
}
