import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/**
 * Who changed the member's record and when, in a data export: the action and the kind of actor (an admin, a channel's
 * key, the system), not which staff member; the changed values are in the other sections.
 */
export function auditPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select entity_id as member_id, action, split_part(actor, ':', 1) as actor_kind, created_at
    from audit_entry where entity_type = 'Member' and entity_id in (:members) order by id`, memberIds);
}
