import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, Kind, valueFromAST, type DocumentNode, type GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { AppError, type FieldProblem } from '../shared/errors';
import { isUuid } from '../shared/ids';
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

/**
 * Every id in this API is a UUID (except the ID arguments a field lists under OPAQUE_ID_ARGUMENTS). A malformed one given as an argument of a query or mutation (`member(id: "abc")`)
 * answers BAD_USER_INPUT naming the argument, before any resolver runs, instead of reaching PostgreSQL as an invalid
 * uuid. Ids inside input objects are checked by their input type's validation (`must be an id`). Only the operation's
 * root fields are looked at: once per request, not per resolved field.
 */
/** Field extension listing ID arguments that are not UUIDs (a queue's job ids), which `idArguments` leaves alone. */
export const OPAQUE_ID_ARGUMENTS = 'opaqueIdArguments';

export const idArguments: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request, schema }) {
        if (!operation) return;
        const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
        const problems: FieldProblem[] = [];
        for (const selection of operation.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD) continue;
          const field = root?.getFields()[selection.name.value];
          const opaque = (field?.extensions?.[OPAQUE_ID_ARGUMENTS] as string[] | undefined) ?? [];
          for (const arg of selection.arguments ?? []) {
            const definition = field?.args.find((a) => a.name === arg.name.value);
            if (!definition || getNamedType(definition.type).name !== 'ID' || opaque.includes(definition.name)) continue;
            // Undefined when the value does not coerce: execution reports that itself.
            const value: unknown = valueFromAST(arg.value, definition.type, request.variables ?? {});
            const ids = Array.isArray(value) ? value : [value];
            if (ids.some((id) => typeof id === 'string' && !isUuid(id))) problems.push({ path: arg.name.value, message: 'must be an id' });
          }
        }
        if (problems.length) {
          const { message, extensions } = AppError.badInput(problems);
          // Thrown before execution, so Apollo would otherwise answer 500.
          throw new AppError('BAD_USER_INPUT', message, { ...extensions, http: { status: 400 } });
        }
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
