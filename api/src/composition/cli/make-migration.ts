import 'reflect-metadata';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig, repoRoot } from '../../base/config';
import { ormOptions } from '../orm';

/**
 * Developer tool: diffs the entities against a scratch database at the latest migration and writes a new
 * migration into api/src/composition/migrations. Add it to api/src/composition/migrations/index.ts afterwards.
 */
async function main() {
  const config = loadConfig();
  const options = ormOptions({ ...config, isProduction: true });
  const orm = await MikroORM.init({
    ...options,
    migrations: { ...options.migrations, migrationsList: undefined, path: path.join(repoRoot, 'api/src/composition/migrations'), emit: 'ts' },
  });
  try {
    const result = await orm.migrator.createMigration(undefined, false, false, process.argv[2]);
    console.log(result.fileName ? `wrote ${result.fileName}` : 'no schema changes');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
