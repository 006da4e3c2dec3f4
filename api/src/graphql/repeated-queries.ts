import type { Request, Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { execute, GraphQLError, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Context } from '../base/context';
import { requestScope } from '../base/request-scope';
import { argumentProblems, rootFieldCount, selectedFields } from './operation-arguments';
import { staticComplexity } from './plugins';
import { noteOutcome } from './request-metrics';

/**
 * What is remembered is bounded by the length of the texts (their documents grow with them), like Apollo's own document
 * cache: the oldest are forgotten past 1 M characters in all, and a text over 20,000 characters (the longest operation the
 * admin app sends has 1,500) is never remembered. A comment is no lexer token, so GRAPHQL_MAX_TOKENS does not bound
 * a text's length; without these bounds a caller could make the process keep a gigabyte of documents.
 */
const MAX_TOTAL_CHARS = 1_000_000;
const MAX_QUERY_CHARS = 20_000;
/** What Apollo answers a single result with when the client accepts JSON (its MEDIA_TYPES.APPLICATION_JSON). */
const JSON_TYPE = 'application/json; charset=utf-8';
const BODY_KEYS = new Set(['query', 'variables', 'operationName']);

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

interface Known {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

export interface RepeatedQueries {
  /** Notes, after Apollo has parsed and validated it, each query that may be run here next time. */
  readonly plugin: ApolloServerPlugin<Context>;
  /**
   * Runs a request whose query Apollo has validated before, if it may; true once it has answered. False, with nothing
   * done (no resolver run, nothing written to the response), leaves the request to Apollo.
   */
  serve(req: Request, res: Response, contextOf: () => Context): Promise<boolean>;
}

/**
 * Repeated read operations, run straight on graphql-js's `execute` without Apollo's per-request pipeline (its HTTP
 * parsing, hashing, document store, plugin dispatch and content negotiation), which cost about a fifth of a member
 * lookup's CPU (issue 18). A till sends the same few documents all day with new variables.
 *
 * Only what Apollo itself has parsed and validated (depth limit and all), as a query with one root field and a cost
 * within the limit whatever its variables, is run here, and each request still goes through the checks that depend on
 * its variables (control characters, malformed ids) before any resolver runs. Anything else, or anything unusual
 * (another Accept, extensions, variables that do not coerce, a failing check), goes to Apollo, which answers it as
 * always: nothing has run by then. The answer is Apollo's to the byte: the same error normalisation (a default
 * INTERNAL_SERVER_ERROR code, an error's `http` status), the same `formatError`, the same body and content type, the
 * same request metrics and statement-count header. Mutations always go through Apollo.
 */
export function repeatedQueries({
  schema,
  maxComplexity,
  formatError,
  countQueries,
}: {
  schema: GraphQLSchema;
  maxComplexity: number;
  formatError: FormatError;
  /** Sets `x-db-queries`, as the queryCountHeader plugin does outside production. */
  countQueries: boolean;
}): RepeatedQueries {
  const known = new Map<string, Known>();
  let knownChars = 0;
  const remember = (key: string, entry: Known) => {
    known.set(key, entry);
    knownChars += key.length;
    for (const [oldest] of known) {
      if (knownChars <= MAX_TOTAL_CHARS) break;
      known.delete(oldest);
      knownChars -= oldest.length;
    }
  };
  const keyOf = (query: string, operationName: string | null | undefined) => `${operationName ?? ''}\u0000${query}`;

  const plugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (operation?.operation !== 'query' || typeof request.query !== 'string' || request.query.length > MAX_QUERY_CHARS) return;
          const key = keyOf(request.query, request.operationName);
          if (known.has(key)) return;
          // More root fields are charged against the rate limit as more requests (rootFieldBudget): Apollo's.
          if (rootFieldCount(selectedFields(schema, document, operation)) !== 1) return;
          const cost = staticComplexity(schema, document, request.operationName ?? undefined, request.variables ?? {});
          if (cost === null || cost > maxComplexity) return;
          remember(key, { document, operation });
        },
      };
    },
  };

  const serve = async (req: Request, res: Response, contextOf: () => Context): Promise<boolean> => {
    const body = req.body as Record<string, unknown> | undefined;
    if (req.method !== 'POST' || !body || typeof body !== 'object' || Array.isArray(body)) return false;
    for (const name in body) if (!BODY_KEYS.has(name) && !(name === 'extensions' && isEmptyObject(body.extensions))) return false;
    const { query, variables } = body;
    const operationName = body.operationName as string | null | undefined;
    if (typeof query !== 'string') return false;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return false;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
    const accept = req.headers.accept;
    if (accept !== undefined && accept !== '*/*' && accept !== 'application/json') return false;
    const entry = known.get(keyOf(query, operationName));
    if (!entry) return false;
    const given = (variables ?? {}) as Record<string, unknown>;
    if (argumentProblems(schema, entry.document, entry.operation, given).length) return false;

    const result = await execute({
      schema,
      document: entry.document,
      operationName,
      variableValues: given,
      contextValue: contextOf(),
    });
    // No data: the variables did not coerce, and no resolver ran. Apollo answers that (400, BAD_USER_INPUT).
    if (result.data === undefined) return false;

    let status = 200;
    const errors = result.errors?.map((error) => {
      const { formatted, http } = normalised(error);
      if (http?.status) status = http.status;
      if (http?.headers) for (const [name, value] of http.headers) res.setHeader(name, value);
      try {
        return formatError(formatted, error);
      } catch {
        return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
    });
    const operationLabel = entry.operation.name?.value || (operationName ?? null);
    noteOutcome(operationLabel, errors);
    const scope = requestScope.getStore();
    if (countQueries && scope) res.setHeader('x-db-queries', String(scope.dbQueries));
    res.setHeader('content-type', JSON_TYPE);
    res.statusCode = status;
    res.send(`${JSON.stringify({ ...result, errors })}\n`);
    return true;
  };

  return { plugin, serve };
}

/** `{}`: what is left of `extensions` once the allow-list has taken its `persistedQuery` out. */
const isEmptyObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/** As Apollo normalises an execution error before `formatError`: a code always, and an `http` head taken off. */
function normalised(error: GraphQLError): { formatted: GraphQLFormattedError; http?: { status?: number; headers?: Map<string, string> } } {
  const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
  const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
  const isHead =
    !!http &&
    typeof http === 'object' &&
    (!('status' in http) || typeof http.status === 'number') &&
    (!('headers' in http) || http.headers instanceof Map);
  if (isHead) delete extensions.http;
  return { formatted: { ...error.toJSON(), extensions }, http: isHead ? (http as { status?: number; headers?: Map<string, string> }) : undefined };
}
