/**
 * Every two mutations that touch one member, raced against each other (each with itself too). One table entry per
 * operation says how to prepare it, how to fire it, which refusals it may answer and what it does to points; the pairs
 * are generated from the table. Each pair runs TRIALS trials, each with INSTANCES of either side sent GAP_MS apart, one
 * side starting at a different offset in each trial. After each trial:
 * - every answer is a success or a documented refusal (schema/error-codes.json) that this operation may give in this
 *   situation; a deadlock or any other unexpected failure would answer INTERNAL_SERVER_ERROR;
 * - no point lost or counted twice: the points of the member's family (the member and the other parties of its
 *   merges and referrals) changed by exactly the effects of the operations that succeeded, and what an erasure forfeited;
 *   an erased member holds no points, whatever settled after the erasure;
 * - a consistent ledger, nothing left on a merged-away record (points, orders, identifiers, feedback, plans), and nothing
 *   written to an erased member after the erasure but what settles earlier writes (returns, cancellations): no
 *   identifier, personal field or feedback comment survives it.
 */
import { useHarness, type GqlResult } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, orderInput } from '../support/orders';
import {
  ADJUST,
  APPLY_REFERRAL,
  CANCEL_REDEMPTION,
  CLAIM,
  ENROL,
  ERASE,
  MERGE,
  REDEEM,
  UPSERT_REWARD,
  assertNothingLeftBehind,
  codesOf,
  isDocumented,
  ok,
  sleep,
} from '../support/races';

const h = useHarness();
const b = build(h);

const INSTANCES = 4;
const TRIALS = 3;
const GAP_MS = 2;
/** Where the second side starts relative to the first, per trial: together, after, before. */
const OFFSETS_MS = [0, 5, -5];
const PAIR_TIMEOUT_MS = 60_000;

// pendingDays 0: every point is available at once. An ordinary order stays under the referral minimum, so only the
// referral operation's orders qualify.
const ORDER_MINOR = 1500;
const ORDER_POINTS = 15;
const QUALIFYING_MINOR = 2500;
const QUALIFYING_POINTS = 25;
const REFERRAL_MIN_MINOR = 2000;
const REFERRER_POINTS = 300;
const REFERRED_POINTS = 200;
const REWARD_COST = 100;

const MEMBER_ERASED = 'CONFLICT:MEMBER_ERASED';
const UPDATE_MEMBER = `mutation($input: UpdateMemberInput!) { updateMember(input: $input) { id email } }`;
const RECORD_FEEDBACK = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id memberId } }`;
const SUBSCRIBE = `mutation($input: SubscribeMemberInput!) { subscribeMemberToPlan(input: $input) { id } }`;
const PLAN_DAYS = 30;
const MEMBER_MERGED = 'CONFLICT:MEMBER_MERGED';

type Result = GqlResult<any>;
type Auth = { token: string } | { apiKey: string };

let admin: { auth: Auth };
let till: { auth: Auth };
let rewardId: string;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.env.JEST_WORKER_ID}-${++seq}`;

const asAdmin = (query: string, variables: Record<string, unknown>) => h.gql(admin.auth, query, variables);
const asTill = (query: string, variables: Record<string, unknown>) => h.gql(till.auth, query, variables);


beforeAll(async () => {
  admin = await b.admin();
  till = await b.apiKey();
  await b.baseRate(1, 100);
  await b.settings({ pendingDays: 0, referralReferrerPoints: REFERRER_POINTS, referralReferredPoints: REFERRED_POINTS, referralMinOrderMinor: REFERRAL_MIN_MINOR });
  rewardId = (await ok(asAdmin(UPSERT_REWARD, { input: { code: 'PAIRS', name: 'Pairs', kind: 'FREE_PRODUCT', sku: 'PAIRS', costPoints: REWARD_COST } }))).upsertReward.id;
  // Earning 100 %: a plan changes no points here, only its terms are checked.
  await ok(asAdmin(`mutation($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { code } }`, {
    input: { code: 'PAIRS', name: 'Pairs', currency: 'GBP', durationDays: PLAN_DAYS, feeMinor: 100, earnMultiplierPercent: 100 },
  }));
});

