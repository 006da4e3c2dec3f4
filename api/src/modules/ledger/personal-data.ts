import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/**
 * The member's points in a data export: balances (with when an erasure closed the account), every ledger row (an
 * erasure's ERASURE_FORFEIT among them), and the lots with their expiry.
 */
export async function pointsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return {
    balances: await rowsForMembers(em, `select member_id, available, pending, lifetime, closed_at, updated_at
      from member_balance where member_id in (:members) order by member_id`, memberIds),
    ledger: await rowsForMembers(em, `select id, member_id, reason, available_delta, pending_delta,
        lifetime_delta, source_type, source_id, note, created_at
      from ledger_entry where member_id in (:members) order by id`, memberIds),
    lots: await rowsForMembers(em, `select id, member_id, source_type, source_id, order_id, points, remaining, state, earned_at, available_at, expires_at
      from point_lot where member_id in (:members) order by earned_at, id`, memberIds),
  };
}
