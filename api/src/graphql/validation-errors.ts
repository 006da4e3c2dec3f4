import type { ValidationError } from 'class-validator';
import { GraphQLInputObjectType, GraphQLObjectType, getNamedType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { AppError, type FieldProblem } from '../base/errors';

function flatten(errors: ValidationError[], prefix: string): FieldProblem[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      path,
      // class-validator starts messages with the property name; the path already says it.
      message: message.startsWith(`${e.property} `) ? message.slice(e.property.length + 1) : message,
    }));
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** The argument that class-validator checked: the field's only input-object argument. */
function inputArgName(field: GraphQLField<unknown, unknown>): string {
  const inputs = field.args.filter((a) => getNamedType(a.type) instanceof GraphQLInputObjectType);
  return inputs.length === 1 ? inputs[0].name : '';
}

/** class-validator output as BAD_USER_INPUT with `fields: [{ path: 'input.email', message }]`; anything else as it is. */
function translated(err: unknown, argName: string): unknown {
  return err instanceof ArgumentValidationError ? AppError.badInput(flatten(err.extensions.validationErrors, argName)) : err;
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * Turns class-validator output into BAD_USER_INPUT with field paths, on every field that takes arguments: type-graphql
 * validates arguments (and throws ArgumentValidationError) only there. This was a type-graphql global middleware, which
 * wrapped every field of every type, `id` and `country` included, in an async call: a promise per field per request.
 * Wrapping the argument-taking resolvers once, when the schema is built, gives the same errors at none of that cost.
 */
export function withValidationErrorPaths(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve || field.args.length === 0) continue;
      const argName = inputArgName(field);
      field.resolve = (source, args, context, info) => {
        try {
          const result: unknown = resolve(source, args, context, info);
          return isPromiseLike(result) ? result.then(undefined, (err: unknown) => Promise.reject(translated(err, argName))) : result;
        } catch (err) {
          throw translated(err, argName);
        }
      };
    }
  }
  return schema;
}
