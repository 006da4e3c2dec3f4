import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { ERASE, MERGE } from '../support/races';

const h = useHarness();
const b = build(h);

const DAY = 86_400_000;
const SUBSCRIBE = `mutation($input: SubscribeMemberInput!) { subscribeMemberToPlan(input: $input) { id startsAt endsAt } }`;
const CANCEL = `mutation($input: CancelMemberPlanInput!) { cancelMemberPlan(input: $input) { id cancelledAt } }`;
const PLANS = `query($id: ID!) { member(id: $id) { id plans { id startsAt endsAt cancelledAt } } }`;

let admin: { token: string };

beforeAll(async () => {
  admin = (await b.admin()).auth;
  const res = await h.gql(admin, `mutation($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { code } }`, {
    input: { code: 'MONTHLY', name: 'Monthly', currency: 'GBP', durationDays: 30, feeMinor: 499, earnMultiplierPercent: 150 },
  });
  expect(res.errors).toBeUndefined();
});

describe('subscribeMemberToPlan', () => {
  it('chains renewals paid at the same moment one after another: no two cover the same day', async () => {
    const member = await b.member().save();
    const results = await Promise.all(Array.from({ length: 6 }, () => h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY' } })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const periods = results.map((r) => r.data.subscribeMemberToPlan).sort((x, y) => Date.parse(x.startsAt) - Date.parse(y.startsAt));
    for (let i = 1; i < periods.length; i++) expect(periods[i].startsAt).toBe(periods[i - 1].endsAt);
    expect(Date.parse(periods[5].endsAt) - Date.parse(periods[0].startsAt)).toBe(6 * 30 * DAY);
  });

  it('lands a plan paid while its member is merged away on the survivor, and leaves none on the absorbed record', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const survivor = await b.member().save();
      const absorbed = await b.member().save();
      const [merge, ...subs] = await Promise.all([
        h.gql(admin, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } }),
        ...Array.from({ length: 3 }, () => h.gql(admin, SUBSCRIBE, { input: { memberId: absorbed.id, planCode: 'MONTHLY' } })),
      ]);
      expect(merge.errors).toBeUndefined();
      // Each is recorded (on whichever record it found first; the merge then moves it), or refused as merged.
      for (const s of subs) if (s.errors) expect(s.errors[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'MEMBER_MERGED' });
      const recorded = subs.filter((s) => !s.errors).length;
      const left = await h.sql(`select count(*)::int as n from member_plan where member_id = ?`, [absorbed.id]);
      expect(left[0].n).toBe(0);
      const onSurvivor = await h.sql<{ starts: string; ends: string }>(
        `select (extract(epoch from starts_at) * 1000)::bigint::text as starts, (extract(epoch from ends_at) * 1000)::bigint::text as ends from member_plan where member_id = ? order by starts_at`,
        [survivor.id],
      );
      expect(onSurvivor).toHaveLength(recorded);
      // Chained on the survivor too, whichever record each was written to first.
      for (let i = 1; i < onSurvivor.length; i++) expect(onSurvivor[i].starts).toBe(onSurvivor[i - 1].ends);
    }
  });

  it('cancels, as of the erasure, the plans of an erased member that have not ended, and leaves an ended one as it was', async () => {
    const member = await b.member().save();
    const at = (days: number) => new Date(Date.now() + days * DAY).toISOString();
    const subscribe = async (startsAt: string) => {
      const res = await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY', startsAt } });
      expect(res.errors).toBeUndefined();
      return res.data.subscribeMemberToPlan.id as string;
    };
    const ended = await subscribe(at(-100));
    const running = await subscribe(at(-10));
    const later = await subscribe(at(60));
    const erased = await h.gql(admin, ERASE, { input: { id: member.id, reason: 'request 9' } });
    expect(erased.errors).toBeUndefined();
    const [{ erased_at }] = await h.sql(`select erased_at from member where id = ?`, [member.id]);
    const plans = (await h.gql(admin, PLANS, { id: member.id })).data.member.plans as { id: string; cancelledAt: string | null }[];
    const cancelled = Object.fromEntries(plans.map((p) => [p.id, p.cancelledAt]));
    expect(cancelled).toEqual({ [ended]: null, [running]: new Date(erased_at).toISOString(), [later]: new Date(erased_at).toISOString() });
  });

  it('refuses an erased member, and a start more than 366 days away or beyond any date, with nothing written', async () => {
    const member = await b.member().save();
    for (const startsAt of [new Date(Date.now() + 400 * DAY).toISOString(), new Date(Date.now() - 400 * DAY).toISOString(), '+275760-09-13T00:00:00.000Z', '0001-01-01T00:00:00.000Z']) {
      const res = await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY', startsAt } });
      expect(res.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    const late = await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY', startsAt: new Date(Date.now() - 3 * DAY).toISOString() } });
    expect(late.errors).toBeUndefined();
    expect((await h.gql(admin, ERASE, { input: { id: member.id, reason: 'DSR-plans' } })).errors).toBeUndefined();
    const res = await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY' } });
    expect(expectError(res, 'CONFLICT').extensions.reason).toBe('MEMBER_ERASED');
    const rows = await h.sql(`select count(*)::int as n from member_plan where member_id = ?`, [member.id]);
    // The plan recorded before the erasure stays (a paid term is a financial record); nothing was added after it.
    expect(rows[0].n).toBe(1);
  });
});

describe('cancelMemberPlan', () => {
  it('cancels once: a second call answers the first cancellation, and an unknown or malformed id is refused', async () => {
    const member = await b.member().save();
    const sub = (await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'MONTHLY' } })).data.subscribeMemberToPlan;
    const [first, second] = await Promise.all([h.gql(admin, CANCEL, { input: { memberPlanId: sub.id } }), h.gql(admin, CANCEL, { input: { memberPlanId: sub.id } })]);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    const again = await h.gql(admin, CANCEL, { input: { memberPlanId: sub.id } });
    const stored = (await h.gql(admin, PLANS, { id: member.id })).data.member.plans[0].cancelledAt;
    expect(again.data.cancelMemberPlan.cancelledAt).toBe(stored);
    expect([first.data.cancelMemberPlan.cancelledAt, second.data.cancelMemberPlan.cancelledAt]).toContain(stored);
    const audits = await h.sql(`select count(*)::int as n from audit_entry where action = 'plan.cancel' and after->>'memberPlanId' = ?`, [sub.id]);
    expect(audits[0].n).toBe(1);
    expectError(await h.gql(admin, CANCEL, { input: { memberPlanId: '01900000-0000-7000-8000-000000000001' } }), 'NOT_FOUND');
    expectError(await h.gql(admin, CANCEL, { input: { memberPlanId: 'not-an-id\u0000' } }), 'BAD_USER_INPUT');
  });
});
