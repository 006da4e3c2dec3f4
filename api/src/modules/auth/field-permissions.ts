import { UseMiddleware, type MiddlewareFn } from 'type-graphql';
import type { Context } from '../../base/context';
import type { Permission } from './permissions';

/** Every field declared with `@RedactedUnless`, for the authorization matrix to find and test. */
export const redactedFields: Array<{ target: Function; fieldName: string; permissions: readonly Permission[] }> = [];

/**
 * `@RedactedUnless(p1, p2)` on a nullable field of an object type: a caller holding none of the permissions reads null
 * there, and the rest of the response stays intact. For secrets that must stay hidden wherever their type is returned
 * (a member's voucher codes reach callers through queries, the member mutations and the timeline alike), where
 * `@Authorized`'s FORBIDDEN would fail whole screens of callers who may see everything else.
 */
export function RedactedUnless(...permissions: Permission[]): PropertyDecorator {
  const redact: MiddlewareFn<Context> = ({ context }, next) =>
    permissions.some((p) => context.principal?.permissions.has(p)) ? next() : Promise.resolve(null);
  return (prototype, propertyKey) => {
    redactedFields.push({ target: prototype.constructor, fieldName: String(propertyKey), permissions });
    UseMiddleware(redact)(prototype, propertyKey);
  };
}
