import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger';
import type { Principal } from './principal';
import type { AppError } from './errors';

/**
 * What every service call receives for one request; resolvers get it with the request's loaders (`ResolverContext`).
 * A method that takes a transaction's entity manager besides the context takes it first: `(em, ctx, ...)` (as
 * `AuditService.record` and most call sites already did).
 */
export interface Context {
  /** This request's own fork of the entity manager. */
  em: EntityManager;
  /** Where the heavy reads (analytics, segment previews) run: a fork on their own pool (analyticsOrmOptions), made on first use. */
  analyticsEm?: EntityManager;
  principal: Principal | null;
  /** Set when credentials were sent but are not valid; protected fields answer with it. */
  authError: AppError | null;
  requestId: string;
  /** The client address, `req.ip` (X-Forwarded-For only from proxies TRUST_PROXY names); absent outside HTTP requests. */
  clientIp?: string;
  log: Logger;
}

/**
 * What a resolver receives: the domain `Context` plus the per-request loaders it uses. Each module owns its loaders and
 * their slice type (`PointsLoaders` in modules/ledger/points.loaders.ts); a resolver names the slices it reads, and the GraphQL
 * layer builds one context that holds them all (graphql/context.ts), so a module never imports that layer.
 */
export type ResolverContext<Loaders extends object> = Context & { loaders: Loaders };
