import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { AppError } from '../shared/errors';
import { requestScope } from '../shared/request-scope';
import type { Context } from '../shared/context';

/** A list asked for `first: n` costs n times its items. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === 'number' ? 1 + args.first * Math.max(childComplexity, 1) : undefined;

export function complexityLimit(schema: GraphQLSchema, max: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let complexity: number;
          try {
            complexity = getComplexity({
              schema,
              query: document,
              operationName: request.operationName ?? undefined,
              variables: request.variables ?? {},
              estimators: [fieldExtensionsEstimator(), pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Variables that do not coerce: execution reports them as BAD_USER_INPUT next.
            return;
          }
          if (complexity > max) {
            throw new AppError('QUERY_TOO_COMPLEX', `Operation complexity ${complexity} exceeds the limit of ${max}`, {
              complexity,
              limit: max,
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
