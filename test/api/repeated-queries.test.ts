import { ApolloServer } from '@apollo/server';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { parseExposition, valueOf } from '../support/prometheus';

// A query Apollo has validated once runs without Apollo's pipeline the next times (api/src/graphql/repeated-queries.ts).
// Each case sends the same request twice: the first through Apollo, the second not; both answers must be the same.
const h = useHarness();
const b = build(h);

const LOOKUP = 'query Lookup($id: ID!) { member(id: $id) { id country points { available pending } tier { code } } }';
/** Headers whose values differ from one request to the next whatever answers it. */
const PER_REQUEST = new Set(['date', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset', 'content-length', 'etag']);

let apollo: jest.SpyInstance;
beforeEach(() => {
  apollo = jest.spyOn(ApolloServer.prototype, 'executeHTTPGraphQLRequest');
});
afterEach(() => apollo.mockRestore());

interface Sent {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string>;
}

async function send(headers: Record<string, string>, body: unknown, accept?: string): Promise<Sent> {
  let req = h.http().post('/graphql').set('content-type', 'application/json');
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  if (accept) req = req.set('accept', accept);
  const res = await req.send(JSON.stringify(body));
  return { status: res.status, body: res.body, text: res.text, headers: res.headers as Record<string, string> };
}

/** The answer less what changes on every request. */
const comparable = (sent: Sent) => ({
  status: sent.status,
  text: sent.text,
  headers: Object.fromEntries(Object.entries(sent.headers).filter(([name]) => !PER_REQUEST.has(name))),
});

/** Sends `body` twice and returns both answers and how many Apollo answered; the caller's key is looked up first. */
async function twice(headers: Record<string, string>, body: unknown, accept?: string) {
  // An API key is read from the database on its first use only: warmed, both answers run the same statements.
  await send(headers, { query: '{ __typename }' });
  const before = apollo.mock.calls.length;
  const first = await send(headers, body, accept);
  const second = await send(headers, body, accept);
  return { first, second, throughApollo: apollo.mock.calls.length - before };
}

describe('repeated queries without Apollo', () => {
  it('answers a repeated lookup the same, byte for byte, with only the first through Apollo', async () => {
    const pos = await b.apiKey();
    const member = await b.member().save();
    const { first, second, throughApollo } = await twice({ 'x-api-key': pos.key }, { query: LOOKUP, variables: { id: member.id }, operationName: 'Lookup' });
    expect(throughApollo).toBe(1);
    expect(first.status).toBe(200);
    expect((first.body as { data: { member: { id: string } } }).data.member.id).toBe(member.id);
    expect(comparable(second)).toEqual(comparable(first));
    // Outside production the statement count is reported either way (test/api/n-plus-one tests read it).
    expect(second.headers['x-db-queries']).toBe(first.headers['x-db-queries']);
    expect(second.headers['content-type']).toBe('application/json; charset=utf-8');

    // Another member's lookup is not Apollo's either: the document is known, the variables are new.
    const other = await b.member().save();
    const again = await send({ 'x-api-key': pos.key }, { query: LOOKUP, variables: { id: other.id }, operationName: 'Lookup' });
    expect((again.body as { data: { member: { id: string } } }).data.member.id).toBe(other.id);
    expect(apollo.mock.calls.length).toBe(2);
  });

  it('formats resolver errors as Apollo does: a missing scope, no credentials, a member that does not exist', async () => {
    const noScope = await b.apiKey(['orders:write']);
    const member = await b.member().save();
    // A document of its own each time, so that the first answer is Apollo's.
    for (const [i, headers] of [{ 'x-api-key': noScope.key }, {}].entries()) {
      const body = { query: LOOKUP.replace('query Lookup', `query Refused${i}`), variables: { id: member.id } };
      const { first, second, throughApollo } = await twice(headers, body);
      expect(throughApollo).toBe(1);
      expect((first.body as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
      expect(comparable(second)).toEqual(comparable(first));
    }
    const pos = await b.apiKey();
    const missing = await twice({ 'x-api-key': pos.key }, { query: LOOKUP.replace('query Lookup', 'query Missing'), variables: { id: '0190a0a0-0000-7000-8000-000000000000' } });
    expect(missing.throughApollo).toBe(1);
    expect(comparable(missing.second)).toEqual(comparable(missing.first));
  });

  it('leaves to Apollo what it must check or answer itself, with the same answers as before', async () => {
    const pos = await b.apiKey();
    const member = await b.member().save();
    const headers = { 'x-api-key': pos.key };
    // Once known, the document is run here only for requests that pass every check.
    await send(headers, { query: LOOKUP, variables: { id: member.id } });
    const cases: Array<{ what: string; body: unknown; accept?: string; code?: string; status?: number }> = [
      { what: 'a variable that does not coerce', body: { query: LOOKUP, variables: { id: { not: 'an id' } } }, code: 'BAD_USER_INPUT', status: 400 },
      { what: 'a malformed id', body: { query: LOOKUP, variables: { id: 'abc' } }, code: 'BAD_USER_INPUT', status: 400 },
      { what: 'a control character', body: { query: LOOKUP, variables: { id: `${member.id}\u0000` } }, code: 'BAD_USER_INPUT', status: 400 },
      { what: 'an operation name the document lacks', body: { query: LOOKUP, variables: { id: member.id }, operationName: 'Other' }, code: 'BAD_REQUEST' },
      { what: 'extensions', body: { query: LOOKUP, variables: { id: member.id }, extensions: { clientLibrary: 'till 2.1' } } },
      { what: 'variables that are not an object', body: { query: LOOKUP, variables: [member.id] }, status: 400 },
      { what: 'another accepted type', body: { query: LOOKUP, variables: { id: member.id } }, accept: 'application/graphql-response+json' },
    ];
    for (const c of cases) {
      const { first, second, throughApollo } = await twice(headers, c.body, c.accept);
      expect([c.what, throughApollo]).toEqual([c.what, 2]);
      expect(comparable(second)).toEqual(comparable(first));
      if (c.status) expect([c.what, first.status]).toEqual([c.what, c.status]);
      if (c.code) expect([c.what, (first.body as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code]).toEqual([c.what, c.code]);
    }
    // Through a fragment and an alias, a lone surrogate is still found before any resolver runs.
    const viaFragment = 'query Frag($id: ID!) { ...Card } fragment Card on Query { who: member(id: $id) { id } }';
    expect((await twice(headers, { query: viaFragment, variables: { id: member.id } })).throughApollo).toBe(1);
    const surrogate = await twice(headers, { query: viaFragment, variables: { id: `${member.id}\ud800` } });
    expect(surrogate.throughApollo).toBe(2);
    expect([surrogate.first.status, (surrogate.first.body as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    expect((await twice(headers, { query: LOOKUP, variables: { id: member.id } }, 'application/graphql-response+json')).second.headers['content-type']).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
  });

  it('runs mutations and operations of several root fields through Apollo every time', async () => {
    const admin = await b.admin();
    const member = await b.member().save();
    const twoRoots = `query Two($id: ID!) { a: member(id: $id) { id } b: member(id: $id) { id } }`;
    const adjust = `mutation A($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
    const headers = { authorization: `Bearer ${admin.auth.token}` };
    expect((await twice(headers, { query: twoRoots, variables: { id: member.id } })).throughApollo).toBe(2);
    const before = apollo.mock.calls.length;
    for (const key of ['x', 'y']) {
      const res = await send(headers, { query: adjust, variables: { i: { memberId: member.id, points: 5, reason: 'test', idempotencyKey: `${member.id}-${key}` } } });
      expect(res.body).toEqual({ data: { adjustPoints: { available: key === 'x' ? 5 : 10 } } });
    }
    expect(apollo.mock.calls.length - before).toBe(2);
  });

  it('counts both answers in the request metrics, under the operation and its outcome', async () => {
    const pos = await b.apiKey();
    const noScope = await b.apiKey(['orders:write']);
    const member = await b.member().save();
    const metric = async (code: string) =>
      valueOf(parseExposition((await h.http().get('/metrics')).text), 'loyalty_graphql_requests_total', { operation: 'other', code }) ?? 0;
    // `Probe` is no committed operation, so it is labelled `other`.
    const probe = LOOKUP.replace('query Lookup', 'query Probe');
    const [ok, forbidden] = [await metric('OK'), await metric('FORBIDDEN')];
    await twice({ 'x-api-key': pos.key }, { query: probe, variables: { id: member.id } });
    await twice({ 'x-api-key': noScope.key }, { query: probe, variables: { id: member.id } });
    expect(await metric('OK')).toBe(ok + 2);
    expect(await metric('FORBIDDEN')).toBe(forbidden + 2);
  });

  it('remembers no long text, and forgets the oldest past a million characters, so a caller cannot fill the memory', async () => {
    const pos = await b.apiKey();
    const member = await b.member().save();
    const headers = { 'x-api-key': pos.key };
    // A comment is no lexer token: GRAPHQL_MAX_TOKENS lets a long one through.
    const padded = (n: number, pad: number) => `# ${'x'.repeat(pad)}\nquery Padded${n}($id: ID!) { member(id: $id) { id } }`;
    const long = await twice(headers, { query: padded(0, 25_000), variables: { id: member.id } });
    expect(long.throughApollo).toBe(2);
    expect(comparable(long.second)).toEqual(comparable(long.first));
    // 60 texts of 19,000 characters: the first ones are forgotten, the last one is not.
    for (let n = 1; n <= 60; n++) await send(headers, { query: padded(n, 19_000), variables: { id: member.id } });
    const before = apollo.mock.calls.length;
    await send(headers, { query: padded(60, 19_000), variables: { id: member.id } });
    expect(apollo.mock.calls.length).toBe(before);
    await send(headers, { query: padded(1, 19_000), variables: { id: member.id } });
    expect(apollo.mock.calls.length).toBe(before + 1);
  });
});

