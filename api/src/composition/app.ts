import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { HeaderMap } from '@apollo/server';
import type { RedisClient } from '../base/redis';
import { pinoHttp } from 'pino-http';
import type { Config } from '../base/config';
import type { Context } from '../base/context';
import type { Logger } from '../base/logger';
import type { Orm } from './orm';
import { AppError, isDatabaseUnreachable, type ErrorCode } from '../base/errors';
import { withTimeout } from '../base/timeout';
import { requestScope } from '../base/request-scope';
import { looksLikeApiKey } from '../modules/channels/api-key.service';
import { connectKeyBroadcast } from '../modules/channels/api-key-broadcast';
import { buildGraphQLSchema } from '../graphql/schema';
import { argumentChecks, complexityLimit, queryCountHeader, rootFieldBudget } from '../graphql/plugins';
import { depthLimitRule, noSubscriptionsRule } from '../graphql/depth-limit';
import { createFormatError } from '../graphql/format-error';
import { repeatedQueries } from '../graphql/repeated-queries';
import { createServices, type Services } from './services';
import { importRoutes } from './import-routes';
import { composePlugins, PluginError, type LoyaltyPlugin } from './plugin';
import type { Clock } from '../base/time';
import { createLoaders } from '../graphql/loaders';
import { lazyRequestContext, type RequestContext } from '../graphql/context';
import { rateLimitedError, RequestRateLimiter } from '../modules/security/rate-limits';
import { loadPersistedOperations, resolvePersistedOperation } from '../modules/security/persisted-operations';
import { bodyErrors, corsForGraphql, securityHeaders, sendGraphqlError, setRateLimitHeaders } from '../modules/security/http';
import { parseTraceparent } from '../base/trace-context';
import { metricsEndpoint } from '../modules/telemetry/metrics-registry';
import { createTelemetry, type Telemetry } from './telemetry';
import { handlerChain } from './handler-chain';

export interface AppDeps {
  config: Config;
  /** Built with the same plugins: createOrm(config, plugins). */
  orm: Orm;
  /** On DATABASE_READ_URL, for the analytics queries. */
  readOrm?: Orm;
  redis: RedisClient;
  log: Logger;
  /** Plugins (docs/guides/extending.md), checked here: the process does not start with a bad list. */
  plugins?: readonly LoyaltyPlugin[];
  /** The time earning use cases are stamped with; the real time by default (base/time.ts). */
  clock?: Clock;
}

