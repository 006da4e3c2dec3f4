import { expectError, useHarness } from '../../../test/support/harness';
import { SalesChannelKind } from '../../../test/fixtures/build';
import { DAY_MS, localDayNumber, startOfLocalDayNumber } from '@loyalty/api/extension-api';
import { plugin } from '../src';
import { activityFixtures, key, RECORD } from './support';
import { parseExposition, samples } from '../../../test/support/prometheus';

const h = useHarness({}, { plugins: [plugin] });
const f = activityFixtures(h);
const b = f.b;

const HOUR_MS = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

let web: Awaited<ReturnType<typeof b.apiKey>>;

beforeAll(async () => {
  web = await b.apiKey(['activities:write']);
});

describe('recordActivity', () => {
  it("credits the type's points as an available lot with reason ACTIVITY, and records activity.recorded then points.earned", async () => {
    const type = await f.type({ points: 25 });
    const member = await b.member().save();
    const res = await f.record(web.auth, { member: { id: member.id }, type: type.code, attributes: { storeCode: 'LDN-01', rating: 5 } });
    expect(res.errors).toBeUndefined();
    const activity = res.data.recordActivity;
    expect(activity).toMatchObject({ memberId: member.id, type: type.code, points: 25, outcome: 'CREDITED', channelId: web.channelId, channelKind: 'WEB', attributes: { storeCode: 'LDN-01', rating: 5 } });

    const ledger = await h.sql(`select reason, available_delta::int as available, pending_delta::int as pending, source_type, source_id from ledger_entry where member_id = ?`, [member.id]);
    expect(ledger).toEqual([{ reason: 'ACTIVITY', available: 25, pending: 0, source_type: 'activity', source_id: activity.id }]);
    const lots = await h.sql(`select points, state from point_lot where member_id = ?`, [member.id]);
    expect(lots).toEqual([{ points: 25, state: 'AVAILABLE' }]);
    expect(await f.balance(member.id)).toEqual({ available: 25, lifetime: 25 });

    const events = await h.sql<{ type: string; payload: any }>(`select type, payload from event_outbox where member_id = ? and type <> 'member.enrolled' order by tx_id, id`, [member.id]);
    expect(events.map((e) => e.type)).toEqual(['activity.recorded', 'points.earned']);
    expect(events[0].payload).toEqual({ memberId: member.id, activityId: activity.id, type: type.code, points: 25, outcome: 'CREDITED', occurredAt: activity.occurredAt });
    expect(events[1].payload).toMatchObject({ memberId: member.id, points: 25, sourceType: 'activity', sourceId: activity.id, isPending: false });
  });

  it('records an activity of a 0-point type as NO_POINTS, with activity.recorded and no ledger row', async () => {
    const type = await f.type({ points: 0 });
    const member = await b.member().save();
    const res = await f.record(web.auth, { member: { id: member.id }, type: type.code });
    expect(res.data.recordActivity).toMatchObject({ points: 0, outcome: 'NO_POINTS' });
    expect(await f.footprint(member.id)).toMatchObject({ activities: 1, ledger: 0, lots: 0 });
    const events = await h.sql<{ type: string }>(`select type from event_outbox where member_id = ? order by id`, [member.id]);
    expect(events.map((e) => e.type)).toEqual(['member.enrolled', 'activity.recorded']);
  });

  it('answers 50 concurrent replays of one activity with the same activity, credited once', async () => {
    const type = await f.type({ points: 40 });
    const member = await b.member().save();
    const input = { member: { id: member.id }, type: type.code, idempotencyKey: key('replay'), occurredAt: ago(HOUR_MS).toISOString(), attributes: { source: 'app' } };
    const results = await Promise.all(Array.from({ length: 50 }, () => h.gql(web.auth, RECORD, { input })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const answers = results.map((r) => r.data.recordActivity);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ points: 40, outcome: 'CREDITED' });

    expect(await f.footprint(member.id)).toMatchObject({ activities: 1, ledger: 1, lots: 1 });
    expect(await f.balance(member.id)).toEqual({ available: 40, lifetime: 40 });
    const [{ n }] = await h.sql(`select count(*)::int as n from event_outbox where type = 'points.earned' and member_id = ?`, [member.id]);
    expect(n).toBe(1);
  });

  it('answers a replay with the stored activity after its type was deactivated', async () => {
    const type = await f.type({ points: 9 });
    const member = await b.member().save();
    const input = { member: { id: member.id }, type: type.code, idempotencyKey: key('late-replay') };
    const first = await h.gql(web.auth, RECORD, { input });
    const off = await h.gql(await f.adminAuth(), `mutation U($input: UpdateActivityTypeInput!) { updateActivityType(input: $input) { isActive } }`, { input: { id: type.id, isActive: false } });
    expect(off.data.updateActivityType.isActive).toBe(false);
    const again = await h.gql(web.auth, RECORD, { input });
    expect(again.errors).toBeUndefined();
    expect(again.data.recordActivity).toEqual(first.data.recordActivity);
    expect(await f.balance(member.id)).toMatchObject({ available: 9 });
  });

  it('refuses a replay with another body as CONFLICT/IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    const type = await f.type();
    const member = await b.member().save();
    const idempotencyKey = key('reuse');
    expect((await f.record(web.auth, { member: { id: member.id }, type: type.code, idempotencyKey, attributes: { a: 1 } })).errors).toBeUndefined();
    const before = await f.footprint();
    const err = expectError(await f.record(web.auth, { member: { id: member.id }, type: type.code, idempotencyKey, attributes: { a: 2 } }), 'CONFLICT');
    expect(err.extensions.reason).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await f.footprint()).toEqual(before);
  });

  it('keeps idempotency keys per channel: the same key from another channel is another activity', async () => {
    const type = await f.type({ points: 5 });
    const member = await b.member().save();
    const other = await b.apiKey(['activities:write'], SalesChannelKind.APP);
    const input = { member: { id: member.id }, type: type.code, idempotencyKey: key('shared') };
    const [one, two] = [await h.gql(web.auth, RECORD, { input }), await h.gql(other.auth, RECORD, { input })];
    expect(one.data.recordActivity.id).not.toBe(two.data.recordActivity.id);
    expect(await f.balance(member.id)).toMatchObject({ available: 10 });
  });

  it('holds capPerDay under concurrency: 20 different activities at once credit exactly 3, the rest CAPPED_DAY', async () => {
    const type = await f.type({ points: 7, capPerDay: 3 });
    const member = await b.member().save();
    const occurredAt = ago(HOUR_MS).toISOString();
    const results = await Promise.all(Array.from({ length: 20 }, () => f.record(web.auth, { member: { id: member.id }, type: type.code, occurredAt })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const outcomes = results.map((r) => r.data.recordActivity.outcome);
    expect(outcomes.filter((o) => o === 'CREDITED')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'CAPPED_DAY')).toHaveLength(17);
    expect(await f.footprint(member.id)).toMatchObject({ activities: 20, ledger: 3, lots: 3 });
    expect(await f.balance(member.id)).toEqual({ available: 21, lifetime: 21 });
  });

  it('holds capLifetime and capPerWeek, the lifetime cap reported first', async () => {
    const lifetime = await f.type({ points: 1, capLifetime: 2, capPerWeek: 5 });
    const weekly = await f.type({ points: 1, capPerWeek: 2 });
    const member = await b.member().save();
    const outcomes = async (code: string, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await f.record(web.auth, { member: { id: member.id }, type: code, occurredAt: ago(HOUR_MS + i * 1000).toISOString() })).data.recordActivity.outcome);
      return out;
    };
    expect(await outcomes(lifetime.code, 3)).toEqual(['CREDITED', 'CREDITED', 'CAPPED_LIFETIME']);
    expect(await outcomes(weekly.code, 3)).toEqual(['CREDITED', 'CREDITED', 'CAPPED_WEEK']);
  });

  it('credits no two activities closer than minGapMinutes, whichever arrives first', async () => {
    const type = await f.type({ points: 3, minGapMinutes: 60 });
    const member = await b.member().save();
    const at = (minutesAgo: number) => f.record(web.auth, { member: { id: member.id }, type: type.code, occurredAt: ago(minutesAgo * 60_000).toISOString() });
    expect((await at(300)).data.recordActivity.outcome).toBe('CREDITED');
    expect((await at(270)).data.recordActivity.outcome).toBe('TOO_SOON');
    expect((await at(200)).data.recordActivity.outcome).toBe('CREDITED');
    // Sent late: 30 minutes after the first credited one.
    expect((await at(330)).data.recordActivity.outcome).toBe('TOO_SOON');
    expect((await at(400)).data.recordActivity.outcome).toBe('CREDITED');
    expect(await f.balance(member.id)).toMatchObject({ available: 9 });
  });

  it("counts capPerDay on the programme's local day: across UTC midnight is one New York day, across New York midnight two", async () => {
    const zone = 'America/New_York';
    await b.settings({ timeZone: zone });
    try {
      const type = await f.type({ points: 2, capPerDay: 1 });
      const utcMidnight = Math.floor((Date.now() - 3 * DAY_MS) / DAY_MS) * DAY_MS;
      const nyMidnight = startOfLocalDayNumber(localDayNumber(new Date(Date.now() - 3 * DAY_MS), zone), zone).getTime();
      const pair = async (midnight: number) => {
        const member = await b.member().save();
        const out: string[] = [];
        for (const offset of [-30, 30]) {
          const res = await f.record(web.auth, { member: { id: member.id }, type: type.code, occurredAt: new Date(midnight + offset * 60_000).toISOString() });
          out.push(res.data.recordActivity.outcome);
        }
        return out;
      };
      expect(await pair(utcMidnight)).toEqual(['CREDITED', 'CAPPED_DAY']);
      expect(await pair(nyMidnight)).toEqual(['CREDITED', 'CREDITED']);
      // The same pair across UTC midnight in UTC is two days.
      await b.settings({ timeZone: 'UTC' });
      expect(await pair(utcMidnight)).toEqual(['CREDITED', 'CREDITED']);
    } finally {
      // The settings row outlives the file (the harness keeps it): leave the time zone as found.
      await b.settings({ timeZone: 'UTC' });
    }
  });

  it("credits only members of the type's tiers and segment; others are NOT_ELIGIBLE, still recorded", async () => {
    const ctx = b.ctx();
    await h.app.services.tiers.upsert(ctx, { code: 'GREEN', name: 'Green', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
    await h.app.services.tiers.upsert(b.ctx(), { code: 'GOLD', name: 'Gold', threshold: 100_000, earnMultiplierPercent: 100, benefitFlags: [] });
    const segment = await h.app.services.segments.create(b.ctx(), { name: `GB ${key()}`, kind: 'DYNAMIC' as never, rule: { attribute: 'country', op: 'eq', value: 'GB' } });
    const green = await f.type({ points: 4, tierCodes: ['GREEN'] });
    const gold = await f.type({ points: 4, tierCodes: ['GOLD'] });
    const british = await f.type({ points: 4, segmentId: segment.id });
    const gb = await b.member().inCountry('GB').save();
    const fr = await b.member().inCountry('FR').save();
    const outcome = async (memberId: string, code: string) => (await f.record(web.auth, { member: { id: memberId }, type: code })).data.recordActivity.outcome;
    expect(await outcome(gb.id, green.code)).toBe('CREDITED');
    expect(await outcome(gb.id, gold.code)).toBe('NOT_ELIGIBLE');
    expect(await outcome(gb.id, british.code)).toBe('CREDITED');
    expect(await outcome(fr.id, british.code)).toBe('NOT_ELIGIBLE');
    expect(await f.footprint(fr.id)).toMatchObject({ activities: 1, ledger: 0 });
    expect(await f.balance(gb.id)).toMatchObject({ available: 8 });
  });

  it('finds the member by an identifier, and credits the survivor when the member named was merged', async () => {
    const type = await f.type({ points: 6 });
    const survivor = await b.member().save();
    const absorbed = await b.member().withEmail().save();
    const res = await h.gql(await f.adminAuth(), `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`, {
      input: { survivorId: survivor.id, absorbedId: absorbed.id },
    });
    expect(res.errors).toBeUndefined();
    const byId = await f.record(web.auth, { member: { id: absorbed.id }, type: type.code });
    expect(byId.data.recordActivity.memberId).toBe(survivor.id);
    const byEmail = await f.record(web.auth, { member: { identifierType: 'EMAIL', identifierValue: absorbed.email }, type: type.code });
    expect(byEmail.errors).toBeUndefined();
    expect(byEmail.data.recordActivity.memberId).toBe(survivor.id);
    expect(await f.balance(survivor.id)).toMatchObject({ available: 12 });
    expect(await f.footprint(absorbed.id)).toMatchObject({ activities: 0, ledger: 0 });
  });

  it("moves the absorbed member's activities to the survivor on merge, so the caps count both", async () => {
    const type = await f.type({ points: 1, capLifetime: 1 });
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    expect((await f.record(web.auth, { member: { id: absorbed.id }, type: type.code })).data.recordActivity.outcome).toBe('CREDITED');
    await h.gql(await f.adminAuth(), `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`, {
      input: { survivorId: survivor.id, absorbedId: absorbed.id },
    });
    expect(await f.footprint(absorbed.id)).toMatchObject({ activities: 0 });
    expect(await f.footprint(survivor.id)).toMatchObject({ activities: 1 });
    expect((await f.record(web.auth, { member: { id: survivor.id }, type: type.code })).data.recordActivity.outcome).toBe('CAPPED_LIFETIME');
  });

  it("clears an erased member's activity attributes and keeps the facts; recording for them is CONFLICT/MEMBER_ERASED", async () => {
    const type = await f.type({ points: 2 });
    const member = await b.member().save();
    await f.record(web.auth, { member: { id: member.id }, type: type.code, attributes: { review: 'Lovely staff, ask for Sam' } });
    const erased = await h.gql(await f.adminAuth(), `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id status } }`, { input: { id: member.id, reason: 'GDPR-1' } });
    expect(erased.errors).toBeUndefined();
    const rows = await h.sql(`select attributes, outcome, points from activity_record where member_id = ?`, [member.id]);
    expect(rows).toEqual([{ attributes: {}, outcome: 'CREDITED', points: 2 }]);
    const err = expectError(await f.record(web.auth, { member: { id: member.id }, type: type.code }), 'CONFLICT');
    expect(err.extensions.reason).toBe('MEMBER_ERASED');
  });
});

