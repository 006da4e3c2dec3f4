import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
  isObjectType,
} from 'graphql';

export type RootKind = 'query' | 'mutation';

export interface RootOperation {
  kind: RootKind;
  /** `Query.member`, `Mutation.enrolMember`: how the matrix and the fuzz report name it. */
  name: string;
  field: GraphQLField<unknown, unknown>;
  /** Root fields without arguments that the field sits under: `['analytics']` for `Analytics.kpis`. */
  via?: string[];
}

/** Every query and mutation of the schema, queries first, each group by name. */
export function rootOperations(schema: GraphQLSchema): RootOperation[] {
  const roots: Array<[RootKind, GraphQLObjectType | null | undefined]> = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ];
  return roots.flatMap(([kind, type]) =>
    type
      ? Object.values(type.getFields())
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((field) => ({ kind, name: `${type.name}.${field.name}`, field }))
      : [],
  );
}

/**
 * Fields with arguments of the types that root queries without arguments return (`analytics { kpis(input: ...) }`):
 * operations in all but name, reached through their namespace.
 */
export function namespacedOperations(schema: GraphQLSchema): RootOperation[] {
  const query = schema.getQueryType();
  if (!query) return [];
  return Object.values(query.getFields())
    .filter((root) => root.args.length === 0)
    .flatMap((root) => {
      const type = getNamedType(root.type);
      if (!isObjectType(type)) return [];
      return Object.values(type.getFields())
        .filter((f) => f.args.length > 0)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((field) => ({ kind: 'query' as const, name: `${type.name}.${field.name}`, field, via: [root.name] }));
    });
}

/** `root { inner { <call> } }` for an operation reached through namespaces. */
export const within = (op: RootOperation, call: string) => (op.via ?? []).reduceRight((inner, name) => `${name} { ${inner} }`, call);

export const FIXED_ID = '01900000-0000-7000-8000-000000000000';

/** A syntactically valid value for an input type: required fields only, scalars at their simplest. */
export function sample(type: GraphQLInputType): unknown {
  if (type instanceof GraphQLNonNull) return sample(type.ofType);
  if (type instanceof GraphQLList) return [sample(type.ofType)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0].name;
  if (type instanceof GraphQLInputObjectType) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => f.type instanceof GraphQLNonNull && f.defaultValue === undefined)
        .map((f) => [f.name, sample(f.type)]),
    );
  }
  const scalars: Record<string, unknown> = {
    ID: FIXED_ID,
    Int: 1,
    Float: 1,
    Boolean: true,
    DateTimeISO: '2030-01-01T00:00:00Z',
    LocalDate: '1990-01-01',
    JSON: {},
    JSONObject: {},
  };
  return scalars[getNamedType(type).name] ?? 'x';
}

/** The smallest selection that is valid for a field's type. */
export function minimalSelection(field: GraphQLField<unknown, unknown>): string {
  return isLeafType(getNamedType(field.type)) ? '' : '{ __typename }';
}

/** `name(a: $p_a, b: $p_b)` with its variable definitions, for the arguments given. */
export function callWithVariables(field: GraphQLField<unknown, unknown>, args: readonly GraphQLArgument[], prefix: string) {
  const defs = args.map((a) => `$${prefix}${a.name}: ${a.type.toString()}`);
  const call = args.length ? `${field.name}(${args.map((a) => `${a.name}: $${prefix}${a.name}`).join(', ')})` : field.name;
  return { defs, call };
}

export const requiredArgs = (field: GraphQLField<unknown, unknown>) =>
  field.args.filter((a) => a.type instanceof GraphQLNonNull && a.defaultValue === undefined);

/** One call of a root field with its required arguments sampled, selecting only `__typename`. */
export function minimalOperation(op: RootOperation, overrides: Record<string, unknown> = {}) {
  const args = [...requiredArgs(op.field), ...op.field.args.filter((a) => a.name in overrides && !requiredArgs(op.field).includes(a))];
  const { defs, call } = callWithVariables(op.field, args, '');
  return {
    text: `${op.kind} Probe${defs.length ? `(${defs.join(', ')})` : ''} { ${within(op, `${call} ${minimalSelection(op.field)}`)} }`,
    variables: Object.fromEntries(args.map((a) => [a.name, a.name in overrides ? overrides[a.name] : sample(a.type)])),
  };
}
