import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectError, useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { plugin } from '../src';
import { AUDIENCE_COUNT, CHALLENGES, challengeInput, createChallenge, CREATE_CHALLENGE, recordOrder, UPDATE_CHALLENGE } from './support';

const h = useHarness({}, { plugins: [plugin] });
const b = build(h);
const DAY = 86_400_000;

const challengeCount = async () => (await h.sql<{ n: number }>(`select count(*)::int as n from challenge`))[0].n;
const auditCount = async () => (await h.sql<{ n: number }>(`select count(*)::int as n from audit_entry where entity_type = 'Challenge'`))[0].n;

describe('createChallenge', () => {
  it('creates an inactive challenge by default, audited, listed with its status', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const input = challengeInput({ isActive: undefined, description: '  Three visits in three weeks  ', currency: undefined });
    const res = await h.gql(marketer.auth, CREATE_CHALLENGE, { input });
    expect(res.errors).toBeUndefined();
    expect(res.data.createChallenge).toMatchObject({ code: input.code, isActive: false, status: 'DRAFT', currency: 'GBP', personalisation: 'NONE', holdoutPercent: 0, rewardPoints: 100 });
    const [audit] = await h.sql(`select action, actor, entity_id from audit_entry where entity_type = 'Challenge'`);
    expect(audit).toEqual({ action: 'challenge.create', actor: `admin:${marketer.id}`, entity_id: res.data.createChallenge.id });

    const analyst = await b.admin(AdminRole.ANALYST);
    const list = await h.gql(analyst.auth, CHALLENGES);
    expect(list.errors).toBeUndefined();
    expect(list.data.challenges.map((c: { id: string }) => c.id)).toContain(res.data.createChallenge.id);
  });

  it('refuses a window that ends before it starts (or at its start, or after a year) with CHALLENGE_WINDOW_INVALID, writing nothing', async () => {
    const admin = await b.admin();
    const [challenges, audits] = [await challengeCount(), await auditCount()];
    const t = Date.now();
    for (const [startsAt, endsAt] of [
      [t, t - DAY],
      [t, t],
      [t, t + 367 * DAY],
    ]) {
      const res = await h.gql(admin.auth, CREATE_CHALLENGE, { input: challengeInput({ startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() }) });
      const error = expectError(res, 'CHALLENGE_WINDOW_INVALID');
      expect(error.extensions).toMatchObject({ startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() });
    }
    expect([await challengeCount(), await auditCount()]).toEqual([challenges, audits]);
  });

  it.each([
    ['code', { code: 'Three Visits' }, 'input.code'],
    ['code too long', { code: `c${'x'.repeat(40)}` }, 'input.code'],
    ['blank name', { name: '   ' }, 'input.name'],
    ['long name', { name: 'n'.repeat(101) }, 'input.name'],
    ['long description', { description: 'd'.repeat(1001) }, 'input.description'],
    ['zero target', { target: 0 }, 'input.target'],
    ['fractional target', { target: 2.5 }, 'input.target'],
    ['order target above 1000', { target: 1001 }, 'input.target'],
    ['spend above 10^12', { goalKind: 'SPEND', target: 1e12 + 1 }, 'input.target'],
    ['streak longer than the window', { goalKind: 'STREAK_DAYS', target: 30 }, 'input.target'],
    ['activity count without a type', { goalKind: 'ACTIVITY_COUNT' }, 'input.activityType'],
    ['activity type on an order count', { activityType: 'review_written' }, 'input.activityType'],
    ['hostile activity type', { goalKind: 'ACTIVITY_COUNT', activityType: "x'; drop table challenge; --" }, 'input.activityType'],
    ['currency', { currency: 'gbp' }, 'input.currency'],
    ['personalised streak', { goalKind: 'STREAK_DAYS', target: 2, personalisation: 'PERSONAL_PLUS' }, 'input.personalisation'],
    ['delta without personalisation', { personalDelta: 1 }, 'input.personalDelta'],
    ['negative delta', { personalisation: 'PERSONAL_PLUS', personalDelta: -1 }, 'input.personalDelta'],
    ['lookback of a year', { personalisation: 'PERSONAL_PLUS', personalLookbackWeeks: 53 }, 'input.personalLookbackWeeks'],
    ['holdout above half', { holdoutPercent: 51 }, 'input.holdoutPercent'],
    ['segment id', { audienceSegmentId: 'everyone' }, 'input.audienceSegmentId'],
    ['points missing', { reward: { kind: 'POINTS' } }, 'input.reward.points'],
    ['points above a million', { reward: { kind: 'POINTS', points: 1_000_001 } }, 'input.reward.points'],
    ['badge fields on points', { reward: { kind: 'POINTS', points: 10, badgeCode: 'x_y' } }, 'input.reward.badgeCode'],
    ['badge without a name', { reward: { kind: 'BADGE', badgeCode: 'regular' } }, 'input.reward.badgeName'],
    ['reward id', { reward: { kind: 'REWARD', rewardId: 'coffee' } }, 'input.reward.rewardId'],
  ])('refuses a bad %s with BAD_USER_INPUT naming the field, writing nothing', async (_what, overrides, field) => {
    const admin = await b.admin();
    const before = await challengeCount();
    const res = await h.gql(admin.auth, CREATE_CHALLENGE, { input: challengeInput(overrides) });
    const error = expectError(res, 'BAD_USER_INPUT');
    expect(error.extensions.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(await challengeCount()).toBe(before);
  });

  it('refuses an unknown segment or reward with NOT_FOUND', async () => {
    const admin = await b.admin();
    const unknown = '01a00000-0000-7000-8000-000000000000';
    expect(expectError(await h.gql(admin.auth, CREATE_CHALLENGE, { input: challengeInput({ audienceSegmentId: unknown }) }), 'NOT_FOUND').extensions.entity).toBe('Segment');
    expect(expectError(await h.gql(admin.auth, CREATE_CHALLENGE, { input: challengeInput({ reward: { kind: 'REWARD', rewardId: unknown } }) }), 'NOT_FOUND').extensions.entity).toBe('Reward');
  });

  it('refuses a code another challenge has with CHALLENGE_CODE_TAKEN', async () => {
    const admin = await b.admin();
    const first = await createChallenge(h, admin.auth);
    const before = await challengeCount();
    const res = await h.gql(admin.auth, CREATE_CHALLENGE, { input: challengeInput({ code: first.code }) });
    expect(expectError(res, 'CHALLENGE_CODE_TAKEN').extensions.challengeCode).toBe(first.code);
    expect(await challengeCount()).toBe(before);
  });

  it('is for challenges:manage: an analyst and a channel key are refused', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    expectError(await h.gql(analyst.auth, CREATE_CHALLENGE, { input: challengeInput() }), 'FORBIDDEN');
    const web = await b.apiKey();
    expectError(await h.gql(web.auth, CREATE_CHALLENGE, { input: challengeInput() }), 'FORBIDDEN');
    expectError(await h.gql(web.auth, CHALLENGES), 'FORBIDDEN');
  });
});

