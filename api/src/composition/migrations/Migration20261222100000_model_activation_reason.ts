import { Migration } from '@mikro-orm/migrations';

const HAND = 'activated by hand: ';

/** Moves the admin's reason written over the gate's ("activated by hand: …") to `activation_reason`. */
export const MOVE_HAND_REASONS = `update "model_version" set "activation_reason" = substr("gate_reason", ${HAND.length + 1}), "gate_reason" = null
  where "gate_reason" like '${HAND}%'`;

/**
 * A version activated by hand keeps the promotion gate's reason (`gate_reason`); the admin's reason goes to
 * `activation_reason`. Until now the admin's overwrote the gate's as "activated by hand: …": those move over, and the
 * gate's reason they replaced is gone (the audit log's `model.activated` entry has the admin's only).
 */
export class Migration20261222100000_model_activation_reason extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "model_version" add column "activation_reason" varchar(500) null;`);
    this.addSql(`${MOVE_HAND_REASONS};`);
  }

  override async down(): Promise<void> {
    this.addSql(
      `update "model_version" set "gate_reason" = left('${HAND}' || "activation_reason", 500) where "activation_reason" is not null;`,
    );
    this.addSql(`alter table "model_version" drop column "activation_reason";`);
  }
}
