import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';

const h = useHarness();
const b = build(h);

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode } }`;

let key: { auth: { apiKey: string } };
let admin: { token: string };

/**
 * The API's statements in a pgbench ceiling script (bench/pgbench/): its numbered statements (`-- 1. …`) and BEGIN/END;
 * `withConditional` counts the statements under `\if` (a member with a tier row) too.
 */
function pgbenchStatements(script: string, withConditional: boolean): number {
  const text = readFileSync(path.join(__dirname, '..', '..', 'bench', 'pgbench', script), 'utf8');
  let n = 0;
  let conditional = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('\\if')) conditional = true;
    if (line.startsWith('\\endif')) conditional = false;
    if (/^(BEGIN|END);$/.test(line) || /^-- \d+\. /.test(line)) n += conditional && !withConditional ? 0 : 1;
  }
  return n;
}

/** Statements one recordOrder runs (the x-db-queries header), after a first order has warmed the member's rows. */
async function statementsOf(memberId: string): Promise<number> {
  const res = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: 3000 }]) });
  expect(res.errors).toBeUndefined();
  return Number(res.headers['x-db-queries']);
}

beforeAll(async () => {
  key = await b.apiKey();
  admin = (await b.admin()).auth;
  await b.baseRate(1, 100);
});

/**
 * The hot path's cost in SQL statements, per programme shape: what it runs through the earning pipeline, which gathers
 * every contributor's reads in one statement. Before the pipeline it ran 15, 20, 23 and 36; before the one-statement
 * write (2026-12-06) 15, 17, 19 and 27. The response's `lines` field costs one more, after the commit.
 */
describe('recordOrder statements', () => {
  const counts: Record<string, number> = {};
  afterAll(() => console.log(`recordOrder statements: ${JSON.stringify(counts)}`));

  it('a member on the base rate alone', async () => {
    const m = await b.member().save();
    counts.first = await statementsOf(m.id);
    counts.plain = await statementsOf(m.id);
    // The replay check with the terms' version, the member, the pending referrer, begin, products with the lock, the
    // reads, the write, commit; and the response's lines.
    expect(counts.plain).toBeLessThanOrEqual(9);
    // The ceiling script runs the same statements (bench/pgbench/record-order.sql), the tier row's update aside.
    expect(pgbenchStatements('record-order.sql', false)).toBe(counts.plain - 1);
  });

  it('with tiers, a daily cap and a paid plan', async () => {
    const ctx = b.ctx();
    await h.app.services.tiers.upsert(ctx, { code: 'BASE', name: 'Base', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
    await h.app.services.tiers.upsert(ctx, { code: 'TOP', name: 'Top', threshold: 50, earnMultiplierPercent: 150, benefitFlags: [] });
    await b.rule({ name: 'Daily cap', kind: 'DAILY_CAP', capPoints: 10_000 });
    await h.app.services.plans.upsert(ctx, { code: 'PLUS', name: 'Plus', feeMinor: 500, currency: 'GBP', durationDays: 30, earnMultiplierPercent: 120, benefitFlags: [], isActive: true } as never);
    const m = await b.member().save();
    await h.app.services.plans.subscribe(ctx, { memberId: m.id, planCode: 'PLUS' } as never);
    await statementsOf(m.id);
    counts.tiered = await statementsOf(m.id);
    // The tier row's period extended (the ORM's flush), and the daily cap's and plan's reads in the one read.
    expect(counts.tiered).toBeLessThanOrEqual(11);
    expect(pgbenchStatements('record-order.sql', true)).toBeLessThanOrEqual(counts.tiered - 1);
  });

  it('a member treated in a running bonus campaign', async () => {
    const m = await b.member().save();
    const segment = await h.app.services.segments.create(b.ctx(), { name: `stmt ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: 'ZZ' }, kind: SegmentKind.DYNAMIC } as never);
    const id = randomUUID();
    await h.sql(
      `insert into campaign (id, name, segment_id, status, action_kind, bonus_fixed_points, holdout_share, starts_at, created_by, created_at, updated_at)
       values (?, 'Bonus', ?, 'ACTIVE', 'BONUS_POINTS', 7, 0, now() - interval '1 day', 'test', now(), now())`,
      [id, segment.id],
    );
    await h.sql(`insert into campaign_member (campaign_id, member_id, assigned_group, assigned_at) values (?, ?, 'TREATED', now())`, [id, m.id]);
    await statementsOf(m.id);
    counts.bonus = await statementsOf(m.id);
    expect(counts.bonus).toBeLessThanOrEqual(13);
  });

  it("a referred member's first order", async () => {
    const referrer = (await h.gql(admin, ENROL, { input: { email: `r-${randomUUID()}@test.example` } })).data.enrolMember;
    const referred = (await h.gql(admin, ENROL, { input: { email: `d-${randomUUID()}@test.example`, referralCode: referrer.referralCode } })).data.enrolMember;
    counts.referral = await statementsOf(referred.id);
    expect(counts.referral).toBeLessThanOrEqual(22);
  });
});

describe('redeemReward statements', () => {
  it('a member redeeming a reward completed at once, as the ceiling script does', async () => {
    const m = await b.member().save();
    await h.gql(admin, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
      i: { memberId: m.id, points: 10, reason: 'test balance', idempotencyKey: `seed-${m.id}` },
    });
    const reward = await h.gql(admin, `mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }`, {
      i: { code: `STMT-${randomUUID().slice(0, 8).toUpperCase()}`, name: 'Donation', kind: 'DONATION', partner: 'Charity', costPoints: 1 },
    });
    expect(reward.errors).toBeUndefined();
    const redeem = () =>
      h.gql(key.auth, `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }`, {
        input: { memberId: m.id, rewardId: reward.data.upsertReward.id, idempotencyKey: randomUUID() },
      });
    await redeem();
    const res = await redeem();
    expect(res.errors).toBeUndefined();
    const statements = Number(res.headers['x-db-queries']);
    console.log(`redeemReward statements: ${statements}`);
    // The replay check with the voucher validity, the member's status and the reward's inputs; then the lock, checks and
    // writes as one statement of its own (7 statements in 5 round trips before 2026-12-10, 4 of them under the lock).
    expect(statements).toBeLessThanOrEqual(2);
    expect(pgbenchStatements('redeem.sql', false)).toBe(statements);
  });
});
