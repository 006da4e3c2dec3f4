import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { z } from 'zod';
import cronParser from 'cron-parser';
import { clusterNodesSchema, queuePrefixSchema, resolveQueuePrefix } from '@loyalty/jobs';

/** Root of the repository, so paths resolve the same from src/ (tests) and dist/ (runtime). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * The plugins this distribution runs with when LOYALTY_PLUGINS is unset: `loyalty.plugins` of the repository's
 * package.json, as absolute paths. What they are is the packaging's choice; nothing in the code names them.
 */
export function distributionPlugins(): string[] {
  try {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { loyalty?: { plugins?: unknown } };
    const list = manifest.loyalty?.plugins;
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string').map((p) => (p.startsWith('.') ? path.resolve(repoRoot, p) : p)) : [];
  } catch {
    return [];
  }
}

const DEV_JWT_SECRET = 'dev-only-secret-change-me-in-production-0123456789';

/**
 * TRUST_PROXY as Express's `trust proxy` setting: `false`/`true`, a number of hops, or comma-separated addresses,
 * subnets and the names loopback, linklocal, uniquelocal. Express itself checks it, so the forms are exactly its own.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((text, ctx): boolean | number | string => {
    const setting = /^(true|false)$/i.test(text) ? text.toLowerCase() === 'true' : /^\d+$/.test(text) ? Number(text) : text;
    try {
      express().set('trust proxy', setting);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be true, false, a number of hops or comma-separated addresses/subnets (${(err as Error).message})` });
      return z.NEVER;
    }
    return setting;
  });

/** What Bull's repeatable jobs accept: it reads the expression with the same parser. */
function isCron(cron: string): boolean {
  // The parser reads a blank expression as every minute.
  if (cron.trim() === '') return false;
  try {
    cronParser.parseExpression(cron);
    return true;
  } catch {
    return false;
  }
}

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/**
 * Every environment variable the platform reads, with its default.
 * `sensitive` ones are redacted wherever config is logged.
 */
