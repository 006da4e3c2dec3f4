import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The saved segments whose last computed membership holds the member, in a data export. */
export function segmentsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select sm.member_id, s.name as segment, s.description
    from segment_member sm join segment s on s.id = sm.segment_id and s.deleted_at is null where sm.member_id in (:members) order by s.name, sm.member_id`, memberIds);
}
