import type { EntityManager } from '@mikro-orm/postgresql';

/** A member whose stored aggregate row differs from a recomputation from the rows it derives from. */
export interface AggregateMismatch {
  /**
   * The aggregate table: member_order_history, member_channel_order_history, member_points_history, member_order_stats,
   * member_channel_order_stats, order_day_totals or points_hour_totals.
   */
  aggregate: string;
  /** Null for the totals per day or hour, which are not per member. */
  memberId: string | null;
  /** The sales channel of a per-channel or order_day_totals row; null otherwise. */
  channelId: string | null;
  /** The row of order_day_totals (day, country, shard) or points_hour_totals (hour, shard); null for per-member rows. */
  key?: string | null;
  /** `missing` (orders but no row), `extra` (a row but no such orders) or `differs`. */
  problem: 'missing' | 'extra' | 'differs';
}

/**
 * The per-member order history (Migration20261209100000_order_history) against its definition, recomputed from every
 * order (the `*_expected` views), and the pre-aggregates of Migration20261210100000_scale_aggregates against theirs:
 * empty when every row is exact. Part of the ledger check (`npm run ledger:check`). Two passes over the orders and one
 * over the ledger: a few minutes at 1 M members.
 */
export async function orderHistoryMismatches(em: EntityManager, limit = 100): Promise<AggregateMismatch[]> {
  return em.transactional(
    async (tx) => {
      await tx.execute(`set local work_mem = '128MB'; set local jit = off`);
      const rows = await tx.execute<{ member_id: string; channel_id: string | null; problem: AggregateMismatch['problem'] }[]>(
        'select member_id, channel_id, problem from order_history_mismatches(?) order by member_id, channel_id nulls first',
        [limit],
      );
      // The pre-aggregates of Migration20261210100000_scale_aggregates likewise (stats, daily order and hourly points totals).
      const scale = await tx.execute<{ aggregate: string; member_id: string | null; channel_id: string | null; key: string | null; problem: AggregateMismatch['problem'] }[]>(
        'select aggregate, member_id, channel_id, key, problem from scale_aggregate_mismatches(?) order by aggregate, member_id, channel_id, key',
        [limit],
      );
      return [
        ...rows.map((r) => ({
          aggregate: r.channel_id ? 'member_channel_order_history' : 'member_order_history',
          memberId: r.member_id,
          channelId: r.channel_id,
          problem: r.problem,
        })),
        ...scale.map((r) => ({ aggregate: r.aggregate, memberId: r.member_id, channelId: r.channel_id, key: r.key, problem: r.problem })),
      ];
    },
    // One statement (a stable SQL function): the stored rows and the orders are read in one snapshot.
    { readOnly: true },
  );
}
