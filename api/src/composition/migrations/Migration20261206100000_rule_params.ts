import { Migration } from '@mikro-orm/migrations';

/**
 * Earning-rule kinds become a registry plugins add to (modules/earning/rule-kinds.ts): `kind` loses its check of the seven
 * built-in names and is text, and a plugin kind's arguments live in `params`. The built-in kinds keep their columns.
 */
export class Migration20261206100000_rule_params extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "earning_rule" drop constraint if exists "earning_rule_kind_check";`);
    this.addSql(`alter table "earning_rule" alter column "kind" type varchar(64);`);
    this.addSql(`alter table "earning_rule" add column "params" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "earning_rule" drop column "params";`);
    this.addSql(`alter table "earning_rule" alter column "kind" type text;`);
    this.addSql(
      `alter table "earning_rule" add constraint "earning_rule_kind_check" check ("kind" in ('BASE_RATE', 'CATEGORY_MULTIPLIER', 'PRODUCT_MULTIPLIER', 'CHANNEL_MULTIPLIER', 'BONUS', 'ORDER_CAP', 'DAILY_CAP'));`,
    );
  }
}
