import type { Context } from '../shared/context';
import type { Loaders } from './loaders';

/**
 * What a resolver receives for one request: the domain context services take, plus the request's loaders. Services take
 * the smaller `Context` (shared/context.ts) and know nothing of the loaders; a resolver passes its `RequestContext` where
 * a `Context` is wanted.
 */
export interface RequestContext extends Context {
  loaders: Loaders;
}
