import type { ResolverContext } from '../base/context';
import type { Logger } from '../base/logger';
import type { Loaders } from './loaders';

/**
 * What the server builds for one request: the domain context services take, plus every module's loaders. Services take
 * the smaller `Context` (base/context.ts) and know nothing of the loaders; a resolver names only the loader slices it
 * reads (`ResolverContext<PointsLoaders>`), which this context has.
 */
export type RequestContext = ResolverContext<Loaders>;

const MAKE_LOG = Symbol('request logger');
/** Reads `log` through the context's own MAKE_LOG, so every request context shares this one prototype. */
const lazyLogPrototype = Object.defineProperty({}, 'log', {
  get(this: { [MAKE_LOG]: () => Logger }) {
    return this[MAKE_LOG]();
  },
});

/**
 * The context with a `log` made on first use: a pino child runs the redaction over its bindings, a cost that requests
 * which log nothing (most of them) need not pay. The getter is on the prototype: Apollo copies the context's own
 * properties into a new object with the same prototype (reading any getter among them, which made the logger for every
 * request while it was one), so only a read of `log` makes it.
 */
export function withLazyLog<T extends object>(fields: T, makeLog: () => Logger): T & { log: Logger } {
  return Object.assign(Object.create(lazyLogPrototype) as T & { log: Logger }, fields, { [MAKE_LOG]: makeLog });
}
