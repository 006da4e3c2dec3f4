import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { AppError } from '../shared/errors';
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
            throw new AppError('QUERY_TOO_COMPLEX', `Operation complexity ${complexity} exceeds the limit of ${max}`, {
              complexity,
              limit: max,
              // Thrown before execution, so Apollo would otherwise answer 500.
              http: { status: 400 },
            });
          }
        },
      };
    },
  };
}

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
