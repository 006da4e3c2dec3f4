import type { EntityManager } from '@mikro-orm/postgresql';

/** A member whose stored points history (member_points_history) differs from a recomputation from the ledger. */
export interface PointsHistoryMismatch {
  aggregate: 'member_points_history';
  memberId: string;
  channelId: null;
  problem: 'missing' | 'extra' | 'differs';
}

/**
 * The per-member points history the analytics KPIs read (Migration20261209100200_ledger_history) against its
 * definition recomputed from every ledger row (`member_points_history_expected`): empty when every row is exact.
 * One statement, so one snapshot for both sides.
 */
export async function pointsHistoryMismatches(em: EntityManager, limit = 100): Promise<PointsHistoryMismatch[]> {
  return em.transactional(
    async (tx) => {
      await tx.execute(`set local work_mem = '128MB'; set local jit = off`);
      const rows = await tx.execute<{ member_id: string; problem: PointsHistoryMismatch['problem'] }[]>(
        'select member_id, problem from points_history_mismatches(?) order by member_id',
        [limit],
      );
      return rows.map((r) => ({ aggregate: 'member_points_history' as const, memberId: r.member_id, channelId: null, problem: r.problem }));
    },
    { readOnly: true },
  );
}
