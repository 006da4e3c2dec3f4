import { ApolloServer } from '@apollo/server';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';

// GRAPHQL_REPEATED_QUERIES=false: every request through Apollo, repeated or not (api/src/graphql/repeated-queries.ts).
const h = useHarness({ GRAPHQL_REPEATED_QUERIES: 'false' });
const b = build(h);

it('runs a repeated query through Apollo every time when repeated queries are off', async () => {
  const pos = await b.apiKey();
  const member = await b.member().save();
  const apollo = jest.spyOn(ApolloServer.prototype, 'executeHTTPGraphQLRequest');
  try {
    const query = 'query Lookup($id: ID!) { member(id: $id) { id } }';
    for (let i = 0; i < 3; i++) expect((await h.gql(pos.auth, query, { id: member.id })).data).toEqual({ member: { id: member.id } });
    expect(apollo).toHaveBeenCalledTimes(3);
  } finally {
    apollo.mockRestore();
  }
});
