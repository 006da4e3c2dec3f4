import { useHarness, expectError } from '../support/harness';
import { build, ApiKeyScope } from '../fixtures/build';

const lines: string[] = [];
const LIMIT = 2;
// Nothing listens on port 1: every Redis command fails at once.
const h = useHarness(
  { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'warn', RATE_LIMIT_API_KEY_REQUESTS: String(LIMIT), LOGIN_MAX_FAILURES: '2' },
  { logDestination: { write: (line: string) => lines.push(line) } },
);
const b = build(h);

describe('rate limits while Redis is down', () => {
  it('keep serving requests within budget and fall back to per-process counters, with a warning', async () => {
    const busy = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const quiet = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    for (let i = 0; i < LIMIT; i++) expect((await h.gql(busy.auth, `{ members(first: 1) { totalCount } }`)).errors).toBeUndefined();
    const limited = await h.gql(busy.auth, `{ members(first: 1) { totalCount } }`);
    expect(limited.status).toBe(429);
    expectError(limited, 'RATE_LIMITED');
    expect((await h.gql(quiet.auth, `{ members(first: 1) { totalCount } }`)).errors).toBeUndefined();
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'ratelimit.redis_unavailable_using_process_counters');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    // Once a minute at most, however many requests there were.
    expect(warnings.filter((w) => w.what === 'request_rate_limits')).toHaveLength(1);
  });

  it('keep the login lockout', async () => {
    const admin = await b.admin();
    const login = (password: string) =>
      h.gql(null, `mutation($input: LoginInput!) { login(input: $input) { token } }`, { input: { email: admin.email, password } });
    expectError(await login('wrong wrong wrong'), 'UNAUTHENTICATED');
    expectError(await login('wrong wrong wrong'), 'UNAUTHENTICATED');
    expectError(await login(admin.password), 'RATE_LIMITED');
  });
});
