import { Migration } from '@mikro-orm/migrations';

/** Days of the week are numbers (0 = Sunday); as text they never matched the engine's day numbers. */
export class Migration20261201000200_days_of_week_int extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "earning_rule" alter column "days_of_week" type int[] using "days_of_week"::int[];`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "earning_rule" alter column "days_of_week" type text[] using "days_of_week"::text[];`);
  }
}
