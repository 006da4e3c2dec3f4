import { randomUUID } from 'node:crypto';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';

const h = useHarness();
const b = build(h);

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode } }`;

let key: { auth: { apiKey: string } };
let admin: { token: string };

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
 * every contributor's reads in one statement. Before the pipeline it ran 15, 20, 23 and 36.
 */
describe('recordOrder statements', () => {
  const counts: Record<string, number> = {};
  afterAll(() => console.log(`recordOrder statements: ${JSON.stringify(counts)}`));

  it('a member on the base rate alone', async () => {
    const m = await b.member().save();
    counts.first = await statementsOf(m.id);
    counts.plain = await statementsOf(m.id);
    expect(counts.plain).toBeLessThanOrEqual(15);
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
    expect(counts.tiered).toBeLessThanOrEqual(17);
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
    expect(counts.bonus).toBeLessThanOrEqual(19);
  });

  it("a referred member's first order", async () => {
    const referrer = (await h.gql(admin, ENROL, { input: { email: `r-${randomUUID()}@test.example` } })).data.enrolMember;
    const referred = (await h.gql(admin, ENROL, { input: { email: `d-${randomUUID()}@test.example`, referralCode: referrer.referralCode } })).data.enrolMember;
    counts.referral = await statementsOf(referred.id);
    expect(counts.referral).toBeLessThanOrEqual(27);
  });
});
