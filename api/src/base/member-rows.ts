import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The rows `sql` selects for one person's member records, as JSON objects built by PostgreSQL (`row_to_json`): times in
 * ISO 8601, bigints and reals as numbers, json columns nested. `sql` names the records as `:members`, replaced by one
 * placeholder each. Each module lists its own rows for a member's data export with it, plugins too (extension-api).
 */
export async function rowsForMembers<T = Record<string, unknown>>(em: EntityManager, sql: string, memberIds: readonly string[]): Promise<T[]> {
  if (memberIds.length === 0) return [];
  const placeholders = memberIds.map(() => '?').join(', ');
  const parts = sql.split(':members');
  const params = parts.slice(1).flatMap(() => memberIds);
  // A plain projection of the subquery: PostgreSQL keeps its ORDER BY.
  const rows = await em.execute<{ row: T }[]>(`select row_to_json(r) as row from (${parts.join(placeholders)}) r`, params);
  return rows.map((r) => r.row);
}
