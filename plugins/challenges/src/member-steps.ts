import type { EntityManager } from '@mikro-orm/postgresql';
import { rowsForMembers } from '@loyalty/api/extension-api';

/**
 * A merge keeps one row per challenge on the survivor: a completed one wins (the earlier completion if both), else
 * the one further towards its goal; the spend of both is added (it is one person's), the states are not combined, so a
 * merge never completes a challenge by itself (the next qualifying event may). Badges move unless the survivor holds
 * the same one. Runs in the merge's transaction, which holds both members' locks.
 */
export async function mergeChallenges(em: EntityManager, survivorId: string, absorbedId: string): Promise<void> {
  const pairs = await em.execute<{ keep: string; drop: string; spend: string; orders: number }[]>(
    `select case when keep_survivor then s.id else a.id end as keep, case when keep_survivor then a.id else s.id end as drop,
            (s.spend_minor + a.spend_minor)::text as spend, s.orders + a.orders as orders
     from challenge_progress s join challenge_progress a on a.challenge_id = s.challenge_id
     cross join lateral (select case
       when s.completed_at is not null then a.completed_at is null or s.completed_at <= a.completed_at
       when a.completed_at is not null then false
       else s.progress::float8 / s.goal >= a.progress::float8 / a.goal end as keep_survivor) k
     where s.member_id = ? and a.member_id = ?`,
    [survivorId, absorbedId],
  );
  for (const pair of pairs) {
    await em.execute(`delete from challenge_progress where id = ?`, [pair.drop]);
    await em.execute(`update challenge_progress set member_id = ?, spend_minor = ?::bigint, orders = ?, updated_at = now() where id = ?`, [survivorId, pair.spend, pair.orders, pair.keep]);
  }
  // The kept rows of the absorbed member were moved above; their other rows follow.
  await em.execute(`update challenge_progress set member_id = ?, updated_at = now() where member_id = ?`, [survivorId, absorbedId]);
  await em.execute(
    `delete from challenge_badge a using challenge_badge s where a.member_id = ? and s.member_id = ? and s.code = a.code`,
    [absorbedId, survivorId],
  );
  await em.execute(`update challenge_badge set member_id = ? where member_id = ?`, [survivorId, absorbedId]);
}

/** Erasure deletes the members' progress and badges: nothing of theirs stays in the plugin's tables. */
export async function eraseChallenges(em: EntityManager, memberIds: string[]): Promise<void> {
  if (memberIds.length === 0) return;
  await em.execute(`delete from challenge_progress where member_id in (?)`, [memberIds]);
  await em.execute(`delete from challenge_badge where member_id in (?)`, [memberIds]);
}

/** The member's challenges in a data export: progress in each (a holdout assignment included) and badges won. */
export async function exportChallenges(em: EntityManager, memberIds: readonly string[]) {
  return {
    progress: await rowsForMembers(
      em,
      `select p.member_id, c.code as challenge_code, c.name as challenge_name, p.goal, p.progress, p.state, p.is_holdout, p.joined_at, p.completed_at, p.reward_status
       from challenge_progress p join challenge c on c.id = p.challenge_id where p.member_id in (:members) order by p.joined_at, p.id`,
      memberIds,
    ),
    badges: await rowsForMembers(em, `select member_id, code, name, awarded_at from challenge_badge where member_id in (:members) order by awarded_at, id`, memberIds),
  };
}
