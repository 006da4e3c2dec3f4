import type http from 'node:http';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';

/**
 * Express handlers run in order on one known path, without Express's router: what the router does for them (a path
 * match, a layer and a wrapped `next` per handler, every app-level layer tried in turn) cost about a tenth of a member
 * lookup's CPU. The contract is the router's: `next()` runs the next handler; `next(err)`, a throw or a rejected promise
 * skips to the error handlers, where `next(err)` runs the next one. The request and response get Express's methods and
 * `res.locals` as `app.handle` gives them, so the handlers are the same functions the app mounts.
 */
export function handlerChain(
  app: Express,
  handlers: readonly RequestHandler[],
  errorHandlers: readonly ErrorRequestHandler[],
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (incoming, outgoing) => {
    const req = incoming as Request;
    const res = outgoing as Response;
    req.res = res;
    res.req = req;
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    res.locals = Object.create(null) as Response['locals'];
    // As the router leaves them for a handler on the app itself (the access log reads both).
    req.originalUrl = req.url;
    req.params = {};

    let index = 0;
    let errorIndex = 0;
    // Not reached while the last handler (Apollo's) and the last error handler always answer; Express would answer
    // 404 and 500.
    const unanswered = (status: number) => {
      if (!res.headersSent) res.statusCode = status;
      res.end();
    };
    const settle = (result: unknown, onError: (err: unknown) => void) => {
      if (result instanceof Promise) result.then(undefined, (err: unknown) => onError(err ?? new Error('Rejected promise')));
    };
    const fail = (err: unknown): void => {
      const handler = errorHandlers[errorIndex++];
      if (!handler) return unanswered(500);
      const onward = (next?: unknown) => (next ? fail(next) : unanswered(404));
      try {
        settle(handler(err, req, res, onward), fail);
      } catch (thrown) {
        fail(thrown);
      }
    };
    const next = (err?: unknown): void => {
      if (err) return fail(err);
      const handler = handlers[index++];
      if (!handler) return unanswered(404);
      try {
        settle(handler(req, res, next), next);
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}
