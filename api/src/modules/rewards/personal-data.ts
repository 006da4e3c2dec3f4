import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/**
 * The member's redemptions in a data export. Voucher codes are left out: they are bearer credentials, read only by those
 * who may redeem them, and an export leaves the platform.
 */
export function rewardsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select d.id, d.member_id, r.code as reward_code, r.name as reward_name, d.points, d.status, d.created_at, d.expires_at,
      d.consumed_at, d.consumed_order_ref, d.cancelled_at, d.granted_by
    from redemption d join reward r on r.id = d.reward_id where d.member_id in (:members) order by d.created_at, d.id`, memberIds);
}