export interface App {
  server: http.Server;
  services: Services;
  /** /metrics and the instruments main.ts hands to the dispatcher and the points scheduler. */
  telemetry: Telemetry;
  listen(): Promise<number>;
  /** Stops taking requests, drains in-flight ones, then closes the database and Redis. */
  stop(): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;
/** The caller's W3C trace id, logged beside ours so that its trace and our lines meet; a malformed traceparent is ignored. */
const traceIdOf = (req: http.IncomingMessage) => parseTraceparent(req.headers.traceparent)?.traceId;
/** Requests the access log leaves out: probes and scrapes, several a minute each. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** What the /graphql middleware works out before Apollo runs: the request's entity manager and its caller. */
interface GraphqlLocals {
  em: Context['em'];
  auth: Pick<Context, 'principal' | 'authError'>;
}
const READY_TIMEOUT_MS = 2000;

export async function createApp({ config, orm, readOrm, redis, log, plugins = [], clock }: AppDeps): Promise<App> {
  const contributed = composePlugins(plugins);
  for (const entity of contributed.entities) {
    const name = typeof entity === 'function' ? entity.name : entity.meta.className;
    if (!orm.getMetadata().has(name)) throw new PluginError(`entity ${name} of a plugin is not in the ORM: build it with createOrm(config, plugins)`);
  }
  const services = createServices(config, { redis, log, plugins, clock });
  const rateLimiter = new RequestRateLimiter(redis, config, log);
  const keyBroadcast = connectKeyBroadcast(redis, `${config.QUEUE_PREFIX}:api-key-changed`, services.apiKeys, log);
  const persistedOperations =
    config.PERSISTED_OPERATIONS === 'off' ? null : loadPersistedOperations(config.PERSISTED_OPERATIONS_FILE);
  const schema = await buildGraphQLSchema(services, contributed.resolvers);
  const telemetry = createTelemetry({ config, orm, readOrm, services, log, errorCodes: contributed.errorCodes.map((c) => c.code) });
  services.pointsJobs.observeWith(telemetry.pointsJobs);
  if (plugins.length) log.info({ plugins: plugins.map((p) => p.name) }, 'plugins.loaded');
  const app = express();
  // POST /graphql, nearly all of the API's traffic, runs its handlers without Express's router (handler-chain.ts);
  // everything else, other methods and other spellings of the path included, goes through the app.
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && (req.url === '/graphql' || req.url?.startsWith('/graphql?'))) serveGraphqlPost(req, res);
    else app(req, res);
  });
  let draining = false;

  app.disable('x-powered-by');
  // No ETag on JSON answers: Express would hash every GraphQL response body for a header no client uses on a POST.
  // Static files (the admin app) keep theirs: express.static sets its own.
  app.set('etag', false);
  // req.ip is the client address wherever one is used (login throttle, logs): X-Forwarded-For only from TRUST_PROXY.
  app.set('trust proxy', config.TRUST_PROXY);
  const requestIdOf = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  };
  const accessLog = pinoHttp({
    logger: log,
    customAttributeKeys: { reqId: 'requestId' },
    customProps: (req) => {
      const traceId = traceIdOf(req);
      return { clientIp: (req as Request).ip, ...(traceId ? { traceId } : {}) };
    },
    genReqId: requestIdOf,
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has(req.url?.split('?')[0] ?? '') },
    // A GET's query string can carry variables (emails, phones): log the path only.
    serializers: { req: (req: { url?: string }) => ({ ...req, url: req.url?.split('?')[0] }) },
  });
  // The access log writes at info. Below that level (LOG_LEVEL=warn) its lines are dropped, but pino-http would still
  // build and serialise two child loggers per request for them: then only the request id is given out.
  const logRequest: RequestHandler = (req, res, next) => {
    if (log.isLevelEnabled('info')) return accessLog(req, res, next);
    req.id = requestIdOf(req, res);
    next();
  };
  const appHeaders = securityHeaders();
  // GraphQL answers carry members' data: never cached (Apollo's cache-control plugin, switched off below, said the same
  // after working out a cache policy field by field on every request).
  const apiHeaders = securityHeaders({ withContentSecurityPolicy: false, extra: { 'cache-control': 'no-store' } });
  const scopeRequest: RequestHandler = (req, _res, next) => {
    const traceId = traceIdOf(req);
    requestScope.run({ requestId: String(req.id), dbQueries: 0, ...(traceId ? { traceId } : {}) }, next);
  };
  // Every request's middleware, in order, as one list: POST /graphql's chain (below) runs the same list, so a middleware
  // added here reaches it too. Its /graphql form is the one given for that path.
  const everyRequest = (forGraphql: boolean): RequestHandler[] => [
    logRequest,
    forGraphql ? apiHeaders : (req, res, next) => (req.path.startsWith('/graphql') ? apiHeaders : appHeaders)(req, res, next),
    scopeRequest,
  ];
  for (const handler of everyRequest(false)) app.use(handler);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', metricsEndpoint(telemetry.metrics, config.METRICS_TOKEN));
  app.get('/readyz', async (_req, res) => {
    const check = async (what: string, probe: () => Promise<unknown>) => {
      try {
        await withTimeout(probe(), READY_TIMEOUT_MS, what);
        return 'ok';
      } catch (err) {
        log.warn({ err, what }, 'readyz.failed');
        return 'unavailable';
      }
    };
    const [database, cache] = await Promise.all([
      check('database', () => orm.em.getConnection().execute('select 1')),
      check('redis', () => redis.ping()),
    ]);
    // Without Redis the API still serves reads and records orders (events wait in the outbox), so it stays in
    // rotation as `degraded`; without PostgreSQL it can do nothing useful.
    const status = draining ? 'draining' : database !== 'ok' ? 'unavailable' : cache !== 'ok' ? 'degraded' : 'ready';
    res.status(status === 'ready' || status === 'degraded' ? 200 : 503).json({ status, database, redis: cache });
  });

  const formatError = createFormatError(log, config.NODE_ENV === 'development');
  const repeated = config.GRAPHQL_REPEATED_QUERIES
    ? repeatedQueries({ schema, maxComplexity: config.GRAPHQL_MAX_COMPLEXITY, formatError, countQueries: !config.isProduction })
    : null;
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.GRAPHQL_INTROSPECTION,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM and stops the app in order; Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    formatError,
    parseOptions: { maxTokens: config.GRAPHQL_MAX_TOKENS },
    validationRules: [depthLimitRule(config.GRAPHQL_MAX_DEPTH), noSubscriptionsRule],
    // In production, no "Did you mean …" hints that spell out the schema, and no landing page loading scripts from
    // Apollo's CDN.
    hideSchemaDetailsFromClientErrors: config.isProduction,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ...(config.isProduction ? [ApolloServerPluginLandingPageDisabled()] : []),
      // No field has a cache hint, so every answer is uncacheable; its per-field hook cost a call on every field.
      ApolloServerPluginCacheControlDisabled(),
      // Apollo runs these hooks together and answers with the first refusal: hostile argument text is refused as
      // BAD_USER_INPUT naming the argument, even in an operation that is also too costly or too wide.
      argumentChecks,
      complexityLimit(schema, config.GRAPHQL_MAX_COMPLEXITY),
      rootFieldBudget(rateLimiter),
      ...(config.isProduction ? [] : [queryCountHeader]),
      telemetry.graphql.plugin,
      ...(repeated ? [repeated.plugin] : []),
    ],
  });
  await apollo.start();

  const authenticate = async (req: Request, em: Context['em']): Promise<Pick<Context, 'principal' | 'authError'>> => {
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : null;
    const apiKey = req.headers['x-api-key'];
    const credential = typeof apiKey === 'string' ? apiKey.trim() : bearer;
    if (!credential) return { principal: null, authError: null };
    try {
      const principal = looksLikeApiKey(credential)
        ? await services.apiKeys.authenticate(em, credential)
        : await services.adminAuth.authenticate(em, credential);
      return { principal, authError: null };
    } catch (err) {
      if (err instanceof AppError) return { principal: null, authError: err };
      if (isDatabaseUnreachable(err)) throw AppError.databaseUnavailable();
      throw err;
    }
  };

  /** Who is calling, and whether their budget allows another request; before the body is read. */
  const admitCaller: RequestHandler = async (req, res, next) => {
    try {
      const em = orm.em.fork();
      const auth = await authenticate(req, em);
      res.locals.graphql = { em, auth } satisfies GraphqlLocals;
      const state = auth.principal ? await rateLimiter.consume(auth.principal) : null;
      if (state) setRateLimitHeaders(res, state);
      if (state?.isLimited) throw rateLimitedError(state);
      next();
    } catch (err) {
      next(err);
    }
  };

  /** With PERSISTED_OPERATIONS=required-for-api-keys, channels may only run operations from the allow-list. */
  const allowListedOnly: RequestHandler = (req, res, next) => {
    const { auth } = res.locals.graphql as GraphqlLocals;
    if (!persistedOperations || auth.principal?.kind !== 'channel') return next();
    const found =
      req.method === 'POST'
        ? resolvePersistedOperation(persistedOperations, req.body)
        : { ok: false as const, reason: 'Send allow-listed operations with POST' };
    if (!found.ok) return sendGraphqlError(res, 400, 'PERSISTED_OPERATION_NOT_ALLOWED', found.reason);
    req.body.query = found.query;
    if (req.body.extensions) delete req.body.extensions.persistedQuery;
    next();
  };

  /** Failures before Apollo runs: an AppError keeps its code and HTTP status (e.g. 503 database), anything else is a 500. */
  const unexpectedError: ErrorRequestHandler = (err, req, res, _next) => {
    if (err instanceof AppError) {
      const { code, http, ...extensions } = err.extensions as { code: ErrorCode; http?: { status?: number } };
      return sendGraphqlError(res, http?.status ?? 400, code, err.message, extensions);
    }
    const traceId = requestScope.getStore()?.traceId;
    log.error({ err, requestId: String(req.id), ...(traceId ? { traceId } : {}) }, 'graphql.unexpected_error');
    sendGraphqlError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error', { requestId: String(req.id) });
  };

  const contextOf = (req: Request, res: express.Response): RequestContext => {
    const { em, auth } = res.locals.graphql as GraphqlLocals;
    const requestId = String(req.id);
    const traceId = requestScope.getStore()?.traceId;
    const principalLog = auth.principal
      ? auth.principal.kind === 'admin'
        ? { adminId: auth.principal.adminId }
        : { apiKeyId: auth.principal.apiKeyId }
      : {};
    let requestLog: Logger | undefined;
    let analyticsEm: Context['em'] | undefined;
    return lazyRequestContext(
      {
        em,
        ...auth,
        requestId,
        clientIp: req.ip,
        loaders: createLoaders(em, services),
      },
      {
        log: () => (requestLog ??= log.child({ requestId, ...(traceId ? { traceId } : {}), ...principalLog })),
        ...(readOrm ? { analyticsEm: () => (analyticsEm ??= readOrm.em.fork()) } : {}),
      },
    );
  };

  /** Apollo on the parsed body, as @as-integrations/express5 runs it, without its per-request `url.parse`. */
  const runApollo: RequestHandler = async (req, res) => {
    if (repeated && !draining && (await repeated.serve(req, res, () => contextOf(req, res)))) return;
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryAt = req.url.indexOf('?');
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: queryAt < 0 ? '' : req.url.slice(queryAt), body: req.body },
      context: async () => contextOf(req, res),
    });
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    res.statusCode = answer.status || 200;
    if (answer.body.kind === 'complete') {
      res.send(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) {
      res.write(chunk);
      // A compression middleware's, were one added: incremental parts must not wait in its buffer.
      if (typeof (res as { flush?: () => void }).flush === 'function') (res as unknown as { flush: () => void }).flush();
    }
    res.end();
  };

  const graphqlHandlers: RequestHandler[] = [
    corsForGraphql(config),
    telemetry.graphql.middleware,
    admitCaller,
    express.json({ limit: config.GRAPHQL_MAX_BODY_BYTES }),
    allowListedOnly,
    runApollo,
  ];
  const graphqlErrorHandlers = [bodyErrors(config.GRAPHQL_MAX_BODY_BYTES), unexpectedError];
  app.use('/graphql', ...graphqlHandlers, ...graphqlErrorHandlers);
  // Every request's middleware first, as Express runs it for any request to /graphql.
  const serveGraphqlPost = handlerChain(app, [...everyRequest(true), ...graphqlHandlers], graphqlErrorHandlers);

  app.use('/api/imports', importRoutes({ orm, services, rateLimiter, log }));

  if (existsSync(path.join(config.WEB_ADMIN_DIR, 'index.html'))) {
    app.use(express.static(config.WEB_ADMIN_DIR, { index: false, maxAge: '1h' }));
    // Client-side routes: any other GET that accepts HTML gets the app shell.
    app.get(/^\/(?!graphql|healthz|readyz|api\/).*/, (req, res, next) => {
      if (!req.accepts('html')) return next();
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(path.join(config.WEB_ADMIN_DIR, 'index.html'));
    });
  } else {
    log.warn({ dir: config.WEB_ADMIN_DIR }, 'web-admin.not_built');
  }

  return {
    server,
    services,
    telemetry,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : config.PORT);
        });
      }),
    stop: async () => {
      draining = true;
      await withTimeout(apollo.stop(), config.SHUTDOWN_GRACE_MS, 'drain').catch((err) => {
        log.warn({ err }, 'shutdown.drain_incomplete');
        server.closeAllConnections();
      });
      await services.imports.close();
      await services.models.close();
      await services.queueHealth.close();
      await keyBroadcast.close();
      await orm.close();
      await readOrm?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
