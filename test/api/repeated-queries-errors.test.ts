import { ApolloServer } from '@apollo/server';
import { Authorized, Query, Resolver } from 'type-graphql';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { AppError } from '../../api/src/base/errors';
import type { LoyaltyPlugin } from '../../api/src/composition/plugin';

// Execution errors on the path that runs repeated queries without Apollo (api/src/graphql/repeated-queries.ts): an
// error carrying an HTTP status and headers, an unexpected error, and a lost database connection must be answered as
// Apollo answers them. No core query throws the first today; a plugin's may, so a plugin's resolvers throw all three.
@Resolver()
class FailingResolver {
  @Authorized()
  @Query(() => Boolean, { nullable: true })
  busyNow(): boolean {
    throw new AppError('SERVICE_UNAVAILABLE', 'Busy; try again shortly', { dependency: 'stock', http: { status: 503, headers: new Map([['retry-after', '7']]) } });
  }

  @Authorized()
  @Query(() => Boolean, { nullable: true })
  brokenNow(): boolean {
    throw new Error('plugin bug: select * from secrets where token = $1');
  }

  @Authorized()
  @Query(() => Boolean, { nullable: true })
  databaseGoneNow(): boolean {
    throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
  }
}

const failing: LoyaltyPlugin = { name: 'failing', resolvers: [FailingResolver] };
const h = useHarness({ LOG_LEVEL: 'silent' }, { plugins: [failing] });
const b = build(h);

/** Headers whose values differ from one request to the next whatever answers it. */
const PER_REQUEST = new Set(['date', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset', 'content-length', 'etag']);

let apollo: jest.SpyInstance;
beforeEach(() => {
  apollo = jest.spyOn(ApolloServer.prototype, 'executeHTTPGraphQLRequest');
});
afterEach(() => apollo.mockRestore());

async function send(key: string, query: string) {
  const res = await h.http().post('/graphql').set('content-type', 'application/json').set('x-api-key', key).send(JSON.stringify({ query }));
  const headers = Object.fromEntries(Object.entries(res.headers as Record<string, string>).filter(([name]) => !PER_REQUEST.has(name)));
  const body = res.body as { data: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
  // An unexpected error names the request it belongs to (its id, as the logs have it), which differs each time.
  const requestId = body.errors?.[0]?.extensions.requestId;
  if (requestId !== undefined) expect(requestId).toBe(res.headers['x-request-id']);
  const text = res.text.replace(/"requestId":"[^"]+"/g, '"requestId":"…"');
  return { comparable: { status: res.status, text, headers }, body };
}

describe('execution errors on the repeated-query path', () => {
  it.each([
    ['an error with an HTTP status and headers', '{ busyNow }', 503, 'SERVICE_UNAVAILABLE'],
    ['an unexpected error', '{ brokenNow }', 200, 'INTERNAL_SERVER_ERROR'],
    ['a lost database connection', '{ databaseGoneNow }', 200, 'SERVICE_UNAVAILABLE'],
  ])('answers %s as Apollo does, byte for byte', async (_what, query, status, code) => {
    const pos = await b.apiKey();
    await send(pos.key, '{ __typename }');
    const before = apollo.mock.calls.length;
    const first = await send(pos.key, query);
    const second = await send(pos.key, query);
    expect(apollo.mock.calls.length - before).toBe(1);
    expect(first.comparable.status).toBe(status);
    expect(first.body.data).toEqual({ [query.slice(2, -2)]: null });
    expect(first.body.errors).toHaveLength(1);
    expect(first.body.errors[0].extensions.code).toBe(code);
    // Nothing of the cause reaches the client, and the HTTP head is taken off the error.
    expect(first.comparable.text).not.toMatch(/secrets|57P01|http/);
    expect(second.comparable).toEqual(first.comparable);
    if (status === 503) expect(second.comparable.headers['retry-after']).toBe('7');
  });
});
