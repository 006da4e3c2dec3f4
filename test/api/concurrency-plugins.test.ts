/**
 * The distribution's plugins' member writes raced against the core's writes on the same member, as
 * concurrency-pairs.test.ts races the core's own (which runs without plugins). The activities plugin records activities
 * (recordActivity) and credits them; the challenges plugin counts orders, returns and activities towards challenges in
 * their transactions and rewards a completion once; both have merge and erase steps. After each trial: no internal
 * error, every refusal documented, no point lost or counted twice, a consistent ledger, and the plugins' invariants (an
 * erased member holds no activity attributes, progress or badge; a completion is rewarded once; a merged-away record
 * keeps nothing). Also: a challenge's terms changing while a member's first progress is written, and paging through
 * `member.ledger` while the member's points change.
 */
import { useHarness, type GqlResult } from '../support/harness';
import { ALL_SCOPES, build } from '../fixtures/build';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { RECORD_ORDER, RECORD_RETURN, orderInput } from '../support/orders';
import { ADJUST, ERASE, MERGE, REDEEM, UPSERT_REWARD, assertNothingLeftBehind, codesOf, ok, sleep, unexpected } from '../support/races';

const h = useHarness({}, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const RECORD_ACTIVITY = `mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id memberId points outcome } }`;
const CREATE_TYPE = `mutation($input: CreateActivityTypeInput!) { createActivityType(input: $input) { id code } }`;
const CREATE_CHALLENGE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { id code target } }`;
const UPDATE_CHALLENGE = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { id target } }`;
const LEDGER = `query($id: ID!, $first: Int!, $after: String) { member(id: $id) {
  ledger(first: $first, after: $after) { edges { node { id createdAt } } pageInfo { hasNextPage endCursor } } } }`;

const DAY = 86_400_000;
const GAP_MS = 3;
const VISIT_POINTS = 10;
const VISITS_TARGET = 3;
const VISITS_BONUS = 100;
const ORDERS_TARGET = 3;
const ORDER_MINOR = 1500;
const ORDER_POINTS = 15;
const REWARD_COST = 30;
const MEMBER_ERASED = 'CONFLICT:MEMBER_ERASED';

type Result = GqlResult<any>;
type Auth = { token: string } | { apiKey: string };

