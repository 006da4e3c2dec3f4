import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  Kind,
  parse,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { depthLimitRule } from '../../api/src/graphql/depth-limit';
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { operationComplexity } from '../../api/src/graphql/plugins';
import { MAX_PAGE_SIZE } from '../../api/src/base/pagination';
import { createServices } from '../../api/src/composition/services';
import { composePlugins } from '../../api/src/composition/plugin';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';

const h = useHarness();
const b = build(h);
const root = path.resolve(__dirname, '..', '..');

/** Every operation the admin app and the channels send, one document per file. */
function realOperations(): Array<{ file: string; document: DocumentNode; source: string }> {
  return ['schema/operations', 'schema/operations/channels'].flatMap((dir) =>
    readdirSync(path.join(root, dir))
      .filter((f) => f.endsWith('.graphql'))
      .map((f) => {
        const source = readFileSync(path.join(root, dir, f), 'utf8');
        return { file: `${dir}/${f}`, document: parse(source), source };
      }),
  );
}

/** Worst-case variables: every page as large as the API allows. */
function sampleValue(name: string, type: GraphQLInputType): unknown {
  if (type instanceof GraphQLNonNull) return sampleValue(name, type.ofType);
  if (type instanceof GraphQLList) return [sampleValue(name, type.ofType)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0].name;
  if (type instanceof GraphQLInputObjectType) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => f.type instanceof GraphQLNonNull)
        .map((f) => [f.name, sampleValue(f.name, f.type)]),
    );
  }
  if (type.toString() === 'Int') return /first/i.test(name) ? MAX_PAGE_SIZE : 1;
  const scalars: Record<string, unknown> = {
    Boolean: true,
    Float: 1,
    ID: '01900000-0000-7000-8000-000000000000',
    DateTimeISO: '2030-01-01T00:00:00Z',
    LocalDate: '1990-01-01',
    JSON: {},
    JSONObject: {},
  };
  return type.toString() in scalars ? scalars[type.toString()] : 'x';
}

function worstCaseVariables(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  return Object.fromEntries(
    (operation.variableDefinitions ?? []).map((v) => {
      const type = typeFromAST(schema, v.type as never) as GraphQLInputType;
      return [v.variable.name.value, sampleValue(v.variable.name.value, type)];
    }),
  );
}

