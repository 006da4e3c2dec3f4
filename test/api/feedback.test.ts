import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope, SalesChannelKind } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

const h = useHarness();
const b = build(h);

const RECORD = `mutation R($input: RecordFeedbackInput!) {
  recordFeedback(input: $input) { id memberId kind score comment orderId channelId channelKind storeCode givenAt npsCategory }
}`;
const RECORD_NO_COMMENT = `mutation R($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id score channelId storeCode } }`;
const MEMBER_FEEDBACK = `query F($id: ID!, $first: Int, $after: String) {
  member(id: $id) { feedback(first: $first, after: $after) { edges { cursor node { id kind score npsCategory } } pageInfo { hasNextPage endCursor } } }
}`;
const MEMBER_COMMENTS = `query F($id: ID!) { member(id: $id) { feedback { edges { node { score comment } } } } }`;
const FIGURES = `nps { responses promoters passives detractors score promoterRate detractorRate } csat { responses mean satisfied satisfiedRate }`;
const ANALYTICS = `query A($input: FeedbackAnalyticsInput!) {
  analytics { feedback(input: $input) { bucket ${FIGURES} byChannel { channelId label channelKind ${FIGURES} } series { start ${FIGURES} } } }
}`;
const PREVIEW = `query P($input: PreviewSegmentInput!) { previewSegment(input: $input) { count sample { id } } }`;

type Key = Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;
type Admin = Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let admin: Admin;
let marketer: Admin;
let analyst: Admin;
let web: Key;
let store: Key;

