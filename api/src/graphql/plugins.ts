import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { AppError, type ErrorCode } from '../shared/errors';
import { argumentProblems } from './operation-arguments';
import { requestScope } from '../shared/request-scope';
import type { Context } from '../shared/context';

/** A list asked for `first: n` costs n times its items. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === 'number' ? 1 + args.first * Math.max(childComplexity, 1) : undefined;

/** The cost the complexity limit charges an operation; throws when its variables do not coerce. */
export function operationComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number {
  return getComplexity({
    schema,
    query: document,
    operationName,
    variables,
    estimators: [fieldExtensionsEstimator(), pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
}

export function complexityLimit(schema: GraphQLSchema, max: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let complexity: number;
          try {
            complexity = operationComplexity(schema, document, request.operationName ?? undefined, request.variables ?? {});
          } catch {
            // Variables that do not coerce: execution reports them as BAD_USER_INPUT next.
            return;
          }
          if (complexity > max) {
            const message = `Operation complexity ${complexity} exceeds the limit of ${max}`;
            throw beforeExecution(new AppError('QUERY_TOO_COMPLEX', message, { complexity, limit: max }), 400);
          }
        },
      };
    },
  };
}

export { OPAQUE_ID_ARGUMENTS } from './operation-arguments';

/** An error thrown before execution, which Apollo would otherwise answer with HTTP 500. */
function beforeExecution(error: AppError, status: number): AppError {
  const { code, ...details } = error.extensions as { code: ErrorCode };
  return new AppError(code, error.message, { ...details, http: { status } });
}

/**
 * Refuses, with BAD_USER_INPUT naming each argument and HTTP 400, before any resolver runs, an operation whose
 * arguments PostgreSQL would refuse with a driver error (INTERNAL_SERVER_ERROR): any string, at any depth of any
 * argument of any selected field, with a control character other than tab, newline and carriage return or an
 * unpaired UTF-16 surrogate; and a malformed id given as an ID argument (`member(id: "abc")`). Ids inside input
 * objects are checked by their input type's validation (`must be an id`). One walk of the operation serves both,
 * through inline fragments and fragment spreads.
 */
export const argumentChecks: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, document, request, schema }) {
        if (!operation) return;
        const problems = argumentProblems(schema, document, operation, request.variables ?? {});
        if (problems.length) throw beforeExecution(AppError.badInput(problems), 400);
      },
    };
  },
};

/** Outside production, reports how many SQL statements a request ran, so tests can catch N+1 queries. */
export const queryCountHeader: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const scope = requestScope.getStore();
        if (scope) response.http.headers.set('x-db-queries', String(scope.dbQueries));
      },
    };
  },
};