interface Party {
  id: string;
  referralCode: string;
}

const enrol = async (): Promise<Party> => (await ok(asTill(ENROL, { input: { email: `${unique('pair')}@pairs.example` } }))).enrolMember;

/**
 * One trial's member and the other parties both sides share; every party enrolled here is in the family. Both sides
 * prepare at once, so what they share is made once (a promise each).
 */
class Trial {
  readonly family = new Set<string>();
  /** Partner id → the id of their referral by the member. */
  readonly referralOf = new Map<string, string>();
  /** Partner id → the external ids of the qualifying orders fired for them. */
  readonly qualifyingOrders = new Map<string, string[]>();
  private readonly partners = new Map<number, Promise<Party>>();
  private readonly referred = new Map<number, Promise<Party>>();

  private constructor(readonly member: Party) {
    this.family.add(member.id);
  }

  static async start(): Promise<Trial> {
    return new Trial(await enrol());
  }

  async enrol(): Promise<Party> {
    const party = await enrol();
    this.family.add(party.id);
    return party;
  }

  /** The other party of merges, referral bonuses and rival claims: partners 0 and 1, shared by both sides of a pair. */
  partner(j: number): Promise<Party> {
    if (!this.partners.has(j)) this.partners.set(j, this.enrol());
    return this.partners.get(j)!;
  }

  /** Partner j, referred by the member (a referral waiting for the partner's first qualifying order). */
  referredPartner(j: number): Promise<Party> {
    if (!this.referred.has(j)) {
      this.referred.set(j, this.partner(j).then(async (partner) => {
        const { applyReferralCode } = await ok(asTill(APPLY_REFERRAL, { input: { memberId: partner.id, referralCode: this.member.referralCode } }));
        this.referralOf.set(partner.id, applyReferralCode.id);
        return partner;
      }));
    }
    return this.referred.get(j)!;
  }

  async seed(memberId: string, points: number): Promise<void> {
    await ok(asAdmin(ADJUST, { i: { memberId, points, reason: 'seed', idempotencyKey: unique('seed') } }));
  }

  /** An ordinary order (a guest order with no member), recorded before the race. */
  async order(memberId: string | null): Promise<string> {
    return (await ok(asTill(RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: ORDER_MINOR }]) }))).recordOrder.id;
  }
}

/** What a concurrent operation (or another instance of the same one) may do to the member. */
type Situation = 'erased' | 'mergedAway' | 'partnerAbsorbed' | 'ordered';

interface Operation<P = any> {
  name: string;
  /** Situations this operation creates for the operations racing it. */
  creates: Situation[];
  /** Refusals acceptable whatever races it (another instance of the same operation included). */
  refusals: string[];
  /** Refusals acceptable when something racing it creates the situation. */
  refusalsWhen?: Partial<Record<Situation, string[]>>;
  /** Writes what `n` instances need, before the family's points are read. */
  prepare(t: Trial, n: number): Promise<P>;
  fire(p: P, i: number): Promise<Result>;
  /** The change to the family's points made by the instances that succeeded. */
  effect(p: P, results: Result[]): Promise<number> | number;
  /** Further invariants once the trial is over. */
  check?(p: P, results: Result[], t: Trial, situations: Set<Situation>): Promise<void>;
}

const operation = <P>(o: Operation<P>): Operation => o;
const succeeded = (r: Result) => !r.errors;
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
/** Instances 2k and 2k + 1 aim at the same target (an order, a redemption, an idempotency key): one of them does it. */
const targetOf = (i: number) => Math.floor(i / 2);
const targets = (n: number) => Math.ceil(n / 2);
/** The targets some instance succeeded on: each had its effect once. */
const targetsDone = (results: Result[]) => new Set(results.flatMap((r, i) => (succeeded(r) ? [targetOf(i)] : [])));