async function ok<T = any>(auth: { token: string } | { apiKey: string }, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await h.gql(auth, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const record = (auth: { apiKey: string } | { token: string }, input: Record<string, unknown>) => h.gql(auth, RECORD, { input });

beforeAll(async () => {
  admin = await b.admin();
  marketer = await b.admin(AdminRole.MARKETER);
  analyst = await b.admin(AdminRole.ANALYST);
  web = await b.apiKey([ApiKeyScope.FEEDBACK_WRITE, ApiKeyScope.ORDERS_WRITE, ApiKeyScope.MEMBERS_READ], SalesChannelKind.WEB);
  store = await b.apiKey([ApiKeyScope.FEEDBACK_WRITE, ApiKeyScope.MEMBERS_READ], SalesChannelKind.STORE);
  await b.baseRate(1, 100);
});

describe('recordFeedback', () => {
  it("records an answer about an order with the order's channel and store, and one about the caller's own channel", async () => {
    const member = await b.member().save();
    const order = (await ok(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{}], { storeCode: 'LDN-01' }) })).recordOrder;
    // The store till records a CSAT answer about a web order: it is about the web channel and its store code.
    const about = await record(store.auth, { memberId: member.id, kind: 'CSAT', score: 4, orderId: order.id, comment: '  Quick delivery  ' });
    expect(about.errors).toBeUndefined();
    expect(about.data.recordFeedback).toMatchObject({
      memberId: member.id,
      kind: 'CSAT',
      score: 4,
      comment: 'Quick delivery',
      orderId: order.id,
      channelId: web.channelId,
      channelKind: 'WEB',
      storeCode: 'LDN-01',
      npsCategory: null,
    });

    const own = await ok(store.auth, RECORD_NO_COMMENT, { input: { memberId: member.id, kind: 'NPS', score: 9, storeCode: 'MAN-02' } });
    expect(own.recordFeedback).toMatchObject({ score: 9, channelId: store.channelId, storeCode: 'MAN-02' });
    const [row] = await h.sql(`select channel_kind, recorded_by, order_id from feedback where id = ?`, [own.recordFeedback.id]);
    expect(row).toEqual({ channel_kind: 'STORE', recorded_by: `apiKey:${store.keyId}`, order_id: null });
  });

  it('gives the NPS category of each score: 0-6 detractor, 7-8 passive, 9-10 promoter', async () => {
    const member = await b.member().save();
    const categories: string[] = [];
    for (const score of [0, 6, 7, 8, 9, 10]) {
      categories.push((await ok(store.auth, RECORD, { input: { memberId: member.id, kind: 'NPS', score } })).recordFeedback.npsCategory);
    }
    expect(categories).toEqual(['DETRACTOR', 'DETRACTOR', 'PASSIVE', 'PASSIVE', 'PROMOTER', 'PROMOTER']);
  });

  it('refuses a score outside the range of its kind with BAD_USER_INPUT on input.score, and writes nothing', async () => {
    const member = await b.member().save();
    for (const [kind, score] of [['NPS', 11], ['NPS', -1], ['CSAT', 0], ['CSAT', 6]] as const) {
      const err = expectError(await record(store.auth, { memberId: member.id, kind, score }), 'BAD_USER_INPUT');
      expect(err.extensions.fields).toEqual([{ path: 'input.score', message: kind === 'NPS' ? 'must be from 0 to 10 for NPS' : 'must be from 1 to 5 for CSAT' }]);
    }
    const tooLong = expectError(await record(store.auth, { memberId: member.id, kind: 'NPS', score: 5, comment: 'x'.repeat(2001) }), 'BAD_USER_INPUT');
    expect(tooLong.extensions.fields.map((f: { path: string }) => f.path)).toEqual(['input.comment']);
    const future = expectError(
      await record(store.auth, { memberId: member.id, kind: 'NPS', score: 5, givenAt: new Date(Date.now() + 3_600_000).toISOString() }),
      'BAD_USER_INPUT',
    );
    expect(future.extensions.fields).toEqual([{ path: 'input.givenAt', message: 'must not be in the future' }]);
    expect(await h.sql(`select id from feedback where member_id = ?`, [member.id])).toEqual([]);
  });

  it("refuses another member's order and an unclaimed guest order with CONFLICT ORDER_OF_ANOTHER_MEMBER", async () => {
    const member = await b.member().save();
    const other = await b.member().save();
    const theirs = (await ok(web.auth, RECORD_ORDER, { input: orderInput(other.id) })).recordOrder;
    const guest = (await ok(web.auth, RECORD_ORDER, { input: orderInput(null) })).recordOrder;
    for (const orderId of [theirs.id, guest.id]) {
      const err = expectError(await record(web.auth, { memberId: member.id, kind: 'NPS', score: 8, orderId }), 'CONFLICT');
      expect(err.extensions).toMatchObject({ reason: 'ORDER_OF_ANOTHER_MEMBER', orderId });
    }
    expectError(await record(web.auth, { memberId: member.id, kind: 'NPS', score: 8, orderId: '01900000-0000-7000-8000-000000000009' }), 'NOT_FOUND');
    expect(await h.sql(`select id from feedback where member_id = ?`, [member.id])).toEqual([]);
  });

  it("refuses a store code that contradicts the order's, and a channel naming another channel", async () => {
    const member = await b.member().save();
    const order = (await ok(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{}], { storeCode: 'LDN-01' }) })).recordOrder;
    const store = expectError(await record(web.auth, { memberId: member.id, kind: 'CSAT', score: 3, orderId: order.id, storeCode: 'MAN-02' }), 'BAD_USER_INPUT');
    expect(store.extensions.fields[0].path).toBe('input.storeCode');
    const channel = expectError(await record(web.auth, { memberId: member.id, kind: 'CSAT', score: 3, channelId: (await b.channel()).id }), 'BAD_USER_INPUT');
    expect(channel.extensions.fields[0].path).toBe('input.channelId');
  });

  it('takes one answer of each kind per order: a second NPS is CONFLICT FEEDBACK_ALREADY_RECORDED, a CSAT is fine', async () => {
    const member = await b.member().save();
    const order = (await ok(web.auth, RECORD_ORDER, { input: orderInput(member.id) })).recordOrder;
    const first = await ok(web.auth, RECORD, { input: { memberId: member.id, kind: 'NPS', score: 10, orderId: order.id } });
    const again = expectError(await record(web.auth, { memberId: member.id, kind: 'NPS', score: 2, orderId: order.id }), 'CONFLICT');
    expect(again.extensions).toMatchObject({ reason: 'FEEDBACK_ALREADY_RECORDED', feedbackId: first.recordFeedback.id });
    await ok(web.auth, RECORD, { input: { memberId: member.id, kind: 'CSAT', score: 5, orderId: order.id } });
    const rows = await h.sql(`select kind, score from feedback where order_id = ? order by kind`, [order.id]);
    expect(rows).toEqual([{ kind: 'CSAT', score: 5 }, { kind: 'NPS', score: 10 }]);
  });

  it('stores one answer when five of the same order arrive at once; the others are FEEDBACK_ALREADY_RECORDED', async () => {
    const member = await b.member().save();
    const order = (await ok(web.auth, RECORD_ORDER, { input: orderInput(member.id) })).recordOrder;
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => record(web.auth, { memberId: member.id, kind: 'NPS', score: 5 + i, orderId: order.id })));
    const stored = results.filter((r) => !r.errors);
    expect(stored).toHaveLength(1);
    expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions.reason)).toEqual(Array(4).fill('FEEDBACK_ALREADY_RECORDED'));
    expect(await h.sql(`select score from feedback where order_id = ?`, [order.id])).toEqual([{ score: stored[0].data.recordFeedback.score }]);
  });

  it('returns the stored answer for a retry with the same idempotencyKey, and refuses the key with other contents', async () => {
    const member = await b.member().save();
    const input = { memberId: member.id, kind: 'CSAT', score: 2, comment: 'Long queue', idempotencyKey: 'survey-77' };
    const [a, c] = await Promise.all([ok(store.auth, RECORD, { input }), ok(store.auth, RECORD, { input })]);
    expect(c.recordFeedback.id).toBe(a.recordFeedback.id);
    const err = expectError(await record(store.auth, { ...input, score: 3 }), 'CONFLICT');
    expect(err.extensions).toMatchObject({ reason: 'IDEMPOTENCY_KEY_REUSED', feedbackId: a.recordFeedback.id });
    // Keys are per channel: the web channel's survey-77 is another answer.
    const otherChannel = await ok(web.auth, RECORD, { input });
    expect(otherChannel.recordFeedback.id).not.toBe(a.recordFeedback.id);
    expect(await h.sql(`select score from feedback where member_id = ?`, [member.id])).toHaveLength(2);
  });

  it('records for the survivor when given a merged id; refuses an erased member and an unknown one', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    await h.app.services.feedback.record(b.ctx(), { memberId: absorbed.id, kind: 'NPS' as never, score: 3, channelId: web.channelId });
    await ok(admin.auth, `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`, {
      input: { survivorId: survivor.id, absorbedId: absorbed.id },
    });
    const viaOldId = await ok(store.auth, RECORD, { input: { memberId: absorbed.id, kind: 'NPS', score: 7 } });
    expect(viaOldId.recordFeedback.memberId).toBe(survivor.id);
    // The merge moved the absorbed record's earlier answer too.
    expect((await h.sql(`select score from feedback where member_id = ? order by id`, [survivor.id])).map((r) => r.score)).toEqual([3, 7]);

    const erased = await b.member().save();
    await ok(admin.auth, `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`, { input: { id: erased.id, reason: 'request' } });
    expect(expectError(await record(store.auth, { memberId: erased.id, kind: 'NPS', score: 7 }), 'CONFLICT').extensions.reason).toBe('MEMBER_ERASED');
    expect(expectError(await record(store.auth, { memberId: '01900000-0000-7000-8000-000000000001', kind: 'NPS', score: 7 }), 'NOT_FOUND').extensions.entity).toBe('Member');
  });

  it('needs a channel from admin callers without an order', async () => {
    const member = await b.member().save();
    const err = expectError(await record(admin.auth, { memberId: member.id, kind: 'NPS', score: 7 }), 'BAD_USER_INPUT');
    expect(err.extensions.fields).toEqual([{ path: 'input.channelId', message: 'is required for admin callers without an order' }]);
    expectError(await record(admin.auth, { memberId: member.id, kind: 'NPS', score: 7, channelId: '01900000-0000-7000-8000-000000000002' }), 'NOT_FOUND');
    const done = await ok(admin.auth, RECORD, { input: { memberId: member.id, kind: 'NPS', score: 7, channelId: store.channelId, storeCode: 'LDN-01' } });
    expect(done.recordFeedback).toMatchObject({ channelKind: 'STORE', storeCode: 'LDN-01' });
  });

  it('writes feedback.recorded with the answer in its transaction, without the comment', async () => {
    const member = await b.member().save();
    const { recordFeedback } = await ok(store.auth, RECORD, { input: { memberId: member.id, kind: 'NPS', score: 4, comment: 'Rude staff at till 3' } });
    const events = await h.sql(`select payload from event_outbox where type = 'feedback.recorded' and member_id = ?`, [member.id]);
    expect(events.map((e) => e.payload)).toEqual([
      {
        feedbackId: recordFeedback.id,
        memberId: member.id,
        kind: 'NPS',
        score: 4,
        npsCategory: 'DETRACTOR',
        orderId: null,
        channelId: store.channelId,
        storeCode: null,
        givenAt: recordFeedback.givenAt,
      },
    ]);
  });

  it('clears comments when the member is erased and keeps the scores', async () => {
    const member = await b.member().save();
    await ok(store.auth, RECORD, { input: { memberId: member.id, kind: 'CSAT', score: 1, comment: 'Call me on 07911 123456' } });
    await ok(admin.auth, `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`, { input: { id: member.id, reason: 'request' } });
    expect(await h.sql(`select score, comment from feedback where member_id = ?`, [member.id])).toEqual([{ score: 1, comment: null }]);
  });
});

