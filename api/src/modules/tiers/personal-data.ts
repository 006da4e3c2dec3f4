import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The member's tier and its history in a data export. */
export async function tiersPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return {
    current: await rowsForMembers(em, `select mt.member_id, t.code as tier_code, t.name as tier_name, mt.achieved_at, mt.retain_until
      from member_tier mt join tier t on t.id = mt.tier_id where mt.member_id in (:members) order by mt.member_id`, memberIds),
    changes: await rowsForMembers(em, `select member_id, from_tier, to_tier, reason, changed_at from tier_change where member_id in (:members) order by changed_at, id`, memberIds),
  };
}
