import { Migration } from '@mikro-orm/migrations';

/** The programme's time zone: where a member's day and week begin for daily and weekly caps, streaks and goals. */
export class Migration20261207100100_programme_time_zone extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "programme_settings" add column "time_zone" varchar(64) not null default 'UTC';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "programme_settings" drop column if exists "time_zone";`);
  }
}
