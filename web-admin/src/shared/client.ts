import { Client, cacheExchange, fetchExchange, getOperationName, mapExchange } from 'urql';
import { hasErrorCode } from './errors';

// These fail with UNAUTHENTICATED for bad or already-ended credentials, which the caller handles itself.
const publicOperations = new Set(['Login', 'Logout']);

interface AdminClientOptions {
  getToken(): string | null;
  onUnauthenticated(): void;
}

export function createAdminClient({ getToken, onUnauthenticated }: AdminClientOptions): Client {
  return new Client({
    url: '/graphql',
    // Apollo's CSRF prevention blocks GET requests that lack a preflight-forcing header.
    preferGetMethod: false,
    fetchOptions: () => {
      const token = getToken();
      return token ? { headers: { authorization: `Bearer ${token}` } } : {};
    },
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error, operation) {
          const name = getOperationName(operation.query);
          if (name && publicOperations.has(name)) return;
          if (hasErrorCode(error, 'UNAUTHENTICATED')) onUnauthenticated();
        },
      }),
      fetchExchange,
    ],
  });
}
