import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Queue from 'bull';
import { Client } from 'pg';
import { printSchema } from 'graphql';
import { useHarness, expectError, type Auth } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { WebhookDispatcher, WEBHOOK_DELIVERY_QUEUE } from '../../api/src/modules/webhooks/dispatcher';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { createLogger } from '../../api/src/base/logger';
import { defineEventType } from '../../api/src/modules/events/event-types';
import { pluginRegistries } from '../../api/src/composition/plugin-registries';
import { definePlugin } from '../../api/src/composition/plugin';
import { ValueType } from '../../api/src/modules/segments/segment-grammar';
import { activityPlugin, ActivityRecorded, TestActivity, TEST_ACTIVITY_TABLE } from '../fixtures/plugins/activity-registries-plugin';

const prefix = `test-plugin-registries-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix, WEBHOOK_SWEEP_MS: '600000', WEBHOOK_BACKOFF_MS: '50' }, { plugins: [activityPlugin] });
const b = build(h);

const RECORD = `mutation A($memberId: ID!, $type: String!) { recordTestActivity(memberId: $memberId, type: $type) { id type occurredAt } }`;
const PREVIEW = `query P($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }`;
const TIMELINE = `query T($id: ID!, $first: Int, $after: String) { member(id: $id) { timeline(first: $first, after: $after) {
  edges { cursor node { type occurredAt summary node { __typename ... on TestActivity { id type } } } } pageInfo { hasNextPage endCursor } } } }`;

let admin: Auth;
const servers: http.Server[] = [];

beforeAll(async () => {
  await h.sql(TEST_ACTIVITY_TABLE);
  admin = (await b.admin()).auth;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  // The harness has closed its ORM by now (its afterAll runs first).
  const client = new Client({ connectionString: h.config.DATABASE_URL });
  await client.connect();
  await client.query('drop table if exists test_activity');
  await client.end();
  const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, h.config.REDIS_URL, { prefix });
  await queue.obliterate({ force: true });
  await queue.close();
});

/** An activity `daysAgo` days back, written straight to the plugin's table. */
async function activityAt(memberId: string, type: string, daysAgo: number) {
  await h.sql(`insert into test_activity (id, member_id, type, occurred_at) values (gen_random_uuid(), ?, ?, now() - make_interval(days => ?))`, [memberId, type, daysAgo]);
}

describe('plugin event types', () => {
  it('records a plugin event in the outbox and delivers it to a webhook subscribed to it, and only to that one', async () => {
    const received: Array<{ path?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('ok');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const REGISTER = `mutation R($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id eventTypes } } }`;
    const subscribed = await h.gql(admin, REGISTER, { input: { url, eventTypes: ['TEST_ACTIVITY_RECORDED'] } });
    expect(subscribed.errors).toBeUndefined();
    expect(subscribed.data.registerWebhook.webhook.eventTypes).toEqual(['TEST_ACTIVITY_RECORDED']);
    const other = await h.gql(admin, REGISTER, { input: { url: `${url}/other`, eventTypes: ['MEMBER_ERASED'] } });
    expect(other.errors).toBeUndefined();

    const member = await b.member().save();
    const key = await b.apiKey(['test-activities:write']);
    const recorded = await h.gql(key.auth, RECORD, { memberId: member.id, type: 'review' });
    expect(recorded.errors).toBeUndefined();
    const [outbox] = await h.sql(`select type, member_id, payload from event_outbox where type = 'test_activity.recorded'`);
    expect(outbox).toMatchObject({ type: 'test_activity.recorded', member_id: member.id, payload: { activityId: recorded.data.recordTestActivity.id, type: 'review' } });

    const dispatcher = new WebhookDispatcher(h.orm, h.config, createLogger('silent')).start();
    try {
      await dispatcher.sweep();
      for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await dispatcher.close();
    }
    expect(received).toHaveLength(1);
    expect(received[0].headers['x-loyalty-event']).toBe('test_activity.recorded');
    expect(received[0].path).toBe('/hooks');
    expect(JSON.parse(received[0].body)).toMatchObject({ type: 'test_activity.recorded', data: { memberId: member.id, type: 'review' } });
    const deliveries = await h.gql(admin, `query D($id: ID!) { webhookDeliveries(webhookId: $id, first: 5) { eventType status } }`, {
      id: subscribed.data.registerWebhook.webhook.id,
    });
    expect(deliveries.data.webhookDeliveries).toEqual([{ eventType: 'TEST_ACTIVITY_RECORDED', status: 'DELIVERED' }]);
  });

  it("lists the plugin's event type after the core's for the webhook form, with its description", async () => {
    const res = await h.gql(admin, `{ webhookEventTypes { type name description isCore } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.webhookEventTypes.at(-1)).toMatchObject({ type: 'TEST_ACTIVITY_RECORDED', name: 'test_activity.recorded', isCore: false });
    expect(res.data.webhookEventTypes.at(-1).description).toEqual(expect.any(String));
  });

  it('refuses to record a type the app did not register, writing nothing', async () => {
    const member = await b.member().save();
    const stray = defineEventType<{ memberId: string }>('stray.happened', 'Not registered.');
    const em = h.em();
    await expect(h.app.services.events.recordEvent(em, stray, { memberId: member.id }, { memberId: member.id, occurredAt: new Date() })).rejects.toThrow(/not registered/);
    expect(await h.sql(`select 1 from event_outbox where type = 'stray.happened'`)).toEqual([]);
  });

  it('lists plugin event types, scopes and timeline kinds in the app’s schema while the committed core schema stays without them', async () => {
    const core = printSchema(await buildGraphQLSchema(null));
    expect(core).not.toMatch(/TEST_ACTIVITY/);
    const res = await h.gql(admin, `{ e: __type(name: "EventType") { enumValues { name description } } s: __type(name: "ApiKeyScope") { enumValues { name } }
      t: __type(name: "TimelineEntryType") { enumValues { name } } n: __type(name: "TimelineNode") { possibleTypes { name } } }`);
    expect(res.data.e.enumValues).toContainEqual({ name: 'TEST_ACTIVITY_RECORDED', description: ActivityRecorded.description });
    expect(res.data.e.enumValues.map((v: { name: string }) => v.name)).toContain('MEMBER_ENROLLED');
    expect(res.data.s.enumValues.map((v: { name: string }) => v.name)).toContain('TEST_ACTIVITIES_WRITE');
    expect(res.data.t.enumValues.map((v: { name: string }) => v.name)).toContain('TEST_ACTIVITY');
    expect(res.data.n.possibleTypes.map((v: { name: string }) => v.name)).toContain('TestActivity');
  });
});

