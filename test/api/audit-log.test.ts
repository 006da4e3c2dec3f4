import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness();
const b = build(h);

const AUDIT = `query A($actor: String, $entityType: String, $entityId: String, $action: String, $since: DateTimeISO, $until: DateTimeISO, $olderThan: ID, $first: Int! = 50) {
  auditLog(actor: $actor, entityType: $entityType, entityId: $entityId, action: $action, since: $since, until: $until, olderThan: $olderThan, first: $first) {
    id actor action entityType entityId createdAt } }`;
const CREATE_CHANNEL = `mutation C($input: CreateSalesChannelInput!) { createSalesChannel(input: $input) { id } }`;

describe('auditLog filters', () => {
  let alice: Awaited<ReturnType<typeof b.admin>>;
  let bob: Awaited<ReturnType<typeof b.admin>>;
  let channelIds: string[];
  let betweenAt: string;

  beforeAll(async () => {
    alice = await b.admin();
    bob = await b.admin();
    channelIds = [];
    for (const [who, name] of [[alice, 'A1'], [alice, 'A2'], [bob, 'B1']] as const) {
      const res = await h.gql(who.auth, CREATE_CHANNEL, { input: { name, kind: 'WEB' } });
      expect(res.errors).toBeUndefined();
      channelIds.push(res.data.createSalesChannel.id);
      if (name === 'A2') {
        await new Promise((r) => setTimeout(r, 20));
        betweenAt = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });

  const search = async (variables: Record<string, unknown>) => {
    const res = await h.gql(alice.auth, AUDIT, variables);
    expect(res.errors).toBeUndefined();
    return res.data.auditLog as Array<{ id: string; actor: string; action: string; entityId: string; createdAt: string }>;
  };

  it('narrows to one actor, newest first', async () => {
    const byAlice = await search({ actor: `admin:${alice.id}`, action: 'salesChannel.create' });
    expect(byAlice.map((e) => e.entityId)).toEqual([channelIds[1], channelIds[0]]);
    expect((await search({ actor: `admin:${bob.id}`, entityType: 'SalesChannel' })).map((e) => e.entityId)).toEqual([channelIds[2]]);
    expect(await search({ actor: 'admin:nobody' })).toEqual([]);
  });

  it('narrows to one entity and to a time window, bounds combining with the other filters', async () => {
    expect((await search({ entityType: 'SalesChannel', entityId: channelIds[1] })).map((e) => e.action)).toEqual(['salesChannel.create']);
    const before = await search({ entityType: 'SalesChannel', until: betweenAt });
    const after = await search({ entityType: 'SalesChannel', since: betweenAt });
    expect(before.map((e) => e.entityId)).toEqual([channelIds[1], channelIds[0]]);
    expect(after.map((e) => e.entityId)).toEqual([channelIds[2]]);
    expect(await search({ actor: `admin:${alice.id}`, entityType: 'SalesChannel', since: betweenAt })).toEqual([]);
  });

  it('pages with olderThan, the last id of the page before', async () => {
    const first = await search({ entityType: 'SalesChannel', first: 2 });
    const next = await search({ entityType: 'SalesChannel', first: 2, olderThan: first.at(-1)!.id });
    expect([...first, ...next].map((e) => e.entityId)).toEqual([...channelIds].reverse());
  });

  it('refuses a window that ends before it starts, a malformed page id and too large a page with BAD_USER_INPUT', async () => {
    const window = await h.gql(alice.auth, AUDIT, { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' });
    expect(expectError(window, 'BAD_USER_INPUT').extensions.fields).toEqual([{ path: 'until', message: 'must not be before since' }]);
    expect(expectError(await h.gql(alice.auth, AUDIT, { olderThan: 'nope' }), 'BAD_USER_INPUT').extensions.fields[0].path).toContain('olderThan');
    expectError(await h.gql(alice.auth, AUDIT, { first: 101 }), 'BAD_USER_INPUT');
  });

  it('is for administrators only', async () => {
    expectError(await h.gql((await b.admin(AdminRole.MARKETER)).auth, AUDIT, { actor: `admin:${alice.id}` }), 'FORBIDDEN');
  });
});
