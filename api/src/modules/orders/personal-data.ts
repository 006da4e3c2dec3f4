import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The member's orders in a data export, each with its lines (the product named) and its returns. */
export async function ordersPersonalData(em: EntityManager, memberIds: readonly string[]) {
  const orders = await rowsForMembers<{ id: string } & Record<string, unknown>>(em, `select o.id, o.member_id, c.name as channel, o.channel_kind, o.external_order_id, o.status, o.currency,
      o.subtotal_minor, o.order_discount_minor, o.total_minor, o.returned_minor, o.store_code, o.placed_at, o.claimed_at,
      o.points_earned, o.points_clawed_back
    from customer_order o join sales_channel c on c.id = o.channel_id where o.member_id in (:members) order by o.placed_at, o.id`, memberIds);
  const lines = await rowsForMembers<{ order_id: string } & Record<string, unknown>>(em, `select l.order_id, l.line_no, l.sku, p.name as product_name, l.quantity, l.unit_price_minor,
      l.discount_minor, l.total_minor, l.returned_quantity
    from order_line l join customer_order o on o.id = l.order_id left join product p on p.id = l.product_id
    where o.member_id in (:members) order by l.order_id, l.line_no`, memberIds);
  const returns = await rowsForMembers<{ order_id: string } & Record<string, unknown>>(em, `select r.order_id, r.external_return_id, r.lines, r.value_minor, r.points_clawed_back, r.created_at
    from order_return r join customer_order o on o.id = r.order_id where o.member_id in (:members) order by r.created_at, r.id`, memberIds);
  return orders.map((order) => ({
    ...order,
    lines: lines.filter((l) => l.order_id === order.id).map(({ order_id: _, ...line }) => line),
    returns: returns.filter((r) => r.order_id === order.id).map(({ order_id: _, ...ret }) => ret),
  }));
}
