import argon2 from '@node-rs/argon2';
import request from 'supertest';
import { useHarness, type GqlResult } from '../support/harness';
import { build } from '../fixtures/build';
import { loadConfig } from '../../api/src/base/config';

// TRUST_PROXY is not set: the default, no proxy trusted. Request logs are captured to read their client address.
const lines: string[] = [];
const h = useHarness({ LOG_LEVEL: 'info' }, { logDestination: { write: (line: string) => lines.push(line) } });
const b = build(h);

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token } }`;

async function login(email: string, password: string, forwardedFor?: string): Promise<GqlResult<any>> {
  let req = request(h.app.server).post('/graphql').set('content-type', 'application/json');
  if (forwardedFor) req = req.set('x-forwarded-for', forwardedFor);
  const res = await req.send({ query: LOGIN, variables: { input: { email, password } } });
  return { ...res.body, headers: res.headers, status: res.status };
}

const codeOf = (res: GqlResult<unknown>) => res.errors?.[0]?.extensions.code ?? 'OK';

function tally(results: Array<GqlResult<unknown>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const res of results) out[codeOf(res)] = (out[codeOf(res)] ?? 0) + 1;
  return out;
}

describe('login throttle under parallel attempts', () => {
  it('checks at most LOGIN_MAX_FAILURES passwords of 100 parallel wrong logins for one email, then refuses the right one too', async () => {
    const admin = await b.admin();
    const limit = h.config.LOGIN_MAX_FAILURES;
    const verify = jest.spyOn(argon2, 'verify');
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => login(admin.email, `wrong guess number ${i}`)));
      const seen = tally(results);
      // Only an attempt whose password was checked can answer UNAUTHENTICATED; every other one was refused before.
      expect(seen.UNAUTHENTICATED).toBeLessThanOrEqual(limit);
      expect(seen.RATE_LIMITED).toBeGreaterThanOrEqual(100 - limit);
      expect(seen.UNAUTHENTICATED + seen.RATE_LIMITED).toBe(100);
      expect(results.filter((r) => codeOf(r) === 'RATE_LIMITED').every((r) => r.status === 429)).toBe(true);
      // Each password checked is one argon2 verification (of the real hash or the throwaway one).
      expect(verify).toHaveBeenCalledTimes(seen.UNAUTHENTICATED);
    } finally {
      verify.mockRestore();
    }
    const afterwards = await login(admin.email, admin.password);
    expect(codeOf(afterwards)).toBe('RATE_LIMITED');
    expect(afterwards.errors![0].extensions.retryAfter).toBeGreaterThan(h.config.LOGIN_LOCKOUT_SECONDS - 60);
  });
});

describe('without TRUST_PROXY', () => {
  it('ignores X-Forwarded-For: a new forwarded address per attempt is throttled as the same client', async () => {
    const admin = await b.admin();
    const limit = h.config.LOGIN_MAX_FAILURES;
    const results = [];
    for (let i = 0; i < limit + 3; i++) results.push(await login(admin.email, 'not the password at all', `198.51.100.${i + 1}`));
    expect(results.map(codeOf)).toEqual([...Array(limit).fill('UNAUTHENTICATED'), ...Array(3).fill('RATE_LIMITED')]);
    expect(codeOf(await login(admin.email, admin.password, '192.0.2.200'))).toBe('RATE_LIMITED');
  });

  it('logs the TCP peer as the client address, not what X-Forwarded-For claims', async () => {
    const admin = await b.admin();
    await login(admin.email, admin.password, '203.0.113.99');
    const requestLines = lines.filter((l) => l.includes('"msg":"request completed"')).map((l) => JSON.parse(l));
    expect(requestLines.length).toBeGreaterThan(0);
    const last = requestLines[requestLines.length - 1];
    expect(last.clientIp).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    expect(lines.join('')).not.toContain('"clientIp":"203.0.113.99"');
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    ['false', false],
    ['true', true],
    ['2', 2],
    ['loopback', 'loopback'],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
    ['172.30.57.10', '172.30.57.10'],
  ])('accepts Express trust-proxy form %p', (given, expected) => {
    expect(loadConfig({ TRUST_PROXY: given }).TRUST_PROXY).toEqual(expected);
  });

  it('is off by default and refuses what Express would not understand', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(() => loadConfig({ TRUST_PROXY: 'my-proxy.internal' })).toThrow(/TRUST_PROXY: must be true, false, a number of hops/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY/);
  });
});