const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /** Which proxies in front of the API may tell the client's address in X-Forwarded-For (Express `trust proxy`).
     * Off by default: the client address is the TCP peer, and X-Forwarded-For is ignored. */
    TRUST_PROXY: trustProxy.default(false),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Unset: `npm start` runs an embedded PostgreSQL; the API alone falls back to a local server. */
    DATABASE_URL: z.string().url().optional(),
    // Two at the least: a run of the points jobs keeps one for its lock while its work uses another.
    DB_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
    DB_POOL_IDLE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    ANALYTICS_POOL_MAX: z.coerce.number().int().min(1).max(50).default(4),
    /** A read replica for the analytics queries; unset, they run on DATABASE_URL like everything else. */
    DATABASE_READ_URL: z.string().url().optional(),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    /** Seed nodes of a Redis Cluster, `host:port,host:port`; set, every Redis client (queues, rate limits, readiness) is a
     * cluster client and REDIS_URL is unused. */
    REDIS_CLUSTER_NODES: clusterNodesSchema,
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    ADMIN_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    /** Longest an admin session lasts from its login, however often its token is renewed (renewSession). */
    ADMIN_SESSION_MAX_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(12 * 3600),
    GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(10),
    /** The dearest real operation (a storefront's member account with 100 orders) costs 2638. */
    GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(10).default(4000),
    GRAPHQL_INTROSPECTION: bool.optional(),
    /** Lexer tokens an operation may have; the parser stops at this many, before validation or the complexity count. */
    GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).default(5000),
    /** Largest request body /graphql accepts; bigger ones answer 413 PAYLOAD_TOO_LARGE before parsing. */
    GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
    /** Queries Apollo has validated once run without its per-request pipeline next time (graphql/repeated-queries.ts). */
    GRAPHQL_REPEATED_QUERIES: bool.default(true),
    /** Length of the rate-limit window. */
    RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** Requests one API key may make per window; 0 turns the limit off. */
    RATE_LIMIT_API_KEY_REQUESTS: z.coerce.number().int().min(0).default(1200),
    /** Requests one admin user may make per window; 0 turns the limit off. */
    RATE_LIMIT_ADMIN_REQUESTS: z.coerce.number().int().min(0).default(600),
    /** Redis key prefix of the rate-limit and login-throttle counters (tests isolate runs with their own). */
    RATE_LIMIT_KEY_PREFIX: z.string().regex(/^[\w:-]{1,60}$/, 'letters, digits, _ : - only').default('rl'),
    /** Failed logins for one email from one IP before that pair is locked out. Each attempt is counted before its
     * password is checked, so no more than this many are checked at once, however many arrive in parallel. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
    /** How long a locked-out email and IP pair waits; failures are counted over the same period. */
    LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** Failed logins for one email from any IPs before that email is locked out for LOGIN_LOCKOUT_SECONDS (credential
     * stuffing from many addresses); higher than LOGIN_MAX_FAILURES, since it also locks the real user out. */
    LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).max(10_000).default(50),
    /** Failed logins from one IP, whatever the emails, in a day before that IP is locked out for a day. */
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(100),
    /** How long a verified API key is trusted without reading its row again. Revocation and rotation reach every API
     * process at once over Redis; this is the bound when they cannot (Redis down). 0 reads the row on every request. */
    API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    /** Comma-separated origins allowed to call /graphql from a browser; empty: same origin only. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin is scheme://host[:port] with no path'))),
    /** Which callers may only run operations from the allow-list in PERSISTED_OPERATIONS_FILE. */
    PERSISTED_OPERATIONS: z.enum(['off', 'required-for-api-keys', 'required']).default('off'),
    PERSISTED_OPERATIONS_FILE: z.string().default(path.join(repoRoot, 'schema', 'persisted-operations.json')),
    /** Set: GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. Unset: /metrics is open, for a scraper on
     * a private network (docs/operations/metrics.md). */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    DEFAULT_PHONE_REGION: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as GB')
      .default('GB'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
    WEB_ADMIN_DIR: z.string().default(path.join(repoRoot, 'web-admin', 'dist')),
    DATA_DIR: z.string().default(path.join(repoRoot, '.data')),
    IMPORT_DIR: z.string().default(path.join(repoRoot, '.data', 'imports')),
    IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(256 * 1024 * 1024),
    IMPORT_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
    IMPORT_RUNNER: bool.default(true),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    SEED_DEMO: bool.default(true),
    /** When the points jobs run (release, expiry, vouchers, tiers, ledger check); `off`: this process neither schedules nor runs them. */
    POINTS_JOBS_CRON: z
      .string()
      .default('*/15 * * * *')
      .refine((cron) => cron === 'off' || isCron(cron), 'is neither a cron expression (e.g. */15 * * * *) nor off'),
    /** How often the API registers the points jobs' schedule again if Redis lost it (it is also registered on every
     * reconnect); a check that finds it in place changes nothing. */
    SCHEDULE_CHECK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** Key prefix of the Bull queues shared with the worker (tests isolate runs with their own); `bull` by default. With
     * REDIS_CLUSTER_NODES it must be a hash tag such as `{loyalty}` (default `{bull}`), so that every key of every queue
     * lands in one slot (Bull's scripts touch several keys). */
    QUEUE_PREFIX: queuePrefixSchema,
    /** Run the webhook dispatcher (outbox sweep and delivery worker) in this process. */
    WEBHOOKS_ENABLED: bool.default(true),
    /** How often the dispatcher polls the event outbox. */
    WEBHOOK_SWEEP_MS: z.coerce.number().int().min(50).default(2000),
    /** Attempts per delivery (the first one included) before it counts as failed. */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(8),
    /** Delay before the first retry; each further retry waits twice as long. */
    WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).default(30_000),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** An endpoint is disabled after this many deliveries in a row failed every attempt. */
    WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).default(5),
    /** Deliver webhooks to private, loopback and link-local addresses too; unset: only outside production. */
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: bool.optional(),
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(5),
    /** Run the outbox subscribers plugins register (modules/events/subscriber-runner.ts) in this process. Several processes may:
     * each subscriber runs in one of them at a time. */
    SUBSCRIBERS_ENABLED: bool.default(true),
    /** How often the subscribers look for new events. */
    SUBSCRIBERS_POLL_MS: z.coerce.number().int().min(50).default(1000),
    /** Events read per transaction; a subscriber's handler is called for each in turn. */
    SUBSCRIBERS_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    /** Delay before an event whose handler failed is offered again; it doubles with each failure, up to the max. */
    SUBSCRIBERS_BACKOFF_MS: z.coerce.number().int().min(1).default(1000),
    SUBSCRIBERS_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(300_000),
    /** From this many failed attempts at one event on, each failure is logged as an error (outbox_subscriber.stuck). */
    SUBSCRIBERS_REPORT_AFTER: z.coerce.number().int().min(1).default(5),
    /** points.expiring is sent this many days before a lot expires. */
    EVENTS_POINTS_EXPIRING_DAYS: z.coerce.number().int().min(1).max(365).default(14),
    /** tier.at_risk is sent this many days before a qualification period ends in a downgrade. */
    EVENTS_TIER_AT_RISK_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /** How often the campaign runner starts due campaigns, ends finished ones and delivers messages; 0 turns it off. */
    CAMPAIGNS_SWEEP_MS: z.coerce.number().int().min(0).default(10_000),
    /** Delivery attempts per campaign message before it is FAILED. */
    CAMPAIGN_MESSAGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(5),
    /** How campaign messages leave (docs/operations/messaging.md): `log` only logs them, `smtp` sends EMAIL messages through
     * SMTP_URL, `webhook` POSTs every message, signed, to MESSAGE_WEBHOOK_URL; or the name of an adapter a plugin
     * registers (checked against the registered adapters when the services are built). */
    MESSAGE_DELIVERY: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be log, smtp, webhook or the name of a plugin adapter (lower-case letters, digits, _ and -)')
      .default('log'),
    /** The SMTP relay, smtp:// or smtps://, with user:password if it wants them. */
    SMTP_URL: z.string().url().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
    /** The From of campaign email: `address` or `Name <address>`; its domain also ends each Message-ID. */
    MESSAGE_FROM: z
      .string()
      .trim()
      .regex(/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/, 'must be an address or Name <address>')
      .optional(),
    /** The email/SMS provider's endpoint for MESSAGE_DELIVERY=webhook. */
    MESSAGE_WEBHOOK_URL: z.string().url().regex(/^https?:\/\//, 'must be an http:// or https:// URL').optional(),
    /** Signs each message webhook (HMAC-SHA256 over timestamp and body, as the event webhooks are signed). */
    MESSAGE_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Bound on one message's SMTP connection and replies, or on its webhook request. */
    MESSAGE_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Plugins to load (docs/guides/extending.md): comma-separated paths or package names, resolved from the directory the
     * process starts in, each exporting a LoyaltyPlugin. Unset: the distribution's plugins, `loyalty.plugins` in the
     * repository's package.json (the first-party activities and challenges); `none`: no plugin at all; a leading `+`:
     * the distribution's plugins, then these (so an upgrade that adds one to the distribution keeps it). The API, `npm
     * run migrate`, the worker and the CLI commands load them. */
    LOYALTY_PLUGINS: z
      .string()
      .default(() => distributionPlugins().join(','))
      .transform((v) => {
        const list = v.trim();
        if (list === 'none') return [];
        const entries = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
        return list.startsWith('+') ? [...distributionPlugins(), ...entries(list.slice(1))] : entries(list);
      })
      .pipe(
        z
          .array(z.string().max(1000, 'each entry is at most 1000 characters'))
          .refine((list) => new Set(list).size === list.length, 'lists a plugin twice'),
      ),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    const needed: Record<string, readonly ('SMTP_URL' | 'MESSAGE_FROM' | 'MESSAGE_WEBHOOK_URL' | 'MESSAGE_WEBHOOK_SECRET')[]> = {
      smtp: ['SMTP_URL', 'MESSAGE_FROM'],
      webhook: ['MESSAGE_WEBHOOK_URL', 'MESSAGE_WEBHOOK_SECRET'],
    };
    for (const key of needed[env.MESSAGE_DELIVERY] ?? []) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `is required when MESSAGE_DELIVERY=${env.MESSAGE_DELIVERY}` });
    }
    const queue = resolveQueuePrefix(env.QUEUE_PREFIX, env.REDIS_CLUSTER_NODES);
    if ('error' in queue) ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: queue.error });
  });

export type RawConfig = z.infer<typeof schema>;

/** What the configuration reference says of a variable; `shownDefault` when the default is computed or a path. */
export type VariableDoc = string | { text: string; shownDefault: string };

/**
 * Every variable's meaning, for docs/reference/configuration.md (`npm run docs`, which takes types, ranges and
 * defaults from the schema itself). Keyed by the schema, so a variable added without a line here does not compile.
 */
export const CONFIG_DOCS: { readonly [K in keyof RawConfig]-?: VariableDoc } = {
  NODE_ENV: '`production` requires `JWT_SECRET`, turns off introspection and hides the `x-db-queries` header.',
  HOST: 'Address the API and the admin app listen on.',
  PORT: 'Port the API and the admin app listen on.',
  TRUST_PROXY:
    "Which proxies' `X-Forwarded-For` counts, in Express `trust proxy` forms (`false`, `true`, a hop count, or comma-separated addresses, subnets, `loopback`, `linklocal`, `uniquelocal`). Off: the client is the TCP peer. Behind a reverse proxy, name that proxy; `true` would let any client choose its address.",
  LOG_LEVEL: 'pino level.',
  DATABASE_URL: {
    text: 'PostgreSQL URL. Unset, `npm start` runs an embedded PostgreSQL, and the API alone uses `postgres://postgres@127.0.0.1:5432/loyalty`.',
    shownDefault: 'unset',
  },
  DB_POOL_MAX: 'Connections in the pool, 2 at the least: a run of the points jobs keeps one for its lock while its work uses another.',
  DB_POOL_IDLE_SECONDS:
    "Seconds an idle pooled connection stays open. A new connection's first large query is slower (at 1 M members RFM took 1.35 s on a fresh connection, 0.9 s on a warm one: PostgreSQL's backend allocates its memory afresh), so analytics and previews keep warm ones between a marketer's requests.",
  ANALYTICS_POOL_MAX:
    "Connections of the API's pool for heavy reads (analytics, segment previews), on `DATABASE_READ_URL` when set, else on `DATABASE_URL`. Kept apart from the pool that serves orders and lookups, its PostgreSQL backends stay warm for large queries, and a long report never holds the connections orders need.",
  DATABASE_READ_URL:
    'A read replica for the heavy reads (KPIs, RFM, cohorts, purchase intervals, top products, value at risk, segment previews); everything else uses `DATABASE_URL`.',
  REDIS_URL: 'Redis for readiness checks, rate limits, the login throttle, API-key revocations and the job queues.',
  REDIS_CLUSTER_NODES:
    'A Redis Cluster instead of `REDIS_URL`: comma-separated seed nodes `host:port,host:port`. Every Redis client (queues, rate limits, login throttle, readiness) is then a cluster client, and `QUEUE_PREFIX` must be a hash tag ([scaling](../operations/scaling.md#redis-cluster)).',
  JWT_SECRET: { text: 'Signs admin tokens; at least 32 characters, required in production.', shownDefault: 'a development-only value' },
  ADMIN_TOKEN_TTL_SECONDS: 'Lifetime of an admin token; the admin app renews it while the admin is active (`renewSession`).',
  ADMIN_SESSION_MAX_SECONDS: 'Longest an admin session lasts from its login, however often its token is renewed; then the admin signs in again.',
  GRAPHQL_MAX_DEPTH: 'Deepest nesting an operation may have; deeper answers `GRAPHQL_VALIDATION_FAILED`.',
  GRAPHQL_MAX_COMPLEXITY: 'Cost budget per operation: each field costs 1 and a list costs `first` × its items; over it answers `QUERY_TOO_COMPLEX`.',
  GRAPHQL_INTROSPECTION: { text: 'Allow schema introspection.', shownDefault: 'on unless `NODE_ENV=production`' },
  GRAPHQL_MAX_TOKENS: 'Lexer tokens an operation may have; more answers `GRAPHQL_PARSE_FAILED` before validation.',
  GRAPHQL_MAX_BODY_BYTES: 'Largest request body `/graphql` reads; larger ones answer 413 `PAYLOAD_TOO_LARGE` without being parsed.',
  GRAPHQL_REPEATED_QUERIES:
    'A query Apollo has already parsed and validated (one root field, a cost no variable changes) runs straight on graphql-js the next times, with the same checks, errors and metrics but without Apollo\'s per-request pipeline ([performance](../operations/performance.md#session-12-repeated-queries-without-apollos-pipeline)); `false`: every request through Apollo.',
  RATE_LIMIT_WINDOW_SECONDS: 'Length of the rate-limit window.',
  RATE_LIMIT_API_KEY_REQUESTS: 'Requests one API key may make per window (each root field counts as one); `0`: no limit.',
  RATE_LIMIT_ADMIN_REQUESTS: 'Requests one admin user may make per window; `0`: no limit.',
  RATE_LIMIT_KEY_PREFIX: 'Redis key prefix of the rate-limit and login counters.',
  LOGIN_MAX_FAILURES: 'Failed logins for one email from one IP before that pair is locked out. Each attempt is counted before its password is checked.',
  LOGIN_LOCKOUT_SECONDS: 'How long a lockout lasts; failures are counted over the same period.',
  LOGIN_MAX_FAILURES_PER_EMAIL:
    'Failed logins for one email from any addresses before that email is locked out for `LOGIN_LOCKOUT_SECONDS` (against credential stuffing; it also locks the real user out).',
  LOGIN_MAX_FAILURES_PER_IP: 'Failed logins from one IP in a day, whatever the emails, before that IP is locked out for a day (against password spraying).',
  API_KEY_CACHE_SECONDS:
    'How long an API process trusts a verified API key without reading its row. Revocations reach every process at once over Redis; this is the bound when they cannot. `0`: read on every request.',
  CORS_ORIGINS: { text: 'Comma-separated origins (`https://shop.example`) whose browser code may call `/graphql`; empty: same origin only.', shownDefault: 'empty' },
  PERSISTED_OPERATIONS: '`required-for-api-keys`: API keys may only run operations on the allow-list; admin users are unaffected. `required` does the same today.',
  PERSISTED_OPERATIONS_FILE: 'The allow-list: `{ "<sha256>": "<operation>" }` (`npm run persisted-operations` builds one).',
  METRICS_TOKEN: {
    text: 'Set (16 characters or more): `GET /metrics` on the API and the worker answers only `Authorization: Bearer <token>`. Unset: `/metrics` is open, for a scraper on a private network ([metrics](../operations/metrics.md)).',
    shownDefault: 'unset',
  },
  DEFAULT_PHONE_REGION: 'Region for phone numbers given without `+country` (ISO 3166-1 alpha-2).',
  SHUTDOWN_GRACE_MS: 'How long SIGTERM waits for in-flight requests.',
  WEB_ADMIN_DIR: 'The built admin app that the API serves at `/`.',
  DATA_DIR: 'Where `npm start` keeps the embedded PostgreSQL.',
  IMPORT_DIR: {
    text: "Working copies of the admin app's imports: an upload while its header is checked, the file a run reads and its rejects until the run ends. The uploads themselves, their status and rejects are in PostgreSQL ([importing](../guides/importing.md)).",
    shownDefault: '`.data/imports`',
  },
  IMPORT_MAX_BYTES: 'The largest transactions file the Import page accepts, in bytes (the compressed size for gzip).',
  IMPORT_RETENTION_DAYS: "Days an upload on the Import page is kept after its last run ended (or after its upload, if never run), with its status and rejects; then every API process's hourly sweep deletes it. The file holds customers' purchases, so it is kept no longer than needed. `0` keeps uploads until deleted on the page.",
  IMPORT_RUNNER:
    "Run the admin app's imports in this process. `false`: an import started or resumed through this process is queued (`QUEUED`) and a process with `true` picks it up within a second, so imports stay off the replicas that serve traffic. At least one API process must keep `true`.",
  EMBEDDED_PG_PORT: 'Port of the embedded PostgreSQL.',
  SEED_DEMO: 'Whether `npm start` seeds the demo programme (never in production).',
  POINTS_JOBS_CRON:
    'When the points jobs run (release, expiry, voucher expiry, tier period ends, then the ledger check): a Bull repeatable job, each firing run in one API process however many run, and never beside another run (a firing skips while one is under way). Five fields, or six with seconds first, in the server\'s local time; anything else is refused at start. `off`: this process neither schedules nor runs them.',
  SCHEDULE_CHECK_SECONDS:
    'How often each process checks that its repeatable jobs are still in Redis and registers them again if not, as it also does on every Redis reconnect: a Redis that comes back empty loses no schedule. Registering is idempotent across processes.',
  QUEUE_PREFIX: {
    text: 'Redis key prefix of the job queues; the API and the worker must agree. With `REDIS_CLUSTER_NODES` it must be a hash tag such as `{loyalty}`; one without braces is refused at start.',
    shownDefault: '`bull` (`{bull}` with `REDIS_CLUSTER_NODES`)',
  },
  WEBHOOKS_ENABLED: 'Run the webhook dispatcher (outbox sweep and delivery worker) in this process.',
  WEBHOOK_SWEEP_MS: 'How often the dispatcher polls the event outbox.',
  WEBHOOK_MAX_ATTEMPTS: 'Attempts per delivery, the first included.',
  WEBHOOK_BACKOFF_MS: 'Wait before the first retry; it doubles for each next one.',
  WEBHOOK_TIMEOUT_MS: 'How long one attempt waits for a response.',
  WEBHOOK_DISABLE_AFTER: 'Failed deliveries in a row after which an endpoint is disabled.',
  WEBHOOK_CONCURRENCY: 'Deliveries one process sends at a time.',
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: {
    text: "Let webhook URLs point at private, loopback and link-local addresses (a receiver on the same host or network). Off, a URL whose host is or resolves to one is refused when registered (`BAD_USER_INPUT` on `input.url`) and each delivery checks the host's addresses again, failing the attempt without a request.",
    shownDefault: 'on unless `NODE_ENV=production`',
  },
  SUBSCRIBERS_ENABLED: "Run plugins' outbox subscribers in this process; several processes may, each subscriber running in one at a time.",
  SUBSCRIBERS_POLL_MS: 'How often each subscriber looks for new events.',
  SUBSCRIBERS_BATCH_SIZE: 'Events one batch reads, in one transaction.',
  SUBSCRIBERS_BACKOFF_MS: 'Wait before an event whose handler failed is offered again; it doubles with each failure.',
  SUBSCRIBERS_BACKOFF_MAX_MS: 'Longest wait between two attempts at one event.',
  SUBSCRIBERS_REPORT_AFTER: 'Failed attempts at one event after which a subscriber is reported stuck (`outbox_subscriber.stuck`); it keeps retrying.',
  EVENTS_POINTS_EXPIRING_DAYS: 'Days before a lot expires that `points.expiring` is sent.',
  EVENTS_TIER_AT_RISK_DAYS: 'Days before a qualification period ends in a downgrade that `tier.at_risk` is sent.',
  CAMPAIGNS_SWEEP_MS: 'How often the campaign runner starts due campaigns, ends finished ones and delivers messages; `0` turns it off.',
  CAMPAIGN_MESSAGE_MAX_ATTEMPTS: 'Delivery attempts per campaign message before it is `FAILED`.',
  MESSAGE_DELIVERY:
    'How campaign messages leave: `log` (logs them, contacts nobody), `smtp`, `webhook`, or the name of an adapter a plugin registers ([messaging](../operations/messaging.md)).',
  SMTP_URL: 'Required with `MESSAGE_DELIVERY=smtp`: the relay, `smtp://` or `smtps://`, with `user:password@` if it wants them.',
  MESSAGE_FROM: 'Required with `MESSAGE_DELIVERY=smtp`: `address` or `Name <address>`; its domain ends each Message-ID.',
  MESSAGE_WEBHOOK_URL: "Required with `MESSAGE_DELIVERY=webhook`: the email or SMS provider's endpoint.",
  MESSAGE_WEBHOOK_SECRET:
    'Required with `MESSAGE_DELIVERY=webhook`: the HMAC-SHA256 key over timestamp and body, as event webhooks are signed; at least 16 characters.',
  MESSAGE_DELIVERY_TIMEOUT_MS: "Bound on one message's SMTP exchange or webhook request.",
  LOYALTY_PLUGINS: {
    text: "Plugins to load: comma-separated paths or package names, resolved from the directory the process starts in. `none`: no plugin at all; a leading `+` (`+./local-plugins/my-plugin`): the distribution's plugins, then these. Read by the API, `npm run migrate`, the worker and the CLI ([extending](../guides/extending.md#loading-plugins)).",
    shownDefault: "the distribution's plugins, `loyalty.plugins` in the root package.json",
  },
};

