import { getNamedType, GraphQLList, GraphQLNonNull } from 'graphql';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { OPAQUE_ID_ARGUMENTS } from '../../api/src/graphql/plugins';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { minimalOperation, rootOperations } from '../support/schema-ops';

// Every id of the API is a UUID. A malformed one given as an argument (`member(id: "abc")`) must answer
// BAD_USER_INPUT naming that argument, never reach PostgreSQL as an invalid uuid (which answered INTERNAL_SERVER_ERROR).
const h = useHarness();
const b = build(h);

const MALFORMED = ['abc', "1' or '1'='1", '01900000-0000-7000-8000-00000000000Z', ''];

describe('malformed ids as arguments', () => {
  it('every query and mutation with an ID argument answers BAD_USER_INPUT on that argument, as a literal or a variable', async () => {
    const schema = await buildGraphQLSchema(null);
    const admin = await b.admin();
    const withIds = rootOperations(schema).filter((op) => op.field.args.some((a) => getNamedType(a.type).name === 'ID'));
    expect(withIds.map((op) => op.name)).toEqual(expect.arrayContaining(['Query.member', 'Mutation.revokeAdminSessions']));
    const failures: string[] = [];
    for (const op of withIds) {
      const opaque = (op.field.extensions?.[OPAQUE_ID_ARGUMENTS] as string[] | undefined) ?? [];
      for (const arg of op.field.args.filter((a) => getNamedType(a.type).name === 'ID' && !opaque.includes(a.name))) {
        for (const bad of MALFORMED) {
          const isList = (arg.type instanceof GraphQLNonNull ? arg.type.ofType : arg.type) instanceof GraphQLList;
          const call = minimalOperation(op, { [arg.name]: isList ? [bad] : bad });
          const res = await h.gql(admin.auth, call.text, call.variables);
          const codes = (res.errors ?? []).map((e: { extensions: { code: string } }) => e.extensions.code);
          const paths = (res.errors ?? []).flatMap((e: { extensions: { fields?: { path: string }[] } }) => e.extensions.fields ?? []).map((f: { path: string }) => f.path);
          if (codes.join() !== 'BAD_USER_INPUT' || !paths.includes(arg.name) || res.status === 500) {
            failures.push(`${op.name}(${arg.name}: ${JSON.stringify(bad)}) → ${res.status} ${codes.join(',')} ${paths.join(',')}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('leaves alone the ids that are not UUIDs: a queue job id', async () => {
    const analyst = await b.admin();
    const res = await h.gql(analyst.auth, `query($id: ID!) { modelJob(id: $id) { id } }`, { id: '12345' });
    expect(res.errors).toBeUndefined();
    expect(res.data.modelJob).toBeNull();
  });

  it('checks literal ids too, and lets valid ones through', async () => {
    const admin = await b.admin();
    const literal = await h.gql(admin.auth, `{ member(id: "abc") { id } }`);
    expect(literal.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ path: 'id', message: 'must be an id' }] });
    expect(literal.status).toBe(400);
    const valid = await h.gql(admin.auth, `{ member(id: "01900000-0000-7000-8000-000000000000") { id } }`);
    expect(valid.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });

  // The check looked only at the operation's own selections: a root field inside a fragment reached PostgreSQL.
  it.each([
    ['an inline fragment', `{ ... on Query { member(id: "abc") { id } } }`],
    ['an inline fragment without a type', `{ ... { member(id: "abc") { id } } }`],
    ['a named fragment', `query { ...F } fragment F on Query { member(id: "abc") { id } }`],
    ['a named fragment in an inline one', `query { ... on Query { ...F } } fragment F on Query { member(id: "abc") { id } }`],
    ['fragments nested three deep', `query { ...A } fragment A on Query { ...B } fragment B on Query { ... on Query { ...C } } fragment C on Query { member(id: "abc") { id } }`],
    ['a named fragment, as a variable', `query($id: ID!) { ...F } fragment F on Query { member(id: $id) { id } }`],
  ])('checks a root field inside %s', async (_name, query) => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, query, { id: 'abc' });
    expect({ status: res.status, codes: res.errors?.map((e) => e.extensions.code), fields: res.errors?.[0].extensions.fields }).toEqual({
      status: 400,
      codes: ['BAD_USER_INPUT'],
      fields: [{ path: 'id', message: 'must be an id' }],
    });
  });

  it('checks a mutation inside a fragment too, and runs nothing', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, `mutation { ...M } fragment M on Mutation { ... { deleteSegment(id: "abc") { id } } }`);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ path: 'id', message: 'must be an id' }] });
  });

  it('checks ID arguments of fields below the root, named by the fields down to them', async () => {
    const analyst = await b.admin();
    for (const query of [
      `{ analytics { memberRfm(memberId: "abc", asOf: "2026-01-01T00:00:00Z") { segment } } }`,
      `{ analytics { ...R } } fragment R on Analytics { memberRfm(memberId: "abc", asOf: "2026-01-01T00:00:00Z") { segment } }`,
    ]) {
      const res = await h.gql(analyst.auth, query);
      expect({ status: res.status, fields: res.errors?.[0].extensions.fields }).toEqual({
        status: 400,
        fields: [{ path: 'analytics.memberRfm.memberId', message: 'must be an id' }],
      });
    }
  });

  it('refuses a number given for an ID, which GraphQL would pass on as a string', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, `query($id: ID!) { member(id: $id) { id } }`, { id: 12345 });
    expect({ status: res.status, fields: res.errors?.[0].extensions.fields }).toEqual({ status: 400, fields: [{ path: 'id', message: 'must be an id' }] });
  });
});
