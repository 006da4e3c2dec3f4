import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { Logger } from '../base/logger';
import { requestScope } from '../base/request-scope';
import { AppError, isDatabaseUnreachable } from '../base/errors';

const VARIABLE_PATH = /at "([\w.[\]]+)"/;
/** graphql-js stops coercing variables after 50 bad values with an error that carries no code. */
const TOO_MANY_VARIABLE_ERRORS = 'Too many errors processing variables';

function describe(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : String(err);
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
        const path = VARIABLE_PATH.exec(formatted.message)?.[1];
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
