import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const MAX_FAILURES = 3;
const MAX_FAILURES_PER_EMAIL = 7;
const MAX_FAILURES_PER_IP = 5;
const h = useHarness({
  LOGIN_MAX_FAILURES: String(MAX_FAILURES),
  LOGIN_LOCKOUT_SECONDS: '600',
  LOGIN_MAX_FAILURES_PER_EMAIL: String(MAX_FAILURES_PER_EMAIL),
  LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
  // The test client connects over loopback and plays the proxy: it says which client each request is for.
  TRUST_PROXY: 'loopback',
});
const b = build(h);

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token expiresAt } }`;
const ME = `{ me { id } }`;
const CREATE = `mutation($input: CreateAdminUserInput!) { createAdminUser(input: $input) { id } }`;
const CHANGE = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { token expiresAt } }`;

/** A login from a given client address, as a trusted proxy on loopback reports it. */
async function loginFrom(ip: string, email: string, password: string) {
  const res = await h.http().post('/graphql').set('x-forwarded-for', ip).send({ query: LOGIN, variables: { input: { email, password } } });
  return { ...res.body, headers: res.headers, status: res.status };
}

describe('password policy', () => {
  it.each([
    ['shorter than 12 characters', 'Tr0ub4dor&3', 'must be 12 to 200 characters'],
    ['a commonly used password', 'qwerty123456', 'is a commonly used password'],
    ['a common password with digits and symbols added', 'Password2024!!', 'is a commonly used password'],
    ['one repeated character', 'aaaaaaaaaaaaaaaa', 'is a commonly used password'],
    ['containing the name in the email address', 'jane.doe.admin-2026', 'must not contain "jane.doe.admin", the name in the email address'],
  ])('refuses a new admin password %s with BAD_USER_INPUT on input.password', async (_what, password, message) => {
    const admin = await b.admin();
    const email = `jane.doe.admin@${process.env.JEST_WORKER_ID}.example`;
    const res = await h.gql(admin.auth, CREATE, { input: { email, password, role: 'ANALYST' } });
    const error = expectError(res, 'BAD_USER_INPUT');
    expect(error.extensions.fields).toEqual([{ path: 'input.password', message }]);
    expect(await h.sql(`select 1 from admin_user where email = ?`, [email])).toHaveLength(0);
  });

  it('accepts a long passphrase', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, CREATE, { input: { email: 'passphrase@x.example', password: 'violet tractor under seven moons', role: 'ANALYST' } });
    expect(res.errors).toBeUndefined();
  });
});

