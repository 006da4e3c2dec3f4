import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for every operation in schema/operations, checked against the committed schema. Runs before
 * `typecheck` and `build`, so an operation that no longer matches the schema fails both.
 */
const config: CodegenConfig = {
  schema: '../schema/schema.graphql',
  documents: '../schema/operations/*.graphql',
  generates: {
    'src/gql/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: true },
        defaultScalarType: 'unknown',
        scalars: {
          DateTimeISO: 'string',
          LocalDate: 'string',
          JSON: 'unknown',
          JSONObject: 'Record<string, unknown>',
        },
        dedupeFragments: true,
      },
    },
  },
};

export default config;