let admin: { auth: Auth };
let till: { auth: Auth; channelId: string };
let visit: string;
/** ACTIVITY_COUNT: VISITS_TARGET visits, VISITS_BONUS points. */
let visits: { id: string };
/** ORDER_COUNT: ORDERS_TARGET orders, a badge. */
let regular: { id: string };
let rewardId: string;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.env.JEST_WORKER_ID}-${++seq}`;


const asAdmin = (query: string, variables: Record<string, unknown>) => h.gql(admin.auth, query, variables);
const asTill = (query: string, variables: Record<string, unknown>) => h.gql(till.auth, query, variables);

/** A visit, with something personal the channel sent along (an erasure clears it). */
const recordVisit = (memberId: string, idempotencyKey = unique('visit')) =>
  asTill(RECORD_ACTIVITY, { input: { member: { id: memberId }, type: visit, idempotencyKey, attributes: { note: 'Ada said hello' } } });
const recordOrder = (memberId: string, unitPriceMinor = ORDER_MINOR) => asTill(RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor }]) });
const enrol = async () => (await ok(asTill(`mutation($input: EnrolMemberInput!) { enrolMember(input: $input) { id } }`, { input: { email: `${unique('plugins')}@plugins.example` } }))).enrolMember as { id: string };

const challengeInput = (overrides: Record<string, unknown>) => ({
  code: unique('race').replace(/-/g, '_'),
  name: 'Race',
  startsAt: new Date(Date.now() - 10 * DAY).toISOString(),
  endsAt: new Date(Date.now() + 10 * DAY).toISOString(),
  isActive: true,
  ...overrides,
});

beforeAll(async () => {
  admin = await b.admin();
  till = await b.apiKey([...ALL_SCOPES, 'activities:write']);
  await b.baseRate(1, 100);
  await b.settings({ pendingDays: 0 });
  visit = (await ok(asAdmin(CREATE_TYPE, { input: { code: `visit_${process.env.JEST_WORKER_ID}`, name: 'Visit', points: VISIT_POINTS } }))).createActivityType.code;
  visits = (await ok(asAdmin(CREATE_CHALLENGE, {
    input: challengeInput({ goalKind: 'ACTIVITY_COUNT', activityType: visit, target: VISITS_TARGET, reward: { kind: 'POINTS', points: VISITS_BONUS } }),
  }))).createChallenge;
  regular = (await ok(asAdmin(CREATE_CHALLENGE, {
    input: challengeInput({ goalKind: 'ORDER_COUNT', target: ORDERS_TARGET, reward: { kind: 'BADGE', badgeCode: 'regular', badgeName: 'Regular' } }),
  }))).createChallenge;
  rewardId = (await ok(asAdmin(UPSERT_REWARD, { input: { code: 'PLUGIN-RACE', name: 'Race', kind: 'FREE_PRODUCT', sku: 'RACE', costPoints: REWARD_COST } }))).upsertReward.id;
});

/** Fires every write `GAP_MS` apart, the i-th after `i * GAP_MS`, and `interloper` after `offsetMs`. */
async function race(writes: Array<() => Promise<Result>>, interloper: (() => Promise<Result>) | null, offsetMs: number) {
  const sent = writes.map(async (w, i) => {
    await sleep(i * GAP_MS);
    return w();
  });
  const other = interloper ? sleep(offsetMs).then(interloper) : Promise.resolve(null);
  return { writes: await Promise.all(sent), interloper: await other };
}

/** The answers that are neither a success nor one of the `allowed` documented refusals. */
const succeeded = (r: Result) => !r.errors;

async function balanceOf(memberId: string) {
  const [row] = await h.sql(`select available::int, pending::int, lifetime::int, closed_at is not null as "isClosed" from member_balance where member_id = ?`, [memberId]);
  return row as { available: number; pending: number; lifetime: number; isClosed: boolean };
}

/** Ledger rows a challenge's completion wrote for these records. */
async function challengeBonuses(challengeId: string, memberIds: string[]): Promise<number> {
  const [{ n }] = await h.sql(`select count(*)::int as n from ledger_entry where source_type = 'challenge' and source_id = ? and member_id in (?)`, [challengeId, memberIds]);
  return n;
}

describe('recordActivity and recordOrder (challenge progress) × eraseMember', () => {
  const TRIALS = 6;
  const WRITES = 10;

  it(`${TRIALS} trials: what landed before the erasure is forfeited and stripped, nothing lands after it`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const member = await enrol();
      const kinds = Array.from({ length: WRITES }, (_, i) => (i % 2 === 0 ? 'visit' : 'order'));
      const { writes, interloper } = await race(
        kinds.map((kind) => () => (kind === 'visit' ? recordVisit(member.id) : recordOrder(member.id))),
        () => asAdmin(ERASE, { input: { id: member.id, reason: 'plugins race' } }),
        (trial * 7) % (WRITES * GAP_MS + 6),
      );
      expect(interloper!.errors).toBeUndefined();
      expect(unexpected(writes, [MEMBER_ERASED])).toEqual([]);
      const visitsDone = writes.filter((w, i) => kinds[i] === 'visit' && succeeded(w)).length;
      const ordersDone = writes.filter((w, i) => kinds[i] === 'order' && succeeded(w)).length;

      const [stored] = await h.sql(
        `select (select count(*)::int from activity_record where member_id = ?) as activities,
                (select count(*)::int from activity_record where member_id = ? and attributes <> '{}'::jsonb) as "withAttributes",
                (select count(*)::int from customer_order where member_id = ?) as orders,
                (select count(*)::int from challenge_progress where member_id = ?) as progress,
                (select count(*)::int from challenge_badge where member_id = ?) as badges`,
        [member.id, member.id, member.id, member.id, member.id],
      );
      expect(stored).toEqual({ activities: visitsDone, withAttributes: 0, orders: ordersDone, progress: 0, badges: 0 });
      // Lifetime keeps the history; the completion of the visits challenge (before the erasure) is rewarded once.
      const completed = visitsDone >= VISITS_TARGET ? 1 : 0;
      expect(await challengeBonuses(visits.id, [member.id])).toBe(completed);
      expect(await balanceOf(member.id)).toEqual({
        available: 0,
        pending: 0,
        lifetime: VISIT_POINTS * visitsDone + ORDER_POINTS * ordersDone + VISITS_BONUS * completed,
        isClosed: true,
      });
      // Ids are time-ordered (UUIDv7): nothing but the erasure's own forfeit was written after the erasure.
      const afterErasure = await h.sql(
        `with erasure as (select id from event_outbox where type = 'member.erased' and member_id = ?)
         select 'ledger ' || e.reason as row from ledger_entry e, erasure where e.member_id = ? and e.id > erasure.id and e.reason <> 'ERASURE_FORFEIT'
         union all select 'activity' from activity_record a, erasure where a.member_id = ? and a.id > erasure.id
         union all select 'order' from customer_order o, erasure where o.member_id = ? and o.id > erasure.id`,
        [member.id, member.id, member.id, member.id],
      );
      expect(afterErasure).toEqual([]);
      await assertNothingLeftBehind(h, []);
    }
  }, 60_000);
});

describe('recordActivity × mergeMembers (the activities’ member absorbed)', () => {
  const TRIALS = 6;
  const WRITES = 8;

  it(`${TRIALS} trials: every activity and its points end on the survivor, whose one row completes the challenge once`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const survivor = await enrol();
      const absorbed = await enrol();
      // The survivor is two visits of three along.
      for (let i = 0; i < VISITS_TARGET - 1; i++) await ok(recordVisit(survivor.id));
      const { writes, interloper } = await race(
        Array.from({ length: WRITES }, () => () => recordVisit(absorbed.id)),
        () => asAdmin(MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }),
        (trial * 7) % (WRITES * GAP_MS + 6),
      );
      expect(codesOf([...writes, interloper!])).toEqual([]);
      expect(new Set(writes.map((w) => w.data.recordActivity.outcome))).toEqual(new Set(['CREDITED']));

      const total = WRITES + VISITS_TARGET - 1;
      const rows = await h.sql(`select member_id, count(*)::int as n from activity_record where member_id in (?, ?) group by member_id`, [survivor.id, absorbed.id]);
      expect(rows).toEqual([{ member_id: survivor.id, n: total }]);
      const progress = await h.sql(`select member_id, completed_at is not null as completed from challenge_progress where challenge_id = ? and member_id in (?, ?)`, [visits.id, survivor.id, absorbed.id]);
      expect(progress).toEqual([{ member_id: survivor.id, completed: true }]);
      // One person, one completion: neither record had completed it alone before the merge and after it there is one row.
      expect(await challengeBonuses(visits.id, [survivor.id, absorbed.id])).toBe(1);
      expect(await balanceOf(survivor.id)).toMatchObject({ available: VISIT_POINTS * total + VISITS_BONUS, pending: 0, lifetime: VISIT_POINTS * total + VISITS_BONUS });
      await assertNothingLeftBehind(h, absorbed.id);
    }
  }, 60_000);
});

describe('recordActivity × redeemReward × adjustPoints × recordReturn on one member', () => {
  const TRIALS = 4;
  const ROUNDS = 3;

  it(`${TRIALS} trials: the balance is every credit less every spend and clawback, with a consistent ledger`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const member = await enrol();
      const orders: string[] = [];
      for (let i = 0; i < ROUNDS; i++) orders.push((await ok(recordOrder(member.id))).recordOrder.id);
      const kinds = ['visit', 'redeem', 'visit', 'adjust', 'visit', 'return'] as const;
      const sides = Array.from({ length: kinds.length * ROUNDS }, (_, i) => {
        const kind = kinds[(i + trial) % kinds.length];
        const key = unique(kind);
        const fire =
          kind === 'visit'
            ? () => recordVisit(member.id)
            : kind === 'redeem'
              ? () => asTill(REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: key } })
              : kind === 'adjust'
                ? () => asAdmin(ADJUST, { i: { memberId: member.id, points: -5, reason: 'plugins race', idempotencyKey: key } })
                : () => asTill(RECORD_RETURN, { input: { orderId: orders.pop(), externalReturnId: key } });
        return { kind, fire };
      });
      const { writes } = await race(sides.map((s) => s.fire), null, 0);
      expect(unexpected(writes, ['INSUFFICIENT_POINTS'])).toEqual([]);
      const done = (kind: string) => writes.filter((w, i) => sides[i].kind === kind && succeeded(w)).length;
      expect([done('visit'), done('return')]).toEqual([3 * ROUNDS, ROUNDS]);
      // The visits challenge completed once, whatever ran beside it.
      expect(await challengeBonuses(visits.id, [member.id])).toBe(1);
      const balance = await balanceOf(member.id);
      expect(balance.available).toBe(ORDER_POINTS * ROUNDS + VISIT_POINTS * 3 * ROUNDS + VISITS_BONUS - REWARD_COST * done('redeem') - 5 * done('adjust') - ORDER_POINTS * ROUNDS);
      expect(balance.available).toBeGreaterThanOrEqual(0);
      const [{ n }] = await h.sql(`select count(*)::int as n from redemption where member_id = ?`, [member.id]);
      expect(n).toBe(done('redeem'));
      await assertNothingLeftBehind(h, []);
    }
  }, 60_000);
});

describe('recordOrder × recordReturn on an ORDER_COUNT challenge’s progress', () => {
  const TRIALS = 6;

  it(`${TRIALS} trials: the row counts exactly the member’s orders still standing, and completes at most once`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const member = await enrol();
      const earlier = [];
      for (let i = 0; i < ORDERS_TARGET - 1; i++) earlier.push((await ok(recordOrder(member.id))).recordOrder.id as string);
      // Two returns of everything on each earlier order (the second finds nothing left), and two new orders.
      const writes: Array<() => Promise<Result>> = [];
      for (const orderId of earlier) for (let k = 0; k < 2; k++) writes.push(() => asTill(RECORD_RETURN, { input: { orderId, externalReturnId: unique('RET') } }));
      const newOrders = [() => recordOrder(member.id), () => recordOrder(member.id)];
      if (trial % 2 === 0) writes.unshift(...newOrders);
      else writes.push(...newOrders);
      const { writes: results } = await race(writes, null, 0);
      expect(unexpected(results, ['CONFLICT:ORDER_FULLY_RETURNED'])).toEqual([]);

      const [row] = await h.sql(`select progress::int, orders, spend_minor::int as spend, completed_at is not null as completed from challenge_progress where challenge_id = ? and member_id = ?`, [regular.id, member.id]);
      const [standing] = await h.sql(
        `select count(*)::int as orders, coalesce(sum(total_minor - returned_minor), 0)::int as spend from customer_order where member_id = ? and returned_minor < total_minor`,
        [member.id],
      );
      expect({ orders: row.orders, spend: row.spend }).toEqual(standing);
      const [{ badges }] = await h.sql(`select count(*)::int as badges from challenge_badge where member_id = ? and challenge_id = ?`, [member.id, regular.id]);
      const [{ events }] = await h.sql(`select count(*)::int as events from event_outbox where type = 'challenge.completed' and member_id = ? and payload->>'challengeId' = ?`, [member.id, regular.id]);
      expect({ badges, events }).toEqual(row.completed ? { badges: 1, events: 1 } : { badges: 0, events: 0 });
      // Before completion the progress follows the orders standing; a completion keeps the progress it completed with.
      expect(row.progress).toBe(row.completed ? ORDERS_TARGET : standing.orders);
      await assertNothingLeftBehind(h, []);
    }
  }, 60_000);
});

describe('updateChallenge × the first progress of a member in it', () => {
  const HOLD_MS = 1000;

  afterAll(async () => {
    await h.sql(`drop trigger if exists test_hold_progress on challenge_progress`);
  });

  it('either refuses CHALLENGE_NOT_EDITABLE or counts the member under the new target: never the old goal under new terms', async () => {
    const challenge = (await ok(asAdmin(CREATE_CHALLENGE, { input: challengeInput({ goalKind: 'ORDER_COUNT', target: 5, reward: { kind: 'POINTS', points: 50 } }) }))).createChallenge;
    // The order's progress row is written HOLD_MS late: the order has read the challenge's terms, and holds them that long.
    await h.sql(`create or replace function test_hold_insert() returns trigger language plpgsql as $$ begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
    await h.sql(`create or replace trigger test_hold_progress before insert on challenge_progress for each row when (new.challenge_id = '${challenge.id}') execute function test_hold_insert()`);
    const member = await enrol();
    try {
      const order = recordOrder(member.id);
      await sleep(HOLD_MS / 4);
      const update = await asAdmin(UPDATE_CHALLENGE, { input: { id: challenge.id, target: 7 } });
      const ordered = await order;
      expect(ordered.errors).toBeUndefined();
      expect(unexpected([update], ['CHALLENGE_NOT_EDITABLE'])).toEqual([]);
      const [terms] = await h.sql(`select target::int from challenge where id = ?`, [challenge.id]);
      const goals = await h.sql(`select goal::int from challenge_progress where challenge_id = ?`, [challenge.id]);
      expect({ updated: succeeded(update), goals }).toEqual({ updated: succeeded(update), goals: [{ goal: terms.target }] });
    } finally {
      await h.sql(`drop trigger if exists test_hold_progress on challenge_progress`);
      await h.sql(`update challenge set is_active = false where id = ?`, [challenge.id]);
    }
  });
});

