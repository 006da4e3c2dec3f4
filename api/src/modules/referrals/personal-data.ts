import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The member's referrals in a data export, both ways; the other party is named by its member id only. */
export function referralsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select id, case when referrer_id in (:members) then 'REFERRER' else 'REFERRED' end as role, referrer_id, referred_id, code, status,
      void_reason, order_id, referrer_points, referred_points, created_at, credited_at, voided_at
    from referral where referrer_id in (:members) or referred_id in (:members) order by created_at, id`, memberIds);
}
