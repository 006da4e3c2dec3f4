import 'reflect-metadata';
import { loadConfig } from '../../base/config';
import { createLogger } from '../../base/logger';
import { createOrm } from '../orm';
import { loadPlugins } from '../plugin';

/**
 * Applies pending migrations (`npm run migrate`): the core's, then those of each plugin in LOYALTY_PLUGINS, in one list;
 * exits non-zero if any fails, leaving none half-applied.
 */
async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'migrate');
  const orm = await createOrm({ ...config, isProduction: true }, loadPlugins(config.LOYALTY_PLUGINS));
  try {
    const applied = await orm.migrator.up();
    log.info({ applied: applied.map((m) => m.name) }, applied.length ? 'migrations.applied' : 'migrations.up_to_date');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error('migration failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