describe('updateChallenge', () => {
  it('changes anything while no member has progress, then only name, description, end and isActive', async () => {
    const admin = await b.admin();
    const web = await b.apiKey();
    const challenge = await createChallenge(h, admin.auth, { target: 4 });
    const retargeted = await h.gql(admin.auth, UPDATE_CHALLENGE, { input: { id: challenge.id, target: 3, reward: { kind: 'BADGE', badgeCode: 'regular', badgeName: 'Regular' } } });
    expect(retargeted.errors).toBeUndefined();
    expect(retargeted.data.updateChallenge).toMatchObject({ target: 3, rewardKind: 'BADGE', rewardPoints: null, badgeCode: 'regular' });

    const member = await b.member().save();
    await recordOrder(h, web.auth, member.id);
    const refused = await h.gql(admin.auth, UPDATE_CHALLENGE, { input: { id: challenge.id, target: 2, name: 'Two visits' } });
    expect(expectError(refused, 'CHALLENGE_NOT_EDITABLE').extensions.fields).toEqual(['target']);
    // The same values again are no change.
    const same = await h.gql(admin.auth, UPDATE_CHALLENGE, { input: { id: challenge.id, target: 3, name: 'Three visits, again', endsAt: new Date(Date.now() + 20 * DAY).toISOString(), isActive: false } });
    expect(same.errors).toBeUndefined();
    expect(same.data.updateChallenge).toMatchObject({ name: 'Three visits, again', isActive: false, status: 'DRAFT' });

    const backwards = await h.gql(admin.auth, UPDATE_CHALLENGE, { input: { id: challenge.id, endsAt: new Date(Date.now() - 20 * DAY).toISOString() } });
    expectError(backwards, 'CHALLENGE_WINDOW_INVALID');
    expect((await h.sql(`select action from audit_entry where entity_id = ? order by created_at`, [challenge.id])).map((a) => a.action)).toEqual([
      'challenge.create',
      'challenge.update',
      'challenge.update',
    ]);
  });

  it('answers NOT_FOUND for an unknown challenge, BAD_USER_INPUT for an argument that is not an id', async () => {
    const admin = await b.admin();
    expectError(await h.gql(admin.auth, UPDATE_CHALLENGE, { input: { id: 'nope', name: 'x' } }), 'NOT_FOUND');
    expectError(await h.gql(admin.auth, `query($id: ID!) { challenge(id: $id) { id } }`, { id: '01a00000-0000-7000-8000-000000000000' }), 'NOT_FOUND');
    expect(expectError(await h.gql(admin.auth, `query($id: ID!) { challenge(id: $id) { id } }`, { id: "1' or '1'='1" }), 'BAD_USER_INPUT').extensions.fields).toEqual([
      { path: 'id', message: 'must be an id' },
    ]);
  });
});

