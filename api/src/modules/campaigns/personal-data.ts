import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/** The campaigns the member was in (treated or held out) and the messages written to them, in a data export. */
export async function campaignsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return {
    memberships: await rowsForMembers(em, `select cm.member_id, c.name as campaign, cm.assigned_group, cm.assigned_at, cm.bonus_points, cm.contacted_at, cm.offer
      from campaign_member cm join campaign c on c.id = cm.campaign_id where cm.member_id in (:members) order by cm.assigned_at, c.id`, memberIds),
    messages: await rowsForMembers(em, `select m.member_id, c.name as campaign, m.medium, m.subject, m.body, m.status, m.created_at, m.sent_at
      from campaign_message m join campaign c on c.id = m.campaign_id where m.member_id in (:members) order by m.created_at, m.id`, memberIds),
  };
}
