import { expectError, useHarness } from '../../../test/support/harness';
import { AdminRole } from '../../../test/fixtures/build';
import { DAY_MS } from '@loyalty/api/extension-api';
import { plugin } from '../src';
import { activityFixtures, CREATE_TYPE, UPDATE_TYPE } from './support';

const h = useHarness({}, { plugins: [plugin] });
const f = activityFixtures(h);
const b = f.b;

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
let web: Awaited<ReturnType<typeof b.apiKey>>;

beforeAll(async () => {
  web = await b.apiKey(['activities:write']);
});

describe('activity types', () => {
  it('a marketer declares a type with its rules; activityTypes lists it and the audit log has it', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const input = {
      code: 'store_visit',
      name: 'Store visit',
      description: 'Scanned the app at a till',
      points: 50,
      capPerDay: 1,
      capPerWeek: 3,
      capLifetime: null,
      minGapMinutes: 120,
      tierCodes: ['GOLD', 'GOLD'],
      channelKinds: ['STORE'],
    };
    const res = await h.gql(marketer.auth, CREATE_TYPE, { input });
    expect(res.errors).toBeUndefined();
    const created = res.data.createActivityType;
    expect(created).toMatchObject({ ...input, tierCodes: ['GOLD'], segmentId: null, isActive: true });

    const list = await h.gql(marketer.auth, `{ activityTypes { code points channelKinds } }`);
    expect(list.data.activityTypes).toContainEqual({ code: 'store_visit', points: 50, channelKinds: ['STORE'] });
    const audit = await h.sql(`select action, after->>'code' as code from audit_entry where entity_type = 'ActivityType' and entity_id = ?`, [created.id]);
    expect(audit).toEqual([{ action: 'activityType.create', code: 'store_visit' }]);
  });

  it('updates the given fields, removes a cap set to null, keeps the code, and audits before and after', async () => {
    const type = await f.type({ points: 10, capPerDay: 2, minGapMinutes: 30 });
    const res = await h.gql(await f.adminAuth(), UPDATE_TYPE, { input: { id: type.id, points: 15, capPerDay: null, isActive: false } });
    expect(res.errors).toBeUndefined();
    expect(res.data.updateActivityType).toMatchObject({ code: type.code, points: 15, capPerDay: null, minGapMinutes: 30, isActive: false });
    const [audit] = await h.sql(`select before->>'points' as before, after->>'points' as after from audit_entry where action = 'activityType.update' and entity_id = ?`, [type.id]);
    expect(audit).toEqual({ before: '10', after: '15' });
  });

  it('refuses a taken code as CONFLICT/IDENTIFIER_TAKEN, bad rules as BAD_USER_INPUT naming each, and writes nothing', async () => {
    const admin = await f.adminAuth();
    const type = await f.type();
    const [{ n: before }] = await h.sql(`select count(*)::int as n from activity_type`);
    const taken = expectError(await h.gql(admin, CREATE_TYPE, { input: { code: type.code, name: 'Again', points: 1 } }), 'CONFLICT');
    expect(taken.extensions).toMatchObject({ reason: 'IDENTIFIER_TAKEN', field: 'input.code' });

    const bad = expectError(
      await h.gql(admin, CREATE_TYPE, {
        input: { code: 'Bad Code', name: '', points: 1_000_001, capPerDay: 0, minGapMinutes: -5, tierCodes: ['gold'], segmentId: 'nope' },
      }),
      'BAD_USER_INPUT',
    );
    expect(bad.extensions.fields.map((p: { path: string }) => p.path).sort()).toEqual(
      ['input.capPerDay', 'input.code', 'input.minGapMinutes', 'input.name', 'input.points', 'input.segmentId', 'input.tierCodes'].sort(),
    );
    const noSegment = expectError(
      await h.gql(admin, CREATE_TYPE, { input: { code: 'seg_missing', name: 'X', points: 1, segmentId: '00000000-0000-7000-8000-000000000000' } }),
      'BAD_USER_INPUT',
    );
    expect(noSegment.extensions.fields).toEqual([{ path: 'input.segmentId', message: 'is not a saved segment' }]);
    expectError(await h.gql(admin, UPDATE_TYPE, { input: { id: type.id, points: null } }), 'BAD_USER_INPUT');
    expectError(await h.gql(admin, UPDATE_TYPE, { input: { id: '00000000-0000-7000-8000-000000000000', points: 1 } }), 'NOT_FOUND');
    const [{ n: after }] = await h.sql(`select count(*)::int as n from activity_type`);
    expect(after).toBe(before);
  });

  it('is FORBIDDEN to an analyst and to a channel key, which may list the types', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    const input = { code: 'forbidden_one', name: 'X', points: 1 };
    expectError(await h.gql(analyst.auth, CREATE_TYPE, { input }), 'FORBIDDEN');
    expectError(await h.gql(web.auth, CREATE_TYPE, { input }), 'FORBIDDEN');
    expect((await h.gql(web.auth, `{ activityTypes { code } }`)).errors).toBeUndefined();
    expect((await h.gql(analyst.auth, `{ activityTypes { code } }`)).errors).toBeUndefined();
  });

  it('lets an admin record an activity too (no channel), whatever channel kinds the type allows', async () => {
    const type = await f.type({ points: 3, channelKinds: ['STORE'] });
    const member = await b.member().save();
    const res = await f.record(await f.adminAuth(), { member: { id: member.id }, type: type.code });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordActivity).toMatchObject({ channelId: null, channelKind: null, outcome: 'CREDITED' });
  });
});

