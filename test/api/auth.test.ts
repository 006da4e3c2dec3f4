import { decodeJwt, SignJWT } from 'jose';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { minimalOperation, rootOperations } from '../support/schema-ops';

const h = useHarness();
const b = build(h);

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token expiresAt admin { id email role } } }`;
const ME = `{ me { id email role } }`;

/** The fields anyone may call. */
const PUBLIC_FIELDS = new Set(['Mutation.login']);

describe('access control', () => {
  it('answers UNAUTHENTICATED to every query and mutation but login when no credentials are sent', async () => {
    const schema = await buildGraphQLSchema(null);
    let probed = 0;
    for (const op of rootOperations(schema)) {
      if (PUBLIC_FIELDS.has(op.name)) continue;
      const field = op.field;
      const probe = minimalOperation(op);
      const res = await h.gql(null, probe.text, probe.variables);
      expect({ field: field.name, codes: res.errors?.map((e) => e.extensions.code), data: res.data?.[field.name] ?? null }).toEqual({
        field: field.name,
        codes: ['UNAUTHENTICATED'],
        data: null,
      });
      probed++;
    }
    expect(probed).toBeGreaterThanOrEqual(15);
  });

  it('answers UNAUTHENTICATED to a malformed, unknown or tampered credential', async () => {
    const admin = await b.admin();
    const { key } = await b.apiKey();
    const tampered = admin.token.slice(0, -2) + (admin.token.endsWith('A') ? 'BB' : 'AA');
    const unknownKey = key.slice(0, -4) + 'abcd';
    for (const auth of [{ token: 'garbage' }, { token: tampered }, { apiKey: unknownKey }, { apiKey: 'lk_short' }]) {
      expectError(await h.gql(auth, ME), 'UNAUTHENTICATED');
    }
  });

  it('answers UNAUTHENTICATED to an expired token and to a token signed with another secret', async () => {
    const admin = await b.admin();
    const sessionId = decodeJwt(admin.token).jti!;
    const sign = (secret: string, exp: number) =>
      new SignJWT({ role: 'ADMIN' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(admin.id)
        .setJti(sessionId)
        .setIssuer('loyalty-api')
        .setAudience('loyalty-admin')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    expectError(await h.gql({ token: await sign(h.config.JWT_SECRET, now - 10) }, ME), 'UNAUTHENTICATED');
    expectError(await h.gql({ token: await sign('another-secret-that-is-long-enough-0000', now + 600) }, ME), 'UNAUTHENTICATED');
    expect((await h.gql({ token: await sign(h.config.JWT_SECRET, now + 600) }, ME)).data.me.id).toBe(admin.id);
  });

  it('answers FORBIDDEN when the role lacks the permission', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const analyst = await b.admin(AdminRole.ANALYST);
    expectError(await h.gql(marketer.auth, `{ apiKeys { id } }`), 'FORBIDDEN');
    expectError(await h.gql(marketer.auth, `{ auditLog { id } }`), 'FORBIDDEN');
    expectError(await h.gql(analyst.auth, `mutation { enrolMember(input: { email: "a@b.co" }) { id } }`), 'FORBIDDEN');
    expect(await h.sql(`select 1 from member where email = 'a@b.co'`)).toHaveLength(0);
  });

  it('hides personal data from analysts field by field, never returning it', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    const m = await b.member().withEmail('secret@example.com').named('Hidden', 'Person').save();
    const res = await h.gql(analyst.auth, `query($id: ID!) { member(id: $id) { id country email firstName } }`, { id: m.id });
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions.code])).toEqual([
      ['member.email', 'FORBIDDEN'],
      ['member.firstName', 'FORBIDDEN'],
    ]);
    expect(res.data.member).toEqual({ id: m.id, country: null, email: null, firstName: null });
  });

  it("limits a channel's key to its scopes", async () => {
    const readOnly = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const m = await b.member().withEmail('pos@example.com').save();
    expect((await h.gql(readOnly.auth, `query($id: ID!) { member(id: $id) { email } }`, { id: m.id })).data.member.email).toBe(
      'pos@example.com',
    );
    expectError(await h.gql(readOnly.auth, `mutation { enrolMember(input: { email: "new@pos.example" }) { id } }`), 'FORBIDDEN');
    expectError(await h.gql(readOnly.auth, `{ salesChannels { id } }`), 'FORBIDDEN');
    expectError(await h.gql(readOnly.auth, ME), 'FORBIDDEN');
  });

  it('accepts an API key as a bearer token too', async () => {
    const { key } = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const res = await h.http().post('/graphql').set('authorization', `Bearer ${key}`).send({ query: '{ members(first: 1) { totalCount } }' });
    expect(res.body.errors).toBeUndefined();
  });
});

describe('login', () => {
  it('returns a token that works until its expiry and records the login time', async () => {
    const admin = await b.admin(AdminRole.MARKETER);
    const res = await h.gql(null, LOGIN, { input: { email: admin.email.toUpperCase(), password: admin.password } });
    expect(res.errors).toBeUndefined();
    const session = res.data.login;
    expect(session.admin).toEqual({ id: admin.id, email: admin.email, role: 'MARKETER' });
    const ttl = Date.parse(session.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan((h.config.ADMIN_TOKEN_TTL_SECONDS - 30) * 1000);
    expect(ttl).toBeLessThanOrEqual(h.config.ADMIN_TOKEN_TTL_SECONDS * 1000);
    expect((await h.gql({ token: session.token }, ME)).data.me.role).toBe('MARKETER');
    const [row] = await h.sql(`select last_login_at from admin_user where id = ?`, [admin.id]);
    expect(row.last_login_at).not.toBeNull();
  });

  it('answers UNAUTHENTICATED with one message for a wrong password and an unknown email', async () => {
    const admin = await b.admin();
    const wrong = expectError(await h.gql(null, LOGIN, { input: { email: admin.email, password: 'wrong password!' } }), 'UNAUTHENTICATED');
    const unknown = expectError(await h.gql(null, LOGIN, { input: { email: 'nobody@x.example', password: 'whatever pass' } }), 'UNAUTHENTICATED');
    expect(wrong.message).toBe('Invalid email or password');
    expect(unknown.message).toBe(wrong.message);
  });

  it('shuts out a disabled admin at once, even with a token issued before', async () => {
    const admin = await b.admin();
    await h.sql(`update admin_user set disabled_at = now() where id = ?`, [admin.id]);
    expectError(await h.gql(admin.auth, ME), 'UNAUTHENTICATED');
    expectError(await h.gql(null, LOGIN, { input: { email: admin.email, password: admin.password } }), 'UNAUTHENTICATED');
  });

  it('stores passwords as argon2id hashes', async () => {
    const admin = await b.admin();
    const [row] = await h.sql(`select password_hash from admin_user where id = ?`, [admin.id]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(admin.password);
  });
});

describe('me', () => {
  it("lists the permissions of the caller's role as the API enforces them, so the admin app keeps no copy", async () => {
    const ME_PERMISSIONS = `{ me { role permissions } }`;
    const [admin, marketer, analyst] = await Promise.all([AdminRole.ADMIN, AdminRole.MARKETER, AdminRole.ANALYST].map((r) => b.admin(r)));
    const permissionsOf = async (auth: { token: string }) => (await h.gql(auth, ME_PERMISSIONS)).data.me.permissions as string[];
    const all = await permissionsOf(admin.auth);
    expect(all).toEqual(expect.arrayContaining(['admin:manage', 'members:erase', 'campaigns:manage', 'models:activate']));
    const ofMarketer = await permissionsOf(marketer.auth);
    expect(ofMarketer).toEqual(expect.arrayContaining(['members:pii', 'members:merge', 'campaigns:manage']));
    expect(ofMarketer).not.toContain('admin:manage');
    expect(ofMarketer).not.toContain('members:erase');
    const ofAnalyst = await permissionsOf(analyst.auth);
    expect(ofAnalyst).not.toContain('members:pii');
    // What the list says matches what the API does: analysts get FORBIDDEN on the PII field it leaves out.
    const m = await b.member().withEmail('listed@example.com').save();
    const read = await h.gql(analyst.auth, `query($id: ID!) { member(id: $id) { email } }`, { id: m.id });
    expect(read.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect(ofAnalyst.every((p) => all.includes(p))).toBe(true);
  });

  it('gives a demoted admin the new list on the next request', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    await h.sql(`update admin_user set role = 'ANALYST' where id = ?`, [admin.id]);
    const res = await h.gql(admin.auth, `{ me { role permissions } }`);
    expect(res.data.me.role).toBe('ANALYST');
    expect(res.data.me.permissions).not.toContain('admin:manage');
  });
});

describe('createAdminUser', () => {
  const CREATE = `mutation($input: CreateAdminUserInput!) { createAdminUser(input: $input) { id email role } }`;

  it('lets an admin add a user who can then log in; audited without the password', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, CREATE, { input: { email: 'New.Analyst@Example.com', password: 'long enough password', role: 'ANALYST' } });
    expect(res.data.createAdminUser).toMatchObject({ email: 'new.analyst@example.com', role: 'ANALYST' });
    const login = await h.gql(null, LOGIN, { input: { email: 'new.analyst@example.com', password: 'long enough password' } });
    expect(login.data.login.admin.role).toBe('ANALYST');
    const audit = await h.sql(`select actor, after::text as a from audit_entry where entity_id = ?`, [res.data.createAdminUser.id]);
    expect(audit[0].actor).toBe(`admin:${admin.id}`);
    expect(audit[0].a).not.toContain('long enough password');
  });

  it('refuses a short password, a bad email and a taken email', async () => {
    const admin = await b.admin();
    const bad = await h.gql(admin.auth, CREATE, { input: { email: 'nope', password: 'short', role: 'ADMIN' } });
    expect(expectError(bad, 'BAD_USER_INPUT').extensions.fields.map((f: any) => f.path).sort()).toEqual(['input.email', 'input.password']);
    const taken = await h.gql(admin.auth, CREATE, { input: { email: admin.email, password: 'long enough password', role: 'ADMIN' } });
    expect(expectError(taken, 'CONFLICT').extensions.reason).toBe('EMAIL_TAKEN');
  });
});

describe('updateAdminUser', () => {
  const UPDATE = `mutation($input: UpdateAdminUserInput!) { updateAdminUser(input: $input) { id role displayName disabledAt permissions } }`;

  it('changes a role, taking effect on the next request of that user, and audits it', async () => {
    const admin = await b.admin();
    const marketer = await b.admin(AdminRole.MARKETER);
    const res = await h.gql(admin.auth, UPDATE, { input: { id: marketer.id, role: 'ANALYST', displayName: '  Data team ' } });
    expect(res.errors).toBeUndefined();
    expect(res.data.updateAdminUser).toMatchObject({ role: 'ANALYST', displayName: 'Data team', disabledAt: null });
    expect(res.data.updateAdminUser.permissions).not.toContain('members:pii');
    expect((await h.gql(marketer.auth, ME)).data.me.role).toBe('ANALYST');
    const [audit] = await h.sql(`select actor, before, after from audit_entry where entity_id = ? and action = 'adminUser.update'`, [marketer.id]);
    expect(audit).toMatchObject({ actor: `admin:${admin.id}`, before: { role: 'MARKETER' }, after: { role: 'ANALYST', revokedSessions: 0 } });
  });

  it('disables a user, ending their sessions at once, and lets them back in when re-enabled', async () => {
    const admin = await b.admin();
    const marketer = await b.admin(AdminRole.MARKETER);
    const disabled = await h.gql(admin.auth, UPDATE, { input: { id: marketer.id, isActive: false } });
    expect(disabled.data.updateAdminUser.disabledAt).not.toBeNull();
    expectError(await h.gql(marketer.auth, ME), 'UNAUTHENTICATED');
    expectError(await h.gql(null, LOGIN, { input: { email: marketer.email, password: marketer.password } }), 'UNAUTHENTICATED');
    const [{ open }] = await h.sql(`select count(*)::int as open from admin_session where admin_id = ? and revoked_at is null`, [marketer.id]);
    expect(open).toBe(0);
    await h.gql(admin.auth, UPDATE, { input: { id: marketer.id, isActive: true } });
    const login = await h.gql(null, LOGIN, { input: { email: marketer.email, password: marketer.password } });
    expect(login.errors).toBeUndefined();
    // The old token stays ended: re-enabling lets the user sign in again, it does not revive sessions.
    expectError(await h.gql(marketer.auth, ME), 'UNAUTHENTICATED');
  });

  it('refuses to leave no active ADMIN, with CONFLICT LAST_ADMIN, and changes nothing', async () => {
    await h.sql(`update admin_user set disabled_at = now() where role = 'ADMIN'`);
    const last = await b.admin();
    const demote = await h.gql(last.auth, UPDATE, { input: { id: last.id, role: 'MARKETER' } });
    expect(expectError(demote, 'CONFLICT').extensions.reason).toBe('LAST_ADMIN');
    expect(expectError(await h.gql(last.auth, UPDATE, { input: { id: last.id, isActive: false } }), 'CONFLICT').extensions.reason).toBe('LAST_ADMIN');
    expect((await h.gql(last.auth, ME)).data.me.role).toBe('ADMIN');
    // With a second admin, either may step down.
    const second = await b.admin();
    expect((await h.gql(last.auth, UPDATE, { input: { id: last.id, role: 'MARKETER' } })).errors).toBeUndefined();
    expect(expectError(await h.gql(second.auth, UPDATE, { input: { id: second.id, isActive: false } }), 'CONFLICT').extensions.reason).toBe('LAST_ADMIN');
  });

  it('answers NOT_FOUND for an unknown user, BAD_USER_INPUT for a bad role, FORBIDDEN to a marketer', async () => {
    const admin = await b.admin();
    expect(expectError(await h.gql(admin.auth, UPDATE, { input: { id: '00000000-0000-7000-8000-000000000000', role: 'ADMIN' } }), 'NOT_FOUND').extensions.entity).toBe('AdminUser');
    expect((await h.gql(admin.auth, UPDATE, { input: { id: admin.id, role: 'OWNER' } })).errors?.[0].extensions.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    const marketer = await b.admin(AdminRole.MARKETER);
    expectError(await h.gql(marketer.auth, UPDATE, { input: { id: marketer.id, role: 'ADMIN' } }), 'FORBIDDEN');
    expect((await h.gql(marketer.auth, ME)).data.me.role).toBe('MARKETER');
  });
});