describe('member.feedback', () => {
  it('pages through answers newest first', async () => {
    const member = await b.member().save();
    for (const score of [1, 2, 3, 4, 5]) await ok(store.auth, RECORD, { input: { memberId: member.id, kind: 'CSAT', score } });
    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const data: any = await ok(marketer.auth, MEMBER_FEEDBACK, { id: member.id, first: 2, after });
      seen.push(...data.member.feedback.edges.map((e: any) => e.node.score));
      after = data.member.feedback.pageInfo.endCursor;
      expect(data.member.feedback.pageInfo.hasNextPage).toBe(page < 2);
    }
    expect(seen).toEqual([5, 4, 3, 2, 1]);
  });

  it('shows scores to analysts but not comments; channels need a read permission they cannot have', async () => {
    const member = await b.member().save();
    await ok(store.auth, RECORD, { input: { memberId: member.id, kind: 'NPS', score: 2, comment: 'Never again' } });
    expect((await ok(marketer.auth, MEMBER_COMMENTS, { id: member.id })).member.feedback.edges[0].node).toEqual({ score: 2, comment: 'Never again' });
    expect((await ok(analyst.auth, MEMBER_FEEDBACK, { id: member.id })).member.feedback.edges[0].node.score).toBe(2);
    expectError(await h.gql(analyst.auth, MEMBER_COMMENTS, { id: member.id }), 'FORBIDDEN');
    expectError(await h.gql(web.auth, MEMBER_FEEDBACK, { id: member.id }), 'FORBIDDEN');
  });

  it('refuses recordFeedback to a key without feedback:write and to analysts', async () => {
    const member = await b.member().save();
    const ordersOnly = await b.apiKey([ApiKeyScope.ORDERS_WRITE, ApiKeyScope.MEMBERS_WRITE]);
    expectError(await record(ordersOnly.auth, { memberId: member.id, kind: 'NPS', score: 9 }), 'FORBIDDEN');
    expectError(await record(analyst.auth, { memberId: member.id, kind: 'NPS', score: 9, channelId: web.channelId }), 'FORBIDDEN');
  });
});

