import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The member's paid plans in a data export. */
export function plansPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select mp.id, mp.member_id, p.code as plan_code, p.name as plan_name, p.fee_minor, p.currency, mp.starts_at, mp.ends_at, mp.cancelled_at
    from member_plan mp join membership_plan p on p.id = mp.plan_id where mp.member_id in (:members) order by mp.starts_at, mp.id`, memberIds);
}
