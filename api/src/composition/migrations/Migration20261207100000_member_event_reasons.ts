import { Migration } from '@mikro-orm/migrations';

const BEFORE = `'ORDER_EARN', 'RELEASE', 'RETURN_CLAWBACK', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY', 'ADJUSTMENT', 'MERGE_OUT', 'MERGE_IN', 'REFERRAL', 'REFERRAL_REVERSAL'`;

/**
 * Points a plugin credits outside an order (modules/earning/member-events.ts): ACTIVITY for a member's non-purchase
 * event, BONUS for a reward the member earned (a goal reached). A redemption may be granted rather than bought
 * (`points` 0, `granted_by` names the cause).
 */
export class Migration20261207100000_member_event_reasons extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in (${BEFORE}, 'ACTIVITY', 'BONUS'));`);
    this.addSql(`alter table "redemption" add column "granted_by" varchar(120) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "redemption" drop column if exists "granted_by";`);
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in (${BEFORE}));`);
  }
}
