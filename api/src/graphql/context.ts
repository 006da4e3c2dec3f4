import type { ResolverContext } from '../base/context';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../base/logger';
import type { Loaders } from './loaders';

/**
 * What the server builds for one request: the domain context services take, plus every module's loaders. Services take
 * the smaller `Context` (base/context.ts) and know nothing of the loaders; a resolver names only the loader slices it
 * reads (`ResolverContext<PointsLoaders>`), which this context has.
 */
export type RequestContext = ResolverContext<Loaders>;

const MAKE_LOG = Symbol('request logger');
const MAKE_ANALYTICS_EM = Symbol('analytics entity manager');
type Makers = { [MAKE_LOG]: () => Logger; [MAKE_ANALYTICS_EM]?: () => EntityManager };
/** Reads `log` and `analyticsEm` through the context's own makers, so every request context shares this one prototype. */
const lazyPrototype = Object.defineProperties(
  {},
  {
    log: {
      get(this: Makers) {
        return this[MAKE_LOG]();
      },
    },
    analyticsEm: {
      get(this: Makers) {
        return this[MAKE_ANALYTICS_EM]?.();
      },
    },
  },
);

/**
 * The context with a `log` and an `analyticsEm` made on first use: a pino child runs the redaction over its bindings,
 * and a fork of the heavy-read pool's entity manager costs a little too, which requests that log nothing and run no
 * analytics (most of them) need not pay. The getters are on the prototype: Apollo copies the context's own properties
 * into a new object with the same prototype (reading any getter among them, which made the logger for every request
 * while it was one), so only a read of `log` or `analyticsEm` makes it.
 */
export function lazyRequestContext<T extends object>(
  fields: T,
  make: { log: () => Logger; analyticsEm?: () => EntityManager },
): T & { log: Logger; analyticsEm?: EntityManager } {
  return Object.assign(Object.create(lazyPrototype) as T & { log: Logger; analyticsEm?: EntityManager }, fields, {
    [MAKE_LOG]: make.log,
    ...(make.analyticsEm ? { [MAKE_ANALYTICS_EM]: make.analyticsEm } : {}),
  });
}
