import pino from 'pino';
import { ConfigError, loadConfig, redactedConfig } from './config';
import { startWorker } from './worker';
import { ModelPluginError } from './model-plugins';

function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = pino({ name: 'worker', level: config.LOG_LEVEL, redact: { paths: ['*.email', '*.phone', '*.token'], censor: '[redacted]' } });
  log.debug({ config: redactedConfig(config) }, 'worker.config');
  let worker;
  try {
    worker = startWorker(config, log);
  } catch (err) {
    if (err instanceof ModelPluginError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  log.info({ models: { RECOMMENDER: config.RECOMMENDER_MODEL, CHURN: config.CHURN_MODEL, VALUE: config.VALUE_MODEL }, modelPlugins: config.LOYALTY_MODEL_PLUGINS ?? null }, 'worker.models');
  // A port asked for and not had is a configuration mistake: stop, rather than run unobserved.
  worker.metricsListening?.then(
    (port) => log.info({ port }, 'worker.metrics_listening'),
    (err: unknown) => {
      log.fatal({ err, port: config.WORKER_METRICS_PORT }, 'worker.metrics_listen_failed');
      process.exit(1);
    },
  );

  let isStopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (isStopping) {
      log.warn({ signal }, 'worker.forced_exit');
      process.exit(1);
    }
    isStopping = true;
    log.info({ signal }, 'worker.stopping');
    worker.close().then(
      () => {
        log.info('worker.stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'worker.stop_failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main();
