import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

/** The admin app's service pages: a voucher by its code, the programme's referrals, the feedback inbox. */
const h = useHarness();
const b = build(h);

const UPSERT = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id voucherCode } }`;
const VOUCHER = `query V($code: String!) { voucher(code: $code) { id memberId status points voucherCode reward { name } } }`;
const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode } }`;
const REFERRALS = `query R($status: ReferralStatus, $first: Int! = 20, $after: String) { referrals(status: $status, first: $first, after: $after) {
  edges { node { id code status referrerId referredId } } pageInfo { hasNextPage endCursor } } }`;
const RECORD_FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
const INBOX = `query I($kind: FeedbackKind, $npsCategory: NpsCategory, $withComment: Boolean! = false, $first: Int! = 20, $withPii: Boolean! = true) {
  feedbackInbox(kind: $kind, npsCategory: $npsCategory, withComment: $withComment, first: $first) {
    edges { node { id memberId kind score npsCategory comment @include(if: $withPii) } } pageInfo { hasNextPage } } }`;

let admin: { token: string };

beforeAll(async () => {
  admin = (await b.admin()).auth;
});

describe('voucher', () => {
  it('finds a redemption by its code however it is typed, with whose it is; null for an unknown code', async () => {
    const reward = await h.gql(admin, UPSERT, { input: { code: 'LOOKUP', name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100 } });
    const member = await b.member().save();
    await h.gql(admin, ADJUST, { i: { memberId: member.id, points: 150, reason: 'test', idempotencyKey: `seed-${member.id}` } });
    const { voucherCode } = (await h.gql(admin, REDEEM, { input: { memberId: member.id, rewardId: reward.data.upsertReward.id, idempotencyKey: 'lookup-1' } })).data.redeemReward;
    const typed = ` ${voucherCode.toLowerCase().slice(0, 4)} ${voucherCode.toLowerCase().slice(4)} `;
    const found = await h.gql(admin, VOUCHER, { code: typed });
    expect(found.errors).toBeUndefined();
    expect(found.data.voucher).toMatchObject({ memberId: member.id, status: 'ISSUED', points: 100, voucherCode, reward: { name: 'Free coffee' } });
    expect((await h.gql(admin, VOUCHER, { code: 'NOSUCHCODE' })).data.voucher).toBeNull();
    expect((await h.gql(admin, VOUCHER, { code: 'X'.repeat(200) })).data.voucher).toBeNull();
  });

  it('is for those who may redeem rewards: FORBIDDEN to analysts', async () => {
    expectError(await h.gql((await b.admin(AdminRole.ANALYST)).auth, VOUCHER, { code: 'ANY' }), 'FORBIDDEN');
    expect((await h.gql((await b.admin(AdminRole.MARKETER)).auth, VOUCHER, { code: 'ANY' })).errors).toBeUndefined();
  });
});

describe('referrals', () => {
  it('lists the programme’s referrals newest first, by status, page by page', async () => {
    const referrer = (await h.gql(admin, ENROL, { input: { email: 'referrer@lookups.example' } })).data.enrolMember;
    const referred: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await h.gql(admin, ENROL, { input: { email: `friend${n}@lookups.example`, referralCode: referrer.referralCode } });
      expect(res.errors).toBeUndefined();
      referred.push(res.data.enrolMember.id);
    }
    const first = await h.gql(admin, REFERRALS, { first: 2 });
    expect(first.errors).toBeUndefined();
    const next = await h.gql(admin, REFERRALS, { first: 2, after: first.data.referrals.pageInfo.endCursor });
    const all = [...first.data.referrals.edges, ...next.data.referrals.edges].map((e: { node: { referredId: string } }) => e.node);
    expect(all.map((r) => r.referredId)).toEqual([...referred].reverse());
    expect(all.every((r: any) => r.referrerId === referrer.id && r.code === referrer.referralCode && r.status === 'PENDING')).toBe(true);
    expect((await h.gql(admin, REFERRALS, { status: 'CREDITED' })).data.referrals.edges).toEqual([]);
    expectError(await h.gql(admin, REFERRALS, { first: 0 }), 'BAD_USER_INPUT');
  });
});

describe('feedbackInbox', () => {
  it('lists every answer newest first, filtered by kind, NPS band and comment; comments only with members:pii', async () => {
    const web = await b.apiKey();
    const [ada, bob] = [await b.member().save(), await b.member().save()];
    const answers = [
      { memberId: ada.id, kind: 'NPS', score: 10, comment: 'Lovely' },
      { memberId: bob.id, kind: 'NPS', score: 3, comment: 'Parcel was late' },
      { memberId: bob.id, kind: 'CSAT', score: 4 },
    ];
    for (const a of answers) expect((await h.gql(admin, RECORD_FEEDBACK, { input: { ...a, channelId: web.channelId } })).errors).toBeUndefined();
    const all = (await h.gql(admin, INBOX, {})).data.feedbackInbox.edges.map((e: { node: unknown }) => e.node);
    expect(all.map((f: { score: number }) => f.score)).toEqual([4, 3, 10]);
    const detractors = (await h.gql(admin, INBOX, { npsCategory: 'DETRACTOR' })).data.feedbackInbox.edges;
    expect(detractors.map((e: any) => [e.node.memberId, e.node.comment, e.node.npsCategory])).toEqual([[bob.id, 'Parcel was late', 'DETRACTOR']]);
    expect((await h.gql(admin, INBOX, { kind: 'CSAT' })).data.feedbackInbox.edges).toHaveLength(1);
    expect((await h.gql(admin, INBOX, { withComment: true })).data.feedbackInbox.edges).toHaveLength(2);
    expect(expectError(await h.gql(admin, INBOX, { kind: 'CSAT', npsCategory: 'PROMOTER' }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('npsCategory');

    const analyst = (await b.admin(AdminRole.ANALYST)).auth;
    expect((await h.gql(analyst, INBOX, { withPii: false })).data.feedbackInbox.edges).toHaveLength(3);
    expectError(await h.gql(analyst, INBOX, { npsCategory: 'DETRACTOR' }), 'FORBIDDEN');
  });
});
