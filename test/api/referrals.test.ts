import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { ledgerCheck, orderInput, RECORD_ORDER, RECORD_RETURN } from '../support/orders';
import { createLogger } from '../../api/src/base/logger';

const h = useHarness();
const b = build(h);
const DAY_MS = 86_400_000;

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode referral { id status code referrerId referredId } } }`;
const APPLY = `mutation A($input: ApplyReferralCodeInput!) { applyReferralCode(input: $input) { id status referrerId referredId } }`;
const REFERRAL = `query R($id: ID!) { member(id: $id) { referralCode referral { status voidReason orderId referrerPoints referredPoints creditedAt } referrals { referredId status } } }`;
const CLAIM = `mutation C($input: ClaimOrderInput!) { claimOrder(input: $input) { id } }`;
const MERGE = `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`;
const ERASE = `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`;
const UPDATE_MEMBER = `mutation U($input: UpdateMemberInput!) { updateMember(input: $input) { id } }`;
const SETTINGS = `mutation S($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { referralReferrerPoints referralReferredPoints referralMinOrderMinor } }`;

type Auth = { token: string } | { apiKey: string };
let admin: { auth: Auth };
let till: { auth: Auth };
let seq = 0;

async function ok<T = any>(auth: Auth, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await h.gql(auth, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const email = (name = 'm') => `${name}-${++seq}@ref.example`;
const enrol = async (input: Record<string, unknown> = {}) => (await ok(till.auth, ENROL, { input: { email: email(), ...input } })).enrolMember;
/** An order of `pounds` £ (one line) for the member. */
const order = async (memberId: string | null, pounds: number, extra: Record<string, unknown> = {}) =>
  (await ok(till.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: pounds * 100 }], extra) })).recordOrder;

async function referralRows(memberId: string) {
  return h.sql<{ reason: string; pending: number; available: number }>(
    `select reason, pending_delta::int as pending, available_delta::int as available from ledger_entry where member_id = ? and reason in ('REFERRAL', 'REFERRAL_REVERSAL') order by created_at, id`,
    [memberId],
  );
}
const referralOf = async (memberId: string) => (await ok(admin.auth, REFERRAL, { id: memberId })).member.referral;

beforeAll(async () => {
  admin = await b.admin();
  till = await b.apiKey([ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE, ApiKeyScope.ORDERS_WRITE, ApiKeyScope.ORDERS_READ]);
  await b.baseRate(1, 100);
  const { updateProgrammeSettings } = await ok(admin.auth, SETTINGS, { input: { referralReferrerPoints: 300, referralReferredPoints: 200, referralMinOrderMinor: 2500 } });
  expect(updateProgrammeSettings).toEqual({ referralReferrerPoints: 300, referralReferredPoints: 200, referralMinOrderMinor: 2500 });
});


describe('referral codes', () => {
  it('gives every member a unique 8-character code without look-alikes, members written by the importer too', async () => {
    const members = await Promise.all(Array.from({ length: 12 }, () => enrol()));
    const codes = members.map((m) => m.referralCode as string);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(new Set(codes).size).toBe(codes.length);
    // The bulk importer inserts members with SQL; the column default gives them a code.
    await h.sql(`insert into member (id, status, enrolment_channel, enrolled_at, updated_at) values ('01900000-0000-7000-8000-0000000000aa', 'ACTIVE', 'WEB', now(), now())`);
    const [row] = await h.sql(`select referral_code from member where id = '01900000-0000-7000-8000-0000000000aa'`);
    expect(row.referral_code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
  });

  it('records a pending referral at enrolment, reading the code in any case and with dashes or spaces', async () => {
    const referrer = await enrol();
    const typed = `${referrer.referralCode.slice(0, 4).toLowerCase()}-${referrer.referralCode.slice(4)} `;
    const referred = await enrol({ referralCode: typed });
    expect(referred.referral).toMatchObject({ status: 'PENDING', code: referrer.referralCode, referrerId: referrer.id, referredId: referred.id });
    const { member } = await ok(admin.auth, REFERRAL, { id: referrer.id });
    expect(member.referrals).toEqual([{ referredId: referred.id, status: 'PENDING' }]);
  });

  it('refuses a malformed or unknown code with BAD_USER_INPUT on input.referralCode, enrolling nobody', async () => {
    for (const [code, message] of [
      ['NOT-A-CODE!', 'is not a referral code (8 letters and digits)'],
      ['ZZZZ-ZZZZ', 'no member has this referral code'],
    ]) {
      const address = email();
      const err = expectError(await h.gql(till.auth, ENROL, { input: { email: address, referralCode: code } }), 'BAD_USER_INPUT');
      expect(err.extensions.fields).toEqual([{ path: 'input.referralCode', message }]);
      expect(await h.sql(`select id from member where email = ?`, [address])).toEqual([]);
    }
  });
});

describe('the referral bonus', () => {
  it("credits both members once on the first order of at least the minimum, as pending REFERRAL rows of the order's transaction", async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    await order(referred.id, 24); // below the £25 minimum
    await order(referred.id, 90, { currency: 'EUR' }); // not the programme currency
    expect((await referralOf(referred.id)).status).toBe('PENDING');
    expect(await referralRows(referred.id)).toEqual([]);

    const qualifying = await order(referred.id, 30);
    await order(referred.id, 50);
    expect(await referralRows(referred.id)).toEqual([{ reason: 'REFERRAL', pending: 200, available: 0 }]);
    expect(await referralRows(referrer.id)).toEqual([{ reason: 'REFERRAL', pending: 300, available: 0 }]);
    expect(await referralOf(referred.id)).toMatchObject({ status: 'CREDITED', orderId: qualifying.id, referrerPoints: 300, referredPoints: 200, creditedAt: expect.any(String) });
    const lots = await h.sql(`select member_id, points, state, extract(epoch from available_at - earned_at)::int / 86400 as days from point_lot where source_type = 'referral' order by points`, []);
    expect(lots.filter((l) => [referrer.id, referred.id].includes(l.member_id)).map((l) => [l.points, l.state, l.days])).toEqual([
      [200, 'PENDING', 14],
      [300, 'PENDING', 14],
    ]);
    const earned = await h.sql(`select payload from event_outbox where type = 'points.earned' and member_id = ? and payload->>'sourceType' = 'referral'`, [referrer.id]);
    expect(earned.map((e) => e.payload.points)).toEqual([300]);
  });

  it('writes nothing of the referral when the order transaction fails, and credits when the order is retried', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    await h.sql(`create or replace function test_fail_order_event() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await h.sql(`create trigger test_fail_order_recorded before insert on event_outbox for each row when (new.type = 'order.recorded') execute function test_fail_order_event()`);
    const input = orderInput(referred.id, [{ unitPriceMinor: 4000 }]);
    try {
      expectError(await h.gql(till.auth, RECORD_ORDER, { input }), 'INTERNAL_SERVER_ERROR');
    } finally {
      await h.sql(`drop trigger test_fail_order_recorded on event_outbox`);
    }
    expect(await referralRows(referred.id)).toEqual([]);
    expect(await referralRows(referrer.id)).toEqual([]);
    expect((await referralOf(referred.id)).status).toBe('PENDING');
    await ok(till.auth, RECORD_ORDER, { input });
    expect(await referralRows(referrer.id)).toEqual([{ reason: 'REFERRAL', pending: 300, available: 0 }]);
  });

  it('credits once when five first orders arrive at the same moment', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    const results = await Promise.all([0, 1, 2, 3, 4].map(() => h.gql(till.auth, RECORD_ORDER, { input: orderInput(referred.id, [{ unitPriceMinor: 3000 }]) })));
    expect(results.map((r) => r.errors)).toEqual(Array(5).fill(undefined));
    expect(await referralRows(referred.id)).toEqual([{ reason: 'REFERRAL', pending: 200, available: 0 }]);
    expect(await referralRows(referrer.id)).toEqual([{ reason: 'REFERRAL', pending: 300, available: 0 }]);
    const { orderId } = await referralOf(referred.id);
    expect(results.map((r) => r.data.recordOrder.id)).toContain(orderId);
  });

  it('does not count a guest order claimed later', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    const guest = await order(null, 80);
    await ok(till.auth, CLAIM, { input: { orderId: guest.id, memberId: referred.id } });
    expect((await referralOf(referred.id)).status).toBe('PENDING');
    expect(await referralRows(referrer.id)).toEqual([]);
  });

  it('takes both bonuses back when a return inside the window leaves less than the minimum; the next qualifying order credits again', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    const first = await ok(till.auth, RECORD_ORDER, { input: orderInput(referred.id, [{ unitPriceMinor: 2000, sku: 'A' }, { unitPriceMinor: 1000, sku: 'B' }]) });
    // £30 less £10 is still £20... under the £25 minimum: reversed.
    await ok(till.auth, RECORD_RETURN, { input: { orderId: first.recordOrder.id, externalReturnId: 'R1', lines: [{ lineNo: 2, quantity: 1 }] } });
    expect(await referralRows(referrer.id)).toEqual([
      { reason: 'REFERRAL', pending: 300, available: 0 },
      { reason: 'REFERRAL_REVERSAL', pending: -300, available: 0 },
    ]);
    expect((await referralRows(referred.id)).map((r) => r.reason)).toEqual(['REFERRAL', 'REFERRAL_REVERSAL']);
    expect(await referralOf(referred.id)).toMatchObject({ status: 'PENDING', orderId: null, referrerPoints: 0 });

    const second = await order(referred.id, 40);
    expect((await referralOf(referred.id)).orderId).toBe(second.id);
    const net = await h.sql(`select coalesce(sum(pending_delta + available_delta), 0)::int as net from ledger_entry where member_id = ? and reason in ('REFERRAL', 'REFERRAL_REVERSAL')`, [referrer.id]);
    expect(net).toEqual([{ net: 300 }]);
  });

  it('keeps the bonus for a partial return that stays above the minimum, and for any return after the window', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    const big = await ok(till.auth, RECORD_ORDER, { input: orderInput(referred.id, [{ unitPriceMinor: 3000, sku: 'A' }, { unitPriceMinor: 500, sku: 'B' }]) });
    await ok(till.auth, RECORD_RETURN, { input: { orderId: big.recordOrder.id, externalReturnId: 'R1', lines: [{ lineNo: 2, quantity: 1 }] } });
    expect((await referralOf(referred.id)).status).toBe('CREDITED');

    // Fifteen days on, the pending points were released: a full return no longer takes the bonus back.
    await h.app.services.points.runJobs(h.em(), createLogger('silent'), new Date(Date.now() + 15 * DAY_MS));
    await ok(till.auth, RECORD_RETURN, { input: { orderId: big.recordOrder.id, externalReturnId: 'R2' } });
    expect((await referralOf(referred.id)).status).toBe('CREDITED');
    expect((await referralRows(referrer.id)).map((r) => r.reason)).toEqual(['REFERRAL']);
  });

  it('follows the programme settings: no minimum and other amounts', async () => {
    await ok(admin.auth, SETTINGS, { input: { referralReferrerPoints: 50, referralReferredPoints: 0, referralMinOrderMinor: 0 } });
    try {
      const referrer = await enrol();
      const referred = await enrol({ referralCode: referrer.referralCode });
      await order(referred.id, 1);
      expect(await referralRows(referrer.id)).toEqual([{ reason: 'REFERRAL', pending: 50, available: 0 }]);
      expect(await referralRows(referred.id)).toEqual([]);
      expect(await referralOf(referred.id)).toMatchObject({ status: 'CREDITED', referrerPoints: 50, referredPoints: 0 });
    } finally {
      await ok(admin.auth, SETTINGS, { input: { referralReferrerPoints: 300, referralReferredPoints: 200, referralMinOrderMinor: 2500 } });
    }
  });
});

