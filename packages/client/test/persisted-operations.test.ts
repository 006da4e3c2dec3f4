import { AdminRole, build } from '../../../test/fixtures/build';
import { useHarness } from '../../../test/support/harness';
import { graphqlUrl } from '../../../test/support/listen';
import { UPSERT_REWARD } from '../../../test/support/races';
import { createLoyaltyClient, LoyaltyApiError, RewardsDocument, TypedDocumentString } from '../src';

// The API as a retailer runs it when channels may only send the operations of schema/persisted-operations.json.
const h = useHarness({ PERSISTED_OPERATIONS: 'required-for-api-keys' });
const b = build(h);

describe('createLoyaltyClient with persistedOperations', () => {
  it('sends only the sha256 of each storefront operation, and the API runs it', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    await h.gql(admin.auth, UPSERT_REWARD, { input: { code: 'DONATE', name: 'Food bank', kind: 'DONATION', partner: 'Food bank', costPoints: 100 } });
    const { key } = await b.apiKey();
    const bodies: unknown[] = [];
    const client = createLoyaltyClient({
      url: await graphqlUrl(h),
      apiKey: key,
      persistedOperations: true,
      fetch: (url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return fetch(url, init);
      },
    });

    const { enrolMember } = await client.enrolMember({ input: { email: 'persisted@shop.example' } });
    const { member } = await client.memberAccount({ id: enrolMember.id });
    expect(member.points).toMatchObject({ available: 0, pending: 0 });
    expect((await client.rewards()).rewards.map((r) => r.code)).toContain('DONATE');

    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body).not.toHaveProperty('query');
      expect(body).toMatchObject({ extensions: { persistedQuery: { version: 1, sha256Hash: expect.stringMatching(/^[0-9a-f]{64}$/) } } });
    }
    expect(bodies[2]).toMatchObject({ extensions: { persistedQuery: { sha256Hash: RewardsDocument.__meta__?.hash } } });
  });

  it('sends a document of your own as text, which the API refuses with PERSISTED_OPERATION_NOT_ALLOWED', async () => {
    const { key } = await b.apiKey();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key, persistedOperations: true });
    const NOT_LISTED = new TypedDocumentString<{ rewards: Array<{ id: string }> }, Record<string, never>>('query Ids { rewards { id } }');
    const err = await client.request(NOT_LISTED).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoyaltyApiError);
    expect(err).toMatchObject({ code: 'PERSISTED_OPERATION_NOT_ALLOWED', status: 400 });
  });
});
