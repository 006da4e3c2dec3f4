import type { ValidationError } from 'class-validator';
import { GraphQLInputObjectType, getNamedType, type GraphQLResolveInfo } from 'graphql';
import { ArgumentValidationError, type MiddlewareFn } from 'type-graphql';
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
function inputArgName(info: GraphQLResolveInfo): string {
  const field = info.parentType.getFields()[info.fieldName];
  const inputs = field?.args.filter((a) => getNamedType(a.type) instanceof GraphQLInputObjectType) ?? [];
  return inputs.length === 1 ? inputs[0].name : '';
}

/** Turns class-validator output into BAD_USER_INPUT with `fields: [{ path: 'input.email', message }]`. */
export const validationErrorPaths: MiddlewareFn = async ({ info }, next) => {
  try {
    return await next();
  } catch (err) {
    if (err instanceof ArgumentValidationError) {
      throw AppError.badInput(flatten(err.extensions.validationErrors, inputArgName(info)));
    }
    throw err;
  }
};
