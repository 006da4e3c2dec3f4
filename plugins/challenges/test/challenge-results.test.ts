import { useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { plugin } from '../src';
import { isInHoldout } from '../src/goals';
import { CHALLENGE_RESULTS, createChallenge, recordOrder } from './support';

const h = useHarness({}, { plugins: [plugin] });
const b = build(h);

afterEach(async () => {
  await h.sql(`update challenge set is_active = false`);
});

/**
 * A challenge (one order completes it, half the audience held out) for the members of a country's segment, and
 * members of that country placed by the holdout hash: `spends` each buy one order of that many minor units.
 */
async function challengeWith(country: string, spends: { participants: number[]; holdout: number[] }) {
  const admin = await b.admin();
  const segment = await h.gql(admin.auth, `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
    input: { name: `Members in ${country}`, kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: country } },
  });
  expect(segment.errors).toBeUndefined();
  const challenge = await createChallenge(h, admin.auth, { target: 1, holdoutPercent: 50, audienceSegmentId: segment.data.createSegment.id });
  // Members are enrolled elsewhere and moved into the segment's country once the hash has put them where they are wanted.
  const participants: string[] = [];
  const holdout: string[] = [];
  while (participants.length < spends.participants.length || holdout.length < spends.holdout.length) {
    const member = await b.member().inCountry('FR').save();
    const [group, wanted] = isInHoldout(challenge.id, member.id, 50) ? [holdout, spends.holdout.length] : [participants, spends.participants.length];
    if (group.length === wanted) continue;
    group.push(member.id);
    await h.sql(`update member set country = ? where id = ?`, [country, member.id]);
  }
  const web = await b.apiKey();
  for (const [i, id] of participants.entries()) await recordOrder(h, web.auth, id, { lines: [{ unitPriceMinor: spends.participants[i] }] });
  for (const [i, id] of holdout.entries()) await recordOrder(h, web.auth, id, { lines: [{ unitPriceMinor: spends.holdout[i] }] });
  return { challenge, participants, holdout };
}

async function resultsOf(challengeId: string) {
  const analyst = await b.admin(AdminRole.ANALYST);
  const res = await h.gql(analyst.auth, CHALLENGE_RESULTS, { id: challengeId });
  expect(res.errors).toBeUndefined();
  return res.data.challenge.results;
}

describe('challenge results: incremental spend per member with its 95% interval', () => {
  it('gives the difference of means a Welch interval worked out by hand, here including 0: not significant', async () => {
    const { challenge } = await challengeWith('IS', { participants: [100, 300, 500], holdout: [100, 100] });
    // Participants [100, 300, 500]: n₁ = 3, m₁ = 300, s₁² = (200² + 0 + 200²) / 2 = 40,000.
    // Holdout [100, 100]: n₀ = 2, m₀ = 100, s₀² = 0.
    // d = 300 − 100 = 200; SE = √(40,000/3 + 0/2) = √13,333.33 = 115.4701.
    // ν = SE⁴ / ((s₁²/n₁)²/(n₁−1) + 0) = 2 (the holdout adds no variance, so ν = n₁ − 1).
    // t(0.975, 2) = 0.95 / √(2 · 0.975 · 0.025) = 4.302653; d ± t·SE = 200 ± 496.8275 = [−296.8275, 696.8275].
    // Completion: 3 of 3 joined; Wilson with z² = 3.841459: centre (1 + z²/6) / (1 + z²/3) = 0.719250,
    // half-width z·√(z²/36) / (1 + z²/3) = 0.280750, so [0.438503, 1].
    const r = await resultsOf(challenge.id);
    expect(r).toMatchObject({
      joined: 3,
      completed: 3,
      completionRate: 1,
      holdoutMembers: 2,
      audienceMembers: 5,
      audienceHoldoutMembers: 2,
      participantSpendMinor: 900,
      holdoutSpendMinor: 200,
      spendPerMemberMinor: 300,
      holdoutSpendPerMemberMinor: 100,
      incrementalSpendPerMemberMinor: 200,
      significant: false,
    });
    const u = r.spendPerMemberUplift;
    expect(u.difference).toBe(200);
    expect(u.standardError).toBeCloseTo(115.4701, 4);
    expect(u.degreesOfFreedom).toBeCloseTo(2, 9);
    expect(u.low).toBeCloseTo(-296.8275, 3);
    expect(u.high).toBeCloseTo(696.8275, 3);
    expect(u.significant).toBe(false);
    expect(r.completionRateInterval.low).toBeCloseTo(0.438503, 6);
    expect(r.completionRateInterval.high).toBe(1);
    expect(r.verdict).toBe(
      'No significant difference yet: spend per audience member £3.00 not held out vs £1.00 held out, +£2.00 (95% CI -£2.97 to +£6.97). ' +
        'The interval includes zero, so the challenge cannot yet be said to have added spend; orders still to come in its window may change that.',
    );
  });

  it('calls a difference whose interval excludes 0 significant', async () => {
    const { challenge } = await challengeWith('NO', { participants: [1000, 1100, 1200], holdout: [100, 100] });
    // m₁ = 1100, s₁² = (100² + 0 + 100²) / 2 = 10,000; m₀ = 100, s₀² = 0. d = 1000, SE = √(10,000/3) = 57.7350, ν = 2,
    // d ± 4.302653 · 57.7350 = 1000 ± 248.4138 = [751.5862, 1248.4138]: above 0.
    const r = await resultsOf(challenge.id);
    expect(r.incrementalSpendPerMemberMinor).toBe(1000);
    expect(r.spendPerMemberUplift.low).toBeCloseTo(751.5862, 3);
    expect(r.spendPerMemberUplift.high).toBeCloseTo(1248.4138, 3);
    expect(r.spendPerMemberUplift.significant).toBe(true);
    expect(r.significant).toBe(true);
    expect(r.verdict).toBe(
      'The challenge made a significant difference: spend per audience member £11.00 not held out vs £1.00 held out, +£10.00 (95% CI +£7.52 to +£12.48).',
    );
  });

  it('gives no interval with a holdout of one member, and says why; the point estimate stays', async () => {
    const { challenge } = await challengeWith('DK', { participants: [100, 300], holdout: [100] });
    const r = await resultsOf(challenge.id);
    expect(r).toMatchObject({ audienceHoldoutMembers: 1, incrementalSpendPerMemberMinor: 100, spendPerMemberUplift: null, significant: false });
    expect(r.verdict).toBe(
      'No uplift can be measured: the holdout has 1 member in the audience, and an interval needs at least 2 (hold out more, or choose a larger audience, next time).',
    );
  });

  it('gives no interval when more members have progress than the audience now holds (a segment that lost members who joined)', async () => {
    const { challenge, participants } = await challengeWith('FI', { participants: [100, 300, 500], holdout: [100, 100] });
    await h.sql(`update member set country = 'FR' where id = ?`, [participants[0]]);
    const r = await resultsOf(challenge.id);
    // Three participants' rows, two audience members not held out: their spends are not those of the group's members.
    expect(r).toMatchObject({ joined: 3, audienceMembers: 4, audienceHoldoutMembers: 2, spendPerMemberMinor: 450, spendPerMemberUplift: null, significant: false });
    expect(r.verdict).toMatch(/^No uplift can be measured: more members have progress than the audience holds now/);
  });

  it('says a challenge without a holdout cannot measure uplift', async () => {
    const admin = await b.admin();
    const challenge = await createChallenge(h, admin.auth, { target: 1 });
    const r = await resultsOf(challenge.id);
    expect(r).toMatchObject({ incrementalSpendPerMemberMinor: null, spendPerMemberUplift: null, completionRateInterval: null, significant: false });
    expect(r.verdict).toBe('No uplift can be measured: the challenge has no holdout (hold out part of the audience in the next one).');
  });
});