describe('updateChallenge held × a member’s first order in the challenge', () => {
  const HOLD_MS = 1000;

  it('the order waits for the change and counts the member under the new target', async () => {
    const challenge = (await ok(asAdmin(CREATE_CHALLENGE, { input: challengeInput({ goalKind: 'ORDER_COUNT', target: 5, reward: { kind: 'POINTS', points: 50 } }) }))).createChallenge;
    // The change's audit entry (written as it commits, after it found no progress and changed the row) is held HOLD_MS.
    await h.sql(`create or replace function test_hold_insert() returns trigger language plpgsql as $$ begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
    await h.sql(`create or replace trigger test_hold_update before insert on audit_entry for each row when (new.action = 'challenge.update' and new.entity_id = '${challenge.id}') execute function test_hold_insert()`);
    const member = await enrol();
    try {
      const update = asAdmin(UPDATE_CHALLENGE, { input: { id: challenge.id, target: 7 } });
      await sleep(HOLD_MS / 4);
      const ordered = await recordOrder(member.id);
      expect(ordered.errors).toBeUndefined();
      expect((await update).errors).toBeUndefined();
      expect(await h.sql(`select goal::int, progress::int from challenge_progress where challenge_id = ?`, [challenge.id])).toEqual([{ goal: 7, progress: 1 }]);
    } finally {
      await h.sql(`drop trigger if exists test_hold_update on audit_entry`);
      await h.sql(`update challenge set is_active = false where id = ?`, [challenge.id]);
    }
  });
});

describe('member.ledger paged while the member’s points change', () => {
  it('walks every row written before it began once, newest first, whatever commits between its pages', async () => {
    const member = await enrol();
    for (let i = 0; i < 6; i++) await ok(recordVisit(member.id));
    for (let i = 0; i < 4; i++) await ok(recordOrder(member.id));
    const before = (await h.sql<{ id: string }>(`select id from ledger_entry where member_id = ?`, [member.id])).map((r) => r.id);
    expect(before.length).toBeGreaterThanOrEqual(11);

    for (let walk = 0; walk < 3; walk++) {
      let writing = true;
      const writer = (async () => {
        const answers: Result[] = [];
        for (let i = 0; writing; i++) {
          const fire = [() => recordVisit(member.id), () => recordOrder(member.id), () => asAdmin(ADJUST, { i: { memberId: member.id, points: 3, reason: 'ledger walk', idempotencyKey: unique('walk') } })][i % 3];
          answers.push(...(await Promise.all([fire(), fire()])));
        }
        return answers;
      })();
      const seen: Array<{ id: string; createdAt: string }> = [];
      let after: string | null = null;
      for (;;) {
        const res = await asAdmin(LEDGER, { id: member.id, first: 2, after });
        expect(res.errors).toBeUndefined();
        const { edges, pageInfo } = res.data.member.ledger;
        seen.push(...edges.map((e: { node: { id: string; createdAt: string } }) => e.node));
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
        await sleep(5);
      }
      writing = false;
      expect(codesOf(await writer)).toEqual([]);
      const ids = seen.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(before.filter((id) => !ids.includes(id))).toEqual([]);
      const times = seen.map((r) => Date.parse(r.createdAt));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      before.splice(0, before.length, ...(await h.sql<{ id: string }>(`select id from ledger_entry where member_id = ?`, [member.id])).map((r) => r.id));
    }
    await assertNothingLeftBehind(h, []);
  }, 30_000);
});
