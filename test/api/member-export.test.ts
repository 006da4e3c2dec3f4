/**
 * exportMemberData: everything held about one person, from every module and plugin, in one snapshot, audited; refused
 * with documented codes for records that are not a live or erased member.
 */
import type { LoyaltyPlugin } from '../../api/src/composition/plugin';
import { useHarness } from '../support/harness';
import { build, AdminRole, SalesChannelKind } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, orderInput } from '../support/orders';
import { APPLY_REFERRAL, ENROL, ERASE, MERGE, REDEEM, UPSERT_REWARD, sleep } from '../support/races';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';

const EXPORT = `mutation($id: ID!) { exportMemberData(id: $id) { format memberId recordIds generatedAt sections } }`;
const RECORD_FEEDBACK = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
const RECORD_ACTIVITY = `mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id outcome } }`;
const CREATE_ACTIVITY_TYPE = `mutation($input: CreateActivityTypeInput!) { createActivityType(input: $input) { code } }`;
const HOLD_MS = 1200;

/**
 * A plugin of this test's own whose export section waits, then counts the orders of the records it was given: run last,
 * it shows whether a commit that lands while the export runs changes what the export reads.
 */
const slowSection: LoyaltyPlugin = {
  name: 'export-probe',
  memberSteps: {
    async export(em, memberIds) {
      await em.execute(`select pg_sleep(${HOLD_MS / 1000})`);
      const [row] = await em.execute<{ n: number }[]>(`select count(*)::int as n from customer_order where member_id in (?)`, [memberIds]);
      return { orders: row.n };
    },
  },
};

const h = useHarness({}, { plugins: [...DISTRIBUTION_PLUGINS, slowSection] });
const b = build(h);

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let till: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;
let activityCode: string;
let rewardId: string;

beforeAll(async () => {
  await b.baseRate(1, 100);
  await b.settings({ pendingDays: 0 });
  admin = await b.admin();
  till = await b.apiKey([...['members:read', 'members:write', 'members:merge', 'orders:write', 'orders:read', 'rewards:redeem', 'feedback:write'], 'activities:write'], SalesChannelKind.STORE);
  activityCode = (await h.gql(admin.auth, CREATE_ACTIVITY_TYPE, { input: { code: 'store_visit', name: 'Store visit', points: 5 } })).data.createActivityType.code;
  rewardId = (await h.gql(admin.auth, UPSERT_REWARD, { input: { code: 'MUG', name: 'Mug', kind: 'FREE_PRODUCT', sku: 'MUG', costPoints: 10 } })).data.upsertReward.id;
});

const ok = async (answer: Promise<{ data: any; errors?: unknown }>) => {
  const res = await answer;
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
};

async function exportOf(id: string) {
  return (await ok(h.gql(admin.auth, EXPORT, { id }))).exportMemberData;
}

