import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestScope {
  requestId: string;
  dbQueries: number;
}

/** Per-request state that must survive into ORM callbacks, which receive no context of ours. */
export const requestScope = new AsyncLocalStorage<RequestScope>();

export function countDbQuery(): void {
  const scope = requestScope.getStore();
  if (scope) scope.dbQueries += 1;
}
