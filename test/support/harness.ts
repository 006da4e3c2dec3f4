import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import type { EntityManager } from '@mikro-orm/postgresql';
import request from 'supertest';
import { createApp, type App } from '../../api/src/composition/app';
import { loadConfig, type Config } from '../../api/src/base/config';
import { createLogger } from '../../api/src/base/logger';
import { analyticsOrmOptions, ormOptions, type Orm } from '../../api/src/composition/orm';
import { createRedis } from '../../api/src/base/redis';
import { composePlugins, type LoyaltyPlugin } from '../../api/src/composition/plugin';
import type { Clock } from '../../api/src/base/time';
import { databaseUrl, redisUrl, templateName, withAdminClient, workerDbName } from './databases';

export interface Harness {
  app: App;
  orm: Orm;
  config: Config;
  /** A fresh entity manager for assertions straight against the database. */
  em(): EntityManager;
  gql<T = any>(auth: Auth, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  http(): request.Agent;
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
}

export type Auth = { token: string } | { apiKey: string } | null;

export interface GqlResult<T> {
  data: T;
  errors?: Array<{ message: string; path?: string[]; extensions: Record<string, any> }>;
  headers: Record<string, string>;
  status: number;
}

/** Kept across files: the migration history, and the one settings row (reset to its defaults instead). */
const TABLES_TO_KEEP = new Set(['mikro_orm_migrations', 'programme_settings', 'earning_terms_version']);
const DEFAULT_SETTINGS = `update programme_settings set pending_days = 14, lot_expiry_months = 12, tier_metric = 'POINTS_EARNED',
  tier_window_days = 365, voucher_valid_days = 30, point_value_minor = 1, point_value_currency = 'GBP',
  referral_referrer_points = 500, referral_referred_points = 500, referral_min_order_minor = 2000, time_zone = 'UTC'`;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: redisUrl,
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    // Counters of this app instance only (suites share 127.0.0.1), and budgets no suite reaches by accident;
    // test/api/security-*.test.ts sets small ones.
    RATE_LIMIT_KEY_PREFIX: `rl-test-${process.env.TEST_RUN_ID ?? 'local'}-${randomBytes(4).toString('hex')}`,
    RATE_LIMIT_ADMIN_REQUESTS: '1000000',
    RATE_LIMIT_API_KEY_REQUESTS: '1000000',
    LOGIN_MAX_FAILURES_PER_IP: '1000000',
    ...overrides,
  });
}

async function workerDatabase(): Promise<string> {
  const runId = process.env.TEST_RUN_ID;
  if (!runId) throw new Error('TEST_RUN_ID is not set: run the suite through jest (test/jest.config.js)');
  const name = workerDbName(runId, process.env.JEST_WORKER_ID ?? '1');
  await withAdminClient(async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName(runId)}"`);
  });
  return databaseUrl(name);
}

/**
 * Starts the real API (Express + Apollo + MikroORM + Redis) on this worker's own database, truncated
 * before each test file. Register with `const h = useHarness();` at the top of a test file.
 */
export function useHarness(
  overrides: Record<string, string> = {},
  options: { logDestination?: { write(line: string): void }; plugins?: readonly LoyaltyPlugin[]; clock?: Clock } = {},
): Harness {
  const plugins = options.plugins ?? [];
  const state: Partial<Harness> & { stop?: () => Promise<void> } = {};

  beforeAll(async () => {
    const url = await workerDatabase();
    const config = testConfig({ DATABASE_URL: url, ...overrides });
    const log = createLogger(config.LOG_LEVEL, 'api-test', options.logDestination);
    const orm = await MikroORM.init(ormOptions(config, plugins));
    // The template has the core's migrations; a plugin's are applied here, as `npm run migrate` would.
    if (composePlugins(plugins).migrations.length) await orm.migrator.up();
    const tables = await orm.em
      .getConnection()
      .execute<{ tablename: string }[]>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    const names = tables.map((t) => `"${t.tablename}"`).filter((t) => !TABLES_TO_KEEP.has(t.slice(1, -1)));
    if (names.length) await orm.em.getConnection().execute(`TRUNCATE ${names.join(', ')} CASCADE`);
    await orm.em.getConnection().execute(DEFAULT_SETTINGS);
    const redis = createRedis(config.REDIS_URL, log);
    const readOrm = await MikroORM.init(analyticsOrmOptions(config, plugins));
    const app = await createApp({ config, orm, readOrm, redis, log, plugins, clock: options.clock });

    Object.assign(state, {
      app,
      orm,
      config,
      em: () => orm.em.fork(),
      http: () => request.agent(app.server),
      sql: (text: string, params: unknown[] = []) => orm.em.getConnection().execute(text, params),
      gql: async (auth: Auth, query: string, variables?: Record<string, unknown>) => {
        let req = request(app.server).post('/graphql').set('content-type', 'application/json');
        if (auth && 'token' in auth) req = req.set('authorization', `Bearer ${auth.token}`);
        if (auth && 'apiKey' in auth) req = req.set('x-api-key', auth.apiKey);
        const res = await req.send({ query, variables });
        return { ...res.body, headers: res.headers, status: res.status };
      },
      stop: () => app.stop(),
    });
  });

  afterAll(async () => {
    await state.stop?.();
  });

  return new Proxy({} as Harness, {
    get: (_t, key: keyof Harness) => {
      if (!(key in state)) throw new Error(`harness.${String(key)} used before beforeAll ran`);
      return state[key];
    },
  });
}

/** Asserts a GraphQL call failed with `code` and returns its first error. */
export function expectError(result: GqlResult<unknown>, code: string) {
  expect(result.errors?.map((e) => e.extensions.code)).toEqual([code]);
  return result.errors![0];
}
