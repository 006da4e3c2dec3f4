import { useHarness, expectError } from '../support/harness';
import { build, ApiKeyScope } from '../fixtures/build';

const LIMIT = 3;
const h = useHarness({
  RATE_LIMIT_API_KEY_REQUESTS: String(LIMIT),
  RATE_LIMIT_ADMIN_REQUESTS: String(LIMIT),
  RATE_LIMIT_WINDOW_SECONDS: '60',
  GRAPHQL_MAX_BODY_BYTES: '4096',
  CORS_ORIGINS: 'https://shop.example, https://admin.example:8443',
});
const b = build(h);

const MEMBERS = `{ members(first: 1) { totalCount } }`;

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After once an API key spends its budget, and another key is unaffected', async () => {
    const busy = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const quiet = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    for (let i = 0; i < LIMIT; i++) {
      const ok = await h.gql(busy.auth, MEMBERS);
      expect(ok.errors).toBeUndefined();
      expect(ok.headers['ratelimit-remaining']).toBe(String(LIMIT - i - 1));
    }
    const limited = await h.gql(busy.auth, MEMBERS);
    expect(limited.status).toBe(429);
    const error = expectError(limited, 'RATE_LIMITED');
    expect(error.extensions.retryAfter).toBeGreaterThan(0);
    expect(error.extensions.retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['retry-after']).toBe(String(error.extensions.retryAfter));
    expect(limited.data).toBeUndefined();

    const other = await h.gql(quiet.auth, MEMBERS);
    expect(other.status).toBe(200);
    expect(other.errors).toBeUndefined();
  });

  it('limits each admin user separately and never runs the refused request', async () => {
    const busy = await b.admin();
    const quiet = await b.admin();
    const enrol = (n: number) => h.gql(busy.auth, `mutation { enrolMember(input: { email: "rl-${n}@x.example" }) { id } }`);
    for (let i = 0; i < LIMIT; i++) expect((await enrol(i)).errors).toBeUndefined();
    expectError(await enrol(LIMIT), 'RATE_LIMITED');
    expect(await h.sql(`select 1 from member where email = ?`, [`rl-${LIMIT}@x.example`])).toHaveLength(0);
    expect((await h.gql(quiet.auth, `{ me { id } }`)).data.me.id).toBe(quiet.id);
  });

  it('does not count requests without credentials against anyone', async () => {
    const res = await h.gql(null, `{ me { id } }`);
    expectError(res, 'UNAUTHENTICATED');
    expect(res.headers['ratelimit-limit']).toBeUndefined();
  });
});

describe('request body size', () => {
  it('answers 413 PAYLOAD_TOO_LARGE above GRAPHQL_MAX_BODY_BYTES without running the operation', async () => {
    const admin = await b.admin();
    const padding = 'x'.repeat(5000);
    const res = await h
      .http()
      .post('/graphql')
      .set('authorization', `Bearer ${admin.token}`)
      .send({ query: `{ me { id } }`, variables: { padding } });
    expect(res.status).toBe(413);
    expect(res.body.errors[0].extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limitBytes: 4096 });
  });

  it('accepts a body just under the limit', async () => {
    const admin = await b.admin();
    const res = await h
      .http()
      .post('/graphql')
      .set('authorization', `Bearer ${admin.token}`)
      .send({ query: `{ me { id } }`, variables: { padding: 'x'.repeat(3000) } });
    expect(res.status).toBe(200);
    expect(res.body.data.me.id).toBe(admin.id);
  });

  it('answers 400 BAD_REQUEST to a compressed body that does not decompress, for every encoding', async () => {
    for (const encoding of ['br', 'gzip', 'deflate']) {
      const res = await h.http().post('/graphql').set('content-type', 'application/json').set('content-encoding', encoding).send('not compressed at all');
      expect([encoding, res.status]).toEqual([encoding, 400]);
      expect(res.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  it('refuses a subscription as an invalid operation (400), not an internal error', async () => {
    const res = await h.http().post('/graphql').set('content-type', 'application/json').send({ query: 'subscription { __typename }' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('answers 400 BAD_REQUEST to a body that is not JSON', async () => {
    const res = await h.http().post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('CORS', () => {
  it('allows the origins in CORS_ORIGINS and no others', async () => {
    const preflight = (origin: string) =>
      h
        .http()
        .options('/graphql')
        .set('origin', origin)
        .set('access-control-request-method', 'POST')
        .set('access-control-request-headers', 'content-type,x-api-key');
    const allowed = await preflight('https://shop.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(allowed.headers['access-control-allow-headers']).toContain('x-api-key');
    expect((await preflight('https://admin.example:8443')).headers['access-control-allow-origin']).toBe('https://admin.example:8443');

    const refused = await preflight('https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await h.http().post('/graphql').set('origin', 'https://evil.example').send({ query: '{ __typename }' });
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('security headers', () => {
  it('sends a same-origin CSP, nosniff, frame denial and no referrer on app routes', async () => {
    const res = await h.http().get('/healthz');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends the same headers without a CSP on /graphql', async () => {
    const res = await h.http().post('/graphql').send({ query: '{ __typename }' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeUndefined();
    // Answers carry members' data: never stored by a cache, whether they succeed or fail.
    expect(res.headers['cache-control']).toBe('no-store');
    const failed = await h.http().post('/graphql').send({ query: '{ nope }' });
    expect(failed.status).toBe(400);
    expect(failed.headers['cache-control']).toBe('no-store');
    expect(res.headers.etag).toBeUndefined();
  });
});
