/**
 * Two admins (or one admin in two tabs) editing the same stored object at once. Each race is made certain: the first
 * edit is held HOLD_MS just before it commits (a trigger delays the audit entry of its last flush, when the
 * holding admin wrote it), with whatever locks it took and its changes not yet visible; the rival starts once it is
 * held. A write that reads the row before locking it then works from the row as it was before the held edit.
 *
 * After each race: no internal error, every refusal documented; both edits of different fields survive; a guard the
 * rival checks (a challenge's window, a launched campaign, a revoked key, the current password) sees the held edit; a
 * whole-object upsert leaves the row as one of the two inputs, never a mix of both; and the rival's audit entry
 * describes the row it changed.
 */
import { randomUUID } from 'node:crypto';
import { useHarness, type GqlResult } from '../support/harness';
import { build } from '../fixtures/build';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { UPSERT_REWARD, codesOf, ok, sleep, unexpected } from '../support/races';
import { ModelStore } from '../../recommender/src/training/store';

const h = useHarness({}, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const HOLD_MS = 700;
const DAY = 86_400_000;

type Result = GqlResult<any>;
type Admin = Awaited<ReturnType<ReturnType<typeof build>['admin']>>;

/** Everything this admin writes is held HOLD_MS before it commits. */
let holder: Admin;
let rival: Admin;
let seq = 0;
const unique = (prefix: string) => `${prefix}_${process.env.JEST_WORKER_ID}_${++seq}`;

const asHolder = (query: string, variables: Record<string, unknown>) => h.gql(holder.auth, query, variables);
const asRival = (query: string, variables: Record<string, unknown>) => h.gql(rival.auth, query, variables);

/** Starts `held` (an edit by the holder), and `other` once the held edit is being held; both answers. */
async function heldRace(held: () => Promise<Result>, other: () => Promise<Result>) {
  const first = held();
  // Polled rather than slept, so that a slow start of the held edit cannot let the rival pass it.
  for (const deadline = Date.now() + 2 * HOLD_MS; Date.now() < deadline; await sleep(10)) {
    const [{ n }] = await h.sql(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'`);
    if (n > 0) break;
  }
  const second = other();
  return { held: await first, rival: await second };
}

/** The rival's audit entry of `action` on the entity (the holder's is held, the rival's is not). */
async function rivalEntry(action: string, entityId: string) {
  const rows = await h.sql(`select before, after from audit_entry where action = ? and entity_id = ? and actor = ?`, [action, entityId, `admin:${rival.id}`]);
  expect(rows).toHaveLength(1);
  return rows[0] as { before: Record<string, any> | null; after: Record<string, any> | null };
}

beforeAll(async () => {
  holder = await b.admin();
  rival = await b.admin();
  await h.sql(`create table if not exists test_hold_actor (actor text primary key)`);
  await h.sql(`insert into test_hold_actor values (?) on conflict do nothing`, [`admin:${holder.id}`]);
  await h.sql(`create or replace function test_hold_audit() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from test_hold_actor where actor = new.actor) then perform pg_sleep(${HOLD_MS / 1000}); end if;
      return new;
    end $$`);
  await h.sql(`create or replace trigger test_hold_audit before insert on audit_entry for each row execute function test_hold_audit()`);
});

// Inside a block, so that it runs before the harness stops.
describe('the held edits', () => {
  afterAll(async () => {
    await h.sql(`drop trigger if exists test_hold_audit on audit_entry`);
  });

  describe('updateChallenge', () => {
    const CREATE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { id } }`;
    const UPDATE = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { id name target startsAt endsAt } }`;
    const create = async () =>
      (await ok(asRival(CREATE, {
        input: {
          code: unique('edits'),
          name: 'Edits',
          goalKind: 'ORDER_COUNT',
          target: 5,
          startsAt: new Date(Date.now() + 10 * DAY).toISOString(),
          endsAt: new Date(Date.now() + 20 * DAY).toISOString(),
          reward: { kind: 'POINTS', points: 50 },
        },
      }))).createChallenge.id as string;

    it('two changes of different fields both survive, and the second one’s audit entry starts from the first', async () => {
      const id = await create();
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id, name: 'Renamed' } }),
        () => asRival(UPDATE, { input: { id, target: 7 } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select name, target::int from challenge where id = ?`, [id])).toEqual([{ name: 'Renamed', target: 7 }]);
      const entry = await rivalEntry('challenge.update', id);
      expect({ before: entry.before!.name, after: entry.after!.name, target: entry.after!.target }).toEqual({ before: 'Renamed', after: 'Renamed', target: 7 });
    });

    it('a start and an end moved past each other: the second is refused CHALLENGE_WINDOW_INVALID, the window stays valid', async () => {
      const id = await create();
      const answers = await heldRace(
        // Each valid against the stored window, not against each other.
        () => asHolder(UPDATE, { input: { id, startsAt: new Date(Date.now() + 15 * DAY).toISOString() } }),
        () => asRival(UPDATE, { input: { id, endsAt: new Date(Date.now() + 12 * DAY).toISOString() } }),
      );
      expect(answers.held.errors).toBeUndefined();
      expect(codesOf([answers.rival])).toEqual(['CHALLENGE_WINDOW_INVALID']);
      const [row] = await h.sql(`select starts_at < ends_at as "isValid" from challenge where id = ?`, [id]);
      expect(row.isValid).toBe(true);
    });
  });

  /** A whole-object upsert raced with another of the same code: the row is one of the two inputs, whole. */
  describe.each([
    {
      name: 'upsertTier',
      query: `mutation($input: UpsertTierInput!) { upsertTier(input: $input) { id } }`,
      // Thresholds are unique across tiers: each code gets its own (the code ends in a sequence number).
      input: (code: string, i: number) => ({ code: code.toUpperCase(), name: ['Gold', 'Gold held', 'Gold'][i], threshold: [1000, 1000, 2000][i] + 10 * Number(code.split('_').pop()), earnMultiplierPercent: 150 }),
      row: (code: string) => h.sql(`select name, threshold from tier where code = ?`, [code.toUpperCase()]),
      fields: (input: any) => ({ name: input.name, threshold: input.threshold }),
    },
    {
      name: 'upsertMembershipPlan',
      query: `mutation($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { id } }`,
      input: (code: string, i: number) => ({ code: code.toUpperCase(), name: ['Plus', 'Plus held', 'Plus'][i], currency: ['GBP', 'GBP', 'EUR'][i], feeMinor: [1000, 2000, 1000][i], durationDays: 30 }),
      row: (code: string) => h.sql(`select name, currency, fee_minor::int as "feeMinor" from membership_plan where code = ?`, [code.toUpperCase()]),
      fields: (input: any) => ({ name: input.name, currency: input.currency, feeMinor: input.feeMinor }),
    },
    {
      name: 'upsertReward',
      query: UPSERT_REWARD,
      input: (code: string, i: number) => ({ code: code.toUpperCase(), name: ['Mug', 'Mug held', 'Mug'][i], kind: 'FREE_PRODUCT', sku: 'MUG', costPoints: [100, 100, 250][i], stock: [null, 5, null][i] }),
      row: (code: string) => h.sql(`select name, cost_points as "costPoints", stock from reward where code = ?`, [code.toUpperCase()]),
      fields: (input: any) => ({ name: input.name, costPoints: input.costPoints, stock: input.stock }),
    },
  ])('$name', ({ query, input, row, fields }) => {
    it('two upserts of one code at once: the row is the held input or the rival’s, never a mix of both', async () => {
      const code = unique('edit');
      await ok(asRival(query, { input: input(code, 0) }));
      const answers = await heldRace(() => asHolder(query, { input: input(code, 1) }), () => asRival(query, { input: input(code, 2) }));
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      const [stored] = await row(code);
      // Both succeeded, the rival's last: its input, whole.
      expect(stored).toEqual(fields(input(code, 2)));
    });

    it('two creations of one new code at once: both succeed (the second updates the first’s), the rival’s input whole', async () => {
      const code = unique('new');
      const answers = await heldRace(() => asHolder(query, { input: input(code, 1) }), () => asRival(query, { input: input(code, 2) }));
      expect(codesOf([answers.held, answers.rival])).toEqual([]);
      const rows = await row(code);
      expect(rows).toEqual([fields(input(code, 2))]);
    });
  });

  describe('updateEarningRule', () => {
    const CREATE = `mutation($input: EarningRuleInput!) { createEarningRule(input: $input) { ruleKey } }`;
    const UPDATE = `mutation($input: UpdateEarningRuleInput!) { updateEarningRule(input: $input) { ruleKey version } }`;
    const rule = (name: string, points: number) => ({ name, kind: 'BASE_RATE', currency: 'JPY', points, perMinor: 100 });

    it('two new versions at once: the second builds on the first (not NOT_FOUND), one version stays current', async () => {
      const { ruleKey } = (await ok(asRival(CREATE, { input: rule('Yen', 1) }))).createEarningRule;
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { ruleKey, ...rule('Yen held', 2) } }),
        () => asRival(UPDATE, { input: { ruleKey, ...rule('Yen rival', 3), isActive: false } }),
      );
      expect(codesOf([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select version, name, points, is_active as "isActive", superseded_at is null as "isCurrent" from earning_rule where rule_key = ? order by version`, [ruleKey])).toEqual([
        { version: 1, name: 'Yen', points: 1, isActive: true, isCurrent: false },
        { version: 2, name: 'Yen held', points: 2, isActive: true, isCurrent: false },
        { version: 3, name: 'Yen rival', points: 3, isActive: false, isCurrent: true },
      ]);
    });
  });

  describe('updateSegment and deleteSegment', () => {
    const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
    const UPDATE = `mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { id name description } }`;
    const DELETE = `mutation($id: ID!) { deleteSegment(id: $id) { id } }`;
    const create = async () =>
      (await ok(asRival(CREATE, { input: { name: unique('segment'), kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'QZ' } } }))).createSegment.id as string;

    it('a rename and a new description both survive; the second one’s audit entry has both', async () => {
      const id = await create();
      const name = unique('renamed');
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id, name } }),
        () => asRival(UPDATE, { input: { id, description: 'new words' } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select name, description from segment where id = ?`, [id])).toEqual([{ name, description: 'new words' }]);
      const entry = await rivalEntry('segment.update', id);
      expect({ before: entry.before!.name, after: entry.after!.name }).toEqual({ before: name, after: name });
    });

    it('a change while the segment is deleted: refused NOT_FOUND, as after the delete; the deleted row is as the delete recorded it', async () => {
      const id = await create();
      const [{ name }] = await h.sql(`select name from segment where id = ?`, [id]);
      const answers = await heldRace(
        () => asHolder(DELETE, { id }),
        () => asRival(UPDATE, { input: { id, name: unique('too-late') } }),
      );
      expect(answers.held.errors).toBeUndefined();
      expect(codesOf([answers.rival])).toEqual(['NOT_FOUND']);
      expect(await h.sql(`select name, deleted_at is not null as "isDeleted" from segment where id = ?`, [id])).toEqual([{ name, isDeleted: true }]);
      const [deleted] = await h.sql(`select before from audit_entry where action = 'segment.delete' and entity_id = ?`, [id]);
      expect(deleted.before.name).toBe(name);
    });
  });

  describe('updateActivityType', () => {
    const CREATE = `mutation($input: CreateActivityTypeInput!) { createActivityType(input: $input) { id } }`;
    const UPDATE = `mutation($input: UpdateActivityTypeInput!) { updateActivityType(input: $input) { id name points } }`;

    it('a rename and new points both survive; the second one’s audit entry has both', async () => {
      const id = (await ok(asRival(CREATE, { input: { code: unique('visit'), name: 'Visit', points: 10 } }))).createActivityType.id;
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id, name: 'Store visit' } }),
        () => asRival(UPDATE, { input: { id, points: 25 } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select name, points from activity_type where id = ?`, [id])).toEqual([{ name: 'Store visit', points: 25 }]);
      const entry = await rivalEntry('activityType.update', id);
      expect({ before: entry.before!.name, after: entry.after!.name }).toEqual({ before: 'Store visit', after: 'Store visit' });
    });
  });

  describe('updateProgrammeSettings', () => {
    const UPDATE = `mutation($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { pendingDays voucherValidDays } }`;

    it('two settings changed at once both survive; the second one’s audit entry starts from the first', async () => {
      const [start] = await h.sql(`select pending_days as "pendingDays", voucher_valid_days as "voucherValidDays" from programme_settings`);
      const pendingDays = start.pendingDays + 3;
      const voucherValidDays = start.voucherValidDays + 5;
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { pendingDays } }),
        () => asRival(UPDATE, { input: { voucherValidDays } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select pending_days as "pendingDays", voucher_valid_days as "voucherValidDays" from programme_settings`)).toEqual([{ pendingDays, voucherValidDays }]);
      const entry = await rivalEntry('programme.update', '1');
      expect(entry.before!.pendingDays).toBe(pendingDays);
    });
  });

  describe('campaigns', () => {
    const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
    const UPDATE = `mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { id name budgetPoints } }`;
    const LAUNCH = `mutation($id: ID!) { launchCampaign(id: $id) { id status } }`;
    let segmentId: string;

    beforeAll(async () => {
      await b.member().inCountry('QC').save();
      segmentId = (await ok(asRival(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`, {
        input: { name: unique('campaign'), kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'QC' } },
      }))).createSegment.id;
    });

    const create = async () =>
      (await ok(asRival(CREATE, {
        input: { name: 'Bonus', segmentId, bonus: { fixedPoints: 50 }, holdoutShare: 0, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + DAY).toISOString() },
      }))).createCampaign.id as string;

    it('updateCampaign × updateCampaign: a rename and a budget both survive', async () => {
      const id = await create();
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id, name: 'Renamed bonus' } }),
        () => asRival(UPDATE, { input: { id, budgetPoints: 5000 } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select name, budget_points as "budgetPoints" from campaign where id = ?`, [id])).toEqual([{ name: 'Renamed bonus', budgetPoints: 5000 }]);
    });

    it('launchCampaign × updateCampaign: the change waits for the launch and is refused CAMPAIGN_NOT_EDITABLE; the launched terms stand', async () => {
      const id = await create();
      const answers = await heldRace(() => asHolder(LAUNCH, { id }), () => asRival(UPDATE, { input: { id, budgetPoints: 10, bonus: { fixedPoints: 5000 } } }));
      expect(answers.held.errors).toBeUndefined();
      expect(codesOf([answers.rival])).toEqual(['CAMPAIGN_NOT_EDITABLE']);
      expect(await h.sql(`select status, budget_points as "budgetPoints", bonus_fixed_points as "fixedPoints" from campaign where id = ?`, [id])).toEqual([
        { status: 'ACTIVE', budgetPoints: null, fixedPoints: 50 },
      ]);
    });
  });

  describe('updateWebhook', () => {
    const REGISTER = `mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }`;
    const UPDATE = `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }`;

    it('a new address and a new description both survive', async () => {
      const id = (await ok(asRival(REGISTER, { input: { url: 'http://127.0.0.1:9/a', eventTypes: ['ORDER_RECORDED'] } }))).registerWebhook.webhook.id;
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id, description: 'orders feed' } }),
        () => asRival(UPDATE, { input: { id, url: 'http://127.0.0.1:9/b' } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select url, description from webhook where id = ?`, [id])).toEqual([{ url: 'http://127.0.0.1:9/b', description: 'orders feed' }]);
    });
  });

  describe('updateAdminUser', () => {
    const UPDATE = `mutation($input: UpdateAdminUserInput!) { updateAdminUser(input: $input) { id } }`;

    it('a new display name and a new role both survive', async () => {
      const user = await b.admin();
      const answers = await heldRace(
        () => asHolder(UPDATE, { input: { id: user.id, displayName: 'Ada' } }),
        () => asRival(UPDATE, { input: { id: user.id, role: 'MARKETER' } }),
      );
      expect(unexpected([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select display_name as "displayName", role from admin_user where id = ?`, [user.id])).toEqual([{ displayName: 'Ada', role: 'MARKETER' }]);
    });
  });

  describe('rotateApiKey', () => {
    const ROTATE = `mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { key apiKey { id } } }`;

    it('rotated twice at once with no grace: the second is refused API_KEY_REVOKED, one replacement is issued', async () => {
      const { keyId } = await b.apiKey();
      const answers = await heldRace(
        () => asHolder(ROTATE, { input: { id: keyId, graceSeconds: 0 } }),
        () => asRival(ROTATE, { input: { id: keyId, graceSeconds: 0 } }),
      );
      expect(answers.held.errors).toBeUndefined();
      expect(unexpected([answers.rival], ['CONFLICT:API_KEY_REVOKED'])).toEqual([]);
      expect(codesOf([answers.rival])).toEqual(['CONFLICT:API_KEY_REVOKED']);
      expect(await h.sql(`select id from api_key where rotated_from_id = ?`, [keyId])).toEqual([{ id: answers.held.data.rotateApiKey.apiKey.id }]);
    });

    it('revoked twice at once: revoked once, the second answering the first revocation (one audit entry)', async () => {
      const REVOKE = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`;
      const { keyId } = await b.apiKey();
      const answers = await heldRace(() => asHolder(REVOKE, { input: { id: keyId, reason: 'leaked' } }), () => asRival(REVOKE, { input: { id: keyId } }));
      expect(codesOf([answers.held, answers.rival])).toEqual([]);
      expect(answers.rival.data.revokeApiKey.revokedAt).toBe(answers.held.data.revokeApiKey.revokedAt);
      expect(await h.sql(`select actor from audit_entry where action = 'apiKey.revoke' and entity_id = ?`, [keyId])).toEqual([{ actor: `admin:${holder.id}` }]);
    });
  });

  describe('activateModelVersion', () => {
    const ACTIVATE = `mutation($input: ActivateModelVersionInput!) { activateModelVersion(input: $input) { id status } }`;
    const version = async (status: string) => {
      const id = randomUUID();
      await h.sql(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
         values (?, 'CHURN', ?, 'TEST', '{}', '{}', '{}', 30, now(), now())`,
        [id, status],
      );
      return id;
    };

    it('two versions of a kind activated at once: both succeed in turn (never INTERNAL), one version is ACTIVE', async () => {
      await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
      const served = await version('ACTIVE');
      const [first, second] = [await version('RETIRED'), await version('REJECTED')];
      const answers = await heldRace(
        () => asHolder(ACTIVATE, { input: { id: first, reason: 'roll back' } }),
        () => asRival(ACTIVATE, { input: { id: second, reason: 'roll back further' } }),
      );
      expect(codesOf([answers.held, answers.rival])).toEqual([]);
      expect(await h.sql(`select id, status from model_version where id in (?) order by id`, [[served, first, second]])).toEqual(
        [
          { id: served, status: 'RETIRED' },
          { id: first, status: 'RETIRED' },
          { id: second, status: 'ACTIVE' },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
    });
    it("an admin's activation and the worker's promotion of one kind at once: both succeed in turn, one version is ACTIVE", async () => {
      await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
      const served = await version('ACTIVE');
      const rolledBack = await version('RETIRED');
      const store = new ModelStore(h.config.DATABASE_URL);
      try {
        const training = await store.start('CHURN', `race-${randomUUID()}`, 1, 'cpu', 30);
        const window = { dataFrom: Date.now() - 100 * DAY, cutoff: Date.now() - 30 * DAY, dataTo: Date.now() };
        const output = { kind: 'CHURN', algorithm: 'TEST', params: {}, window, trainRows: 1, metrics: {}, baselineMetrics: {} } as never;
        const answers = await heldRace(
          () => asHolder(ACTIVATE, { input: { id: rolledBack, reason: 'roll back' } }),
          () => store.finish(training, output, { isPromoted: true, reason: 'beats the active version' } as never, 1, null).then(
            (status) => ({ data: { status } }) as Result,
            (e: Error) => ({ errors: [{ message: e.message, extensions: { code: 'WORKER_FAILED' } }] }) as unknown as Result,
          ),
        );
        expect(codesOf([answers.held, answers.rival])).toEqual([]);
        // The worker waited for the admin's activation, then replaced it.
        expect(await h.sql(`select id, status from model_version where id in (?) order by id`, [[served, rolledBack, training]])).toEqual(
          [
            { id: served, status: 'RETIRED' },
            { id: rolledBack, status: 'RETIRED' },
            { id: training, status: 'ACTIVE' },
          ].sort((x, y) => (x.id < y.id ? -1 : 1)),
        );
      } finally {
        await store.close();
      }
    });
  });

  describe('changePassword', () => {
    const CHANGE = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { token } }`;

    it('the same password changed in two tabs at once: the second is refused (its current password no longer is); one session stays', async () => {
      const user = await b.admin();
      await h.sql(`insert into test_hold_actor values (?)`, [`admin:${user.id}`]);
      const { token: other } = await h.app.services.adminAuth.login(h.em(), { email: user.email, password: user.password });
      const answers = await heldRace(
        () => h.gql(user.auth, CHANGE, { input: { currentPassword: user.password, newPassword: 'first tab new passphrase 1' } }),
        () => h.gql({ token: other }, CHANGE, { input: { currentPassword: user.password, newPassword: 'second tab new passphrase 2' } }),
      );
      expect(answers.held.errors).toBeUndefined();
      expect(unexpected([answers.rival], ['BAD_USER_INPUT'])).toEqual([]);
      expect(codesOf([answers.rival])).toEqual(['BAD_USER_INPUT']);
      const signIn = (password: string) => h.app.services.adminAuth.login(h.em(), { email: user.email, password }).then(() => 'ok', () => 'refused');
      expect([await signIn('first tab new passphrase 1'), await signIn('second tab new passphrase 2')]).toEqual(['ok', 'refused']);
      // The sessions open now: the first tab's new one and the sign-in just above.
      const [{ n }] = await h.sql(`select count(*)::int as n from admin_session where admin_id = ? and revoked_at is null`, [user.id]);
      expect(n).toBe(2);
    });

    it('a sign-in with the old password while the change commits is refused, and opens no session', async () => {
      const user = await b.admin();
      await h.sql(`insert into test_hold_actor values (?)`, [`admin:${user.id}`]);
      const before = await h.sql(`select count(*)::int as n from admin_session where admin_id = ?`, [user.id]);
      const answers = await heldRace(
        () => h.gql(user.auth, CHANGE, { input: { currentPassword: user.password, newPassword: 'changed while signing in 3' } }),
        () => h.gql(null, `mutation($input: LoginInput!) { login(input: $input) { token } }`, { input: { email: user.email, password: user.password } }),
      );
      expect(answers.held.errors).toBeUndefined();
      expect(codesOf([answers.rival])).toEqual(['UNAUTHENTICATED']);
      // The change's own new session only.
      const after = await h.sql(`select count(*)::int as n from admin_session where admin_id = ?`, [user.id]);
      expect(after[0].n - before[0].n).toBe(1);
    });
  });
});