const OPERATIONS: Operation[] = [
  operation({
    name: 'merge (member absorbed)',
    creates: ['mergedAway'],
    // Another instance merged the member first, or a partner was merged into it.
    refusals: [MEMBER_MERGED],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t) => ({ member: t.member, survivors: await Promise.all([t.partner(0), t.partner(1)]) }),
    fire: (p, i) => asAdmin(MERGE, { input: { survivorId: p.survivors[i % 2].id, absorbedId: p.member.id } }),
    effect: () => 0,
  }),
  operation({
    name: 'merge (member survives)',
    creates: ['partnerAbsorbed'],
    refusals: [MEMBER_MERGED],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    // Partners with points and a waiting referral by the member (which the merge voids: a self-referral).
    prepare: async (t) => {
      const absorbed = await Promise.all([t.referredPartner(0), t.referredPartner(1)]);
      await Promise.all(absorbed.map((a) => t.seed(a.id, 40)));
      return { member: t.member, absorbed };
    },
    fire: (p, i) => asAdmin(MERGE, { input: { survivorId: p.member.id, absorbedId: p.absorbed[i % 2].id } }),
    effect: () => 0,
  }),
  operation({
    name: 'erasure',
    creates: ['erased'],
    // Erasing twice is a no-op.
    refusals: [],
    refusalsWhen: { mergedAway: [MEMBER_MERGED] },
    prepare: async (t) => t.member,
    fire: (member) => asAdmin(ERASE, { input: { id: member.id, reason: 'pairs' } }),
    effect: () => 0,
  }),
  operation({
    name: 'order',
    creates: ['ordered'],
    refusals: [],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t, n) => times(n, () => orderInput(t.member.id, [{ unitPriceMinor: ORDER_MINOR }])),
    fire: (inputs, i) => asTill(RECORD_ORDER, { input: inputs[i] }),
    effect: (_p, results) => ORDER_POINTS * results.filter(succeeded).length,
  }),
  operation({
    name: 'return',
    creates: ['ordered'],
    // Two returns of everything on one order: the second finds nothing left. An erased member's order is returned.
    refusals: ['CONFLICT:ORDER_FULLY_RETURNED'],
    prepare: async (t, n) => ({ orders: await Promise.all(times(targets(n), () => t.order(t.member.id))), returnIds: times(n, () => unique('RET')) }),
    fire: (p, i) => asTill(RECORD_RETURN, { input: { orderId: p.orders[targetOf(i)], externalReturnId: p.returnIds[i] } }),
    // A return after the member's erasure takes back lifetime points only: the closed account's points were forfeited.
    effect: async (_p, results) => -ORDER_POINTS * (await returnsBeforeErasure(results.filter(succeeded).map((r) => r.data.recordReturn.id as string))),
  }),
  operation({
    name: 'claim',
    creates: ['ordered'],
    // The member and a rival (partner 0) claim each guest order.
    refusals: ['CONFLICT:ORDER_ALREADY_CLAIMED'],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t, n) => ({ guests: await Promise.all(times(targets(n), () => t.order(null))), claimants: [t.member, await t.partner(0)] }),
    fire: (p, i) => asTill(CLAIM, { input: { orderId: p.guests[targetOf(i)], memberId: p.claimants[i % 2].id } }),
    effect: (_p, results) => ORDER_POINTS * targetsDone(results).size,
  }),
  operation({
    name: 'redemption',
    creates: [],
    // Points for half of the instances.
    refusals: ['INSUFFICIENT_POINTS'],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t, n) => {
      await t.seed(t.member.id, (REWARD_COST * n) / 2 + REWARD_COST / 2);
      return { member: t.member, keys: times(n, () => unique('redeem')) };
    },
    fire: (p, i) => asTill(REDEEM, { input: { memberId: p.member.id, rewardId, idempotencyKey: p.keys[i] } }),
    effect: (_p, results) => -REWARD_COST * results.filter(succeeded).length,
  }),
  operation({
    name: 'cancellation',
    creates: [],
    // Two cancellations of each redemption: the second finds it cancelled. An erased member's redemption is cancelled.
    refusals: ['CONFLICT:REDEMPTION_NOT_CANCELLABLE'],
    prepare: async (t, n) => {
      await t.seed(t.member.id, REWARD_COST * targets(n));
      const redeem = async () => (await ok(asTill(REDEEM, { input: { memberId: t.member.id, rewardId, idempotencyKey: unique('to-cancel') } }))).redeemReward.id as string;
      return Promise.all(times(targets(n), redeem));
    },
    fire: (redemptions, i) => asTill(CANCEL_REDEMPTION, { input: { redemptionId: redemptions[targetOf(i)] } }),
    effect: (_p, results) => REWARD_COST * targetsDone(results).size,
  }),
  operation({
    name: 'adjustment',
    creates: [],
    // Two instances per idempotency key (one adjustment each): +10, then -5 (backed by a seed of 10).
    refusals: [],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t, n) => {
      await t.seed(t.member.id, 10);
      return { member: t.member, keys: times(targets(n), () => unique('adjust')) };
    },
    fire: (p, i) => asAdmin(ADJUST, { i: { memberId: p.member.id, points: adjustmentPoints(targetOf(i)), reason: 'pairs', idempotencyKey: p.keys[targetOf(i)] } }),
    effect: (_p, results) => [...targetsDone(results)].reduce((sum, k) => sum + adjustmentPoints(k), 0),
  }),
  operation({
    name: 'referral code applied',
    creates: [],
    // Each instance gives the code of one of two referrers: the member is referred once.
    refusals: ['REFERRAL_NOT_ALLOWED:ALREADY_REFERRED'],
    refusalsWhen: { erased: [MEMBER_ERASED], ordered: ['REFERRAL_NOT_ALLOWED:ALREADY_ORDERED'] },
    prepare: async (t) => ({ member: t.member, referrers: await Promise.all([t.enrol(), t.enrol()]) }),
    fire: (p, i) => asTill(APPLY_REFERRAL, { input: { memberId: p.member.id, referralCode: p.referrers[i % 2].referralCode } }),
    effect: () => 0,
    // A member is referred before their first order (ALREADY_ORDERED) or not at all, wherever a merge took them.
    check: async (_p, results, t) => {
      if (!results.some(succeeded)) return;
      const earlier = await h.sql(
        `select r.id as referral, o.id as order from referral r join customer_order o on o.member_id = r.referred_id
         where r.referred_id in (?) and r.status <> 'VOID' and coalesce(o.claimed_at, o.created_at) < r.created_at`,
        [[...t.family]],
      );
      expect(earlier).toEqual([]);
    },
  }),
  operation({
    name: 'referral bonus (first order of a member referred by the member)',
    creates: [],
    refusals: [],
    // Each partner, referred by the member, places two first orders at once: one of them credits both.
    prepare: async (t, n) => {
      const referred = await Promise.all([t.referredPartner(0), t.referredPartner(1)]);
      const inputs = times(n, (i) => orderInput(referred[i % 2].id, [{ unitPriceMinor: QUALIFYING_MINOR }]));
      for (const [i, input] of inputs.entries()) {
        const partner = referred[i % 2].id;
        t.qualifyingOrders.set(partner, [...(t.qualifyingOrders.get(partner) ?? []), input.externalOrderId]);
      }
      return { referred, inputs };
    },
    fire: (p, i) => asTill(RECORD_ORDER, { input: p.inputs[i] }),
    effect: async (_p, results) => {
      const orderIds = results.filter(succeeded).map((r) => r.data.recordOrder.id as string);
      if (orderIds.length === 0) return 0;
      const [{ bonus }] = await h.sql<{ bonus: number }>(
        `select coalesce(sum(referrer_points + referred_points), 0)::int as bonus from referral where status = 'CREDITED' and order_id in (?)`,
        [orderIds],
      );
      return QUALIFYING_POINTS * orderIds.length + bonus;
    },
    // Each referral is credited once, by an order fired for its partner (by either side of a pair with itself), unless
    // the racing merge or erasure voided it.
    check: async (p, results, t, situations) => {
      const voidable = [
        ...(situations.has('erased') ? ['REFERRER_INACTIVE'] : []),
        ...(situations.has('mergedAway') || situations.has('partnerAbsorbed') ? ['SELF_REFERRAL', 'MERGED'] : []),
      ];
      for (const [j, partner] of p.referred.entries()) {
        if (!results.some((r, i) => i % 2 === j && succeeded(r))) continue;
        const [referral] = await h.sql(
          'select r.status, r.void_reason, o.external_order_id, r.referrer_points, r.referred_points from referral r left join customer_order o on o.id = r.order_id where r.id = ?',
          [t.referralOf.get(partner.id)],
        );
        if (referral.status === 'CREDITED') {
          expect(t.qualifyingOrders.get(partner.id)).toContain(referral.external_order_id);
          expect([referral.referrer_points, referral.referred_points]).toEqual([REFERRER_POINTS, REFERRED_POINTS]);
        } else {
          expect({ status: referral.status, voidable: voidable.includes(referral.void_reason) }).toEqual({ status: 'VOID', voidable: true });
        }
      }
    },
  }),
  operation({
    name: 'profile update',
    creates: [],
    // Each instance gives the member a new email (and drops the one before): the last to take the lock wins.
    refusals: [],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t, n) => ({ member: t.member, emails: times(n, () => `${unique('update')}@pairs.example`) }),
    fire: (p, i) => asAdmin(UPDATE_MEMBER, { input: { id: p.member.id, email: p.emails[i], firstName: `Pair ${i}` } }),
    effect: () => 0,
    // The member (or the survivor the change followed) has the email it shows as an identifier.
    check: async (_p, results, t) => {
      if (!results.some(succeeded)) return;
      const unmatched = await h.sql(
        `select m.id from member m where m.id in (?) and m.status = 'ACTIVE' and m.email is not null
           and not exists (select 1 from member_identifier i where i.member_id = m.id and i.type = 'EMAIL' and i.value = m.email)`,
        [[...t.family]],
      );
      expect(unmatched).toEqual([]);
    },
  }),
  operation({
    name: 'plan subscription',
    creates: [],
    refusals: [],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t) => t.member,
    fire: (member) => asAdmin(SUBSCRIBE, { input: { memberId: member.id, planCode: 'PAIRS' } }),
    effect: () => 0,
    // Renewals paid at once follow one another on whichever record they landed: no two terms of a member overlap.
    check: async (_p, results, t) => {
      if (!results.some(succeeded)) return;
      const overlapping = await h.sql(
        `select a.id from member_plan a join member_plan b on b.member_id = a.member_id and b.id <> a.id
           and b.starts_at < a.ends_at and a.starts_at < b.ends_at where a.member_id in (?)`,
        [[...t.family]],
      );
      expect(overlapping).toEqual([]);
    },
  }),
  operation({
    name: 'feedback',
    creates: [],
    refusals: [],
    refusalsWhen: { erased: [MEMBER_ERASED] },
    prepare: async (t) => t.member,
    fire: (member, i) => asAdmin(RECORD_FEEDBACK, { input: { memberId: member.id, kind: 'NPS', score: i % 11, comment: `pairs comment ${i}`, channelId: till.channelId } }),
    effect: () => 0,
  }),
];