/** The schema the configuration reference describes (types, ranges, defaults); loadConfig is what reads it. */
export const configSchema = schema;

export interface Config extends Omit<RawConfig, 'JWT_SECRET' | 'GRAPHQL_INTROSPECTION' | 'DATABASE_URL' | 'QUEUE_PREFIX' | 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES'> {
  DATABASE_URL: string;
  /** QUEUE_PREFIX, or its default: `bull`, or `{bull}` with REDIS_CLUSTER_NODES. */
  QUEUE_PREFIX: string;
  /** True when DATABASE_URL came from the environment rather than the local default. */
  hasExplicitDatabaseUrl: boolean;
  JWT_SECRET: string;
  GRAPHQL_INTROSPECTION: boolean;
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: boolean;
  isProduction: boolean;
}

export const sensitiveKeys = ['JWT_SECRET', 'DATABASE_URL', 'DATABASE_READ_URL', 'REDIS_URL', 'SMTP_URL', 'MESSAGE_WEBHOOK_SECRET', 'METRICS_TOKEN'] as const;

export class ConfigError extends Error {}

/** Parses the environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const raw = parsed.data;
  return Object.freeze({
    ...raw,
    DATABASE_URL: raw.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/loyalty',
    hasExplicitDatabaseUrl: raw.DATABASE_URL !== undefined,
    JWT_SECRET: raw.JWT_SECRET ?? DEV_JWT_SECRET,
    QUEUE_PREFIX: (resolveQueuePrefix(raw.QUEUE_PREFIX, raw.REDIS_CLUSTER_NODES) as { prefix: string }).prefix,
    GRAPHQL_INTROSPECTION: raw.GRAPHQL_INTROSPECTION ?? raw.NODE_ENV !== 'production',
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: raw.WEBHOOK_ALLOW_PRIVATE_ADDRESSES ?? raw.NODE_ENV !== 'production',
    isProduction: raw.NODE_ENV === 'production',
  });
}

/** Config safe to log: secrets replaced. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of sensitiveKeys) out[key] = '[redacted]';
  return out;
}