describe('recordActivity refuses bad input and writes nothing', () => {
  let member: { id: string };
  let open: { code: string };
  beforeAll(async () => {
    member = await b.member().save();
    open = await f.type({ points: 5 });
  });

  const refused = async (auth: any, input: Record<string, unknown>, code: string) => {
    const before = await f.footprint();
    const err = expectError(await f.record(auth, { member: { id: member.id }, ...input }), code);
    expect(await f.footprint()).toEqual(before);
    return err;
  };

  it('an unknown type is ACTIVITY_TYPE_UNKNOWN, counted in /metrics under its own code (the plugin declares it)', async () => {
    const counted = async () =>
      samples(parseExposition((await h.http().get('/metrics')).text), 'loyalty_graphql_requests_total').filter((x) => x.labels.code === 'ACTIVITY_TYPE_UNKNOWN').reduce((n, x) => n + x.value, 0);
    const before = await counted();
    const err = await refused(web.auth, { type: 'no_such_type' }, 'ACTIVITY_TYPE_UNKNOWN');
    expect(err.extensions.type).toBe('no_such_type');
    expect(await counted()).toBe(before + 1);
  });

  it('an inactive type is ACTIVITY_TYPE_UNKNOWN', async () => {
    const type = await f.type({ isActive: false });
    await refused(web.auth, { type: type.code }, 'ACTIVITY_TYPE_UNKNOWN');
  });

  it("a type the key's channel kind may not send is ACTIVITY_CHANNEL_NOT_ALLOWED; a till may", async () => {
    const type = await f.type({ channelKinds: ['STORE'] });
    const err = await refused(web.auth, { type: type.code }, 'ACTIVITY_CHANNEL_NOT_ALLOWED');
    expect(err.extensions).toMatchObject({ channelKind: 'WEB', allowed: ['STORE'] });
    const till = await b.apiKey(['activities:write'], SalesChannelKind.STORE);
    expect((await f.record(till.auth, { member: { id: member.id }, type: type.code })).data.recordActivity.outcome).toBe('CREDITED');
  });

  it('attributes over 4 KB of JSON are ACTIVITY_ATTRIBUTES_TOO_LARGE', async () => {
    const err = await refused(web.auth, { type: open.code, attributes: { text: 'x'.repeat(4100) } }, 'ACTIVITY_ATTRIBUTES_TOO_LARGE');
    expect(err.extensions.limitBytes).toBe(4096);
  });

  it('attributes nested deeper than 4 levels are ACTIVITY_ATTRIBUTES_TOO_LARGE; 4 levels are fine', async () => {
    await refused(web.auth, { type: open.code, attributes: { a: { b: { c: { d: { e: 1 } } } } } }, 'ACTIVITY_ATTRIBUTES_TOO_LARGE');
    await refused(web.auth, { type: open.code, attributes: { a: [[[[1]]]] } }, 'ACTIVITY_ATTRIBUTES_TOO_LARGE');
    expect((await f.record(web.auth, { member: { id: member.id }, type: open.code, attributes: { a: { b: { c: [1] } } } })).errors).toBeUndefined();
  });

  it('attributes that are not a JSON object, or a type code over 64 characters, are BAD_USER_INPUT', async () => {
    await refused(web.auth, { type: open.code, attributes: [1, 2] }, 'BAD_USER_INPUT');
    await refused(web.auth, { type: open.code, attributes: 'text' }, 'BAD_USER_INPUT');
    await refused(web.auth, { type: 'x'.repeat(65) }, 'BAD_USER_INPUT');
  });

  it('occurredAt more than 5 minutes ahead or more than 90 days back is BAD_USER_INPUT naming it', async () => {
    const ahead = await refused(web.auth, { type: open.code, occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() }, 'BAD_USER_INPUT');
    expect(ahead.extensions.fields).toEqual([{ path: 'input.occurredAt', message: expect.stringContaining('future') }]);
    const old = await refused(web.auth, { type: open.code, occurredAt: ago(91 * DAY_MS).toISOString() }, 'BAD_USER_INPUT');
    expect(old.extensions.fields).toEqual([{ path: 'input.occurredAt', message: expect.stringContaining('90 days') }]);
  });

  it('an idempotency key over 100 characters or blank is BAD_USER_INPUT', async () => {
    await refused(web.auth, { type: open.code, idempotencyKey: 'k'.repeat(101) }, 'BAD_USER_INPUT');
    await refused(web.auth, { type: open.code, idempotencyKey: '   ' }, 'BAD_USER_INPUT');
  });

  it('an unknown member is NOT_FOUND', async () => {
    await refused(web.auth, { type: open.code, member: { id: '00000000-0000-7000-8000-000000000000' } }, 'NOT_FOUND');
  });

  it('a key without the activities:write scope is FORBIDDEN', async () => {
    const orders = await b.apiKey(['orders:write', 'members:read']);
    await refused(orders.auth, { type: open.code }, 'FORBIDDEN');
  });
});
