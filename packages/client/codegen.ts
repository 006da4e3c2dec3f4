import path from 'node:path';
import { print } from 'graphql';
import type { CodegenConfig } from '@graphql-codegen/cli';
// The server's own canonical form, so that each document's hash is the key the API's allow-list uses.
import { operationHash } from '../../api/src/modules/security/persisted-operations';

const repo = path.join(__dirname, '..', '..');

/**
 * The storefront client's types and documents, from the committed schema and the channels' operations. The output is
 * committed; `npm run codegen:check` (and a test in `npm test`) fails when it no longer matches its sources.
 */
const config: CodegenConfig = {
  schema: path.join(repo, 'schema', 'schema.graphql'),
  documents: path.join(repo, 'schema', 'operations', 'channels', '*.graphql'),
  generates: {
    [path.join(__dirname, 'src', 'generated', 'operations.ts')]: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // Strings, not parsed ASTs: the client sends them as they are and needs no graphql runtime.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        defaultScalarType: 'unknown',
        scalars: {
          DateTimeISO: 'string',
          LocalDate: 'string',
          JSON: 'unknown',
          JSONObject: 'Record<string, unknown>',
        },
        dedupeFragments: true,
        // Each operation carries the sha256 of schema/persisted-operations.json, for persisted-operation mode.
        unstable_onExecutableDocumentNode: (document: Parameters<typeof print>[0]) => ({ hash: operationHash(print(document)) }),
      },
    },
    [path.join(__dirname, 'src', 'generated', 'error-codes.ts')]: {
      plugins: [path.join(__dirname, 'codegen', 'error-codes-plugin.cjs')],
      config: { errorCodesFile: path.join(repo, 'schema', 'error-codes.json') },
    },
  },
};

export default config;
