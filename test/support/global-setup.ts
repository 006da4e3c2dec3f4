import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { databaseUrl, templateName, withAdminClient } from './databases';

const root = path.resolve(__dirname, '..', '..');

/**
 * One migrated template database per run; each jest worker clones it (see harness.ts).
 * Migrations run in a child process through the real `migrate` command: MikroORM must not be
 * initialised in jest's global-setup realm (mikro-orm/mikro-orm#3783).
 */
export default async function globalSetup() {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  process.env.TEST_RUN_ID = runId;
  const name = templateName(runId);
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', path.join(root, 'api')], {
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [path.join(root, 'api/dist/composition/cli/migrate.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    stdio: 'inherit',
  });
}