/**
 * A hand-computed fixture in March and April 2026 (1 March is a Sunday). Channels: web (W) and store (S).
 *   NPS  W: 10 03-01, 9 03-02, 7 03-08, 3 03-20, 6 04-01, 10 04-15     S: 0 03-10 LDN-01, 9 04-03 LDN-01, 8 04-30 MAN-02
 *   CSAT W: 5 03-01, 4 03-09, 2 03-31, 3 04-02                         S: 5 04-10 LDN-01, 1 04-11 MAN-02
 *   Outside the range: NPS 0 on 02-28 23:59:59.999 and on 05-01 00:00 (both web).
 */
describe('analytics.feedback', () => {
  let w: Key;
  let s: Key;
  const range = { from: '2026-03-01T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z' };

  beforeAll(async () => {
    w = await b.apiKey([ApiKeyScope.FEEDBACK_WRITE], SalesChannelKind.WEB);
    s = await b.apiKey([ApiKeyScope.FEEDBACK_WRITE], SalesChannelKind.STORE);
    // Only this fixture's answers count: the other tests' answers were given now, outside the range.
    const members = await Promise.all([1, 2, 3, 4].map(() => b.member().save()));
    const answers: Array<[Key, string, number, string, string?]> = [
      [w, 'NPS', 10, '2026-03-01T10:00:00Z'],
      [w, 'NPS', 9, '2026-03-02T00:00:00Z'],
      [w, 'NPS', 7, '2026-03-08T23:59:59Z'],
      [w, 'NPS', 3, '2026-03-20T12:00:00Z'],
      [w, 'NPS', 6, '2026-04-01T00:00:00Z'],
      [w, 'NPS', 10, '2026-04-15T12:00:00Z'],
      [s, 'NPS', 0, '2026-03-10T09:00:00Z', 'LDN-01'],
      [s, 'NPS', 9, '2026-04-03T09:00:00Z', 'LDN-01'],
      [s, 'NPS', 8, '2026-04-30T23:59:59Z', 'MAN-02'],
      [w, 'CSAT', 5, '2026-03-01T11:00:00Z'],
      [w, 'CSAT', 4, '2026-03-09T08:00:00Z'],
      [w, 'CSAT', 2, '2026-03-31T23:59:59.999Z'],
      [w, 'CSAT', 3, '2026-04-02T10:00:00Z'],
      [s, 'CSAT', 5, '2026-04-10T10:00:00Z', 'LDN-01'],
      [s, 'CSAT', 1, '2026-04-11T10:00:00Z', 'MAN-02'],
      [w, 'NPS', 0, '2026-02-28T23:59:59.999Z'],
      [w, 'NPS', 0, '2026-05-01T00:00:00Z'],
    ];
    for (const [i, [key, kind, score, givenAt, storeCode]] of answers.entries()) {
      await ok(key.auth, RECORD_NO_COMMENT, { input: { memberId: members[i % 4].id, kind, score, givenAt, storeCode } });
    }
  });

  const nps = (responses: number, promoters: number, passives: number, detractors: number, score: number | null, promoterRate: number | null, detractorRate: number | null) => ({
    responses, promoters, passives, detractors, score, promoterRate, detractorRate,
  });
  const csat = (responses: number, mean: number | null, satisfied: number, satisfiedRate: number | null) => ({ responses, mean, satisfied, satisfiedRate });

  it('gives NPS, CSAT, the channels and the months of the range, exactly as computed by hand', async () => {
    const res = await ok(analyst.auth, ANALYTICS, { input: { ...range, bucket: 'MONTH' } });
    expect(res.analytics.feedback).toEqual({
      bucket: 'MONTH',
      // NPS 10 9 7 3 6 10 0 9 8: 4 promoters, 2 passives, 3 detractors → (4 − 3) × 100 / 9 = 11.11
      nps: nps(9, 4, 2, 3, 11.11, 0.4444, 0.3333),
      // CSAT 5 4 2 3 5 1: mean 20 / 6 = 3.33, 3 satisfied
      csat: csat(6, 3.33, 3, 0.5),
      byChannel: [
        { channelId: w.channelId, label: expect.stringContaining('WEB channel'), channelKind: 'WEB', nps: nps(6, 3, 1, 2, 16.67, 0.5, 0.3333), csat: csat(4, 3.5, 2, 0.5) },
        { channelId: s.channelId, label: expect.stringContaining('STORE channel'), channelKind: 'STORE', nps: nps(3, 1, 1, 1, 0, 0.3333, 0.3333), csat: csat(2, 3, 1, 0.5) },
      ],
      series: [
        // March: NPS 10 9 7 3 0 → (2 − 2) / 5 = 0; CSAT 5 4 2 → 11 / 3 = 3.67, 2 of 3 satisfied
        { start: '2026-03-01T00:00:00.000Z', nps: nps(5, 2, 1, 2, 0, 0.4, 0.4), csat: csat(3, 3.67, 2, 0.6667) },
        // April: NPS 6 10 9 8 → (2 − 1) / 4 = 25; CSAT 3 5 1 → 3.00, 1 of 3 satisfied
        { start: '2026-04-01T00:00:00.000Z', nps: nps(4, 2, 1, 1, 25, 0.5, 0.25), csat: csat(3, 3, 1, 0.3333) },
      ],
    });
  });

  it('buckets by ISO week from Monday, the first one starting before `from`, and lists empty weeks', async () => {
    const res = await ok(analyst.auth, ANALYTICS, { input: { from: '2026-03-01T00:00:00Z', to: '2026-03-23T00:00:00Z', bucket: 'WEEK', channelKind: 'WEB' } });
    expect(res.analytics.feedback.series).toEqual([
      { start: '2026-02-23T00:00:00.000Z', nps: nps(1, 1, 0, 0, 100, 1, 0), csat: csat(1, 5, 1, 1) },
      { start: '2026-03-02T00:00:00.000Z', nps: nps(2, 1, 1, 0, 50, 0.5, 0), csat: csat(0, null, 0, null) },
      { start: '2026-03-09T00:00:00.000Z', nps: nps(0, 0, 0, 0, null, null, null), csat: csat(1, 4, 1, 1) },
      { start: '2026-03-16T00:00:00.000Z', nps: nps(1, 0, 0, 1, -100, 0, 1), csat: csat(0, null, 0, null) },
    ]);
  });

  it('buckets by day and narrows to one channel or one store', async () => {
    const days = await ok(analyst.auth, ANALYTICS, { input: { from: '2026-03-08T00:00:00Z', to: '2026-03-11T00:00:00Z', bucket: 'DAY' } });
    expect(days.analytics.feedback.series.map((d: any) => [d.start.slice(0, 10), d.nps.responses, d.csat.responses])).toEqual([
      ['2026-03-08', 1, 0],
      ['2026-03-09', 0, 1],
      ['2026-03-10', 1, 0],
    ]);
    const byStoreChannel = await ok(analyst.auth, ANALYTICS, { input: { ...range, channelId: s.channelId } });
    expect(byStoreChannel.analytics.feedback.nps).toEqual(nps(3, 1, 1, 1, 0, 0.3333, 0.3333));
    expect(byStoreChannel.analytics.feedback.byChannel.map((c: any) => c.channelId)).toEqual([s.channelId]);
    const london = await ok(analyst.auth, ANALYTICS, { input: { ...range, storeCode: 'LDN-01' } });
    expect(london.analytics.feedback.nps).toEqual(nps(2, 1, 0, 1, 0, 0.5, 0.5));
    expect(london.analytics.feedback.csat).toEqual(csat(1, 5, 1, 1));
  });

  it('refuses an inverted range, too many buckets and an unknown channel; channels may not read it', async () => {
    expect(expectError(await h.gql(analyst.auth, ANALYTICS, { input: { from: range.to, to: range.from } }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.to');
    const many = expectError(await h.gql(analyst.auth, ANALYTICS, { input: { from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', bucket: 'DAY' } }), 'BAD_USER_INPUT');
    expect(many.extensions.fields[0]).toEqual({ path: 'input.bucket', message: 'gives 2192 buckets over this range; at most 400' });
    expectError(await h.gql(analyst.auth, ANALYTICS, { input: { ...range, channelId: '01900000-0000-7000-8000-000000000003' } }), 'BAD_USER_INPUT');
    expectError(await h.gql(w.auth, ANALYTICS, { input: range }), 'FORBIDDEN');
  });
});

describe('segments on feedback', () => {
  it("filter on the latest NPS score and category and the latest CSAT score; members who never answered do not match", async () => {
    const [promoter, turnedDetractor, passive, silent] = await Promise.all([1, 2, 3, 4].map(() => b.member().inCountry('IS').save()));
    const give = (memberId: string, kind: string, score: number, givenAt: string) =>
      ok(store.auth, RECORD_NO_COMMENT, { input: { memberId, kind, score, givenAt } });
    await give(promoter.id, 'NPS', 10, '2026-01-10T00:00:00Z');
    await give(turnedDetractor.id, 'NPS', 9, '2026-01-10T00:00:00Z');
    await give(turnedDetractor.id, 'NPS', 4, '2026-02-10T00:00:00Z');
    await give(passive.id, 'NPS', 7, '2026-01-10T00:00:00Z');
    await give(passive.id, 'CSAT', 2, '2026-01-11T00:00:00Z');
    void silent;
    const names = new Map([[promoter.id, 'promoter'], [turnedDetractor.id, 'detractor'], [passive.id, 'passive'], [silent.id, 'silent']]);
    const preview = async (condition: Record<string, unknown>, asOf?: string) => {
      const rule = { and: [{ attribute: 'country', op: 'eq', value: 'IS' }, condition] };
      const data = await ok(analyst.auth, PREVIEW, { input: { rule, asOf } });
      return data.previewSegment.sample.map((m: { id: string }) => names.get(m.id)).sort();
    };
    expect(await preview({ attribute: 'npsCategory', op: 'eq', value: 'DETRACTOR' })).toEqual(['detractor']);
    expect(await preview({ attribute: 'npsCategory', op: 'in', value: ['PROMOTER', 'PASSIVE'] })).toEqual(['passive', 'promoter']);
    expect(await preview({ attribute: 'npsScore', op: 'gte', value: 7 })).toEqual(['passive', 'promoter']);
    expect(await preview({ attribute: 'npsScore', op: 'between', value: [0, 6] })).toEqual(['detractor']);
    // Before the second answer, the latest NPS of the same member was a promoter's.
    expect(await preview({ attribute: 'npsCategory', op: 'eq', value: 'PROMOTER' }, '2026-02-01T00:00:00Z')).toEqual(['detractor', 'promoter']);
    expect(await preview({ attribute: 'csatScore', op: 'lte', value: 2 })).toEqual(['passive']);
    expect(await preview({ not: { attribute: 'npsCategory', op: 'eq', value: 'DETRACTOR' } })).toEqual(['passive', 'promoter', 'silent']);
  });

  it('refuses values outside the grammar with their paths', async () => {
    const err = expectError(
      await h.gql(analyst.auth, PREVIEW, {
        input: { rule: { or: [{ attribute: 'npsScore', op: 'gt', value: 11 }, { attribute: 'npsCategory', op: 'eq', value: 'FAN' }, { attribute: 'csatScore', op: 'eq', value: 0 }] } },
      }),
      'BAD_USER_INPUT',
    );
    expect(err.extensions.fields.map((f: { path: string }) => f.path)).toEqual(['input.rule.or.0.value', 'input.rule.or.1.value', 'input.rule.or.2.value']);
  });
});
