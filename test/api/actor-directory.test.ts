import { GraphQLObjectType } from 'graphql';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';

const h = useHarness();
const b = build(h);

const DIRECTORY = `{ actorDirectory { admins { id email } apiKeys { id name channelName } } }`;
const UPDATE_ADMIN = `mutation($input: UpdateAdminUserInput!) { updateAdminUser(input: $input) { id disabledAt } }`;
const REVOKE = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`;

describe('actorDirectory: the staff directory that names who did something', () => {
  it('is read by every admin role, and names disabled admins and revoked keys too', async () => {
    const [admin, marketer, analyst] = await Promise.all([AdminRole.ADMIN, AdminRole.MARKETER, AdminRole.ANALYST].map((r) => b.admin(r)));
    const leaver = await b.admin(AdminRole.MARKETER);
    expect((await h.gql(admin.auth, UPDATE_ADMIN, { input: { id: leaver.id, isActive: false } })).errors).toBeUndefined();
    const till = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
    const stolen = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
    expect((await h.gql(admin.auth, REVOKE, { input: { id: stolen.keyId, reason: 'till stolen' } })).errors).toBeUndefined();
    const channelName = async (id: string) => (await h.sql<{ name: string }>(`select name from sales_channel where id = ?`, [id]))[0].name;

    for (const caller of [admin, marketer, analyst]) {
      const res = await h.gql(caller.auth, DIRECTORY);
      expect(res.errors).toBeUndefined();
      const { admins, apiKeys } = res.data.actorDirectory;
      expect(admins).toEqual(
        expect.arrayContaining([admin, marketer, analyst, leaver].map((a) => ({ id: a.id, email: a.email }))),
      );
      expect(apiKeys).toEqual(
        expect.arrayContaining([
          { id: till.keyId, name: 'test key', channelName: await channelName(till.channelId) },
          { id: stolen.keyId, name: 'test key', channelName: await channelName(stolen.channelId) },
        ]),
      );
    }
  });

  it('answers FORBIDDEN to an API key, whatever its scopes, and UNAUTHENTICATED without credentials', async () => {
    for (const scope of Object.values(ApiKeyScope)) expectError(await h.gql((await b.apiKey([scope])).auth, DIRECTORY), 'FORBIDDEN');
    expectError(await h.gql((await b.apiKey()).auth, DIRECTORY), 'FORBIDDEN');
    expectError(await h.gql(null, DIRECTORY), 'UNAUTHENTICATED');
  });

  it('offers ids, emails and names only: no role, status, key prefix, scopes or last use', async () => {
    const schema = await buildGraphQLSchema(null);
    const fieldsOf = (name: string) => Object.keys((schema.getType(name) as GraphQLObjectType).getFields()).sort();
    expect(fieldsOf('ActorDirectory')).toEqual(['admins', 'apiKeys']);
    expect(fieldsOf('DirectoryAdmin')).toEqual(['email', 'id']);
    expect(fieldsOf('DirectoryApiKey')).toEqual(['channelName', 'id', 'name']);
    // Nothing else leads into the directory: it is reached from its own query alone.
    const intoDirectory = Object.values(schema.getTypeMap())
      .filter((t): t is GraphQLObjectType => t instanceof GraphQLObjectType && !t.name.startsWith('__'))
      .flatMap((t) => Object.values(t.getFields()).filter((f) => /^(ActorDirectory|DirectoryAdmin|DirectoryApiKey)\b/.test(String(f.type).replace(/[[\]!]/g, ''))).map((f) => `${t.name}.${f.name}`))
      .sort();
    expect(intoDirectory).toEqual(['ActorDirectory.admins', 'ActorDirectory.apiKeys', 'Query.actorDirectory']);
  });
});