/** How many of these returns took their points before their member's erasure (ids are time-ordered, UUIDv7). */
async function returnsBeforeErasure(returnIds: string[]): Promise<number> {
  if (returnIds.length === 0) return 0;
  const [{ n }] = await h.sql<{ n: number }>(
    `select count(*)::int as n from ledger_entry e where e.reason = 'RETURN_CLAWBACK' and e.source_type = 'return' and e.source_id in (?)
       and not exists (select 1 from event_outbox x where x.type = 'member.erased' and x.member_id = e.member_id and x.id < e.id)`,
    [returnIds],
  );
  return n;
}

/** The points erasures took from the family (ERASURE_FORFEIT rows: negative, or positive for a debt written off). */
async function forfeited(family: Set<string>): Promise<number> {
  const [{ points }] = await h.sql<{ points: number }>(
    `select coalesce(sum(available_delta + pending_delta), 0)::float8 as points from ledger_entry where reason = 'ERASURE_FORFEIT' and member_id in (?)`,
    [[...family]],
  );
  return points;
}

function adjustmentPoints(key: number): number {
  return key % 2 === 0 ? 10 : -5;
}

interface Tally {
  fired: number;
  refusals: Map<string, number>;
}
const tally: Tally = { fired: 0, refusals: new Map() };