describe('login throttling', () => {
  it('locks out an email and IP pair after the allowed failures, even for the right password, and leaves other IPs and emails alone', async () => {
    const admin = await b.admin();
    const other = await b.admin();
    for (let i = 0; i < MAX_FAILURES; i++) {
      expectError(await loginFrom('203.0.113.7', admin.email, 'not the password'), 'UNAUTHENTICATED');
    }
    const locked = await loginFrom('203.0.113.7', admin.email, admin.password);
    expect(locked.status).toBe(429);
    const error = expectError(locked, 'RATE_LIMITED');
    expect(error.extensions.retryAfter).toBeGreaterThan(590);
    expect(error.extensions.retryAfter).toBeLessThanOrEqual(600);
    expect(locked.headers['retry-after']).toBe(String(error.extensions.retryAfter));

    expect((await loginFrom('198.51.100.9', admin.email, admin.password)).data.login.token).toEqual(expect.any(String));
    expect((await loginFrom('203.0.113.7', other.email, other.password)).data.login.token).toEqual(expect.any(String));
  });

  it('clears the count after a successful login', async () => {
    const admin = await b.admin();
    for (let i = 0; i < MAX_FAILURES - 1; i++) expectError(await loginFrom('203.0.113.8', admin.email, 'nope nope nope'), 'UNAUTHENTICATED');
    expect((await loginFrom('203.0.113.8', admin.email, admin.password)).data.login.token).toEqual(expect.any(String));
    for (let i = 0; i < MAX_FAILURES - 1; i++) expectError(await loginFrom('203.0.113.8', admin.email, 'nope nope nope'), 'UNAUTHENTICATED');
    expect((await loginFrom('203.0.113.8', admin.email, admin.password)).data.login.token).toEqual(expect.any(String));
  });

  it('locks out an IP that fails across many emails for a day, whatever the email, and leaves other IPs alone', async () => {
    const admin = await b.admin();
    for (let i = 0; i < MAX_FAILURES_PER_IP; i++) {
      expectError(await loginFrom('203.0.113.50', `sprayed-${i}@x.example`, 'Summer2026 guess'), 'UNAUTHENTICATED');
    }
    const locked = expectError(await loginFrom('203.0.113.50', admin.email, admin.password), 'RATE_LIMITED');
    expect(locked.extensions.retryAfter).toBeGreaterThan(86_000);
    expect((await loginFrom('203.0.113.51', admin.email, admin.password)).data.login.token).toEqual(expect.any(String));
  });

  it('with TRUST_PROXY naming the proxy, throttles the clients it reports separately', async () => {
    const admin = await b.admin();
    for (let i = 0; i < MAX_FAILURES; i++) expectError(await loginFrom('192.0.2.10', admin.email, 'a wrong password'), 'UNAUTHENTICATED');
    expectError(await loginFrom('192.0.2.10', admin.email, admin.password), 'RATE_LIMITED');
    // The proxy's own address (loopback) is not the client: another client behind it is not locked out.
    expect((await loginFrom('192.0.2.11', admin.email, admin.password)).data.login.token).toEqual(expect.any(String));
  });

  it('locks an email out across all addresses after LOGIN_MAX_FAILURES_PER_EMAIL failures (credential stuffing), and other emails stay open', async () => {
    const admin = await b.admin();
    const other = await b.admin();
    // Under the per-pair limit at each address, but over the per-email one in all.
    for (let i = 0; i < MAX_FAILURES_PER_EMAIL; i++) {
      expectError(await loginFrom(`198.18.0.${i + 1}`, admin.email, 'stuffed credential'), 'UNAUTHENTICATED');
    }
    const locked = expectError(await loginFrom('198.18.1.1', admin.email, admin.password), 'RATE_LIMITED');
    expect(locked.extensions.retryAfter).toBeGreaterThan(590);
    expect((await loginFrom('198.18.1.1', other.email, other.password)).data.login.token).toEqual(expect.any(String));
  });

  it('counts unknown emails too, so probing for accounts is throttled the same way', async () => {
    for (let i = 0; i < MAX_FAILURES; i++) expectError(await loginFrom('203.0.113.9', 'ghost@x.example', 'whatever pass'), 'UNAUTHENTICATED');
    expectError(await loginFrom('203.0.113.9', 'ghost@x.example', 'whatever pass'), 'RATE_LIMITED');
  });
});

