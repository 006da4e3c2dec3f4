import 'reflect-metadata';
import { ConfigError, loadConfig } from '../base/config';
import { createLogger } from '../base/logger';
import { createAnalyticsOrm, createOrm } from './orm';
import { createRedis } from '../base/redis';
import { createApp } from './app';
import { startPointsScheduler } from '../modules/jobs/points-scheduler';
import { WebhookDispatcher } from '../modules/webhooks/dispatcher';
import { startCampaignRunner } from '../modules/campaigns/campaign-runner';
import { startImportPickup } from '../modules/import/import-pickup';
import { startImportRetention } from '../modules/import/import-retention';
import { composePlugins, loadPlugins, PluginError } from './plugin';
import { OutboxSubscriberRunner } from '../modules/events/subscriber-runner';

async function main() {
  let config;
  let plugins;
  try {
    config = loadConfig();
    plugins = loadPlugins(config.LOYALTY_PLUGINS);
    composePlugins(plugins);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PluginError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL, 'api');
  const orm = await createOrm(config, plugins);
  const readOrm = await createAnalyticsOrm(config, plugins);
  const redis = createRedis(config.REDIS_URL, log, config.REDIS_CLUSTER_NODES);
  const app = await createApp({ config, orm, readOrm, redis, log, plugins });
  const port = await app.listen();
  log.info({ port }, 'api.listening');
  const scheduler = config.POINTS_JOBS_CRON !== 'off'
    ? startPointsScheduler({
        orm,
        services: app.services,
        log,
        connection: config,
        cron: config.POINTS_JOBS_CRON,
        checkEveryMs: config.SCHEDULE_CHECK_SECONDS * 1000,
      })
    : null;
  const dispatcher = config.WEBHOOKS_ENABLED ? new WebhookDispatcher(orm, config, log, app.telemetry.webhooks).start() : null;
  const subscribers = config.SUBSCRIBERS_ENABLED ? new OutboxSubscriberRunner(orm, app.services.events.subscribers, config, log).start() : null;
  const campaignRunner = config.CAMPAIGNS_SWEEP_MS > 0 ? startCampaignRunner(orm, app.services.campaigns, config.CAMPAIGNS_SWEEP_MS, log) : null;
  const importRetention = config.IMPORT_RETENTION_DAYS > 0 ? startImportRetention(orm, app.services.imports, config.IMPORT_RETENTION_DAYS, log.child({ module: 'import' })) : null;
  const importPickup = config.IMPORT_RUNNER ? startImportPickup(() => app.services.imports.pickUp(orm.em.fork()), log.child({ module: 'import' })) : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'api.stopping');
    await scheduler?.close().catch(() => undefined);
    await dispatcher?.close();
    await subscribers?.close();
    await campaignRunner?.close();
    await importRetention?.close();
    await importPickup?.close();
    await app.stop();
    log.info('api.stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error('api failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
