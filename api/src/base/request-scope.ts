import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestScope {
  requestId: string;
  dbQueries: number;
  /** The W3C trace id from a valid `traceparent` the caller sent, logged beside the request id. */
  traceId?: string;
  /** For the request metrics: the operation name (null: anonymous) and the first error's code, once known. */
  operationName?: string | null;
  outcomeCode?: string;
}

/** Per-request state that must survive into ORM callbacks, Apollo plugins and error handlers, which receive no context of ours. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

export function countDbQuery(): void {
  const scope = requestScope.getStore();
  if (scope) scope.dbQueries += 1;
}
