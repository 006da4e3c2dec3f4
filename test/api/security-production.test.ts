/** What a production API tells a stranger about itself (found by npm run attack: schema hints and a CDN landing page). */
import { useHarness } from '../support/harness';

const h = useHarness({ NODE_ENV: 'production', JWT_SECRET: 'production-test-secret-0123456789abcdef' });

describe('a production API', () => {
  it('gives no "Did you mean" hints that spell out the schema', async () => {
    const res = await h.http().post('/graphql').set('content-type', 'application/json').send({ query: '{ membr(id: "x") { id } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean/i);
  });

  it('serves no landing page that loads scripts from elsewhere', async () => {
    const res = await h.http().get('/graphql').set('accept', 'text/html');
    expect(res.text).not.toMatch(/<script/i);
    expect(res.text).not.toMatch(/apollographql|embeddable-sandbox|cdn\./i);
  });
});