describe('plugin segment attributes', () => {
  it('counts activities of a type in a window in previewSegment, members without any counting as 0', async () => {
    const two = await b.member().save();
    const one = await b.member().save();
    const none = await b.member().save();
    await activityAt(two.id, 'review', 1);
    await activityAt(two.id, 'review', 10);
    await activityAt(two.id, 'review', 40); // outside a 30-day window
    await activityAt(one.id, 'review', 2);
    await activityAt(one.id, 'check_in', 2);
    const count = (rule: object) => h.gql(admin, PREVIEW, { input: { rule } });
    const condition = { attribute: 'testActivityCount', qualifier: 'review', windowDays: 30 };
    const ids = (res: Awaited<ReturnType<typeof count>>) => res.data.previewSegment.sample.map((m: { id: string }) => m.id);
    const mine = [two.id, one.id, none.id];

    const atLeastTwo = await count({ ...condition, op: 'gte', value: 2 });
    expect(atLeastTwo.errors).toBeUndefined();
    expect(ids(atLeastTwo).filter((id: string) => mine.includes(id))).toEqual([two.id]);
    const wider = await count({ ...condition, windowDays: 60, op: 'gte', value: 3 });
    expect(ids(wider).filter((id: string) => mine.includes(id))).toEqual([two.id]);
    const zero = await count({ and: [{ ...condition, op: 'eq', value: 0 }, { attribute: 'testActivityTypes', op: 'any', value: ['check_in'] }] });
    expect(ids(zero).filter((id: string) => mine.includes(id))).toEqual([]);
    const noneDone = await count({ ...condition, op: 'eq', value: 0 });
    expect(ids(noneDone)).toContain(none.id);
    expect(ids(noneDone)).not.toContain(one.id);
    // Combined with core attributes and NOT, like any other condition.
    const notReviewers = await count({ and: [{ not: { ...condition, op: 'gte', value: 1 } }, { attribute: 'status', op: 'eq', value: 'ACTIVE' }] });
    expect(ids(notReviewers)).toContain(none.id);
    expect(ids(notReviewers)).not.toContain(two.id);
  });

  it('binds hostile text as a value: it matches only itself and the statement is unchanged', async () => {
    const member = await b.member().save();
    const hostile = `x'); delete from member; --`;
    await activityAt(member.id, hostile, 1);
    const res = await h.gql(admin, PREVIEW, { input: { rule: { attribute: 'testActivityTypes', op: 'contains', value: hostile } } });
    expect(res.errors).toBeUndefined();
    expect(res.data.previewSegment.sample.map((m: { id: string }) => m.id)).toEqual([member.id]);
    expect((await h.sql(`select count(*)::int as n from member where id = ?`, [member.id]))[0].n).toBe(1);
  });

  it('refuses a hostile or malformed qualifier, value or window with BAD_USER_INPUT naming the node', async () => {
    const base = { attribute: 'testActivityCount', qualifier: 'review', op: 'gte', value: 1, windowDays: 30 };
    const cases: Array<[object, string]> = [
      [{ ...base, qualifier: `review' or 1=1 --` }, 'input.rule.qualifier'],
      [{ ...base, qualifier: undefined }, 'input.rule.qualifier'],
      [{ ...base, value: '1; drop table member' }, 'input.rule.value'],
      [{ ...base, value: -1 }, 'input.rule.value'],
      [{ ...base, windowDays: undefined }, 'input.rule.windowDays'],
      [{ ...base, op: 'contains' }, 'input.rule.op'],
      [{ attribute: 'testActivityTypes', op: 'any', value: ['ok'], qualifier: 'review' }, 'input.rule.qualifier'],
      [{ attribute: 'testActivityTypes', op: 'any', value: ['bad\u0000nul'] }, 'input.rule.value.0'],
    ];
    for (const [rule, path] of cases) {
      const res = await h.gql(admin, PREVIEW, { input: { rule: JSON.parse(JSON.stringify(rule)) } });
      const error = expectError(res, 'BAD_USER_INPUT');
      expect(error.extensions.fields.map((f: { path: string }) => f.path)).toEqual([path]);
    }
  });

  it('is listed by segmentGrammar with its qualifier, for the admin rule builder', async () => {
    const res = await h.gql(admin, `{ segmentGrammar { attributes { name isPlugin needsWindowDays qualifier { description hint } } } }`);
    const attributes = res.data.segmentGrammar.attributes as Array<{ name: string; isPlugin: boolean }>;
    expect(attributes.find((a) => a.name === 'testActivityCount')).toEqual({
      name: 'testActivityCount',
      isPlugin: true,
      needsWindowDays: true,
      qualifier: { description: 'The activity type.', hint: 'an activity type such as review' },
    });
    expect(attributes.find((a) => a.name === 'pointsBalance')).toMatchObject({ isPlugin: false, qualifier: null });
  });

  it('works in a saved segment a campaign can target', async () => {
    const member = await b.member().save();
    await activityAt(member.id, 'survey', 1);
    const res = await h.gql(admin, `mutation C($input: CreateSegmentInput!) { createSegment(input: $input) { id memberCount } }`, {
      input: { name: `Surveyed ${member.id}`, kind: 'SNAPSHOT', rule: { attribute: 'testActivityCount', qualifier: 'survey', op: 'gte', value: 1, windowDays: 7 } },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.createSegment.memberCount).toBe(1);
  });
});

describe('plugin permissions and API-key scopes', () => {
  it('creates a key with the plugin scope through createApiKey, and that key may call the plugin mutation', async () => {
    const channel = await b.channel();
    const created = await h.gql(admin, `mutation K($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { scopes } } }`, {
      input: { channelId: channel.id, name: 'activities', scopes: ['TEST_ACTIVITIES_WRITE', 'MEMBERS_READ'] },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data.createApiKey.apiKey.scopes.sort()).toEqual(['MEMBERS_READ', 'TEST_ACTIVITIES_WRITE']);
    const member = await b.member().save();
    const res = await h.gql({ apiKey: created.data.createApiKey.key }, RECORD, { memberId: member.id, type: 'visit' });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordTestActivity.type).toBe('visit');
  });

  it('refuses the plugin mutation with FORBIDDEN to keys without the scope and roles not given the permission', async () => {
    const member = await b.member().save();
    const without = await b.apiKey(Object.values(ApiKeyScope));
    expectError(await h.gql(without.auth, RECORD, { memberId: member.id, type: 'visit' }), 'FORBIDDEN');
    expectError(await h.gql((await b.admin(AdminRole.ANALYST)).auth, RECORD, { memberId: member.id, type: 'visit' }), 'FORBIDDEN');
    expectError(await h.gql(null, RECORD, { memberId: member.id, type: 'visit' }), 'UNAUTHENTICATED');
    expect((await h.gql((await b.admin(AdminRole.MARKETER)).auth, RECORD, { memberId: member.id, type: 'visit' })).errors).toBeUndefined();
    expect((await h.gql(admin, RECORD, { memberId: member.id, type: 'visit' })).errors).toBeUndefined();
    expect(await h.sql(`select count(*)::int as n from test_activity where member_id = ?`, [member.id])).toEqual([{ n: 2 }]);
  });

  it("lists the plugin's scope after the core's in apiKeyScopes, with its description", async () => {
    const res = await h.gql(admin, `{ apiKeyScopes { scope description isCore } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.apiKeyScopes.at(-1)).toEqual({ scope: 'TEST_ACTIVITIES_WRITE', description: 'Record members’ activities.', isCore: false });
    expect(res.data.apiKeyScopes.filter((s: { isCore: boolean }) => s.isCore)).toHaveLength(7);
  });

  it('still lists a key whose scope no plugin registers any more, granting nothing by it', async () => {
    const key = await b.apiKey(['test-activities:write']);
    await h.sql(`update api_key set scopes = array['gone:write'] where id = ?`, [key.keyId]);
    h.app.services.apiKeys.forgetAll();
    const res = await h.gql(admin, `{ apiKeys { id scopes } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.apiKeys.find((k: { id: string }) => k.id === key.keyId).scopes).toEqual(['gone:write']);
    const member = await b.member().save();
    expectError(await h.gql(key.auth, RECORD, { memberId: member.id, type: 'visit' }), 'FORBIDDEN');
  });

  it("tells each admin user their role's permissions, the plugin's among them only for the roles it names", async () => {
    const permissionsOf = async (role: AdminRole) => {
      const res = await h.gql((await b.admin(role)).auth, `{ me { role permissions } }`);
      expect(res.errors).toBeUndefined();
      return res.data.me.permissions as string[];
    };
    const [asAdmin, asMarketer, asAnalyst] = await Promise.all([AdminRole.ADMIN, AdminRole.MARKETER, AdminRole.ANALYST].map(permissionsOf));
    expect(asAdmin).toContain('test-activities:write');
    expect(asMarketer).toContain('test-activities:write');
    expect(asAnalyst).not.toContain('test-activities:write');
    expect(asAdmin).toEqual([...asAdmin].sort());
  });

  it('refuses an unknown scope from callers outside GraphQL with BAD_USER_INPUT', async () => {
    const channel = await b.channel();
    await expect(h.app.services.apiKeys.createKey(h.em(), null, { channelId: channel.id, name: 'x', scopes: ['activities:delete'] })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('plugin timeline sources', () => {
  it('shows the plugin’s entries in the member timeline among the core’s, newest first, with a summary, across pages', async () => {
    const member = await b.member().save();
    await activityAt(member.id, 'review', 3);
    await activityAt(member.id, 'check_in', 1);
    await h.app.services.points.adjust(b.ctx(), { memberId: member.id, points: 5, reason: 'goodwill' });
    const first = await h.gql(admin, TIMELINE, { id: member.id, first: 2 });
    expect(first.errors).toBeUndefined();
    const all = [...first.data.member.timeline.edges];
    let page = first.data.member.timeline;
    while (page.pageInfo.hasNextPage) {
      const next = await h.gql(admin, TIMELINE, { id: member.id, first: 2, after: page.pageInfo.endCursor });
      expect(next.errors).toBeUndefined();
      page = next.data.member.timeline;
      all.push(...page.edges);
    }
    const activities = all.map((e) => e.node).filter((n) => n.type === 'TEST_ACTIVITY');
    expect(activities.map((n) => [n.summary, n.node.__typename, n.node.type])).toEqual([
      ['Did check_in', 'TestActivity', 'check_in'],
      ['Did review', 'TestActivity', 'review'],
    ]);
    const times = all.map((e) => e.node.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(all.filter((e) => e.node.type !== 'TEST_ACTIVITY').every((e) => e.node.summary === null)).toBe(true);
  });

  it('hides entries behind the source’s permission', async () => {
    const restricted = definePlugin({
      name: 'restricted',
      timelineSources: [{ ...activityPlugin.timelineSources![0], kind: 'SECRET', permission: 'secret:read' }],
    });
    const registries = pluginRegistries([restricted]);
    expect(registries.timelineSources.list().find((s) => s.type === 'SECRET')?.permission).toBe('secret:read');
    const member = await b.member().save();
    await activityAt(member.id, 'review', 1);
    const { TimelineService } = await import('../../api/src/modules/timeline/timeline.service');
    const timeline = new TimelineService(registries.timelineSources);
    const page = await timeline.page(h.em(), { kind: 'admin', adminId: 'a', sessionId: 's', email: 'e', role: 'ADMIN', permissions: new Set(['orders:read']) }, member.id, 10, null);
    expect(page.edges.map((e) => e.node.type)).not.toContain('SECRET');
    const allowed = await timeline.page(h.em(), { kind: 'admin', adminId: 'a', sessionId: 's', email: 'e', role: 'ADMIN', permissions: new Set(['secret:read']) }, member.id, 10, null);
    expect(allowed.edges.map((e) => e.node.type)).toContain('SECRET');
  });
});

describe('registering', () => {
  const attempt = (plugin: object) => () => pluginRegistries([definePlugin({ name: 'bad', ...plugin })]);

  it('refuses entries that clash with the core or another plugin, or are malformed, naming the plugin', () => {
    expect(attempt({ eventTypes: [defineEventType('member.enrolled', 'again')] })).toThrow(/member\.enrolled of plugin "bad" clashes with the core/);
    expect(attempt({ eventTypes: [defineEventType('Not A Name', 'x')] })).toThrow(/plugin "bad"/);
    expect(attempt({ permissions: [{ name: 'members:read', description: 'again' }] })).toThrow(/already declared/);
    expect(attempt({ apiKeyScopes: [{ scope: 'x:write', description: 'x', permissions: ['members:pii'] }] })).toThrow(/does not declare/);
    expect(attempt({ apiKeyScopes: [{ scope: 'orders:write', description: 'x', permissions: [] }] })).toThrow(/already declared/);
    expect(attempt({ permissions: [{ name: 'x:write', description: 'x', roles: ['OWNER'] }] })).toThrow(/unknown role/);
    expect(attempt({ segmentAttributes: [{ name: 'tier', description: 'x', type: ValueType.INTEGER, operators: ['eq'], rows: () => '' }] })).toThrow(/taken/);
    expect(attempt({ segmentAttributes: [{ name: 'many', description: 'x', type: ValueType.CODE, isMany: true, operators: ['gt'], rows: () => '' }] })).toThrow(/operators/);
    expect(attempt({ timelineSources: [{ kind: 'ORDER', description: 'x', table: 't', occurredAt: 's.at', node: TestActivity }] })).toThrow(/taken/);
    expect(() => pluginRegistries([activityPlugin, { ...activityPlugin, name: 'copy' }])).toThrow(/plugin "copy".*another plugin/);
  });

  it('gives ADMIN every plugin permission and other roles only those declared for them', () => {
    const { access } = pluginRegistries([activityPlugin]);
    expect(access.forRole(AdminRole.ADMIN).has('test-activities:write')).toBe(true);
    expect(access.forRole(AdminRole.MARKETER).has('test-activities:write')).toBe(true);
    expect(access.forRole(AdminRole.ANALYST).has('test-activities:write')).toBe(false);
    expect([...access.forScopes(['test-activities:write'])]).toEqual(['test-activities:write']);
    // A scope whose plugin is gone grants nothing; core scopes keep their rules (members:read brings members:pii).
    expect([...pluginRegistries([]).access.forScopes(['test-activities:write', 'members:read'])].sort()).toEqual(['members:pii', 'members:read']);
  });
});
