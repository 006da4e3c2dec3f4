import type { AuthChecker } from 'type-graphql';
import type { Context } from '../../base/context';
import { AppError } from '../../base/errors';
import type { Permission } from './permissions';

/**
 * `@Authorized(p1, p2)` admits a caller holding any of the listed permissions.
 * No caller (or bad credentials) is UNAUTHENTICATED; a known caller without the permission is FORBIDDEN.
 */
export const authChecker: AuthChecker<Context, Permission> = ({ context }, required) => {
  if (context.authError) throw context.authError;
  const principal = context.principal;
  if (!principal) throw AppError.unauthenticated();
  if (required.length === 0) return true;
  if (required.some((p) => principal.permissions.has(p))) return true;
  throw AppError.forbidden(`Requires ${required.join(' or ')}`);
};
