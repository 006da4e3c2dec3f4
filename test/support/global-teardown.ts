import { withAdminClient } from './databases';

/** Drops every database this run created, clones first. */
export default async function globalTeardown() {
  const runId = process.env.TEST_RUN_ID;
  if (!runId) return;
  await withAdminClient(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY length(datname) DESC`,
      [`loyalty_test_${runId}%`],
    );
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
