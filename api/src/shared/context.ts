import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger';
import type { Principal } from '../auth/principal';
import type { AppError } from './errors';

/**
 * What every service call receives for one request; resolvers get it with the request's loaders (graphql/context.ts).
 * A method that takes a transaction's entity manager besides the context takes it first: `(em, ctx, ...)` (as
 * `AuditService.record` and most call sites already did).
 */
export interface Context {
  /** This request's own fork of the entity manager. */
  em: EntityManager;
  /** Where the analytics queries read: a fork on the read replica (DATABASE_READ_URL) when there is one. */
  analyticsEm?: EntityManager;
  principal: Principal | null;
  /** Set when credentials were sent but are not valid; protected fields answer with it. */
  authError: AppError | null;
  requestId: string;
  /** The client address, `req.ip` (X-Forwarded-For only from proxies TRUST_PROXY names); absent outside HTTP requests. */
  clientIp?: string;
  log: Logger;
}
