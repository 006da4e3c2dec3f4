import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput, pointsOf } from '../support/orders';

const h = useHarness();
const b = build(h);
const DAY = 86_400_000;
const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available pending lifetime } }`;
const LIABILITY = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) { liabilityPoints } } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let pos: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
  pos = await b.apiKey();
});

function jobs(at: Date) {
  const silent = { info: () => undefined } as never;
  return h.app.services.points.runJobs(h.em(), silent, at);
}

describe('the ledger table', () => {
  it('refuses UPDATE and DELETE in the database itself', async () => {
    const m = await b.member().save();
    await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 10, reason: 'goodwill', idempotencyKey: 'a1' } });
    await expect(h.sql(`update ledger_entry set available_delta = 1000 where member_id = ?`, [m.id])).rejects.toThrow(/append-only/);
    await expect(h.sql(`delete from ledger_entry where member_id = ?`, [m.id])).rejects.toThrow(/append-only/);
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(10);
  });
});

describe('pending points and expiry', () => {
  it('releases points when the return window closes, then expires them after the lot expiry', async () => {
    const m = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 2500 }]) });
    const before = await pointsOf(h, admin.auth, m.id);
    expect(before).toMatchObject({ available: 0, pending: 25 });
    const expiresAt = new Date(before.nextExpiry!.expiresAt);
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(360 * DAY);

    await jobs(new Date(Date.now() + 13 * DAY));
    expect(await pointsOf(h, admin.auth, m.id)).toMatchObject({ available: 0, pending: 25 });
    const released = await jobs(new Date(Date.now() + 15 * DAY));
    expect(released.lotsReleased).toBeGreaterThanOrEqual(1);
    expect(await pointsOf(h, admin.auth, m.id)).toMatchObject({ available: 25, pending: 0 });

    const expired = await jobs(new Date(expiresAt.getTime() + 1000));
    expect(expired.pointsExpired).toBeGreaterThanOrEqual(25);
    expect(await pointsOf(h, admin.auth, m.id)).toMatchObject({ available: 0, pending: 0, lifetime: 25, nextExpiry: null });
    const reasons = (await h.sql(`select reason from ledger_entry where member_id = ? order by id`, [m.id])).map((r) => r.reason);
    expect(reasons).toEqual(['ORDER_EARN', 'RELEASE', 'EXPIRY']);
    // Running again changes nothing.
    await jobs(new Date(expiresAt.getTime() + 2000));
    expect(await h.sql(`select 1 from ledger_entry where member_id = ?`, [m.id])).toHaveLength(3);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('dates a release and an expiry when they happened, not when a late job wrote them', async () => {
    const m = await b.member().save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 4000 }]) });
    const [lot] = await h.sql(`select id, available_at, expires_at from point_lot where member_id = ?`, [m.id]);
    const availableAt = new Date(lot.available_at);
    const expiresAt = new Date(lot.expires_at);
    // One run long after both: as after an outage, or for history imported today.
    const late = new Date(expiresAt.getTime() + 40 * DAY);
    await jobs(late);
    const rows = await h.sql(`select reason, created_at from ledger_entry where member_id = ? and reason in ('RELEASE', 'EXPIRY') order by reason`, [m.id]);
    expect(rows.map((r) => [r.reason, new Date(r.created_at).toISOString()])).toEqual([
      ['EXPIRY', expiresAt.toISOString()],
      ['RELEASE', availableAt.toISOString()],
    ]);
    const [event] = await h.sql(`select payload from event_outbox where type = 'points.expired' and member_id = ?`, [m.id]);
    expect(event.payload).toMatchObject({ lotId: lot.id, points: 40, expiredAt: expiresAt.toISOString() });
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('spends the lots that expire first', async () => {
    await b.settings({ pendingDays: 0 });
    try {
      const m = await b.member().save();
      await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 100, reason: 'old lot', idempotencyKey: `old-${m.id}` } });
      await h.sql(`update point_lot set expires_at = now() + interval '10 days' where member_id = ?`, [m.id]);
      await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 100, reason: 'new lot', idempotencyKey: `new-${m.id}` } });
      await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: -150, reason: 'correction', idempotencyKey: `neg-${m.id}` } });
      const lots = await h.sql(`select remaining from point_lot where member_id = ? order by expires_at`, [m.id]);
      expect(lots.map((l) => l.remaining)).toEqual([0, 50]);
      expect((await pointsOf(h, admin.auth, m.id)).nextExpiry?.points).toBe(50);
    } finally {
      await b.settings({ pendingDays: 14 });
    }
  });
});

describe('returns after the points were spent', () => {
  it('leave a negative balance that later earnings repay first (the documented policy)', async () => {
    await b.settings({ pendingDays: 0 });
    try {
      const m = await b.member().save();
      const order = (await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 10000 }]) })).data.recordOrder;
      expect((await pointsOf(h, admin.auth, m.id)).available).toBe(100);
      await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: -80, reason: 'spent elsewhere', idempotencyKey: `spend-${m.id}` } });
      await h.gql(pos.auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'ALL' } });
      expect((await pointsOf(h, admin.auth, m.id)).available).toBe(-80);
      const inDebt = new Date(Date.now() + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 5000 }]) });
      expect((await pointsOf(h, admin.auth, m.id)).available).toBe(-30);
      await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 5000 }]) });
      expect((await pointsOf(h, admin.auth, m.id)).available).toBe(20);
      const lots = await h.sql(`select coalesce(sum(remaining), 0)::int as s from point_lot where member_id = ? and state = 'AVAILABLE'`, [m.id]);
      expect(lots[0].s).toBe(20);
      expect((await ledgerCheck(h)).isConsistent).toBe(true);
      // The KPIs' liability counts a negative available balance as 0, at a time when the member was in debt (their later
      // rows read back from today's balance) and now; compared with a recomputation from the ledger rows.
      for (const to of [inDebt, new Date(Date.now() + 60_000)]) {
        const res = await h.gql(admin.auth, LIABILITY, { input: { from: new Date(to.getTime() - DAY).toISOString(), to: to.toISOString() } });
        expect(res.errors).toBeUndefined();
        const [expected] = await h.sql(
          `select coalesce(sum(greatest(a, 0) + p), 0)::int as points, count(*) filter (where a < 0)::int as debtors
           from (select member_id, sum(available_delta) as a, sum(pending_delta) as p from ledger_entry where created_at < ? group by member_id) x`,
          [to],
        );
        if (to === inDebt) expect(expected.debtors).toBeGreaterThan(0);
        expect(res.data.analytics.kpis.liabilityPoints).toBe(expected.points);
      }
    } finally {
      await b.settings({ pendingDays: 14 });
    }
  });
});

describe('adjustPoints', () => {
  it('records the reason and the admin, once per key', async () => {
    const m = await b.member().save();
    const input = { memberId: m.id, points: 40, reason: 'late delivery', idempotencyKey: `late-${m.id}` };
    await h.gql(admin.auth, ADJUST, { i: input });
    const again = await h.gql(admin.auth, ADJUST, { i: input });
    expect(again.data.adjustPoints.available).toBe(40);
    const rows = await h.sql(`select reason, note, actor from ledger_entry where member_id = ?`, [m.id]);
    expect(rows).toEqual([{ reason: 'ADJUSTMENT', note: 'late delivery', actor: `admin:${admin.id}` }]);
  });

  it('refuses the same key with other points, another reason or another member, applying nothing', async () => {
    const m = await b.member().save();
    const other = await b.member().save();
    const input = { memberId: m.id, points: 40, reason: 'late delivery', idempotencyKey: `reuse-${m.id}` };
    expect((await h.gql(admin.auth, ADJUST, { i: input })).errors).toBeUndefined();
    for (const changed of [{ points: 4000 }, { points: -40 }, { reason: 'another reason' }, { memberId: other.id }]) {
      const err = expectError(await h.gql(admin.auth, ADJUST, { i: { ...input, ...changed } }), 'CONFLICT');
      expect(err.extensions.reason).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    expect((await h.gql(admin.auth, ADJUST, { i: input })).data.adjustPoints.available).toBe(40);
    const rows = await h.sql(`select member_id, available_delta::int as delta from ledger_entry where member_id in (?, ?)`, [m.id, other.id]);
    expect(rows).toEqual([{ member_id: m.id, delta: 40 }]);
  });

  it('refuses to take more than is available, zero points and no reason', async () => {
    const m = await b.member().save();
    expect(expectError(await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: -5, reason: 'oops', idempotencyKey: 'n1' } }), 'INSUFFICIENT_POINTS'));
    const zero = await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 0, reason: 'noop', idempotencyKey: 'z1' } });
    expect(expectError(zero, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.points');
    const noReason = await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 5, reason: '', idempotencyKey: 'r1' } });
    expect(expectError(noReason, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.reason');
    expect(await h.sql(`select 1 from ledger_entry where member_id = ?`, [m.id])).toHaveLength(0);
  });

  it('is refused to analysts and channels', async () => {
    const m = await b.member().save();
    const analyst = await b.admin(AdminRole.ANALYST);
    for (const caller of [analyst.auth, pos.auth]) {
      expectError(await h.gql(caller, ADJUST, { i: { memberId: m.id, points: 5, reason: 'nope', idempotencyKey: 'f' } }), 'FORBIDDEN');
    }
  });
});

describe('ledgerCheck', () => {
  it('reports a member whose cached balance was tampered with', async () => {
    const m = await b.member().save();
    await h.gql(admin.auth, ADJUST, { i: { memberId: m.id, points: 10, reason: 'seed', idempotencyKey: `t-${m.id}` } });
    await h.sql(`update member_balance set available = available + 1 where member_id = ?`, [m.id]);
    try {
      const res = await h.gql(admin.auth, `{ ledgerCheck { isConsistent mismatches { memberId balanceAvailable ledgerAvailable } } }`);
      expect(res.data.ledgerCheck.isConsistent).toBe(false);
      expect(res.data.ledgerCheck.mismatches).toEqual([{ memberId: m.id, balanceAvailable: 11, ledgerAvailable: 10 }]);
    } finally {
      await h.sql(`update member_balance set available = available - 1 where member_id = ?`, [m.id]);
    }
  });
});
