import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import type { Config } from '../../base/config';
import type { ErrorCode } from '../../base/errors';
import { requestScope } from '../../base/request-scope';
import { rateLimitHeaders, type RateLimitState } from './rate-limits';

/**
 * Security headers on every response. The admin app is built by Vite into same-origin files, so its CSP allows only
 * 'self'; inline styles stay allowed because React and ECharts set style attributes.
 */
export function securityHeaders({ withContentSecurityPolicy = true, extra = {} as Record<string, string> } = {}): RequestHandler {
  return fixedHeaders(
    helmet({
      // JSON answers need no CSP, and the GraphQL landing page outside production loads from a CDN.
      contentSecurityPolicy: withContentSecurityPolicy && {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          fontSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
    extra,
  );
}

/**
 * The headers a middleware sets, worked out once and then set on every response. Helmet runs a dozen small
 * middlewares in a chain per request to set headers that never change (none of ours depends on the request); replaying
 * them is one loop. `extra` headers are added to the list.
 */
function fixedHeaders(middleware: RequestHandler, extra: Record<string, string>): RequestHandler {
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  let done = false;
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void set.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
  };
  middleware({ headers: {} } as Parameters<RequestHandler>[0], recorder as unknown as Parameters<RequestHandler>[1], (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  // A middleware that did not finish at once, or that wanted more of the request, cannot be replayed.
  if (!done) throw new Error('security headers: the middleware did not finish synchronously');
  set.push(...Object.entries(extra));
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}

/** Browsers on CORS_ORIGINS may call /graphql; any other origin gets no CORS headers and the browser blocks it. */
export function corsForGraphql(config: Pick<Config, 'CORS_ORIGINS'>): RequestHandler {
  const allowed = new Set(config.CORS_ORIGINS);
  const withCors = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['POST', 'GET', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id', 'apollo-require-preflight'],
    exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    maxAge: 600,
  });
  // cors() answers a request without an allowed Origin (tills and servers send none) with no headers at all, after
  // copying its options and calling back twice: the same outcome, at once.
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return next();
    withCors(req, res, next);
  };
}

/** A GraphQL-shaped error for failures that happen before Apollo sees the request. */
export function sendGraphqlError(
  res: Response,
  status: number,
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  // For the request metrics, which Apollo's plugin feeds for the requests that reach it.
  const scope = requestScope.getStore();
  if (scope) scope.outcomeCode = code;
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

export function setRateLimitHeaders(res: Response, state: RateLimitState): void {
  for (const [name, value] of rateLimitHeaders(state)) res.setHeader(name, value);
}

/** JSON bodies too large or unreadable answer with a code, not Express's HTML error page. */
export function bodyErrors(limitBytes: number): ErrorRequestHandler {
  return (err: { type?: string; status?: number }, _req, res, next) => {
    if (err?.type === 'entity.too.large') {
      return sendGraphqlError(res, 413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limitBytes} bytes`, { limitBytes });
    }
    if (err?.type === 'entity.parse.failed' || err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
      return sendGraphqlError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
    }
    // Any other body the parser could not read (a compressed body that does not decompress, a client that stopped
    // sending) is the client's fault too.
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      return sendGraphqlError(res, 400, 'BAD_REQUEST', 'The request body could not be read');
    }
    next(err);
  };
}
