import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '../../base/member-rows';

/**
 * What the served models say about the member (profiling, GDPR article 15(1)(h)), in a data export: the active churn and
 * value versions' scores with their drivers, and the active recommender's products with their reasons.
 */
export async function modelsPersonalData(em: EntityManager, memberIds: readonly string[]) {
  return {
    churn: await rowsForMembers(em, `select s.member_id, s.score, s.band, s.drivers, s.previous_score, s.previous_scored_at, v.scored_at, v.id as model_version_id
      from member_churn_score s join model_version v on v.id = s.model_version_id and v.status = 'ACTIVE' where s.member_id in (:members) order by s.member_id`, memberIds),
    value: await rowsForMembers(em, `select s.member_id, s.amount_minor, s.p_return, s.band, s.drivers, v.scored_at, v.id as model_version_id
      from member_value_score s join model_version v on v.id = s.model_version_id and v.status = 'ACTIVE' where s.member_id in (:members) order by s.member_id`, memberIds),
    recommendations: await rowsForMembers(em, `select r.member_id, r.rank, p.sku, p.name as product_name, r.score, r.reason, r.is_repeat, v.id as model_version_id
      from member_recommendation r join model_version v on v.id = r.model_version_id and v.status = 'ACTIVE' join product p on p.id = r.product_id
      where r.member_id in (:members) order by r.member_id, r.rank`, memberIds),
  };
}
