import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { loadPersistedOperations, operationHash } from '../../api/src/modules/security/persisted-operations';

const h = useHarness({ PERSISTED_OPERATIONS: 'required-for-api-keys' });
const b = build(h);

const REWARDS = `query Rewards {
  rewards(activeOnly: true) {
    id
    code
    name
    kind
    costPoints
    stock
    tierCodes
  }
}`;
const ENROL = `mutation EnrolMember($input: EnrolMemberInput!) { enrolMember(input: $input) { id email phone firstName lastName enrolmentChannel points { available pending } } }`;

async function post(auth: { apiKey: string } | { token: string }, body: Record<string, unknown>) {
  let req = h.http().post('/graphql');
  req = 'apiKey' in auth ? req.set('x-api-key', auth.apiKey) : req.set('authorization', `Bearer ${auth.token}`);
  const res = await req.send(body);
  return { ...res.body, headers: res.headers, status: res.status };
}

describe('persisted operations for API keys', () => {
  it('runs an allow-listed operation sent as text, however it is formatted and with __typename added', async () => {
    const { auth } = await b.apiKey();
    expect((await post(auth, { query: REWARDS })).data.rewards).toEqual([]);
    const reformatted = `query Rewards { __typename rewards(activeOnly: true) { __typename id code name kind costPoints stock tierCodes } }`;
    const res = await post(auth, { query: reformatted });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ __typename: 'Query', rewards: [] });
  });

  it('runs an allow-listed operation sent only as its sha256Hash, with variables', async () => {
    const { auth } = await b.apiKey();
    const res = await post(auth, {
      extensions: { persistedQuery: { version: 1, sha256Hash: operationHash(ENROL) } },
      variables: { input: { email: 'persisted@shop.example' } },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.enrolMember.email).toBe('persisted@shop.example');
  });

  it('runs an allow-listed query sent by its hash without Apollo the second time, with the same answer', async () => {
    const { auth } = await b.apiKey();
    const byHash = { extensions: { persistedQuery: { version: 1, sha256Hash: operationHash(REWARDS) } } };
    await post(auth, { query: '{ __typename }' }); // the key read once, so both answers run the same statements
    const apollo = jest.spyOn(ApolloServer.prototype, 'executeHTTPGraphQLRequest');
    try {
      const first = await post(auth, byHash);
      const afterFirst = apollo.mock.calls.length;
      const second = await post(auth, byHash);
      // The first may have been Apollo's (the text was not run before in this file) or not; the second is not.
      expect(apollo.mock.calls.length).toBe(afterFirst);
      expect(first.errors).toBeUndefined();
      expect(second.data).toEqual(first.data);
      expect(second.headers['x-db-queries']).toBe(first.headers['x-db-queries']);
    } finally {
      apollo.mockRestore();
    }
  });

  it('refuses any other operation, an unknown hash, a hash that does not match the text, and GET, with PERSISTED_OPERATION_NOT_ALLOWED', async () => {
    const { auth } = await b.apiKey();
    const refusals = [
      await post(auth, { query: `{ members(first: 100) { totalCount } }` }),
      await post(auth, { query: `query Rewards { rewards(activeOnly: true) { id code name kind costPoints stock tierCodes redeemedCount } }` }),
      await post(auth, { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
      await post(auth, { query: REWARDS, extensions: { persistedQuery: { version: 1, sha256Hash: operationHash(ENROL) } } }),
      await post(auth, { query: '{ this is not graphql' }),
      await post(auth, {}),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expectError(res, 'PERSISTED_OPERATION_NOT_ALLOWED');
    }
    const get = await h.http().get('/graphql').query({ query: REWARDS }).set('x-api-key', auth.apiKey).set('apollo-require-preflight', '1');
    expect(get.body.errors[0].extensions.code).toBe('PERSISTED_OPERATION_NOT_ALLOWED');
  });

  it('leaves admin users free to send any operation', async () => {
    const admin = await b.admin();
    const res = await post(admin.auth, { query: `{ members(first: 1) { totalCount } }` });
    expect(res.errors).toBeUndefined();
    expect(typeof res.data.members.totalCount).toBe('number');
  });

  it('refuses to load an allow-list whose key is not the hash of its operation', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'persisted-'));
    const good = path.join(dir, 'good.json');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify({ [operationHash(REWARDS)]: REWARDS }));
    writeFileSync(bad, JSON.stringify({ [operationHash(REWARDS)]: `query Rewards { rewards { id } }` }));
    expect([...loadPersistedOperations(good).keys()]).toEqual([operationHash(REWARDS)]);
    expect(() => loadPersistedOperations(bad)).toThrow(/is not the sha256 of its operation/);
  });
});