async function fireSide(op: Operation, prepared: unknown, startMs: number): Promise<Result[]> {
  return Promise.all(
    times(INSTANCES, async (i) => {
      await sleep(startMs + i * GAP_MS);
      return op.fire(prepared, i);
    }),
  );
}

/** Answers that are neither a success nor a documented refusal this operation may give in these situations. */
function unexpectedAnswers(op: Operation, results: Result[], situations: Set<Situation>): string[] {
  const allowed = new Set([...op.refusals, ...[...situations].flatMap((s) => op.refusalsWhen?.[s] ?? [])]);
  return codesOf(results)
    .filter((code) => !allowed.has(code) || !isDocumented(code))
    .map((code) => `${op.name}: ${code}`);
}

async function familyPoints(family: Set<string>): Promise<number> {
  const [{ points }] = await h.sql<{ points: number }>(
    'select coalesce(sum(available + pending), 0)::float8 as points from member_balance where member_id in (?)',
    [[...family]],
  );
  return points;
}

/** The family's merged-away records hold nothing; an erased member got no write after the erasure but settlements. */
async function assertRecordsSettled(t: Trial) {
  const merged = (await h.sql<{ id: string }>(`select id from member where id in (?) and status = 'MERGED'`, [[...t.family]])).map((m) => m.id);
  await assertNothingLeftBehind(h, merged);
  if (merged.length) {
    expect(await h.sql(`select id, status from referral where referrer_id in (?) or (referred_id in (?) and status = 'PENDING')`, [merged, merged])).toEqual([]);
    expect(await h.sql('select value from member_identifier where member_id in (?)', [merged])).toEqual([]);
    expect(await h.sql('select id from feedback where member_id in (?)', [merged])).toEqual([]);
    expect(await h.sql('select id from member_plan where member_id in (?)', [merged])).toEqual([]);
  }
  const erased = (await h.sql<{ id: string }>(`select id from member where id in (?) and status = 'ERASED'`, [[...t.family]])).map((m) => m.id);
  if (erased.length) {
    expect(await h.sql('select value from member_identifier where member_id in (?)', [erased])).toEqual([]);
    expect(await h.sql('select id from member where id in (?) and (email is not null or first_name is not null)', [erased])).toEqual([]);
    expect(await h.sql('select id from feedback where member_id in (?) and comment is not null', [erased])).toEqual([]);
    expect(await h.sql('select member_id from member_balance where member_id in (?) and (available <> 0 or pending <> 0 or closed_at is null)', [erased])).toEqual([]);
  }
  // Ids are time-ordered (UUIDv7, made in this process): a row with a greater id than the erasure's event was written
  // after the erasure.
  const afterErasure = await h.sql(
    `with erasure as (select id from event_outbox where type = 'member.erased' and member_id = ?)
     select 'ledger ' || e.reason as row from ledger_entry e, erasure
       where e.member_id = ? and e.id > erasure.id and e.reason not in ('RETURN_CLAWBACK', 'REDEMPTION_CANCEL', 'REFERRAL_REVERSAL', 'ERASURE_FORFEIT')
     union all select 'order' from customer_order o, erasure where o.member_id = ? and o.id > erasure.id
     union all select 'referral' from referral r, erasure where r.referred_id = ? and r.id > erasure.id
     union all select 'plan' from member_plan p, erasure where p.member_id = ? and p.id > erasure.id`,
    [t.member.id, t.member.id, t.member.id, t.member.id, t.member.id],
  );
  expect(afterErasure).toEqual([]);
}

