import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { countDbQuery } from './request-scope';

/** What node-postgres needs of a connection: a query with a name is prepared once per connection, then only bound. */
interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

interface KnexLike {
  client: { acquireConnection(): Promise<PgClient>; releaseConnection(conn: PgClient): Promise<unknown> };
}

/** Statement texts by their source: `?` turned into `$n` (as knex does), and the name they are prepared under. */
const statements = new Map<string, { text: string; name: string }>();
const MAX_STATEMENTS = 500;

/** The text (`$n` placeholders) and name a statement is prepared under; the benchmarks' ceilings prepare the same. */
export function preparedStatement(sql: string): { text: string; name: string } {
  let statement = statements.get(sql);
  if (!statement) {
    let n = 0;
    // `\?` stays a literal `?` (a jsonb operator), as with knex's raw bindings.
    const text = sql.replace(/\\\?|\?/g, (m) => (m === '?' ? `$${++n}` : '?'));
    statement = { text, name: `lp_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` };
    // Only the hot paths come here, each with a few shapes; the bound keeps a mistake from growing without end.
    if (statements.size < MAX_STATEMENTS) statements.set(sql, statement);
  }
  return statement;
}

/**
 * Runs one statement of a hot path as a named prepared statement on the connection of `em`'s transaction (or, outside
 * one, a pooled connection): PostgreSQL parses and plans it once per connection, and no ORM work is done for it. The
 * SQL uses `?` placeholders, as `em.execute` does. Errors come back as the ORM's exceptions (a unique violation is a
 * UniqueConstraintViolationException), and the statement is counted against the request (`x-db-queries`).
 * Name the columns a statement returns (no top-level `table.*`): PostgreSQL refuses to run a prepared statement whose
 * result columns changed since it was prepared, so a migration adding a column would break running processes.
 */
export async function runPrepared<T = Record<string, unknown>>(em: EntityManager, sql: string, params: readonly unknown[]): Promise<T[]> {
  const { text, name } = preparedStatement(sql);
  const trx = em.getTransactionContext<KnexLike>();
  const knex = trx ?? (em.getConnection().getKnex() as unknown as KnexLike);
  const conn = await knex.client.acquireConnection();
  countDbQuery();
  try {
    const result = await conn.query({ name, text, values: params as unknown[] });
    return result.rows as T[];
  } catch (err) {
    throw em.getDriver().convertException(err as Error);
  } finally {
    if (!trx) await knex.client.releaseConnection(conn);
  }
}
