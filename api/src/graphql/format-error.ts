import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { Logger } from '../base/logger';
import { requestScope } from '../base/request-scope';
import { AppError, isDatabaseUnreachable } from '../base/errors';

const VARIABLE_NAME = /^Variable "\$(\w+)"/;
/** The ` at "input.b[1]"` graphql-js puts at the end of the part before the reason, when the error is below the top. */
const PATH_AT_END = / at "([\w.[\]]+)"$/;
/**
 * A reason about an input object's field names the field only here. Matched whole: a key the caller sent is quoted
 * unescaped in the first, so only a reason that is nothing but graphql-js's wording around a plain name counts (a
 * crafted key leaves text the pattern cannot place, and the error stays on the object's path).
 */
const FIELD_REASONS = [
  /^Field "(\w+)" is not defined by type "\w+"\.(?: Did you mean "\w+"(?:(?:,| or|, or) "\w+")*\?)?$/,
  /^Field "(\w+)" of required type "[\w[\]!]+" was not provided\.$/,
];
/** graphql-js stops coercing variables after 50 bad values with an error that carries no code. */
const TOO_MANY_VARIABLE_ERRORS = 'Too many errors processing variables';

function describe(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : String(err);
}

/**
 * Where a variable coercion error is, as a field path: `input.b[1]`, the variable itself (`n`, `input`) when its
 * top-level value is wrong, missing or null, and `input.z` for a field the input type does not define or requires.
 * graphql-js writes `<what> got invalid value <value>[ at "<path>"]; <reason>`, the reason being the error it keeps as
 * `originalError`: the path and field are read only from where they must be, so a value quoting those words moves
 * nothing. Null for an error that is not about a variable's value.
 */
export function variableErrorPath(message: string, reason: string | undefined): string | null {
  const variable = VARIABLE_NAME.exec(message)?.[1];
  if (!variable) return null;
  if (!reason || !message.endsWith(`; ${reason}`)) return variable;
  const before = message.slice(0, message.length - reason.length - 2);
  const at = PATH_AT_END.exec(before)?.[1] ?? variable;
  const field = FIELD_REASONS.map((pattern) => pattern.exec(reason)?.[1]).find(Boolean);
  return field ? `${at}.${field}` : at;
}

/**
 * Expected errors pass through with their code. A lost database connection becomes SERVICE_UNAVAILABLE, so that
 * clients retry. Anything else is logged once here, with the request id, and reaches the client as a bare
 * INTERNAL_SERVER_ERROR: no message, stack or SQL, in development too (a driver's message quotes the statement with
 * its values).
 */
export function createFormatError(log: Logger, exposeDetails: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError && original.message.startsWith(TOO_MANY_VARIABLE_ERRORS)) {
      return { message: formatted.message, extensions: { code: 'BAD_USER_INPUT' } };
    }
    // Apollo's code for an operationName the document lacks: to a client, a malformed request.
    if (formatted.extensions?.code === 'OPERATION_RESOLUTION_FAILURE') {
      return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
    }
    const code = formatted.extensions?.code;
    const scope = requestScope.getStore();
    const requestId = scope?.requestId;
    // Domain errors (AppError) and the transport's own (parse, validation, Apollo's) carry their code; anything else is
    // unexpected, whatever it says about itself.
    const isExpected = (original instanceof AppError || original instanceof GraphQLError) && typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR';

    if (isExpected) {
      const { stacktrace, ...extensions } = formatted.extensions ?? {};
      // Variable coercion errors (bad scalar values) name the path only in their message.
      if (code === 'BAD_USER_INPUT' && !extensions.fields) {
        const reason = error instanceof GraphQLError ? error.originalError?.message : undefined;
        const path = variableErrorPath(formatted.message, reason);
        if (path) extensions.fields = [{ path, message: formatted.message }];
      }
      return { ...formatted, extensions: exposeDetails ? { ...extensions, stacktrace } : extensions };
    }

    if (isDatabaseUnreachable(original)) {
      log.warn({ err: describe(original), requestId, path: formatted.path }, 'database.unavailable');
      const { message, extensions } = AppError.databaseUnavailable();
      const { http, ...rest } = extensions;
      return { message, path: formatted.path, locations: formatted.locations, extensions: { ...rest, requestId } };
    }

    log.error({ err: original, requestId, ...(scope?.traceId ? { traceId: scope.traceId } : {}), path: formatted.path }, 'graphql.unexpected_error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
    };
  };
}
