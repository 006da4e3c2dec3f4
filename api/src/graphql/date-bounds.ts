import { GraphQLError, GraphQLScalarType, type GraphQLSchema } from 'graphql';

/** The instants PostgreSQL's timestamptz and a JavaScript Date both hold, and a four-digit year writes. */
// Date.UTC maps years 0–99 to 1900–1999, so year 1 is set on its own.
const EARLIEST = new Date(Date.UTC(2000, 0, 1)).setUTCFullYear(1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const BOUNDED = Symbol('bounded');
const MESSAGE = 'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z';

function bounded(value: unknown): unknown {
  if (value instanceof Date && !(value.getTime() >= EARLIEST && value.getTime() <= LATEST)) throw new GraphQLError(MESSAGE);
  return value;
}

/**
 * DateTimeISO (graphql-scalars) takes year 0000, which PostgreSQL has no such year for ("date/time field value out of
 * range", an INTERNAL error wherever such a date reached a statement): every DateTimeISO argument and input field is
 * held to years 0001 to 9999, so a caller gets BAD_USER_INPUT naming it, as for any other value of the wrong shape.
 */
export function withBoundedDates(schema: GraphQLSchema): GraphQLSchema {
  const type = schema.getType('DateTimeISO');
  // The scalar is graphql-scalars' one instance, shared by every schema built in the process: bounded once.
  if (!(type instanceof GraphQLScalarType) || BOUNDED in type) return schema;
  Object.defineProperty(type, BOUNDED, { value: true });
  const { parseValue, parseLiteral } = type;
  type.parseValue = (value) => bounded(parseValue.call(type, value));
  type.parseLiteral = (node, variables) => bounded(parseLiteral.call(type, node, variables));
  return schema;
}