describe('self-referral guards', () => {
  it('refuses a code whose member shares an email with the new member, compared as one mailbox (case, +tags, Gmail dots), enrolling nobody', async () => {
    const referrer = await enrol({ email: `ann.smith.${++seq}@gmail.com`, phone: '+447911123456' });
    const [local] = (await h.sql(`select email from member where id = ?`, [referrer.id]))[0].email.split('@');
    const sameMailbox = `${local.replace(/\./g, '').toUpperCase()}+promo@googlemail.com`;
    const err = expectError(await h.gql(till.auth, ENROL, { input: { email: sameMailbox, referralCode: referrer.referralCode } }), 'REFERRAL_NOT_ALLOWED');
    expect(err.extensions.reason).toBe('SAME_IDENTIFIER');
    expect(await h.sql(`select id from member where email = ?`, [sameMailbox.toLowerCase()])).toEqual([]);
  });

  it('voids the referral at the order when the members came to share an email after enrolment', async () => {
    const referrer = await enrol({ email: `bob.jones.${++seq}@example.com` });
    const referred = await enrol({ referralCode: referrer.referralCode });
    const [{ email: theirs }] = await h.sql(`select email from member where id = ?`, [referrer.id]);
    await ok(till.auth, UPDATE_MEMBER, { input: { id: referred.id, email: theirs.replace('@', '+second@') } });
    await order(referred.id, 30);
    expect(await referralOf(referred.id)).toMatchObject({ status: 'VOID', voidReason: 'SAME_IDENTIFIER' });
    expect(await referralRows(referrer.id)).toEqual([]);
  });

  it("refuses a member's own code, a second referral, a referral after the first order and a circular one", async () => {
    const a = await enrol();
    const late = await enrol();
    const own = expectError(await h.gql(till.auth, APPLY, { input: { memberId: late.id, referralCode: late.referralCode } }), 'REFERRAL_NOT_ALLOWED');
    expect(own.extensions.reason).toBe('SELF_REFERRAL');

    const applied = await ok(till.auth, APPLY, { input: { memberId: late.id, referralCode: a.referralCode } });
    expect(applied.applyReferralCode).toMatchObject({ status: 'PENDING', referrerId: a.id, referredId: late.id });
    const other = await enrol();
    const twice = expectError(await h.gql(till.auth, APPLY, { input: { memberId: late.id, referralCode: other.referralCode } }), 'REFERRAL_NOT_ALLOWED');
    expect(twice.extensions.reason).toBe('ALREADY_REFERRED');

    // `late` referred nobody yet; `a` was referred by nobody: a taking late's code would make a circle.
    const circular = expectError(await h.gql(till.auth, APPLY, { input: { memberId: a.id, referralCode: late.referralCode } }), 'REFERRAL_NOT_ALLOWED');
    expect(circular.extensions.reason).toBe('CIRCULAR');

    const ordered = await enrol();
    await order(ordered.id, 5);
    const afterOrder = expectError(await h.gql(till.auth, APPLY, { input: { memberId: ordered.id, referralCode: a.referralCode } }), 'REFERRAL_NOT_ALLOWED');
    expect(afterOrder.extensions.reason).toBe('ALREADY_ORDERED');
    expect(await h.sql(`select id from referral where referred_id in (?)`, [[ordered.id, a.id]])).toEqual([]);
  });

  it("refuses an erased member's code, and refers through the survivor when the code's member was merged", async () => {
    const erased = await enrol();
    await ok(admin.auth, ERASE, { input: { id: erased.id, reason: 'request' } });
    expect(expectError(await h.gql(till.auth, ENROL, { input: { email: email(), referralCode: erased.referralCode } }), 'REFERRAL_NOT_ALLOWED').extensions.reason).toBe('REFERRER_INACTIVE');

    const survivor = await enrol();
    const absorbed = await enrol();
    await ok(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    const referred = await enrol({ referralCode: absorbed.referralCode });
    expect(referred.referral.referrerId).toBe(survivor.id);
  });

  it('voids a waiting referral when the referrer and the referred member are merged into one person; the merged order credits nothing', async () => {
    const referrer = await enrol();
    const referred = await enrol({ referralCode: referrer.referralCode });
    await ok(admin.auth, MERGE, { input: { survivorId: referrer.id, absorbedId: referred.id } });
    expect(await referralOf(referrer.id)).toMatchObject({ status: 'VOID', voidReason: 'SELF_REFERRAL' });
    await order(referred.id, 60); // the absorbed id records for the survivor
    expect(await referralRows(referrer.id)).toEqual([]);

    // The other way round: the referred record survives.
    const r2 = await enrol();
    const n2 = await enrol({ referralCode: r2.referralCode });
    await ok(admin.auth, MERGE, { input: { survivorId: n2.id, absorbedId: r2.id } });
    expect(await referralOf(n2.id)).toMatchObject({ status: 'VOID', voidReason: 'SELF_REFERRAL' });
    await order(n2.id, 60);
    expect(await referralRows(n2.id)).toEqual([]);
  });

  it("keeps the survivor's own referral when two referred records merge, voiding the absorbed one's", async () => {
    const r1 = await enrol();
    const r2 = await enrol();
    const survivor = await enrol({ referralCode: r1.referralCode });
    const absorbed = await enrol({ referralCode: r2.referralCode });
    await ok(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    await order(survivor.id, 30);
    expect(await referralRows(r1.id)).toEqual([{ reason: 'REFERRAL', pending: 300, available: 0 }]);
    expect(await referralRows(r2.id)).toEqual([]);
    const [row] = await h.sql(`select status, void_reason from referral where referred_id = ?`, [absorbed.id]);
    expect(row).toEqual({ status: 'VOID', void_reason: 'MERGED' });
  });

  it('lets only callers with members:write apply a code', async () => {
    const a = await enrol();
    const late = await enrol();
    const analyst = await b.admin(AdminRole.ANALYST);
    expectError(await h.gql(analyst.auth, APPLY, { input: { memberId: late.id, referralCode: a.referralCode } }), 'FORBIDDEN');
  });
});

describe('referral cycles', () => {
  /** `n` members, each referred by the one before: [head, ..., tail]. The head was referred by nobody. */
  async function chain(n: number) {
    const members = [await enrol()];
    while (members.length < n) members.push(await enrol({ referralCode: members[members.length - 1].referralCode }));
    return members;
  }
  const apply = (member: { id: string }, referrer: { referralCode: string }) => h.gql(till.auth, APPLY, { input: { memberId: member.id, referralCode: referrer.referralCode } });
  const referralsOf = async (members: { id: string }[]) =>
    (await h.sql(`select count(*)::int as n from referral where referred_id in (?)`, [members.map((m) => m.id)]))[0].n;

  it('refuses a cycle of three and of five: the head of a chain cannot be referred by its tail', async () => {
    for (const length of [3, 5]) {
      const members = await chain(length);
      const closing = expectError(await apply(members[0], members[length - 1]), 'REFERRAL_NOT_ALLOWED');
      expect(closing.extensions.reason).toBe('CIRCULAR');
      expect(await referralOf(members[0].id)).toBeNull();
      expect(await referralsOf(members)).toBe(length - 1);
    }
  });

  it('accepts a long chain that is no cycle, joined to another chain at either end', async () => {
    const members = await chain(40);
    const before = await enrol();
    expect((await ok(till.auth, APPLY, { input: { memberId: members[0].id, referralCode: before.referralCode } })).applyReferralCode).toMatchObject({ status: 'PENDING', referrerId: before.id });
    const after = await enrol();
    expect((await ok(till.auth, APPLY, { input: { memberId: after.id, referralCode: members[39].referralCode } })).applyReferralCode).toMatchObject({ status: 'PENDING', referrerId: members[39].id });
    // Now 42 long: its head still cannot be referred by anyone below it.
    expect(expectError(await apply(before, after), 'REFERRAL_NOT_ALLOWED').extensions.reason).toBe('CIRCULAR');
    expect(expectError(await apply(before, members[20]), 'REFERRAL_NOT_ALLOWED').extensions.reason).toBe('CIRCULAR');
  });

  it('follows a chain through a merged-away record to the person it is now', async () => {
    const head = await enrol();
    const absorbed = await enrol({ referralCode: head.referralCode });
    await order(absorbed.id, 30); // credited: the referral stays with the absorbed record through the merge
    const survivor = await enrol();
    await ok(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    const below = await enrol({ referralCode: survivor.referralCode });
    // head referred absorbed, who is survivor now, who referred below: below cannot refer head.
    expect(expectError(await apply(head, below), 'REFERRAL_NOT_ALLOWED').extensions.reason).toBe('CIRCULAR');
    expect(await referralOf(head.id)).toBeNull();
  });

  it('voids at the order a referral that a merge made circular, and credits the other one', async () => {
    const a = await enrol();
    const b2 = await enrol({ referralCode: a.referralCode });
    const c = await enrol({ referralCode: b2.referralCode });
    // a's referrals move to c: c referred b2, who referred c.
    await ok(admin.auth, MERGE, { input: { survivorId: c.id, absorbedId: a.id } });
    await order(b2.id, 30);
    expect(await referralOf(b2.id)).toMatchObject({ status: 'VOID', voidReason: 'CIRCULAR' });
    expect(await referralRows(b2.id)).toEqual([]);
    await order(c.id, 30);
    expect(await referralOf(c.id)).toMatchObject({ status: 'CREDITED' });
    expect(await referralRows(c.id)).toEqual([{ reason: 'REFERRAL', pending: 200, available: 0 }]);
    expect(await referralRows(b2.id)).toEqual([{ reason: 'REFERRAL', pending: 300, available: 0 }]);
  });

  it('accepts one of two referrals that close a cycle at the same moment and refuses the other as CIRCULAR', async () => {
    for (let round = 0; round < 5; round++) {
      // Of two: each refers the other.
      const [a, b] = [await enrol(), await enrol()];
      const pair = await Promise.all([apply(a, b), apply(b, a)]);
      expect(pair.map((r) => r.errors?.[0]?.extensions.reason ?? 'ACCEPTED').sort()).toEqual(['ACCEPTED', 'CIRCULAR']);
      expect(await referralsOf([a, b])).toBe(1);

      // Of three: x referred y already; at once y refers z and z refers x.
      const [x, y] = await chain(2);
      const z = await enrol();
      const triple = await Promise.all([apply(z, y), apply(x, z)]);
      expect(triple.map((r) => r.errors?.[0]?.extensions.reason ?? 'ACCEPTED').sort()).toEqual(['ACCEPTED', 'CIRCULAR']);
      expect(await referralsOf([x, y, z])).toBe(2);
    }
  });
});

describe('the ledger after every referral above', () => {
  it('still proves every balance and lot equal to the ledger rows', async () => {
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });
});
