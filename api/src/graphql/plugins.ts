import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { BREAK, GraphQLObjectType, visit, type DocumentNode, type GraphQLSchema, type ValueNode } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { AppError, type ErrorCode } from '../base/errors';
import { rateLimitedError, rateLimitHeaders, type RequestRateLimiter } from '../modules/security/rate-limits';
import { argumentProblems, rootFieldCount, selectedFields } from './operation-arguments';
import { requestScope } from '../base/request-scope';
import type { Context } from '../base/context';

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

/** True when some field sets its own cost (`@Field({ complexity })`), which may read any of its arguments. */
function hasFieldComplexity(schema: GraphQLSchema): boolean {
  return Object.values(schema.getTypeMap()).some(
    (type) => type instanceof GraphQLObjectType && Object.values(type.getFields()).some((field) => field.extensions?.complexity !== undefined),
  );
}
const fieldComplexity = new WeakMap<GraphQLSchema, boolean>();
const fieldComplexityIn = (schema: GraphQLSchema): boolean => {
  let found = fieldComplexity.get(schema);
  if (found === undefined) fieldComplexity.set(schema, (found = hasFieldComplexity(schema)));
  return found;
};

/**
 * The operation's cost whatever its variables, found with one request's (see complexityLimit); null when a variable
 * can change it, or when these variables do not coerce.
 */
export function staticComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number | null {
  if (fieldComplexityIn(schema) || costReadsVariables(document)) return null;
  try {
    return operationComplexity(schema, document, operationName, variables);
  } catch {
    return null;
  }
}

const readsVariable = (value: ValueNode): boolean => {
  let found = false;
  visit(value, { Variable: () => ((found = true), BREAK) });
  return found;
};

/**
 * Whether the cost of the document's operations depends on its variables: only a page size (`first: $n`) and a
 * directive's argument (`@include(if: $x)`) can change what the estimators count.
 */
function costReadsVariables(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Argument(node) {
      if (node.name.value === 'first' && readsVariable(node.value)) return ((found = true), BREAK);
      return undefined;
    },
    Directive(node) {
      if ((node.arguments ?? []).some((a) => readsVariable(a.value))) return ((found = true), BREAK);
      return undefined;
    },
  });
  return found;
}

/**
 * Refuses an operation that costs more than `max` (QUERY_TOO_COMPLEX, HTTP 400). The cost of a document whose page sizes
 * and directives read no variable is the same on every request, so one found within the limit is remembered for that
 * parsed document (Apollo hands the same one back from its document cache): a till sending the same lookup with a new
 * member id each time is costed once. One over the limit is costed again each time, so that variables which do not
 * coerce are still answered as BAD_USER_INPUT rather than QUERY_TOO_COMPLEX, as before.
 */
export function complexityLimit(schema: GraphQLSchema, max: number): ApolloServerPlugin<Context> {
  const cacheable = !fieldComplexityIn(schema);
  const withinLimit = new WeakMap<DocumentNode, Set<string>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const operationKey = request.operationName ?? '';
          if (withinLimit.get(document)?.has(operationKey)) return;
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
          if (cacheable && !costReadsVariables(document)) {
            const known = withinLimit.get(document) ?? new Set<string>();
            known.add(operationKey);
            withinLimit.set(document, known);
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

/** Root fields one operation may have, aliases included; the largest real operation has 3. */
export const MAX_ROOT_FIELDS = 20;

/**
 * Aliases make one request run a root field many times (`a: recordOrder(...) b: recordOrder(...)`), so each root
 * field counts as one request against the caller's budget, and an operation may have at most `maxRootFields`
 * (TOO_MANY_ROOT_FIELDS, HTTP 400). The request itself was counted once on arrival, before its body was read; the
 * other root fields are counted once every check has passed and before any resolver runs. An operation the rest of
 * the budget cannot pay for answers RATE_LIMITED (HTTP 429) without running.
 */
export function rootFieldBudget(rateLimiter: RequestRateLimiter, maxRootFields = MAX_ROOT_FIELDS): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let rootFields = 1;
      return {
        async didResolveOperation({ operation, document, schema }) {
          if (!operation) return;
          rootFields = rootFieldCount(selectedFields(schema, document, operation));
          if (rootFields > maxRootFields) {
            const message = `The operation has ${rootFields} root fields; at most ${maxRootFields} are allowed`;
            throw beforeExecution(new AppError('TOO_MANY_ROOT_FIELDS', message, { rootFields, limit: maxRootFields }), 400);
          }
        },
        async responseForOperation({ contextValue, response }) {
          if (rootFields <= 1 || !contextValue.principal) return null;
          const state = await rateLimiter.consume(contextValue.principal, rootFields - 1);
          if (!state) return null;
          for (const [name, value] of rateLimitHeaders(state)) response.http.headers.set(name, value);
          if (!state.isLimited) return null;
          const { message, extensions } = rateLimitedError(state);
          const { http, ...rest } = extensions as unknown as { http: { status: number } };
          return { http: { status: http.status, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: [{ message, extensions: rest }] } } };
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
