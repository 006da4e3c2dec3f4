import type { ResolverContext } from '../base/context';
import type { Loaders } from './loaders';

/**
 * What the server builds for one request: the domain context services take, plus every module's loaders. Services take
 * the smaller `Context` (base/context.ts) and know nothing of the loaders; a resolver names only the loader slices it
 * reads (`ResolverContext<PointsLoaders>`), which this context has.
 */
export type RequestContext = ResolverContext<Loaders>;
