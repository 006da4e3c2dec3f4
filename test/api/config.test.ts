import { loadConfig, ConfigError, redactedConfig } from '../../api/src/base/config';
import { loadConfig as loadWorkerConfig } from '../../recommender/src/config';
import { analyticsOrmOptions, ormOptions } from '../../api/src/composition/orm';

describe('loadConfig', () => {
  it('applies defaults that work on a laptop', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 4000, REDIS_URL: 'redis://127.0.0.1:6379', hasExplicitDatabaseUrl: false, isProduction: false });
    expect(c.GRAPHQL_INTROSPECTION).toBe(true);
  });

  it('names each bad variable in one readable message', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(/^Invalid configuration:/);
      for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(msg).toContain(`  ${name}:`);
    }
  });

  it('takes POINTS_JOBS_CRON as a cron expression (seconds optional) or off, and refuses anything else at start', () => {
    expect(loadConfig({}).POINTS_JOBS_CRON).toBe('*/15 * * * *');
    for (const cron of ['0 3 * * *', '*/2 * * * * *', 'off']) expect(loadConfig({ POINTS_JOBS_CRON: cron }).POINTS_JOBS_CRON).toBe(cron);
    // An empty variable is an unset one, as for every variable; blanks are not.
    expect(loadConfig({ POINTS_JOBS_CRON: '' }).POINTS_JOBS_CRON).toBe('*/15 * * * *');
    for (const cron of ['every 15 minutes', '61 * * * *', '   ', '* * * * * * * *']) {
      expect(() => loadConfig({ POINTS_JOBS_CRON: cron })).toThrow(/POINTS_JOBS_CRON: is neither a cron expression/);
    }
  });

  it('keeps uploads IMPORT_RETENTION_DAYS (30 by default, 0 for until deleted) and refuses a negative or fractional count', () => {
    expect(loadConfig({}).IMPORT_RETENTION_DAYS).toBe(30);
    expect(loadConfig({ IMPORT_RETENTION_DAYS: '0' }).IMPORT_RETENTION_DAYS).toBe(0);
    for (const days of ['-1', '1.5', 'a month', '3651']) expect(() => loadConfig({ IMPORT_RETENTION_DAYS: days })).toThrow(/IMPORT_RETENTION_DAYS/);
  });

  it('runs imports in every API process unless IMPORT_RUNNER is false, and refuses anything but a boolean', () => {
    expect(loadConfig({}).IMPORT_RUNNER).toBe(true);
    expect(loadConfig({ IMPORT_RUNNER: 'false' }).IMPORT_RUNNER).toBe(false);
    expect(() => loadConfig({ IMPORT_RUNNER: 'sometimes' })).toThrow(/IMPORT_RUNNER/);
  });

  it('requires a strong JWT_SECRET in production and turns introspection off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required when NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32 characters/);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://u:p@db:5432/l' });
    expect(c.GRAPHQL_INTROSPECTION).toBe(false);
    expect(c.hasExplicitDatabaseUrl).toBe(true);
  });

  it('keeps idle pooled connections for DB_POOL_IDLE_SECONDS (5 minutes by default), and refuses a bad value', () => {
    const pool = (env: NodeJS.ProcessEnv) => ormOptions({ ...loadConfig(env), DATABASE_URL: 'postgres://u@db:5432/l' }).pool;
    expect(pool({})).toMatchObject({ min: 0, max: 10, idleTimeoutMillis: 300_000 });
    expect(pool({ DB_POOL_MAX: '3', DB_POOL_IDLE_SECONDS: '42' })).toMatchObject({ max: 3, idleTimeoutMillis: 42_000 });
    expect(() => loadConfig({ DB_POOL_IDLE_SECONDS: '0' })).toThrow(/DB_POOL_IDLE_SECONDS/);
    // A run of the points jobs holds one connection for its lock and works on another.
    expect(() => loadConfig({ DB_POOL_MAX: '1' })).toThrow(/DB_POOL_MAX/);
  });

  it('gives heavy reads a pool of their own: ANALYTICS_POOL_MAX connections, on DATABASE_READ_URL when set', () => {
    const base = { DATABASE_URL: 'postgres://u@db:5432/l' };
    const onPrimary = analyticsOrmOptions(loadConfig(base));
    expect(onPrimary.pool).toMatchObject({ max: 4 });
    expect(onPrimary.clientUrl).toBe(base.DATABASE_URL);
    const onReplica = analyticsOrmOptions(loadConfig({ ...base, DATABASE_READ_URL: 'postgres://u@replica:5432/l', ANALYTICS_POOL_MAX: '2' }));
    expect(onReplica.pool).toMatchObject({ max: 2 });
    expect(onReplica.clientUrl).toBe('postgres://u@replica:5432/l');
    expect(() => loadConfig({ ANALYTICS_POOL_MAX: '-1' })).toThrow(/ANALYTICS_POOL_MAX/);
  });

  it('redacts secrets for logging', () => {
    const c = loadConfig({ JWT_SECRET: 'y'.repeat(40), DATABASE_URL: 'postgres://u:secretpw@db:5432/l' });
    const shown = JSON.stringify(redactedConfig(c));
    expect(shown).not.toContain('secretpw');
    expect(shown).not.toContain('y'.repeat(40));
  });

  it('keeps one Redis server and the `bull` prefix unless REDIS_CLUSTER_NODES is set', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ REDIS_CLUSTER_NODES: null, QUEUE_PREFIX: 'bull' });
    expect(loadConfig({ QUEUE_PREFIX: 'test-run-1' }).QUEUE_PREFIX).toBe('test-run-1');
  });

  it('reads cluster seed nodes and defaults the queue prefix to a hash tag in cluster mode, in the API and the worker', () => {
    for (const load of [loadConfig, loadWorkerConfig]) {
      const c = load({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-2.internal:7001,[::1]:7002' });
      expect(c.REDIS_CLUSTER_NODES).toEqual([
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ]);
      expect(c.QUEUE_PREFIX).toBe('{bull}');
      expect(load({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', QUEUE_PREFIX: '{loyalty}' }).QUEUE_PREFIX).toBe('{loyalty}');
    }
  });

  it('refuses a queue prefix without a hash tag, and a node that is not host:port, in cluster mode', () => {
    for (const load of [loadConfig, loadWorkerConfig]) {
      expect(() => load({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', QUEUE_PREFIX: 'loyalty' })).toThrow(
        /QUEUE_PREFIX: must be a hash tag such as \{loyalty\} when REDIS_CLUSTER_NODES is set/,
      );
      expect(() => load({ REDIS_CLUSTER_NODES: '10.0.0.1' })).toThrow(/REDIS_CLUSTER_NODES: "10.0.0.1" is not host:port/);
      expect(() => load({ REDIS_CLUSTER_NODES: '10.0.0.1:99999' })).toThrow(/REDIS_CLUSTER_NODES: "10.0.0.1:99999" is not host:port/);
      expect(() => load({ REDIS_CLUSTER_NODES: ' , ' })).toThrow(/REDIS_CLUSTER_NODES: lists no node/);
    }
  });
});
