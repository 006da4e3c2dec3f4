import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from '../../base/config';
import { createLogger, type Logger } from '../../base/logger';
import { createOrm, type Orm } from '../orm';
import { createServices, type Services } from '../services';
import { loadPlugins } from '../plugin';

/** Runs a command-line task with config, ORM and services, then closes everything. */
export function runCli(name: string, task: (deps: { config: Config; orm: Orm; services: Services; log: Logger }) => Promise<void>) {
  (async () => {
    const config = loadConfig();
    const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name);
    // The plugins too: an import credits orders with their earning-rule kinds, as the API does.
    const plugins = loadPlugins(config.LOYALTY_PLUGINS);
    const orm = await createOrm({ ...config, isProduction: true }, plugins);
    try {
      await task({ config, orm, services: createServices(config, { plugins }), log });
    } finally {
      await orm.close();
    }
  })().catch((err) => {
    const message = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err);
    console.error(`${name}: ${message}`);
    process.exit(1);
  });
}
