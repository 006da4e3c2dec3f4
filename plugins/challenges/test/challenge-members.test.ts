import { expectError, useHarness } from '../../../test/support/harness';
import { build, AdminRole, ApiKeyScope, SalesChannelKind } from '../../../test/fixtures/build';
import { runImport } from '../../../test/support/imports';
import { MERGE, ERASE } from '../../../test/support/races';
import { plugin } from '../src';
import { activityFixturePlugin, recordActivity } from './fixtures/activity-fixture';
import { challengeLedger, createChallenge, MEMBER_CHALLENGES, progressOf, progressRows, recordOrder } from './support';

const h = useHarness({}, { plugins: [plugin, activityFixturePlugin] });
const b = build(h);
const DAY = 86_400_000;

const PREVIEW = `query($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }`;
const TIMELINE = `query($id: ID!) { member(id: $id) { timeline(first: 50) { edges { node { type summary occurredAt
  node { __typename ... on MemberChallenge { id progress goal challenge { code } } ... on MemberBadge { id code name } } } } } } }`;

afterEach(async () => {
  await h.sql(`update challenge set is_active = false`);
});

describe('member.challenges and member.badges', () => {
  it('show a member their progress, completions and badges, but not the challenges they are held out of', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const running = await createChallenge(h, admin.auth, { name: 'Five visits', target: 5 });
    const done = await createChallenge(h, admin.auth, { name: 'First visit', target: 1, reward: { kind: 'BADGE', badgeCode: 'first_visit', badgeName: 'First visit' } });
    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id);
    await recordOrder(h, web.auth, member.id);
    // A challenge the member is held out of: tracked, never shown.
    const hidden = await createChallenge(h, admin.auth, { target: 1, holdoutPercent: 50 });
    await h.sql(`insert into challenge_progress (id, challenge_id, member_id, goal, progress, joined_at, updated_at, is_holdout) values (gen_random_uuid(), ?, ?, 1, 1, now(), now(), true)`, [hidden.id, member.id]);

    const reader = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const res = await h.gql(reader.auth, MEMBER_CHALLENGES, { id: member.id });
    expect(res.errors).toBeUndefined();
    const { challenges, badges } = res.data.member;
    expect(challenges.map((c: any) => [c.challenge.id, c.progress, c.goal, c.percent, c.completedAt !== null])).toEqual([
      [running.id, 2, 5, 40, false],
      [done.id, 1, 1, 100, true],
    ]);
    expect(challenges[1].rewardStatus).toBe('GRANTED');
    expect(badges).toEqual([{ id: expect.any(String), code: 'first_visit', name: 'First visit', challengeId: done.id, awardedAt: expect.any(String) }]);

    // A channel key without members:read gets neither.
    const writer = await b.apiKey([ApiKeyScope.ORDERS_WRITE]);
    expectError(await h.gql(writer.auth, `query($id: ID!) { member(id: $id) { id } }`, { id: member.id }), 'FORBIDDEN');
  });

  it('puts completions and badges in the member’s timeline, with a summary', async () => {
    const admin = await b.admin();
    const challenge = await createChallenge(h, admin.auth, {
      name: 'Reviewer',
      goalKind: 'ACTIVITY_COUNT',
      activityType: 'review_written',
      target: 1,
      reward: { kind: 'BADGE', badgeCode: 'critic', badgeName: 'Critic' },
    });
    const member = await b.member().save();
    await recordActivity(h, b.ctx(), { memberId: member.id, type: 'review_written', key: `t-${member.id}` });
    const res = await h.gql(admin.auth, TIMELINE, { id: member.id });
    expect(res.errors).toBeUndefined();
    const entries = res.data.member.timeline.edges.map((e: any) => e.node).filter((n: any) => n.type === 'CHALLENGE_COMPLETED' || n.type === 'BADGE_AWARDED');
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'CHALLENGE_COMPLETED', summary: 'Completed the challenge Reviewer', node: expect.objectContaining({ __typename: 'MemberChallenge', challenge: { code: challenge.code } }) }),
        expect.objectContaining({ type: 'BADGE_AWARDED', summary: 'Earned the badge Critic', node: expect.objectContaining({ __typename: 'MemberBadge', code: 'critic' }) }),
      ]),
    );
    expect(entries).toHaveLength(2);
  });
});

describe('segment attributes', () => {
  it('find members two thirds of the way and not finished (challengeProgressPercent), and completed ones (challengeState)', async () => {
    const admin = await b.admin(AdminRole.MARKETER);
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 3 });
    const [none, one, two, three] = [await b.member().save(), await b.member().save(), await b.member().save(), await b.member().save()];
    for (const [m, n] of [[one, 1], [two, 2], [three, 3]] as const) for (let i = 0; i < n; i++) await recordOrder(h, web.auth, m.id);

    const preview = async (rule: unknown) => {
      const res = await h.gql(admin.auth, PREVIEW, { input: { rule } });
      expect(res.errors).toBeUndefined();
      return res.data.previewSegment.sample.map((m: { id: string }) => m.id).sort();
    };
    const progress = (op: string, value: number) => ({ attribute: 'challengeProgressPercent', qualifier: challenge.code, op, value });
    expect(await preview(progress('gte', 66))).toEqual([two.id]);
    expect(await preview(progress('lt', 50))).toEqual([one.id]);
    expect(await preview({ attribute: 'challengeState', qualifier: challenge.code, op: 'eq', value: 'COMPLETED' })).toEqual([three.id]);
    const notJoined = await preview({ attribute: 'challengeState', qualifier: challenge.code, op: 'eq', value: 'NOT_JOINED' });
    expect(notJoined).toContain(none.id);
    expect(notJoined).not.toContain(one.id);

    const bad = await h.gql(admin.auth, PREVIEW, { input: { rule: { attribute: 'challengeProgressPercent', qualifier: "x' or 1=1 --", op: 'gte', value: 66 } } });
    expect(expectError(bad, 'BAD_USER_INPUT').extensions.fields[0].path).toMatch(/qualifier/);
    expectError(await h.gql(admin.auth, PREVIEW, { input: { rule: progress('gte', 101) } }), 'BAD_USER_INPUT');
  });
});

