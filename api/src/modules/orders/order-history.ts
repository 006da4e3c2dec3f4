import type { EntityManager } from '@mikro-orm/postgresql';

/** A member whose stored aggregate row differs from a recomputation from the rows it derives from. */
export interface AggregateMismatch {
  /** The aggregate table: member_order_history, member_channel_order_history or member_points_history. */
  aggregate: string;
  memberId: string;
  /** The sales channel of a member_channel_order_history row; null otherwise. */
  channelId: string | null;
  /** `missing` (orders but no row), `extra` (a row but no such orders) or `differs`. */
  problem: 'missing' | 'extra' | 'differs';
}

/**
 * The per-member order history (Migration20261209100000_order_history) against its definition, recomputed from every
 * order (the `*_expected` views): empty when every row is exact. Part of the ledger check (`npm run ledger:check`).
 * One pass over the orders: 1 to 2 minutes at 1 M members.
 */
export async function orderHistoryMismatches(em: EntityManager, limit = 100): Promise<AggregateMismatch[]> {
  return em.transactional(
    async (tx) => {
      await tx.execute(`set local work_mem = '128MB'; set local jit = off`);
      const rows = await tx.execute<{ member_id: string; channel_id: string | null; problem: AggregateMismatch['problem'] }[]>(
        'select member_id, channel_id, problem from order_history_mismatches(?) order by member_id, channel_id nulls first',
        [limit],
      );
      return rows.map((r) => ({
        aggregate: r.channel_id ? 'member_channel_order_history' : 'member_order_history',
        memberId: r.member_id,
        channelId: r.channel_id,
        problem: r.problem,
      }));
    },
    // One statement (a stable SQL function): the stored rows and the orders are read in one snapshot.
    { readOnly: true },
  );
}
