import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import * as operations from './generated/operations';
import { LoyaltyApiError, type GraphqlError } from './errors';

export interface LoyaltyClientOptions {
  /** The API's GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** A sales channel's API key, sent as `x-api-key`; its scopes decide what the client may do. */
  apiKey: string;
  /** Defaults to the global fetch (Node 18+, browsers). */
  fetch?: typeof fetch;
  /**
   * Send each storefront operation as its sha256 only (the key of schema/persisted-operations.json), not its text,
   * for an API run with PERSISTED_OPERATIONS=required-for-api-keys or required. Against an API without the
   * allow-list the first call falls back to the text, and the client sends text from then on.
   */
  persistedOperations?: boolean;
  /** Sent with every request, e.g. `traceparent` or `x-request-id`. */
  headers?: Record<string, string>;
}

/** A generated document: the operation's text, its result and variables types, and its persisted hash. */
export type LoyaltyDocument<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & {
  toString(): string;
  __meta__?: { hash?: string } & Record<string, unknown>;
};

type ResultOf<D> = D extends DocumentTypeDecoration<infer R, any> ? R : never;
type VariablesOf<D> = D extends DocumentTypeDecoration<any, infer V> ? V : never;
/** Variables may be left out when the operation needs none (or only ones with defaults). */
type VariablesArg<V> = {} extends V ? [variables?: V] : [variables: V];

type Generated = typeof operations;
type OperationExport = { [K in keyof Generated]: K extends `${string}Document` ? K : never }[keyof Generated];
type MethodName<K> = K extends `${infer Name}Document` ? Uncapitalize<Name> : never;

/** One method per operation of schema/operations/channels: `enrolMember`, `recordOrder`, `memberAccount`, ... */
export type StorefrontMethods = {
  [K in OperationExport as MethodName<K>]: (...variables: VariablesArg<VariablesOf<Generated[K]>>) => Promise<ResultOf<Generated[K]>>;
};

export type LoyaltyClient = StorefrontMethods & {
  /** Runs any typed document (the generated ones, or your own when the API does not require persisted operations). */
  request<TResult, TVariables>(document: LoyaltyDocument<TResult, TVariables>, ...variables: VariablesArg<TVariables>): Promise<TResult>;
};

interface GraphqlResponse {
  data?: unknown;
  errors?: GraphqlError[];
}

export function createLoyaltyClient(options: LoyaltyClientOptions): LoyaltyClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('createLoyaltyClient: no fetch available; pass options.fetch');

  /** Sends one GraphQL request and returns its data, or throws LoyaltyApiError. */
  async function post(body: Record<string, unknown>): Promise<unknown> {
    let response: Response;
    try {
      // POST only: the API refuses GET from channels, and Apollo's CSRF guard would want a preflight header.
      response = await fetchImpl(options.url, {
        method: 'POST',
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          'x-api-key': options.apiKey,
        },
        body: JSON.stringify(body),
      });
    } catch (cause) {
      throw new LoyaltyApiError('NETWORK_ERROR', `Could not reach ${options.url}: ${(cause as Error)?.message ?? cause}`, { cause });
    }

    const requestId = response.headers.get('x-request-id') ?? undefined;
    const text = await response.text();
    let payload: GraphqlResponse | undefined;
    try {
      payload = JSON.parse(text) as GraphqlResponse;
    } catch {
      payload = undefined;
    }
    const errors = Array.isArray(payload?.errors) ? payload.errors : [];
    if (errors.length > 0) {
      const [first] = errors;
      const { code, ...extensions } = first.extensions ?? {};
      throw new LoyaltyApiError((code ?? 'UNEXPECTED_RESPONSE') as LoyaltyApiError['code'], first.message, {
        extensions,
        errors,
        status: response.status,
        requestId: requestId ?? (typeof extensions.requestId === 'string' ? extensions.requestId : undefined),
      });
    }
    if (!payload || payload.data == null) {
      throw new LoyaltyApiError('UNEXPECTED_RESPONSE', `HTTP ${response.status} from ${options.url} without GraphQL data: ${text.slice(0, 200)}`, {
        status: response.status,
        requestId,
      });
    }
    return payload.data;
  }

  let sendsHashes = options.persistedOperations === true;

  async function request<TResult, TVariables>(document: LoyaltyDocument<TResult, TVariables>, variables?: TVariables): Promise<TResult> {
    const hash = sendsHashes ? document.__meta__?.hash : undefined;
    if (!hash) return (await post({ query: document.toString(), variables })) as TResult;
    try {
      return (await post({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } })) as TResult;
    } catch (err) {
      // An API without an allow-list (PERSISTED_OPERATIONS=off) knows no hashes: Apollo answers PERSISTED_QUERY_NOT_FOUND.
      // Send the text, and from now on only the text.
      if (!(err instanceof LoyaltyApiError && err.code === 'PERSISTED_QUERY_NOT_FOUND')) throw err;
      sendsHashes = false;
      return (await post({ query: document.toString(), variables })) as TResult;
    }
  }

  const client: Record<string, unknown> = { request };
  for (const [exportName, document] of Object.entries(operations)) {
    if (!exportName.endsWith('Document') || !(document instanceof operations.TypedDocumentString)) continue;
    const name = exportName.slice(0, -'Document'.length);
    const method = name[0].toLowerCase() + name.slice(1);
    client[method] = (variables?: unknown) => request(document as LoyaltyDocument<unknown, unknown>, variables);
  }
  return client as LoyaltyClient;
}