describe('member merge and erasure', () => {
  it('a merge keeps the further progress per challenge on the survivor, and moves badges', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const count = await createChallenge(h, admin.auth, { target: 4 });
    const visit = await createChallenge(h, admin.auth, { target: 1, reward: { kind: 'BADGE', badgeCode: 'first_visit', badgeName: 'First visit' } });
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    await recordOrder(h, web.auth, survivor.id);
    for (let i = 0; i < 3; i++) await recordOrder(h, web.auth, absorbed.id, { lines: [{ unitPriceMinor: 500 }] });

    const res = await h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id, reason: 'duplicate' } });
    expect(res.errors).toBeUndefined();
    // The absorbed record was further towards the ORDER_COUNT goal; both bought, so the spend is both's.
    expect(await progressRows(h, count.id)).toEqual([expect.objectContaining({ member_id: survivor.id, progress: 3, orders: 4, spend_minor: 2500 })]);
    // Both completed the badge challenge: the earlier completion stays, one badge.
    expect(await progressRows(h, visit.id)).toEqual([expect.objectContaining({ member_id: survivor.id, reward_status: 'GRANTED' })]);
    expect(await h.sql(`select member_id from challenge_badge where code = 'first_visit' and member_id in (?, ?)`, [survivor.id, absorbed.id])).toEqual([{ member_id: survivor.id }]);

    // The survivor's next order continues from there: the fourth completes it.
    await recordOrder(h, web.auth, survivor.id);
    expect(await progressOf(h, count.id, survivor.id)).toMatchObject({ progress: 4, reward_status: 'GRANTED' });
  });

  it('erasure deletes the member’s progress and badges', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 1, reward: { kind: 'BADGE', badgeCode: 'gone', badgeName: 'Gone' } });
    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id);
    expect(await progressOf(h, challenge.id, member.id)).toBeDefined();
    const res = await h.gql(admin.auth, ERASE, { input: { id: member.id, reason: 'request' } });
    expect(res.errors).toBeUndefined();
    expect(await h.sql(`select id from challenge_progress where member_id = ?`, [member.id])).toEqual([]);
    expect(await h.sql(`select id from challenge_badge where member_id = ?`, [member.id])).toEqual([]);
  });
});

describe('imported history', () => {
  it('counts an import batch’s orders as recordOrder does, completing once', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const t = Date.now();
    const challenge = await createChallenge(h, admin.auth, { goalKind: 'SPEND', target: 3000, startsAt: new Date(t - 30 * DAY).toISOString() });
    const channelName = `Challenge import ${t}`;
    const channel = await h.app.services.apiKeys.createChannel(h.em(), null, { name: channelName, kind: SalesChannelKind.WEB });
    const imported = await b.member().save();
    await h.sql(`insert into member_identifier (id, member_id, type, scope, value, created_at) values (gen_random_uuid(), ?, 'CHANNEL_CUSTOMER_ID', ?, 'C1', now())`, [
      imported.id,
      channel.id,
    ]);
    const recorded = await b.member().save();
    // Four orders of £10, days apart, in one batch: the third passes the £30 goal.
    const placed = [5, 4, 3, 2].map((days) => new Date(Math.floor((t - days * DAY) / 60_000) * 60_000));
    const rows = placed.map((at, i) => ({
      line: i + 2,
      row: { InvoiceNo: `CH${i}`, StockCode: `SKU-${i}`, Description: 'Tea', Quantity: '1', InvoiceDate: at.toISOString().slice(0, 19).replace('T', ' '), UnitPrice: '10.00', CustomerID: 'C1', Country: 'United Kingdom' },
    }));
    const { summary, rejects } = await runImport(h, rows, { channelName, batchInvoices: 500 });
    expect(rejects).toEqual([]);
    expect(summary.orders).toBe(4);
    for (const at of placed) await recordOrder(h, web.auth, recorded.id, { placedAt: at, lines: [{ unitPriceMinor: 1000 }] });

    const fields = (row: Awaited<ReturnType<typeof progressOf>>) => row && { goal: row.goal, progress: row.progress, orders: row.orders, spend_minor: row.spend_minor, reward_status: row.reward_status };
    const viaApi = fields(await progressOf(h, challenge.id, recorded.id));
    expect(viaApi).toEqual({ goal: 3000, progress: 3000, orders: 4, spend_minor: 4000, reward_status: 'GRANTED' });
    expect(fields(await progressOf(h, challenge.id, imported.id))).toEqual(viaApi);
    expect(await challengeLedger(h, challenge.id, imported.id)).toEqual([{ delta: 100, reason: 'BONUS' }]);
    // History is not news: the importer records no events, so neither does the completion it caused.
    expect(await h.sql(`select id from event_outbox where type = 'challenge.completed' and member_id = ?`, [imported.id])).toEqual([]);
  });
});
