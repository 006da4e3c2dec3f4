import { Migration } from '@mikro-orm/migrations';

/**
 * Reward kinds become a registry a plugin adds to (modules/rewards/reward-kinds.ts): the column no longer lists the built-in
 * ones, and the API checks a kind against the registry before writing it. A redemption keeps what its kind's `fulfil`
 * returned (a gift card's number, a partner's booking reference).
 */
export class Migration20261206200100_reward_kinds_open extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "reward" drop constraint if exists "reward_kind_check";`);
    this.addSql(`alter table "redemption" add column "fulfilment" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "redemption" drop column if exists "fulfilment";`);
    this.addSql(
      `alter table "reward" add constraint "reward_kind_check" check ("kind" in ('FREE_PRODUCT', 'FIXED_DISCOUNT', 'PERCENT_DISCOUNT', 'PARTNER', 'DONATION'));`,
    );
  }
}
