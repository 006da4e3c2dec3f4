import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness();
const b = build(h);

const CREATE_CHANNEL = `mutation($input: CreateSalesChannelInput!) { createSalesChannel(input: $input) { id name kind } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id prefix scopes channel { id kind } revokedAt } } }`;
const ROTATE = `mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { key apiKey { id rotatedFromId scopes } } }`;
const REVOKE = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`;
const PROBE = `{ members(first: 1) { totalCount } }`;

async function channelWithKey(admin: { auth: { token: string } }, scopes = ['MEMBERS_READ', 'MEMBERS_WRITE']) {
  const channel = await h.gql(admin.auth, CREATE_CHANNEL, { input: { name: `Store ${Math.random()}`, kind: 'STORE' } });
  const created = await h.gql(admin.auth, CREATE_KEY, { input: { channelId: channel.data.createSalesChannel.id, name: 'till 1', scopes } });
  expect(created.errors).toBeUndefined();
  return created.data.createApiKey;
}

describe('API keys', () => {
  it('shows the key once, stores only its hash, and the key works for its scopes', async () => {
    const admin = await b.admin();
    const { key, apiKey } = await channelWithKey(admin);
    expect(key).toMatch(new RegExp(`^lk_${apiKey.prefix}_[A-Za-z0-9_-]{43}$`));
    expect(apiKey.scopes).toEqual(['MEMBERS_READ', 'MEMBERS_WRITE']);
    expect(apiKey.channel.kind).toBe('STORE');
    const [row] = await h.sql(`select secret_hash from api_key where id = ?`, [apiKey.id]);
    const secret = key.split('_').slice(2).join('_');
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await h.sql(`select * from api_key`))).not.toContain(secret);
    expect((await h.gql({ apiKey: key }, PROBE)).errors).toBeUndefined();
    const listed = await h.gql(admin.auth, `{ apiKeys { id prefix } }`);
    expect(JSON.stringify(listed.data)).not.toContain(secret);
  });

  it('stops a revoked key at once and audits the revocation', async () => {
    const admin = await b.admin();
    const { key, apiKey } = await channelWithKey(admin);
    // Used first, so the key sits in the API process's cache when it is revoked.
    expect((await h.gql({ apiKey: key }, PROBE)).errors).toBeUndefined();
    const res = await h.gql(admin.auth, REVOKE, { input: { id: apiKey.id, reason: 'till stolen' } });
    expect(res.data.revokeApiKey.revokedAt).not.toBeNull();
    expectError(await h.gql({ apiKey: key }, PROBE), 'UNAUTHENTICATED');
    const audit = await h.sql(`select action, after from audit_entry where entity_id = ?`, [apiKey.id]);
    expect(audit.map((a) => a.action).sort()).toEqual(['apiKey.create', 'apiKey.revoke']);
    expect(audit.find((a) => a.action === 'apiKey.revoke').after.reason).toBe('till stolen');
  });

  it('rotates: the new key works with the same scopes, the old one stops at once without a grace period', async () => {
    const admin = await b.admin();
    const old = await channelWithKey(admin, ['MEMBERS_READ']);
    expect((await h.gql({ apiKey: old.key }, PROBE)).errors).toBeUndefined();
    const res = await h.gql(admin.auth, ROTATE, { input: { id: old.apiKey.id } });
    const fresh = res.data.rotateApiKey;
    expect(fresh.apiKey).toMatchObject({ rotatedFromId: old.apiKey.id, scopes: ['MEMBERS_READ'] });
    expect((await h.gql({ apiKey: fresh.key }, PROBE)).errors).toBeUndefined();
    expectError(await h.gql({ apiKey: old.key }, PROBE), 'UNAUTHENTICATED');
  });

  it('rotates with a grace period: both keys work until it ends', async () => {
    const admin = await b.admin();
    const old = await channelWithKey(admin);
    const res = await h.gql(admin.auth, ROTATE, { input: { id: old.apiKey.id, graceSeconds: 3600 } });
    expect((await h.gql({ apiKey: old.key }, PROBE)).errors).toBeUndefined();
    expect((await h.gql({ apiKey: res.data.rotateApiKey.key }, PROBE)).errors).toBeUndefined();
    const [row] = await h.sql(`select expires_at from api_key where id = ?`, [old.apiKey.id]);
    const left = new Date(row.expires_at).getTime() - Date.now();
    expect(left).toBeGreaterThan(3500_000);
    expect(left).toBeLessThanOrEqual(3600_000);
    // Rotated again with a one-second grace: the old key works until it ends, then is refused (cached or not).
    const again = await h.gql(admin.auth, ROTATE, { input: { id: old.apiKey.id, graceSeconds: 1 } });
    expect(again.errors).toBeUndefined();
    expect((await h.gql({ apiKey: old.key }, PROBE)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1100));
    expectError(await h.gql({ apiKey: old.key }, PROBE), 'UNAUTHENTICATED');
  });

  it('refuses to rotate a revoked key, and validates input', async () => {
    const admin = await b.admin();
    const { apiKey } = await channelWithKey(admin);
    await h.gql(admin.auth, REVOKE, { input: { id: apiKey.id } });
    expect(expectError(await h.gql(admin.auth, ROTATE, { input: { id: apiKey.id } }), 'CONFLICT').extensions.reason).toBe('API_KEY_REVOKED');
    const tooLong = await h.gql(admin.auth, ROTATE, { input: { id: apiKey.id, graceSeconds: 999_999_999 } });
    expect(expectError(tooLong, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.graceSeconds');
    const noScopes = await h.gql(admin.auth, CREATE_KEY, { input: { channelId: apiKey.id, name: 'x', scopes: [] } });
    expect(expectError(noScopes, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.scopes');
    const noChannel = await h.gql(admin.auth, CREATE_KEY, { input: { channelId: apiKey.id, name: 'x', scopes: ['MEMBERS_READ'] } });
    expect(expectError(noChannel, 'NOT_FOUND').extensions.entity).toBe('SalesChannel');
  });

  it('refuses ADMIN as a sales channel kind and a duplicate channel name', async () => {
    const admin = await b.admin();
    expect(expectError(await h.gql(admin.auth, CREATE_CHANNEL, { input: { name: 'Back office', kind: 'ADMIN' } }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe(
      'input.kind',
    );
    await h.gql(admin.auth, CREATE_CHANNEL, { input: { name: 'Twice', kind: 'WEB' } });
    expectError(await h.gql(admin.auth, CREATE_CHANNEL, { input: { name: 'Twice', kind: 'APP' } }), 'CONFLICT');
  });

  it('lists every scope a key may be given with what it allows, for the admin key form', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, `{ apiKeyScopes { scope description isCore } }`);
    expect(res.errors).toBeUndefined();
    const scopes = res.data.apiKeyScopes as Array<{ scope: string; description: string; isCore: boolean }>;
    expect(scopes.map((s) => s.scope)).toEqual(['MEMBERS_READ', 'MEMBERS_WRITE', 'MEMBERS_MERGE', 'ORDERS_WRITE', 'ORDERS_READ', 'REWARDS_REDEEM', 'FEEDBACK_WRITE']);
    expect(scopes.find((s) => s.scope === 'ORDERS_WRITE')?.description).toBe('Record orders, returns and guest-order claims; consume vouchers at checkout.');
    expect(scopes.every((s) => s.isCore && s.description.length > 10)).toBe(true);
    expectError(await h.gql((await b.admin(AdminRole.MARKETER)).auth, `{ apiKeyScopes { scope } }`), 'FORBIDDEN');
  });

  it('is managed by admins only', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    expectError(await h.gql(marketer.auth, CREATE_CHANNEL, { input: { name: 'M', kind: 'WEB' } }), 'FORBIDDEN');
    expect(await h.sql(`select 1 from sales_channel where name = 'M'`)).toHaveLength(0);
  });
});
