import { Migration } from '@mikro-orm/migrations';

/**
 * `point_lot.order_id`: the order whose crediting earned the lot (its own points and the bonuses credited on it as
 * ORDER_EARN lots of their own), so a return claws back from all of them before the member's other points. Lots
 * already written are linked by what links them: an order's own lot by its source, a bonus by the `…:order:<id>` its
 * ledger row's key ends with (campaign bonuses), for the same member.
 */
export const LINK_EXISTING_LOTS = [
  `update "point_lot" set "order_id" = "source_id" where "source_type" = 'order' and "order_id" is null;`,
  `update "point_lot" l set "order_id" = o."id"
    from "ledger_entry" e, "customer_order" o
    where e."id" = l."ledger_entry_id" and l."order_id" is null and e."reason" = 'ORDER_EARN'
      and e."idempotency_key" ~ ':order:[0-9a-f-]{36}$'
      and o."id" = substring(e."idempotency_key" from ':order:([0-9a-f-]{36})$')::uuid and o."member_id" = l."member_id";`,
];

export class Migration20261219100000_lot_order extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "point_lot" add column "order_id" uuid null;`);
    for (const sql of LINK_EXISTING_LOTS) this.addSql(sql);
    this.addSql(`create index "point_lot_order_id_index" on "point_lot" ("order_id") where "order_id" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "point_lot_order_id_index";`);
    this.addSql(`alter table "point_lot" drop column "order_id";`);
  }
}
