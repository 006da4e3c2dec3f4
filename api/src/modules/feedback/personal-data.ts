import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The member's NPS and CSAT answers in a data export, comments included. */
export function feedbackPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return rowsForMembers(em, `select id, member_id, kind, score, comment, order_id, channel_kind, store_code, given_at
    from feedback where member_id in (:members) order by given_at, id`, memberIds);
}