async function runTrial(a: Operation, b: Operation, offsetMs: number) {
  const t = await Trial.start();
  const prepared = await Promise.all([a.prepare(t, INSTANCES), b.prepare(t, INSTANCES)]);
  const before = await familyPoints(t.family);

  const [ra, rb] = await Promise.all([fireSide(a, prepared[0], Math.max(0, -offsetMs)), fireSide(b, prepared[1], Math.max(0, offsetMs))]);

  tally.fired += ra.length + rb.length;
  for (const code of codesOf([...ra, ...rb])) tally.refusals.set(code, (tally.refusals.get(code) ?? 0) + 1);
  const situations = new Set([...a.creates, ...b.creates]);
  expect([...unexpectedAnswers(a, ra, situations), ...unexpectedAnswers(b, rb, situations)]).toEqual([]);

  const effects = (await a.effect(prepared[0], ra)) + (await b.effect(prepared[1], rb)) + (await forfeited(t.family));
  expect(await familyPoints(t.family)).toBe(before + effects);
  await a.check?.(prepared[0], ra, t, situations);
  await b.check?.(prepared[1], rb, t, situations);
  await assertRecordsSettled(t);
}

const PAIRS = OPERATIONS.flatMap((a, i) => OPERATIONS.slice(i).map((b) => [a, b] as const));

