import { GraphQLEnumType, GraphQLObjectType, GraphQLUnionType, type GraphQLSchema } from 'graphql';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { getMetadataStorage } from 'type-graphql';

/** Values a registry adds to an enum the code declares: `key` is the GraphQL name, `value` what the code stores. */
export interface EnumAdditions {
  [enumName: string]: Array<{ key: string; value: string; description: string | null }>;
}

/** Object types a registry adds to a union the code declares (their classes, as type-graphql knows them). */
export interface UnionAdditions {
  [unionName: string]: readonly Function[];
}

/** The GraphQL name type-graphql gave a class declared with `@ObjectType()`. */
export function objectTypeName(cls: Function): string {
  const name = getMetadataStorage().objectTypes.find((o) => o.target === cls)?.name;
  if (!name) throw new Error(`${cls.name} is not a type-graphql @ObjectType`);
  return name;
}

/**
 * The schema with the registries' values in the enums (event types, API-key scopes, timeline kinds) and their types in
 * the unions (timeline nodes). Run once per schema: without additions the SDL is the core's, as committed. A stored
 * value no registry lists any more (its plugin was removed) is answered as stored instead of failing the field, so a
 * webhook or API key that names one still reads.
 */
export function withRegistries(schema: GraphQLSchema, enums: EnumAdditions, unions: UnionAdditions, lenientEnums: readonly string[]): GraphQLSchema {
  const mapped = mapSchema(schema, {
    [MapperKind.ENUM_TYPE]: (type) => {
      const added = enums[type.name];
      if (!added?.length) return type;
      const config = type.toConfig();
      const values = { ...config.values };
      for (const v of added) {
        if (values[v.key]) throw new Error(`${type.name} already has a value ${v.key}`);
        values[v.key] = { value: v.value, description: v.description ?? undefined };
      }
      return new GraphQLEnumType({ ...config, values });
    },
    [MapperKind.UNION_TYPE]: (type) => {
      const added = unions[type.name];
      if (!added?.length) return type;
      const config = type.toConfig();
      const members = added.map((cls) => {
        const member = schema.getType(objectTypeName(cls));
        if (!(member instanceof GraphQLObjectType)) throw new Error(`${cls.name} is not in the schema: pass it as an orphaned type`);
        return { cls, name: member.name, member };
      });
      const resolveCore = config.resolveType;
      return new GraphQLUnionType({
        ...config,
        types: [...config.types, ...members.map((m) => m.member)],
        resolveType: (value, context, info, abstractType) =>
          members.find((m) => value instanceof m.cls)?.name ?? resolveCore?.(value, context, info, abstractType),
      });
    },
  });
  for (const name of lenientEnums) {
    const type = mapped.getType(name);
    if (!(type instanceof GraphQLEnumType)) continue;
    const serialize = type.serialize.bind(type);
    type.serialize = (value: unknown) => (typeof value === 'string' && !type.getValues().some((v) => v.value === value) ? value : serialize(value));
  }
  return mapped;
}
