import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import type { Logger } from '../base/logger';
import { AppError, type ErrorCode } from '../base/errors';
import { Permission } from '../modules/auth/permissions';
import type { AdminPrincipal } from '../modules/auth/principal';
import type { ImportJob } from '../modules/import/import-jobs';
import { rejectsWithoutPersonalData, withoutPersonalData } from '../modules/import/personal-data';
import { rateLimitedError, type RequestRateLimiter } from '../modules/security/rate-limits';
import { sendGraphqlError, setRateLimitHeaders } from '../modules/security/http';
import type { Orm } from './orm';
import type { Services } from './services';

/** HTTP status of each code these routes answer with. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * The admin app's transaction import (docs/guides/importing.md), REST because a file is a stream, not a GraphQL argument:
 *
 *   GET  /api/imports                 recent imports, newest first
 *   POST /api/imports?fileName=x.csv  the file as the body (CSV, or gzip-compressed CSV): its columns and first rows
 *   GET  /api/imports/:id             state, progress and totals
 *   POST /api/imports/:id/start       { map, channelName, channelKind, currency, batchInvoices? }: runs in the background
 *   POST /api/imports/:id/stop        stops after the batch in flight (202 while it has yet to commit)
 *   POST /api/imports/:id/resume      runs again with the same settings, skipping what is stored
 *   GET  /api/imports/:id/rejects     the last run's rejected rows, as CSV
 *   DELETE /api/imports/:id           the upload, its status and rejects (not what it imported); refused while it runs
 *
 * Admin sessions only (`Authorization: Bearer <token>`), with the import:run permission; errors are GraphQL-shaped
 * (`{ errors: [{ message, extensions: { code } }] }`), with the codes of schema/error-codes.json. A caller without
 * members:pii (an analyst) reads the files' values with what may be personal hidden (modules/import/personal-data.ts),
 * and starts only a file they uploaded: a mapping of their own could otherwise import another's personal column into
 * a field their role reads (a line's description, an invoice number).
 */
export function importRoutes({ orm, services, rateLimiter, log }: { orm: Orm; services: Services; rateLimiter: RequestRateLimiter; log: Logger }): Router {
  const router = express.Router();
  const imports = services.imports;

  const admitAdmin: RequestHandler = async (req, res, next) => {
    try {
      const header = req.headers.authorization;
      const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (!token || token.startsWith('lk_')) throw AppError.unauthenticated('Send an admin session as Authorization: Bearer <token>');
      const principal = await services.adminAuth.authenticate(orm.em.fork(), token);
      if (!principal.permissions.has(Permission.IMPORT_RUN)) throw AppError.forbidden('Importing needs the import:run permission');
      const state = await rateLimiter.consume(principal);
      if (state) setRateLimitHeaders(res, state);
      if (state?.isLimited) throw rateLimitedError(state);
      res.locals.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
  const actor = (locals: Record<string, unknown>) => `admin:${(locals.principal as AdminPrincipal).adminId}`;
  const readsPersonalData = (locals: Record<string, unknown>) => (locals.principal as AdminPrincipal).permissions.has(Permission.MEMBERS_PII);
  /** Every job answered goes through here: values the caller's role may not read are hidden. */
  const shown = (locals: Record<string, unknown>, job: ImportJob) => (readsPersonalData(locals) ? job : withoutPersonalData(job));
  const handle =
    (work: RequestHandler): RequestHandler =>
    async (req, res, next) => {
      try {
        await work(req, res, next);
      } catch (err) {
        next(err);
      }
    };

  router.use(admitAdmin);
  router.get('/', handle(async (_req, res) => void res.json({ imports: (await imports.list(orm.em)).map((job) => shown(res.locals, job)) })));
  router.post(
    '/',
    handle(async (req, res) => {
      const fileName = typeof req.query.fileName === 'string' ? req.query.fileName : '';
      const length = Number(req.headers['content-length']);
      const job = await imports.upload(orm.em, req, fileName, actor(res.locals), Number.isFinite(length) ? length : undefined);
      res.status(201).json({ import: shown(res.locals, job) });
    }),
  );
  router.get('/:id', handle(async (req, res) => void res.json({ import: shown(res.locals, await imports.get(orm.em, String(req.params.id))) })));
  router.post(
    '/:id/start',
    express.json({ limit: 64 * 1024 }),
    handle(async (req, res) => {
      const id = String(req.params.id);
      if (!readsPersonalData(res.locals) && (await imports.get(orm.em, id)).uploadedBy !== actor(res.locals)) {
        throw AppError.forbidden('Without members:pii, start only a file you uploaded');
      }
      const job = await imports.start(orm.em, id, req.body);
      log.info({ importId: job.id, by: actor(res.locals) }, 'import.started');
      res.status(202).json({ import: shown(res.locals, job) });
    }),
  );
  router.post('/:id/resume', handle(async (req, res) => void res.status(202).json({ import: shown(res.locals, await imports.resume(orm.em, String(req.params.id))) })));
  router.delete(
    '/:id',
    handle(async (req, res) => {
      await imports.delete(orm.em, String(req.params.id));
      log.info({ importId: req.params.id, by: actor(res.locals) }, 'import.deleted');
      res.json({ deleted: String(req.params.id) });
    }),
  );
  router.post(
    '/:id/stop',
    handle(async (req, res) => {
      const job = await imports.stop(orm.em, String(req.params.id));
      // 202 while the batch in flight has yet to commit: the stop is recorded, and the job says stopRequested.
      res.status(job.state === 'RUNNING' ? 202 : 200).json({ import: shown(res.locals, job) });
    }),
  );
  router.get(
    '/:id/rejects',
    handle(async (req, res) => {
      const { chunks, downloadName } = await imports.rejects(orm.em, String(req.params.id));
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.attachment(downloadName);
      // Past the headers an error can only cut the download short (pipeline destroys the response): log it.
      // Without members:pii: the customer ids and anything shaped like an email address hidden, row by row.
      const body = readsPersonalData(res.locals) ? chunks : rejectsWithoutPersonalData(chunks);
      await pipeline(Readable.from(body), res).catch((err: unknown) => log.warn({ err, importId: req.params.id }, 'import.rejects_not_sent'));
    }),
  );

  const errors: ErrorRequestHandler = (err, req, res, _next) => {
    if (err instanceof AppError) {
      const { code, http, ...extensions } = err.extensions as { code: ErrorCode; http?: unknown };
      return sendGraphqlError(res, STATUS[code] ?? 400, code, err.message, extensions);
    }
    if ((err as { type?: string })?.type === 'entity.parse.failed') return sendGraphqlError(res, 400, 'BAD_REQUEST', 'The request body is not valid JSON');
    // The router could not percent-decode the path (bytes that are not UTF-8, such as a lone surrogate's).
    if (err instanceof URIError) return sendGraphqlError(res, 400, 'BAD_REQUEST', 'The request path is not valid percent-encoded UTF-8');
    log.error({ err, requestId: String(req.id) }, 'import.unexpected_error');
    sendGraphqlError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error', { requestId: String(req.id) });
  };
  router.use(errors);
  return router;
}