describe('sessions', () => {
  it('logout revokes the token it was sent with, and only that one', async () => {
    const admin = await b.admin();
    const second = (await h.gql(null, LOGIN, { input: { email: admin.email, password: admin.password } })).data.login.token;
    expect((await h.gql(admin.auth, `mutation { logout }`)).data.logout).toBe(true);
    expectError(await h.gql(admin.auth, ME), 'UNAUTHENTICATED');
    expect((await h.gql({ token: second }, ME)).data.me.id).toBe(admin.id);
  });

  it('revokeAdminSessions ends every session of the user at once, audited, and only ADMINs may call it', async () => {
    const boss = await b.admin();
    const target = await b.admin(AdminRole.MARKETER);
    const second = (await h.gql(null, LOGIN, { input: { email: target.email, password: target.password } })).data.login.token;
    expectError(await h.gql(target.auth, `mutation($id: ID!) { revokeAdminSessions(adminUserId: $id) }`, { id: boss.id }), 'FORBIDDEN');

    const res = await h.gql(boss.auth, `mutation($id: ID!) { revokeAdminSessions(adminUserId: $id) }`, { id: target.id });
    expect(res.data.revokeAdminSessions).toBe(2);
    expectError(await h.gql(target.auth, ME), 'UNAUTHENTICATED');
    expectError(await h.gql({ token: second }, ME), 'UNAUTHENTICATED');
    expect((await h.gql(boss.auth, ME)).data.me.id).toBe(boss.id);
    const [audit] = await h.sql(`select actor, action from audit_entry where entity_id = ? and action = 'adminUser.revokeSessions'`, [target.id]);
    expect(audit).toEqual({ actor: `admin:${boss.id}`, action: 'adminUser.revokeSessions' });

    // A new login works again afterwards.
    expect((await h.gql(null, LOGIN, { input: { email: target.email, password: target.password } })).data.login.token).toEqual(expect.any(String));
  });

  it('revokeAdminSessions answers NOT_FOUND for an unknown user', async () => {
    const boss = await b.admin();
    const res = await h.gql(boss.auth, `mutation { revokeAdminSessions(adminUserId: "01900000-0000-7000-8000-000000000000") }`);
    expect(expectError(res, 'NOT_FOUND').extensions.entity).toBe('AdminUser');
  });

  it('changePassword ends all other sessions, returns a working one, and the old password stops working', async () => {
    const admin = await b.admin();
    const other = (await h.gql(null, LOGIN, { input: { email: admin.email, password: admin.password } })).data.login.token;
    const res = await h.gql(admin.auth, CHANGE, { input: { currentPassword: admin.password, newPassword: 'a brand new long passphrase' } });
    expect(res.errors).toBeUndefined();
    expectError(await h.gql(admin.auth, ME), 'UNAUTHENTICATED');
    expectError(await h.gql({ token: other }, ME), 'UNAUTHENTICATED');
    expect((await h.gql({ token: res.data.changePassword.token }, ME)).data.me.id).toBe(admin.id);
    expectError(await h.gql(null, LOGIN, { input: { email: admin.email, password: admin.password } }), 'UNAUTHENTICATED');
    expect((await h.gql(null, LOGIN, { input: { email: admin.email, password: 'a brand new long passphrase' } })).errors).toBeUndefined();
  });

  it('changePassword refuses a wrong current password and a weak new one, and changes nothing', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, CHANGE, { input: { currentPassword: 'not my password', newPassword: 'qwerty123456' } });
    expect(expectError(res, 'BAD_USER_INPUT').extensions.fields).toEqual([
      { path: 'input.currentPassword', message: 'is not your current password' },
      { path: 'input.newPassword', message: 'is a commonly used password' },
    ]);
    expect((await h.gql(admin.auth, ME)).data.me.id).toBe(admin.id);
    expect((await h.gql(null, LOGIN, { input: { email: admin.email, password: admin.password } })).errors).toBeUndefined();
  });

  it('answers FORBIDDEN to logout with an API key', async () => {
    const { auth } = await b.apiKey();
    expectError(await h.gql(auth, `mutation { logout }`), 'FORBIDDEN');
  });

  const RENEW = `mutation { renewSession { token expiresAt admin { id } } }`;

  it('renewSession gives a token of the same session that lasts ADMIN_TOKEN_TTL_SECONDS from now; logout still ends the session, and every token of it', async () => {
    const admin = await b.admin();
    // As if signed in ten minutes ago, its token expiring in five.
    await h.sql(`update admin_session set created_at = now() - interval '10 minutes', expires_at = now() + interval '5 minutes' where admin_id = ?`, [admin.id]);
    const res = await h.gql(admin.auth, RENEW);
    expect(res.errors).toBeUndefined();
    expect(res.data.renewSession.admin.id).toBe(admin.id);
    const ttl = Date.parse(res.data.renewSession.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan((h.config.ADMIN_TOKEN_TTL_SECONDS - 30) * 1000);
    expect(ttl).toBeLessThanOrEqual(h.config.ADMIN_TOKEN_TTL_SECONDS * 1000);
    const sessions = await h.sql<{ expires_at: Date }>(`select expires_at from admin_session where admin_id = ?`, [admin.id]);
    expect(sessions).toHaveLength(1);
    expect(new Date(sessions[0].expires_at).getTime()).toBe(Date.parse(res.data.renewSession.expiresAt));
    const renewed = { token: res.data.renewSession.token };
    expect((await h.gql(renewed, ME)).data.me.id).toBe(admin.id);
    expect((await h.gql(admin.auth, ME)).data.me.id).toBe(admin.id);
    expect((await h.gql(renewed, `mutation { logout }`)).data.logout).toBe(true);
    expectError(await h.gql(renewed, ME), 'UNAUTHENTICATED');
    expectError(await h.gql(admin.auth, ME), 'UNAUTHENTICATED');
    expectError(await h.gql(renewed, RENEW), 'UNAUTHENTICATED');
  });

  it('renewSession never takes a session past ADMIN_SESSION_MAX_SECONDS from its login, then refuses: sign in again', async () => {
    const admin = await b.admin();
    const max = h.config.ADMIN_SESSION_MAX_SECONDS;
    // Signed in nearly the longest time ago: the renewed token ends where the session must.
    await h.sql(`update admin_session set created_at = now() - make_interval(secs => ?), expires_at = now() + interval '1 minute' where admin_id = ?`, [max - 300, admin.id]);
    const res = await h.gql(admin.auth, RENEW);
    expect(res.errors).toBeUndefined();
    const [{ created_at: createdAt }] = await h.sql<{ created_at: Date }>(`select created_at from admin_session where admin_id = ?`, [admin.id]);
    expect(Date.parse(res.data.renewSession.expiresAt)).toBe(new Date(createdAt).getTime() + max * 1000);
    // At its longest: refused, and the session keeps its end.
    const again = await h.gql({ token: res.data.renewSession.token }, RENEW);
    expect(expectError(again, 'UNAUTHENTICATED').message).toBe('The session has reached its longest life; sign in again');
    expect((await h.gql({ token: res.data.renewSession.token }, ME)).data.me.id).toBe(admin.id);
  });

  it('renewSession: FORBIDDEN with an API key, UNAUTHENTICATED without credentials or for a revoked session', async () => {
    const { auth } = await b.apiKey();
    expectError(await h.gql(auth, RENEW), 'FORBIDDEN');
    expectError(await h.gql(null, RENEW), 'UNAUTHENTICATED');
    const boss = await b.admin();
    const target = await b.admin(AdminRole.MARKETER);
    await h.gql(boss.auth, `mutation($id: ID!) { revokeAdminSessions(adminUserId: $id) }`, { id: target.id });
    expectError(await h.gql(target.auth, RENEW), 'UNAUTHENTICATED');
    // Two renewals at once on one session: both answer, and the session ends at the later expiry.
    const fresh = await b.admin();
    await h.sql(`update admin_session set expires_at = now() + interval '1 minute' where admin_id = ?`, [fresh.id]);
    const both = await Promise.all([h.gql(fresh.auth, RENEW), h.gql(fresh.auth, RENEW)]);
    expect(both.map((r) => r.errors)).toEqual([undefined, undefined]);
    const [{ expires_at: end }] = await h.sql<{ expires_at: Date }>(`select expires_at from admin_session where admin_id = ?`, [fresh.id]);
    expect(new Date(end).getTime()).toBe(Math.max(...both.map((r) => Date.parse(r.data.renewSession.expiresAt))));
  });
});