describe(`every two mutations of one member, ${INSTANCES} + ${INSTANCES} at once, ${TRIALS} trials (${PAIRS.length} pairs)`, () => {
  it.each(PAIRS.map(([a, b]) => [`${a.name} × ${b.name}`, a, b] as const))('%s', async (_name, a, b) => {
    for (const offset of OFFSETS_MS.slice(0, TRIALS)) await runTrial(a, b, offset);
  }, PAIR_TIMEOUT_MS);
});

describe('a referred member’s order reads the referrer before taking both members’ locks', () => {
  it('runs again, once, when the referral moved to a merge survivor after that read: the survivor gets the bonus', async () => {
    const t = await Trial.start();
    const referred = await t.referredPartner(0);
    const survivor = await t.enrol();
    await ok(asAdmin(MERGE, { input: { survivorId: survivor.id, absorbedId: t.member.id } }));
    // What a read made before the merge committed saw: the referrer's merged-away record.
    const read = jest.spyOn(h.app.services.referrals, 'pendingReferrerOf').mockResolvedValueOnce(t.member.id);
    try {
      const { recordOrder } = await ok(asTill(RECORD_ORDER, { input: orderInput(referred.id, [{ unitPriceMinor: QUALIFYING_MINOR }]) }));
      expect(read).toHaveBeenCalledTimes(2);
      const [referral] = await h.sql('select status, referrer_id, order_id from referral where id = ?', [t.referralOf.get(referred.id)]);
      expect(referral).toEqual({ status: 'CREDITED', referrer_id: survivor.id, order_id: recordOrder.id });
      const balances = await h.sql('select member_id, available::int from member_balance where member_id in (?) order by member_id', [[survivor.id, referred.id]]);
      expect(Object.fromEntries(balances.map((row) => [row.member_id, row.available]))).toEqual({
        [survivor.id]: REFERRER_POINTS,
        [referred.id]: QUALIFYING_POINTS + REFERRED_POINTS,
      });
      await assertNothingLeftBehind(h, t.member.id);
    } finally {
      read.mockRestore();
    }
  });
});

afterAll(() => {
  const refusals = [...tally.refusals].sort(([x], [y]) => x.localeCompare(y)).map(([code, n]) => `${code} ${n}`);
  console.log(`concurrency pairs: ${PAIRS.length} pairs, ${tally.fired} requests fired; refusals: ${refusals.join(', ') || 'none'}`);
});
