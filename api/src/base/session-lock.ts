import type { EntityManager } from '@mikro-orm/postgresql';

interface PgClient {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /** Set on a connection knex's pool must not hand out again: it closes it instead. */
  __knex__disposed?: unknown;
}

interface KnexLike {
  client: { acquireConnection(): Promise<PgClient>; releaseConnection(conn: PgClient): Promise<unknown> };
}

/**
 * Runs `work` while this process holds the PostgreSQL session advisory lock named `name`, on a pooled connection kept
 * for the purpose; answers `{ ran: false }` at once, without running it, when another session holds the lock. The lock
 * spans every process on the database, and PostgreSQL drops it with the connection if the process dies, so no stale
 * lock outlives its holder. `work` does its own queries on other connections.
 */
export async function withSessionLock<T>(em: EntityManager, name: string, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  const knex = em.getConnection().getKnex() as unknown as KnexLike;
  const conn = await knex.client.acquireConnection();
  try {
    const { rows } = await conn.query('select pg_try_advisory_lock(hashtext($1)) as locked', [name]);
    if (rows[0]?.locked !== true) return { ran: false };
    try {
      return { ran: true, value: await work() };
    } finally {
      // A connection that cannot say unlock is closed rather than pooled: closing it is what frees the lock.
      await conn.query('select pg_advisory_unlock(hashtext($1))', [name]).catch((err: unknown) => {
        conn.__knex__disposed = err;
      });
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/** Whether any session holds the lock `withSessionLock(em, name, …)` takes, without taking it. */
export async function sessionLockHeld(em: EntityManager, name: string): Promise<boolean> {
  // pg_locks shows a one-key advisory lock as its bigint key's high and low 32 bits (classid, objid), objsubid 1.
  const [row] = await em.execute<{ held: boolean }[]>(
    `select exists (
       select 1 from pg_locks l, (select hashtext(?)::bigint as k) key
       where l.locktype = 'advisory' and l.granted and l.objsubid = 1
         and l.database = (select oid from pg_database where datname = current_database())
         and l.classid = ((key.k >> 32) & 4294967295)::oid and l.objid = (key.k & 4294967295)::oid
     ) as held`,
    [name],
  );
  return row?.held === true;
}
