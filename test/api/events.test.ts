import path from 'node:path';
import { useHarness, expectError } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { orderInput, RECORD_ORDER, RECORD_RETURN } from '../support/orders';
import { TransactionImporter } from '../../api/src/modules/import/importer';
import { openCsv, parseColumnMap } from '../../api/src/modules/import/source';
import { createLogger } from '../../api/src/base/logger';

const h = useHarness();
const b = build(h);
const silent = createLogger('silent');
const DAY_MS = 86_400_000;

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id } }`;
const ERASE = `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id status } }`;
const MERGE = `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`;
const ADJUST = `mutation A($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const UPSERT_REWARD = `mutation U($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const REDEEM = `mutation R($input: RedeemRewardInput!) { redeemReward(input: $input) { id status } }`;
const UPSERT_TIER = `mutation T($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let channelId: string;

async function eventsOf(memberId: string) {
  return h.sql<{ type: string; payload: Record<string, any> }>(`select type, payload from event_outbox where member_id = ? order by id`, [memberId]);
}

async function ok<T = any>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await h.gql(admin.auth, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const runJobs = (at: Date) => h.app.services.points.runJobs(h.em(), silent, at);

beforeAll(async () => {
  admin = await b.admin();
  channelId = (await b.channel()).id;
  await b.baseRate(1, 100);
});

describe('the event outbox', () => {
  it('holds one member.enrolled, with ids and no personal data, for an enrolment that commits and none for one that fails', async () => {
    const email = 'grace.hopper@test.example';
    const { enrolMember } = await ok(ENROL, { input: { email, firstName: 'Grace', lastName: 'Hopper', phone: '+447911123456' } });
    const events = await eventsOf(enrolMember.id);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled']);
    expect(events[0].payload).toEqual({ memberId: enrolMember.id, enrolmentChannel: 'ADMIN', enrolledAt: expect.any(String) });
    expect(JSON.stringify(events)).not.toMatch(/Grace|Hopper|grace|7911123456/);

    const [{ n: before }] = await h.sql(`select count(*)::int as n from event_outbox where type = 'member.enrolled'`);
    expectError(await h.gql(admin.auth, ENROL, { input: { email } }), 'CONFLICT');
    const [{ n: after }] = await h.sql(`select count(*)::int as n from event_outbox where type = 'member.enrolled'`);
    expect(after).toBe(before);
  });

  it('rolls the event back with its cause when the transaction fails after the event was written', async () => {
    const member = await b.member().save();
    // The erasure's audit row is flushed at commit, after the event insert: failing it aborts the whole transaction.
    await h.sql(`create or replace function test_fail_audit() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await h.sql(`create trigger test_fail_erase before insert on audit_entry for each row when (new.action = 'member.erase') execute function test_fail_audit()`);
    try {
      expectError(await h.gql(admin.auth, ERASE, { input: { id: member.id, reason: 'ticket 1' } }), 'INTERNAL_SERVER_ERROR');
    } finally {
      await h.sql(`drop trigger test_fail_erase on audit_entry`);
    }
    expect((await eventsOf(member.id)).map((e) => e.type)).toEqual(['member.enrolled']);
    const [row] = await h.sql(`select status from member where id = ?`, [member.id]);
    expect(row.status).toBe('ACTIVE');

    await ok(ERASE, { input: { id: member.id, reason: 'ticket 1' } });
    await ok(ERASE, { input: { id: member.id, reason: 'ticket 1' } }); // a no-op the second time
    const events = await eventsOf(member.id);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled', 'member.erased']);
    expect(events[1].payload).toEqual({ memberId: member.id, erasedAt: expect.any(String) });
  });

  it('records order.recorded and points.earned for an order, once even when it is replayed, and order.returned for a return', async () => {
    const member = await b.member().save();
    const input = orderInput(member.id, [{ unitPriceMinor: 5000 }], { channelId });
    const { recordOrder } = await ok(RECORD_ORDER, { input });
    await ok(RECORD_ORDER, { input });
    let events = await eventsOf(member.id);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled', 'points.earned', 'order.recorded']);
    const lot = (await h.sql(`select id from point_lot where source_id = ?`, [recordOrder.id]))[0];
    expect(events[1].payload).toMatchObject({ memberId: member.id, points: 50, sourceType: 'order', sourceId: recordOrder.id, lotId: lot.id, isPending: true });
    expect(events[2].payload).toMatchObject({
      orderId: recordOrder.id,
      memberId: member.id,
      channelId,
      channelKind: 'WEB',
      externalOrderId: input.externalOrderId,
      currency: 'GBP',
      totalMinor: 5000,
      pointsEarned: 50,
    });

    const { recordReturn } = await ok(RECORD_RETURN, { input: { orderId: recordOrder.id, externalReturnId: 'R1' } });
    events = await eventsOf(member.id);
    expect(events.map((e) => e.type).slice(3)).toEqual(['order.returned']);
    expect(events[3].payload).toEqual({
      orderId: recordOrder.id,
      returnId: recordReturn.id,
      memberId: member.id,
      externalReturnId: 'R1',
      valueMinor: 5000,
      pointsClawedBack: 50,
      orderStatus: 'RETURNED',
    });
  });

  it('records a guest order with no member and no points event', async () => {
    const { recordOrder } = await ok(RECORD_ORDER, { input: orderInput(null, [{}], { channelId }) });
    const rows = await h.sql(`select type, member_id from event_outbox where payload->>'orderId' = ?`, [recordOrder.id]);
    expect(rows).toEqual([{ type: 'order.recorded', member_id: null }]);
  });

  it('records member.merged for the survivor', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    await ok(MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    const events = await eventsOf(survivor.id);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled', 'member.merged']);
    expect(events[1].payload).toEqual({ survivorId: survivor.id, absorbedId: absorbed.id, movedIdentifiers: 1 });
  });

  it('records reward.redeemed, and nothing for a redemption refused for lack of points', async () => {
    const member = await b.member().save();
    const { upsertReward } = await ok(UPSERT_REWARD, { input: { code: 'EV-COFFEE', name: 'Coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100 } });
    expectError(await h.gql(admin.auth, REDEEM, { input: { memberId: member.id, rewardId: upsertReward.id, idempotencyKey: 'poor' } }), 'INSUFFICIENT_POINTS');
    await ok(ADJUST, { i: { memberId: member.id, points: 150, reason: 'goodwill', idempotencyKey: `ev-${member.id}` } });
    const { redeemReward } = await ok(REDEEM, { input: { memberId: member.id, rewardId: upsertReward.id, idempotencyKey: 'rich' } });
    const events = await eventsOf(member.id);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled', 'reward.redeemed']);
    expect(events[1].payload).toEqual({
      memberId: member.id,
      redemptionId: redeemReward.id,
      rewardId: upsertReward.id,
      points: 100,
      status: 'ISSUED',
      expiresAt: expect.any(String),
    });
  });

  it('announces points.expiring once per lot, the configured days ahead, then points.expired', async () => {
    const member = await b.member().save();
    await ok(ADJUST, { i: { memberId: member.id, points: 80, reason: 'goodwill', idempotencyKey: `exp-${member.id}` } });
    const [lot] = await h.sql<{ id: string; expires_at: Date }>(`select id, expires_at from point_lot where member_id = ?`, [member.id]);
    const expiresAt = new Date(lot.expires_at).getTime();
    const expiring = async () => (await eventsOf(member.id)).filter((e) => e.type === 'points.expiring');

    await runJobs(new Date(expiresAt - 20 * DAY_MS)); // outside the default 14 days
    expect(await expiring()).toEqual([]);
    await runJobs(new Date(expiresAt - 10 * DAY_MS));
    await runJobs(new Date(expiresAt - 5 * DAY_MS));
    expect(await expiring()).toEqual([
      { type: 'points.expiring', payload: { memberId: member.id, lotId: lot.id, points: 80, expiresAt: new Date(expiresAt).toISOString(), daysAhead: 10 } },
    ]);

    await runJobs(new Date(expiresAt + 60_000));
    await runJobs(new Date(expiresAt + 120_000));
    const expired = (await eventsOf(member.id)).filter((e) => e.type === 'points.expired');
    // When the lot expired, not when the job (a minute late) noticed.
    expect(expired.map((e) => e.payload)).toEqual([{ memberId: member.id, lotId: lot.id, points: 80, expiredAt: new Date(expiresAt).toISOString() }]);
  });

  it('records tier.changed on qualifying, and tier.at_risk once when the period is about to end in a downgrade', async () => {
    await ok(UPSERT_TIER, { i: { code: 'GREEN', name: 'Green', threshold: 0 } });
    await ok(UPSERT_TIER, { i: { code: 'GOLD', name: 'Gold', threshold: 100 } });
    const member = await b.member().save();
    await ok(RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 20000 }], { channelId }) });
    const changed = (await eventsOf(member.id)).filter((e) => e.type === 'tier.changed');
    expect(changed.map((e) => e.payload)).toEqual([{ memberId: member.id, fromTier: 'GREEN', toTier: 'GOLD', reason: 'QUALIFIED' }]);
    expect(await h.sql(`select to_tier from tier_change where member_id = ?`, [member.id])).toEqual([{ to_tier: 'GOLD' }]);

    const [{ retain_until }] = await h.sql(`select retain_until from member_tier where member_id = ?`, [member.id]);
    const end = new Date(retain_until).getTime();
    await runJobs(new Date(end - 40 * DAY_MS)); // outside the default 30 days
    await runJobs(new Date(end - 20 * DAY_MS));
    await runJobs(new Date(end - 10 * DAY_MS));
    const atRisk = (await eventsOf(member.id)).filter((e) => e.type === 'tier.at_risk');
    expect(atRisk.map((e) => e.payload)).toEqual([
      { memberId: member.id, tier: 'GOLD', expectedTier: 'GREEN', retainUntil: new Date(end).toISOString(), metric: 'POINTS_EARNED', current: 0, threshold: 100 },
    ]);

    await runJobs(new Date(end + 60_000));
    const last = (await eventsOf(member.id)).filter((e) => e.type === 'tier.changed').pop();
    expect(last?.payload).toEqual({ memberId: member.id, fromTier: 'GOLD', toTier: 'GREEN', reason: 'PERIOD_ENDED' });
  });

  it('is not written by the bulk importer, which backfills history', async () => {
    const [{ n: before }] = await h.sql(`select count(*)::int as n from event_outbox`);
    const { records } = await openCsv(path.join(__dirname, '..', 'fixtures', 'import', 'history.csv'), parseColumnMap(undefined));
    const importer = new TransactionImporter(h.orm.em, h.app.services, silent);
    const summary = await importer.run(records, { channelName: 'Events import', channelKind: SalesChannelKind.WEB, currency: 'GBP', batchInvoices: 500, onReject: () => undefined });
    expect(summary.orders).toBeGreaterThan(0);
    expect(summary.pointsEarned).toBeGreaterThan(0);
    const [{ n: after }] = await h.sql(`select count(*)::int as n from event_outbox`);
    expect(after).toBe(before);
  });
});
