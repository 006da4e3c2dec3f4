import { Migration } from '@mikro-orm/migrations';

/** The dispatcher looks for PENDING deliveries whose job Redis lost; this keeps that look at the few still pending. */
export class Migration20261201130000_webhook_pending_deliveries extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "webhook_delivery_pending_index" on "webhook_delivery" ("created_at") where "status" = 'PENDING';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "webhook_delivery_pending_index";`);
  }
}
