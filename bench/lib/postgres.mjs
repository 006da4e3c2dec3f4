import pg from 'pg';
import { onCleanup } from './cleanup.mjs';

export const serverUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** The same server and credentials as BENCH_DATABASE_URL, another database. */
export function databaseUrl(name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  // An idle connection killed by DROP DATABASE … WITH (FORCE) during clean-up must not crash the run; queries still reject.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;

/**
 * Creates an empty database and registers its drop. Returns `{ name, url, drop }`; `drop()` may be called early.
 * The drop uses WITH (FORCE) so that a child still connected (an API killed mid-run) cannot keep it alive.
 */
export async function createDatabase(name) {
  await withClient(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  const drop = onCleanup(`drop database ${name}`, () =>
    withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)),
  );
  return { name, url: databaseUrl(name), drop };
}

/** PostgreSQL's version string, for the report. */
export function serverVersion() {
  return withClient(serverUrl, async (c) => (await c.query('SHOW server_version')).rows[0].server_version);
}

/**
 * Row count of a table once it stops changing: requests still in flight when the load generator stops (or from
 * the warm-up) may commit a moment later, and must land on the right side of the count.
 */
export async function settledCount(client, table, { intervalMs = 250, maxWaitMs = 10_000 } = {}) {
  const count = async () => Number((await client.query(`SELECT count(*) AS n FROM ${quoteIdent(table)}`)).rows[0].n);
  const deadline = Date.now() + maxWaitMs;
  let last = await count();
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = await count();
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
