import { Migration } from '@mikro-orm/migrations';

/**
 * Points that accumulate without end become bigint (docs/reference/input-bounds.md): a member's balance and lifetime points, the ledger
 * rows (a merge moves a whole balance in one), a campaign's spend and a member's bonus from it. In int4 they failed
 * with "integer out of range" after a few maximal orders. Per-order columns stay int4: base/bounds.ts keeps every
 * order, line and lot within it. Rewrites the tables under an exclusive lock (a maintenance window at scale); the
 * ledger's append-only trigger is a row trigger and does not fire.
 */
export class Migration20261203100000_bigint_points extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "member_balance" alter column "available" type bigint, alter column "pending" type bigint, alter column "lifetime" type bigint;`);
    this.addSql(
      `alter table "ledger_entry" alter column "pending_delta" type bigint, alter column "available_delta" type bigint, alter column "lifetime_delta" type bigint;`,
    );
    this.addSql(`alter table "campaign" alter column "spent_points" type bigint;`);
    this.addSql(`alter table "campaign_member" alter column "bonus_points" type bigint;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "campaign_member" alter column "bonus_points" type int;`);
    this.addSql(`alter table "campaign" alter column "spent_points" type int;`);
    this.addSql(`alter table "ledger_entry" alter column "pending_delta" type int, alter column "available_delta" type int, alter column "lifetime_delta" type int;`);
    this.addSql(`alter table "member_balance" alter column "available" type int, alter column "pending" type int, alter column "lifetime" type int;`);
  }
}
