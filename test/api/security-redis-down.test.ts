import { useHarness, expectError } from '../support/harness';
import { build, ApiKeyScope } from '../fixtures/build';
import { parseExposition, samples, valueOf } from '../support/prometheus';

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

describe('GET /metrics while Redis is down', () => {
  it('answers in time with every figure but the queues, whose probe reports the failure once in the logs', async () => {
    const scrape = async () => {
      const started = Date.now();
      const res = await h.http().get('/metrics');
      expect(res.status).toBe(200);
      // The queue probe gives up after 2 s, well within Prometheus's default 10 s scrape timeout.
      expect(Date.now() - started).toBeLessThan(5000);
      return parseExposition(res.text);
    };
    const before = await scrape();
    const key = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    for (let i = 0; i <= LIMIT; i++) await h.gql(key.auth, `query Members { members(first: 1) { totalCount } }`);
    const all = await scrape();
    const requests = (labels: Record<string, string>) =>
      (valueOf(all, 'loyalty_graphql_requests_total', labels) ?? 0) - (valueOf(before, 'loyalty_graphql_requests_total', labels) ?? 0);

    expect(valueOf(all, 'loyalty_metrics_probe_success', { probe: 'queues' })).toBe(0);
    expect(samples(all, 'loyalty_queue_jobs')).toEqual([]);
    expect(valueOf(all, 'loyalty_metrics_probe_success', { probe: 'outbox' })).toBe(1);
    expect(valueOf(all, 'loyalty_outbox_pending_events')).toEqual(expect.any(Number));
    // Refused before Apollo runs, by the per-process fallback counters.
    expect(requests({ operation: 'Members', code: 'OK' })).toBe(LIMIT);
    expect(requests({ operation: 'anonymous', code: 'RATE_LIMITED' })).toBe(1);
    const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'metrics.probe_failed');
    expect(failures.map((f) => f.probe)).toEqual(['queues']);
  });
});