describe('depth and complexity limits', () => {
  it("pass every operation of the admin app and the channels with every page at its largest", async () => {
    // The operations include the distribution's plugins' (recordActivity): the schema a fresh install serves.
    const schema = await buildGraphQLSchema(createServices(h.config, { plugins: DISTRIBUTION_PLUGINS }), composePlugins(DISTRIBUTION_PLUGINS).resolvers);
    const costs: Array<{ operation: string; complexity: number }> = [];
    for (const { file, document } of realOperations()) {
      expect({ file, errors: validate(schema, document, [depthLimitRule(h.config.GRAPHQL_MAX_DEPTH)]).map((e) => e.message) }).toEqual({ file, errors: [] });
      for (const operation of document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
        const name = operation.name!.value;
        const complexity = operationComplexity(schema, document, name, worstCaseVariables(schema, operation));
        costs.push({ operation: `${file}#${name}`, complexity });
      }
    }
    expect(costs.length).toBeGreaterThan(40);
    const over = costs.filter((c) => c.complexity > h.config.GRAPHQL_MAX_COMPLEXITY);
    expect(over).toEqual([]);
    // The budget is tuned, not just large: the dearest real operation uses a real share of it.
    const dearest = Math.max(...costs.map((c) => c.complexity));
    console.log(`dearest real operation: ${JSON.stringify(costs.find((c) => c.complexity === dearest))} of ${h.config.GRAPHQL_MAX_COMPLEXITY}`);
    expect(dearest).toBeGreaterThan(h.config.GRAPHQL_MAX_COMPLEXITY / 4);
  });

  it('keep every real operation well under the parser token limit', () => {
    for (const { file, source } of realOperations()) {
      const tokens = (() => {
        try {
          parse(source, { maxTokens: h.config.GRAPHQL_MAX_TOKENS / 2 });
          return 'fits';
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect({ file, tokens }).toEqual({ file, tokens: 'fits' });
    }
  });

  it('refuse a query nested deeper than GRAPHQL_MAX_DEPTH with GRAPHQL_VALIDATION_FAILED', async () => {
    const admin = await b.admin();
    let similar = 'sku';
    for (let i = 0; i < 5; i++) similar = `similarProducts(first: 1) { product { ${similar} } }`;
    const res = await h.gql(admin.auth, `query Deep($id: ID!) { member(id: $id) { recommendations(first: 1) { product { ${similar} } } } }`, {
      id: '01900000-0000-7000-8000-000000000000',
    });
    expect(res.status).toBe(400);
    expect(expectError(res, 'GRAPHQL_VALIDATION_FAILED').message).toMatch(/exceeds maximum operation depth/);
  });

  it('refuse nested pages whose product exceeds the budget with QUERY_TOO_COMPLEX, before any resolver runs', async () => {
    const admin = await b.admin();
    const query = `{ members(first: 100) { edges { node { id orders(first: 100) { edges { node { id lines { sku quantity } } } } } } } }`;
    const res = await h.gql(admin.auth, query);
    const error = expectError(res, 'QUERY_TOO_COMPLEX');
    expect(error.extensions.complexity).toBeGreaterThan(h.config.GRAPHQL_MAX_COMPLEXITY);
    expect(error.extensions.limit).toBe(h.config.GRAPHQL_MAX_COMPLEXITY);
    // Only the token's session lookup ran.
    expect(res.headers['x-db-queries']).toBe('1');
  });

  it('cost a repeated document again when its page size or a directive reads a variable', async () => {
    const admin = await b.admin();
    // The same text each time, so Apollo hands the complexity plugin the same parsed document from its cache.
    const pages = `query Pages($n: Int!, $deep: Boolean!) { members(first: 100) { edges { node { id orders(first: $n) @include(if: $deep) { edges { node { id lines { sku } } } } } } } }`;
    expect((await h.gql(admin.auth, pages, { n: 1, deep: true })).errors).toBeUndefined();
    expectError(await h.gql(admin.auth, pages, { n: 100, deep: true }), 'QUERY_TOO_COMPLEX');
    const gated = `query Gated($deep: Boolean!) { members(first: 100) { edges { node { id orders(first: 100) @include(if: $deep) { edges { node { id lines { sku } } } } } } } }`;
    expect((await h.gql(admin.auth, gated, { deep: false })).errors).toBeUndefined();
    expectError(await h.gql(admin.auth, gated, { deep: true }), 'QUERY_TOO_COMPLEX');
    // A constant document within the limit is costed once; its variables that do not coerce still answer BAD_USER_INPUT.
    const lookup = `query Lookup($id: ID!) { member(id: $id) { id } }`;
    expectError(await h.gql(admin.auth, lookup, { id: '00000000-0000-7000-8000-000000000000' }), 'NOT_FOUND');
    expectError(await h.gql(admin.auth, lookup, { id: 12.5 }), 'BAD_USER_INPUT');
  });

  it('refuse a wide query of aliases with QUERY_TOO_COMPLEX', async () => {
    const admin = await b.admin();
    // A fragment keeps each alias to 7 tokens for 8 fields, so the query fits the parser's token limit but not the budget.
    const aliases = Array.from({ length: 600 }, (_, i) => `a${i}: me { ...F }`).join(' ');
    const res = await h.gql(admin.auth, `{ ${aliases} } fragment F on AdminUser { id email role displayName createdAt lastLoginAt disabledAt }`);
    expectError(res, 'QUERY_TOO_COMPLEX');
    expect(res.headers['x-db-queries']).toBe('1');
    const paged = Array.from({ length: 25 }, (_, i) => `p${i}: members(first: 100) { edges { node { id } } }`).join(' ');
    expectError(await h.gql(admin.auth, `{ ${paged} }`), 'QUERY_TOO_COMPLEX');
  });

  it('stop parsing past GRAPHQL_MAX_TOKENS with GRAPHQL_PARSE_FAILED', async () => {
    const admin = await b.admin();
    const aliases = Array.from({ length: 3000 }, (_, i) => `a${i}: __typename`).join(' ');
    const res = await h.gql(admin.auth, `{ ${aliases} }`);
    expect(expectError(res, 'GRAPHQL_PARSE_FAILED').message).toMatch(/Document contains more th\w+ 5000 tokens/);
  });
});