describe('challengeAudienceCount', () => {
  it('counts every active member without a segment, and a segment’s members with one', async () => {
    const admin = await b.admin(AdminRole.MARKETER);
    for (const country of ['GB', 'GB', 'FR']) await b.member().inCountry(country).save();
    const seg = await h.gql(admin.auth, `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
      input: { name: 'French members', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'FR' } },
    });
    const [{ n: active }] = await h.sql(`select count(*)::int as n from member where status = 'ACTIVE'`);
    expect((await h.gql(admin.auth, AUDIENCE_COUNT, {})).data.challengeAudienceCount).toBe(active);
    const [{ n: french }] = await h.sql(`select count(*)::int as n from member where country = 'FR'`);
    expect((await h.gql(admin.auth, AUDIENCE_COUNT, { segmentId: seg.data.createSegment.id })).data.challengeAudienceCount).toBe(french);
    expectError(await h.gql(admin.auth, AUDIENCE_COUNT, { segmentId: '01a00000-0000-7000-8000-000000000000' }), 'NOT_FOUND');
  });
});

describe('event types', () => {
  it('challenge.completed and badge.awarded are event types webhooks subscribe to', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, `mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { eventTypes } } }`, {
      input: { url: 'https://hooks.example.com/challenges', eventTypes: ['CHALLENGE_COMPLETED', 'BADGE_AWARDED'] },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.registerWebhook.webhook.eventTypes).toEqual(['CHALLENGE_COMPLETED', 'BADGE_AWARDED']);
  });
});

describe('declared error codes', () => {
  it('are documented in schema/error-codes.json', () => {
    const codes = JSON.parse(readFileSync(path.join(__dirname, '../../../schema/error-codes.json'), 'utf8'));
    for (const code of ['CHALLENGE_WINDOW_INVALID', 'CHALLENGE_CODE_TAKEN', 'CHALLENGE_NOT_EDITABLE']) expect(typeof codes[code]).toBe('string');
  });
});