describe('exportMemberData', () => {
  it("holds the member's data from every module and plugin, leaves voucher codes out, and is audited", async () => {
    const member = (await ok(h.gql(till.auth, ENROL, { input: { email: 'ada.export@example.com', phone: '+447911123456', firstName: 'Ada', consents: [{ medium: 'EMAIL', isGranted: true }] } }))).enrolMember;
    const friend = (await ok(h.gql(till.auth, ENROL, { input: { email: 'friend.export@example.com' } }))).enrolMember;
    await ok(h.gql(till.auth, APPLY_REFERRAL, { input: { memberId: friend.id, referralCode: member.referralCode } }));
    const order = orderInput(member.id, [{ sku: 'TEA', unitPriceMinor: 2000, quantity: 2 }]);
    const recorded = (await ok(h.gql(till.auth, RECORD_ORDER, { input: order }))).recordOrder;
    await ok(h.gql(till.auth, RECORD_RETURN, { input: { orderId: recorded.id, externalReturnId: 'ret-1', lines: [{ lineNo: 1, quantity: 1 }] } }));
    const redemption = (await ok(h.gql(till.auth, REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: 'export-redeem' } }))).redeemReward;
    await ok(h.gql(till.auth, RECORD_FEEDBACK, { input: { memberId: member.id, kind: 'CSAT', score: 4, comment: 'Lovely tea', channelId: till.channelId } }));
    await ok(h.gql(till.auth, RECORD_ACTIVITY, { input: { member: { id: member.id }, type: activityCode, idempotencyKey: 'export-visit', attributes: { store: 'LDN1' } } }));

    const exported = await exportOf(member.id);
    expect(exported).toMatchObject({ format: 'loyalty-member-export/1', memberId: member.id, recordIds: [member.id] });
    const s = exported.sections;
    expect(Object.keys(s)).toEqual([
      'profile', 'identifiers', 'consents', 'merges', 'points', 'orders', 'redemptions', 'plans', 'tiers', 'feedback', 'referrals',
      'campaigns', 'models', 'segments', 'changes', 'plugin:activities', 'plugin:challenges', 'plugin:export-probe',
    ]);
    expect(s.profile).toEqual([expect.objectContaining({ id: member.id, email: 'ada.export@example.com', first_name: 'Ada', status: 'ACTIVE' })]);
    expect(s.identifiers.map((i: any) => i.value).sort()).toEqual(['+447911123456', 'ada.export@example.com']);
    expect(s.consents).toEqual([expect.objectContaining({ medium: 'EMAIL', is_granted: true })]);
    expect(s.orders).toHaveLength(1);
    expect(s.orders[0]).toMatchObject({ id: recorded.id, total_minor: 4000, lines: [expect.objectContaining({ sku: 'TEA', quantity: 2, returned_quantity: 1 })] });
    expect(s.orders[0].returns).toEqual([expect.objectContaining({ external_return_id: 'ret-1' })]);
    expect(s.points.ledger.map((e: any) => e.reason)).toEqual(expect.arrayContaining(['ORDER_EARN', 'RETURN_CLAWBACK', 'REDEMPTION']));
    // 40 points for the order, 20 back with the return, 10 spent, 5 for the visit.
    expect(s.points.balances).toEqual([expect.objectContaining({ member_id: member.id, available: 15, pending: 0, lifetime: 25 })]);
    // Times are ISO 8601, as PostgreSQL writes them in JSON.
    expect(s.profile[0].enrolled_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(s.redemptions).toEqual([expect.objectContaining({ id: redemption.id, reward_code: 'MUG', points: 10 })]);
    expect(JSON.stringify(s.redemptions)).not.toMatch(/voucher_code|idempotency/);
    expect(s.feedback).toEqual([expect.objectContaining({ kind: 'CSAT', score: 4, comment: 'Lovely tea' })]);
    expect(s.referrals).toEqual([expect.objectContaining({ role: 'REFERRER', referrer_id: member.id, referred_id: friend.id })]);
    expect(s['plugin:activities']).toEqual([expect.objectContaining({ type: activityCode, attributes: { store: 'LDN1' }, points: 5 })]);
    expect(s['plugin:challenges']).toEqual({ progress: [], badges: [] });
    expect(s.changes.map((c: any) => c.action)).toContain('member.enrol');
    expect(JSON.stringify(s.changes)).not.toMatch(/admin:|apiKey:/);
    // Nothing of the friend's but the referral names them.
    expect(JSON.stringify(s)).not.toContain('friend.export@example.com');

    const [audit] = await h.sql(`select actor, after from audit_entry where action = 'member.export' and entity_id = ? order by id desc limit 1`, [member.id]);
    expect(audit.actor).toBe(`admin:${admin.id}`);
    expect(audit.after).toMatchObject({ format: 'loyalty-member-export/1', records: 1 });
  });

  it("includes the records merged into the member; a merged-away record answers MEMBER_MERGED with its survivor", async () => {
    const survivor = (await ok(h.gql(till.auth, ENROL, { input: { email: 'keep.export@example.com' } }))).enrolMember;
    const absorbed = (await ok(h.gql(till.auth, ENROL, { input: { phone: '+447911222555' } }))).enrolMember;
    await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(absorbed.id, [{ unitPriceMinor: 1500 }]) }));
    await ok(h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }));

    const exported = await exportOf(survivor.id);
    expect(exported.recordIds).toEqual([survivor.id, absorbed.id]);
    expect(exported.sections.profile.map((p: any) => [p.id, p.status])).toEqual([[survivor.id, 'ACTIVE'], [absorbed.id, 'MERGED']]);
    expect(exported.sections.merges).toEqual([expect.objectContaining({ survivor_id: survivor.id, absorbed_id: absorbed.id })]);
    expect(exported.sections.orders).toHaveLength(1);
    expect(exported.sections.identifiers.map((i: any) => i.value).sort()).toEqual(['+447911222555', 'keep.export@example.com']);

    const refused = await h.gql(admin.auth, EXPORT, { id: absorbed.id });
    expect(refused.errors?.map((e) => [e.extensions.code, e.extensions.reason, e.extensions.survivorId])).toEqual([['CONFLICT', 'MEMBER_MERGED', survivor.id]]);
  });

  it("exports what erasure kept of an erased member: no contact details, identifiers or comments", async () => {
    const member = (await ok(h.gql(till.auth, ENROL, { input: { email: 'gone.export@example.com', firstName: 'Gone' } }))).enrolMember;
    await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 1000 }]) }));
    await ok(h.gql(till.auth, RECORD_FEEDBACK, { input: { memberId: member.id, kind: 'NPS', score: 9, comment: 'call me on 07700 900789', channelId: till.channelId } }));
    await ok(h.gql(admin.auth, ERASE, { input: { id: member.id, reason: 'request' } }));

    const exported = await exportOf(member.id);
    expect(exported.sections.profile).toEqual([expect.objectContaining({ status: 'ERASED', email: null, first_name: null })]);
    expect(exported.sections.identifiers).toEqual([]);
    expect(exported.sections.orders).toHaveLength(1);
    // The erasure closed the account: the order's points were forfeited, a row of the export like any other.
    const points = (r: { available_delta: unknown; pending_delta: unknown }) => Number(r.available_delta) + Number(r.pending_delta);
    expect(exported.sections.points.ledger.map((r: { reason: string; available_delta: unknown; pending_delta: unknown }) => [r.reason, points(r)])).toEqual([
      ['ORDER_EARN', 10],
      ['ERASURE_FORFEIT', -10],
    ]);
    expect(exported.sections.feedback).toEqual([expect.objectContaining({ score: 9, comment: null })]);
    expect(JSON.stringify(exported)).not.toMatch(/gone\.export|Gone|07700/);
  });

  it('reads one snapshot: an order committed while the export runs is in none of its sections', async () => {
    const member = (await ok(h.gql(till.auth, ENROL, { input: { email: 'snap.export@example.com' } }))).enrolMember;
    await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 1000 }]) }));
    const running = exportOf(member.id);
    // The probe section waits HOLD_MS after every other section has read; the order commits in that time.
    await sleep(HOLD_MS / 3);
    await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2000 }]) }));
    const exported = await running;
    expect(exported.sections.orders).toHaveLength(1);
    expect(exported.sections['plugin:export-probe']).toEqual({ orders: 1 });
    expect((await exportOf(member.id)).sections['plugin:export-probe']).toEqual({ orders: 2 });
  });

  it('two exports of one member racing a merge into it each read one whole side of the merge, and both are audited', async () => {
    const survivor = (await ok(h.gql(till.auth, ENROL, { input: { email: 'race.keep@example.com' } }))).enrolMember;
    const absorbed = (await ok(h.gql(till.auth, ENROL, { input: { email: 'race.gone@example.com' } }))).enrolMember;
    for (const id of [survivor.id, absorbed.id]) await ok(h.gql(till.auth, RECORD_ORDER, { input: orderInput(id, [{ unitPriceMinor: 1000 }]) }));
    // Both exports start before the merge commits; each holds its snapshot for HOLD_MS (the probe section).
    const twins = [exportOf(survivor.id), exportOf(survivor.id)];
    await sleep(HOLD_MS / 3);
    await ok(h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }));
    const after = exportOf(survivor.id);
    for (const exported of [...(await Promise.all(twins)), await after]) {
      const records = exported.recordIds.length;
      // Before the merge: the survivor alone, its one order. After: both records, both orders. Never a mix.
      expect([records, exported.sections.orders.length, exported.sections['plugin:export-probe'].orders, exported.sections.profile.length]).toEqual(
        records === 1 ? [1, 1, 1, 1] : [2, 2, 2, 2],
      );
    }
    expect((await after).recordIds).toEqual([survivor.id, absorbed.id]);
    expect(await h.sql(`select 1 from audit_entry where action = 'member.export' and entity_id = ?`, [survivor.id])).toHaveLength(3);
  });

  it('answers NOT_FOUND for an unknown member and BAD_USER_INPUT for an id that is not one; only ADMIN may export', async () => {
    const unknown = await h.gql(admin.auth, EXPORT, { id: '01890000-0000-7000-8000-000000000000' });
    expect(unknown.errors?.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    for (const id of ['not-a-uuid', '\u0000', 'a\ud800b', "1' or '1'='1", '9'.repeat(500)]) {
      const res = await h.gql(admin.auth, EXPORT, { id });
      expect(res.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
    const member = await b.member().save();
    for (const role of [AdminRole.MARKETER, AdminRole.ANALYST]) {
      const other = await b.admin(role);
      expect((await h.gql(other.auth, EXPORT, { id: member.id })).errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    }
    expect((await h.gql(till.auth, EXPORT, { id: member.id })).errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
    expect(await h.sql(`select 1 from audit_entry where action = 'member.export' and entity_id = ?`, [member.id])).toEqual([]);
  });
});