describe('activities in the member 360, segments and analytics', () => {
  it("pages a member's activities newest first", async () => {
    const type = await f.type({ points: 1 });
    const member = await b.member().save();
    for (const hours of [5, 1, 3]) await f.record(web.auth, { member: { id: member.id }, type: type.code, occurredAt: ago(hours * 3_600_000) });
    const admin = await f.adminAuth();
    const page = (after?: string) =>
      h.gql(admin, `query M($id: ID!, $after: String) { member(id: $id) { activities(first: 2, after: $after) { nodes { occurredAt } hasNextPage endCursor } } }`, {
        id: member.id,
        after,
      });
    const first = await page();
    expect(first.errors).toBeUndefined();
    const p1 = first.data.member.activities;
    expect(p1.nodes).toHaveLength(2);
    expect(p1.hasNextPage).toBe(true);
    const p2 = (await page(p1.endCursor)).data.member.activities;
    expect(p2).toMatchObject({ hasNextPage: false });
    const times = [...p1.nodes, ...p2.nodes].map((n: { occurredAt: string }) => Date.parse(n.occurredAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(times).toHaveLength(3);
    expectError(await page('not-a-cursor'), 'BAD_USER_INPUT');
  });

  it("gives a list of members their first pages in the same SQL statements for 6 members as for 1, each the member's own", async () => {
    const type = await f.type({ points: 1 });
    // Per member: how many hours ago its newest two activities were, and whether it has more.
    const expected = new Map<string, { times: number[]; more: boolean }>();
    for (let i = 0; i < 6; i++) {
      const member = await b.member().named('Active', `Pager${i}`).save();
      const hours = Array.from({ length: i % 4 }, (_, k) => 1 + k * 2 + i);
      for (const h_ of hours) await f.record(web.auth, { member: { id: member.id }, type: type.code, occurredAt: ago(h_ * 3_600_000) });
      expected.set(member.id, { times: hours.slice(0, 2), more: hours.length > 2 });
    }
    const admin = await f.adminAuth();
    const LIST = `query($search: String!) { members(search: $search, first: 50) { edges { node { id activities(first: 2) { nodes { memberId occurredAt } hasNextPage endCursor } } } } }`;
    const one = await h.gql(admin, LIST, { search: 'Pager3' });
    const all = await h.gql(admin, LIST, { search: 'Pager' });
    expect(all.errors).toBeUndefined();
    expect(all.data.members.edges).toHaveLength(6);
    for (const { node } of all.data.members.edges) {
      const want = expected.get(node.id)!;
      expect(node.activities.nodes.every((n: { memberId: string }) => n.memberId === node.id)).toBe(true);
      // Newest first: the fewest hours ago first.
      const hoursAgo = node.activities.nodes.map((n: { occurredAt: string }) => Math.round((Date.now() - Date.parse(n.occurredAt)) / 3_600_000));
      expect(hoursAgo).toEqual(want.times);
      expect(node.activities.hasNextPage).toBe(want.more);
      // The batched page's cursor leads on to the member's own next page.
      if (want.more) {
        const next = await h.gql(admin, `query($id: ID!, $after: String) { member(id: $id) { activities(first: 2, after: $after) { nodes { memberId } } } }`, { id: node.id, after: node.activities.endCursor });
        expect(next.data.member.activities.nodes).toHaveLength(1);
      }
    }
    expect(Number(all.headers['x-db-queries'])).toBe(Number(one.headers['x-db-queries']));
    expectError(await h.gql(admin, `{ members(first: 2) { edges { node { activities(first: 101) { hasNextPage } } } } }`), 'BAD_USER_INPUT');
  });

  it('shows activities in the member timeline with a summary', async () => {
    const credited = await f.type({ points: 12 });
    const nothing = await f.type({ points: 0 });
    const member = await b.member().save();
    await f.record(web.auth, { member: { id: member.id }, type: credited.code, occurredAt: ago(60_000) });
    await f.record(web.auth, { member: { id: member.id }, type: nothing.code, occurredAt: ago(30_000) });
    const res = await h.gql(
      await f.adminAuth(),
      `query T($id: ID!) { member(id: $id) { timeline(first: 20) { edges { node { type summary node { __typename ... on Activity { type points outcome } } } } } } }`,
      { id: member.id },
    );
    expect(res.errors).toBeUndefined();
    const entries = res.data.member.timeline.edges.map((e: any) => e.node).filter((n: any) => n.type === 'ACTIVITY');
    expect(entries).toEqual([
      { type: 'ACTIVITY', summary: `${nothing.code}: no points`, node: { __typename: 'Activity', type: nothing.code, points: 0, outcome: 'NO_POINTS' } },
      { type: 'ACTIVITY', summary: `${credited.code}: +12 points`, node: { __typename: 'Activity', type: credited.code, points: 12, outcome: 'CREDITED' } },
    ]);
  });

  it('filters segments on activityCount of a type in a window: "at least 3 in 30 days"', async () => {
    const visit = await f.type({ points: 1 });
    const three = await b.member().save();
    const two = await b.member().save();
    const old = await b.member().save();
    for (const days of [1, 2, 3]) await f.record(web.auth, { member: { id: three.id }, type: visit.code, occurredAt: ago(days * DAY_MS) });
    for (const days of [1, 2]) await f.record(web.auth, { member: { id: two.id }, type: visit.code, occurredAt: ago(days * DAY_MS) });
    for (const days of [1, 40, 50]) await f.record(web.auth, { member: { id: old.id }, type: visit.code, occurredAt: ago(days * DAY_MS) });
    const admin = await f.adminAuth();
    const preview = (rule: object) => h.gql(admin, `query P($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }`, { input: { rule } });
    const atLeast3 = await preview({ attribute: 'activityCount', qualifier: visit.code, op: 'gte', value: 3, windowDays: 30 });
    expect(atLeast3.errors).toBeUndefined();
    expect(atLeast3.data.previewSegment).toEqual({ count: 1, sample: [{ id: three.id }] });
    const in60 = await preview({ attribute: 'activityCount', qualifier: visit.code, op: 'gte', value: 3, windowDays: 60 });
    expect(in60.data.previewSegment.sample.map((m: { id: string }) => m.id).sort()).toEqual([three.id, old.id].sort());
    expectError(await preview({ attribute: 'activityCount', qualifier: 'Not A Code', op: 'gte', value: 3, windowDays: 30 }), 'BAD_USER_INPUT');
    expectError(await preview({ attribute: 'activityCount', op: 'gte', value: 3, windowDays: 30 }), 'BAD_USER_INPUT');
  });

  it('counts recorded, credited, points and members per type in activityStats, for analysts', async () => {
    const type = await f.type({ points: 8, capLifetime: 1 });
    const idle = await f.type({ points: 8 });
    const a = await b.member().save();
    const c = await b.member().save();
    await f.record(web.auth, { member: { id: a.id }, type: type.code, occurredAt: ago(2 * 3_600_000) });
    await f.record(web.auth, { member: { id: a.id }, type: type.code, occurredAt: ago(2 * 3_600_000 - 1000) });
    await f.record(web.auth, { member: { id: c.id }, type: type.code, occurredAt: ago(3_600_000) });
    await f.record(web.auth, { member: { id: c.id }, type: type.code, occurredAt: ago(10 * DAY_MS) });
    const analyst = await b.admin(AdminRole.ANALYST);
    const stats = async (from: string, to: string) => h.gql(analyst.auth, `query S($from: DateTimeISO!, $to: DateTimeISO!) { activityStats(from: $from, to: $to) { type recorded credited points members } }`, { from, to });
    const res = await stats(ago(DAY_MS), ago(0));
    expect(res.errors).toBeUndefined();
    const byType = new Map(res.data.activityStats.map((s: { type: string }) => [s.type, s]));
    // One credited per member (capLifetime 1); c's second is outside the span.
    expect(byType.get(type.code)).toEqual({ type: type.code, recorded: 3, credited: 2, points: 16, members: 2 });
    expect(byType.get(idle.code)).toEqual({ type: idle.code, recorded: 0, credited: 0, points: 0, members: 0 });
    expectError(await stats(ago(0), ago(DAY_MS)), 'BAD_USER_INPUT');
    expectError(await stats(ago(400 * DAY_MS), ago(0)), 'BAD_USER_INPUT');
    expectError(await h.gql(web.auth, `{ activityStats(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { type } }`), 'FORBIDDEN');
  });

  it('lists the plugin in the schema: its event type, scope and timeline kind', async () => {
    const res = await h.gql(await f.adminAuth(), `{ e: __type(name: "EventType") { enumValues { name } } s: __type(name: "ApiKeyScope") { enumValues { name } }
      t: __type(name: "TimelineEntryType") { enumValues { name } } }`);
    expect(res.data.e.enumValues.map((v: { name: string }) => v.name)).toContain('ACTIVITY_RECORDED');
    expect(res.data.s.enumValues.map((v: { name: string }) => v.name)).toContain('ACTIVITIES_WRITE');
    expect(res.data.t.enumValues.map((v: { name: string }) => v.name)).toContain('ACTIVITY');
  });
});

