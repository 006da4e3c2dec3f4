import { randomUUID } from 'node:crypto';
import Queue from 'bull';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';
import { MOVE_HAND_REASONS } from '../../api/src/composition/migrations/Migration20261222100000_model_activation_reason';

const prefix = `test-models-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });

const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id kind state attemptsMade requestedBy progress { phase } } }`;
const JOBS = `query { modelJobs(first: 10) { id kind state } }`;
const RECS = `query M($id: ID!, $exclude: Boolean!) { member(id: $id) { recommendations(first: 3, excludePurchased: $exclude) {
  rank score reason isColdStart isRepeat modelVersionId product { sku name } } } }`;
const CHURN = `query M($id: ID!) { member(id: $id) { churnRisk { score band horizonDays modelVersionId drivers { feature value contribution } } } }`;
const ACTIVATE = `mutation A($input: ActivateModelVersionInput!) { activateModelVersion(input: $input) { id status isPromoted gateReason activatedBy activatedAt activationReason } }`;

const VALUE = `query M($id: ID!) { member(id: $id) { predictedValue { amount currency band pReturn horizonDays modelVersionId drivers { feature value contribution } } } }`;
const VALUE_AT_RISK = `{ analytics { valueAtRisk { currency valueModelVersionId churnModelVersionId bands { churnBand members predictedValueMinor valueAtRiskMinor } } } }`;
const VALUE_SCORING = { currency: 'GBP', mediumQuantile: 0.5, highQuantile: 0.8, mediumFromMinor: 2000, highFromMinor: 9000, members: 3 };

/** What the worker writes, inserted directly: a version with its scores. */
async function version(kind: 'RECOMMENDER' | 'CHURN' | 'VALUE', status: string, metrics: Record<string, unknown> = {}) {
  const id = randomUUID();
  await h.sql(
    `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
     values (?, ?, ?, 'TEST', '{}', ?, '{}', 30, now(), now())`,
    [id, kind, status, JSON.stringify(metrics)],
  );
  if (kind === 'VALUE') await h.sql(`update model_version set value_scoring = ? where id = ?`, [JSON.stringify(VALUE_SCORING), id]);
  return id;
}

async function valueScore(versionId: string, memberId: string, amountMinor: number, band: string, pReturn = 0.8, drivers: unknown[] = []) {
  await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, ?, ?, ?, ?)`, [
    versionId, memberId, amountMinor, pReturn, band, JSON.stringify(drivers),
  ]);
}

async function churnScore(versionId: string, memberId: string, score: number, band: string) {
  await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, ?, ?, '[]')`, [versionId, memberId, score, band]);
}

/** Leaves no ACTIVE version of `kind`, so that a test starts from a known registry. */
const retireActive = (kind: string) => h.sql(`update model_version set status = 'RETIRED' where kind = ? and status = 'ACTIVE'`, [kind]);

async function product(sku: string, name = `Product ${sku}`) {
  const [row] = await h.sql<{ id: string }>(
    `insert into product (id, sku, name, created_at) values (?, ?, ?, now()) on conflict (sku) do update set name = excluded.name returning id`,
    [randomUUID(), sku, name],
  );
  return row.id;
}

async function recommend(versionId: string, memberId: string, skus: string[], repeat: string[] = []) {
  for (const [i, sku] of skus.entries()) {
    await h.sql(
      `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat) values (?, ?, ?, ?, ?, ?, ?)`,
      [versionId, memberId, i + 1, await product(sku), 1 - i / 10, repeat.includes(sku) ? 'You have bought this before' : `Similar to ${sku}`, repeat.includes(sku)],
    );
  }
}

const QUEUE_OF = { CHURN: 'recommender.train-churn', RECOMMENDER: 'recommender.train-recommender', VALUE: 'recommender.train-value' } as const;

afterAll(async () => {
  for (const name of Object.values(QUEUE_OF)) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe('retrainModel', () => {
  it('queues one job per kind for an analyst; a second request returns the job already waiting', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    const first = await h.gql(analyst.auth, RETRAIN, { input: { kind: 'CHURN', horizonDays: 30 } });
    expect(first.errors).toBeUndefined();
    expect(first.data.retrainModel).toMatchObject({ kind: 'CHURN', state: 'WAITING', attemptsMade: 0, requestedBy: `admin:${analyst.id}` });
    const again = await h.gql(analyst.auth, RETRAIN, { input: { kind: 'CHURN' } });
    expect(again.data.retrainModel.id).toBe(first.data.retrainModel.id);
    const other = await h.gql(analyst.auth, RETRAIN, { input: { kind: 'RECOMMENDER' } });
    expect(other.data.retrainModel.id).not.toBe(first.data.retrainModel.id);
    const value = await h.gql(analyst.auth, RETRAIN, { input: { kind: 'VALUE', horizonDays: 60 } });
    expect(value.errors).toBeUndefined();
    expect(value.data.retrainModel).toMatchObject({ kind: 'VALUE', state: 'WAITING' });

    const jobs = await h.gql(analyst.auth, JOBS);
    expect(jobs.data.modelJobs.map((j: { kind: string }) => j.kind).sort()).toEqual(['CHURN', 'RECOMMENDER', 'VALUE']);
    // Each kind waits on its own queue with a versioned payload, retried with exponential backoff.
    for (const job of [first.data.retrainModel, other.data.retrainModel, value.data.retrainModel]) {
      const queue = new Queue(QUEUE_OF[job.kind as keyof typeof QUEUE_OF], h.config.REDIS_URL, { prefix });
      const stored = await queue.getJob(job.id);
      await queue.close();
      expect(stored?.data).toMatchObject({ v: 1, kind: job.kind, requestedBy: `admin:${analyst.id}` });
      expect(stored?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 30_000 } });
      const found = await h.gql(analyst.auth, `query J($id: ID!) { modelJob(id: $id) { id kind } }`, { id: job.id });
      expect(found.data.modelJob).toEqual({ id: job.id, kind: job.kind });
    }
    const audit = await h.sql(`select action from audit_entry where action = 'model.retrain_requested'`);
    expect(audit).toHaveLength(3);
  });

  it('is refused to marketers, channels and anonymous callers, and checks its input', async () => {
    const b = build(h);
    const marketer = await b.admin(AdminRole.MARKETER);
    const key = await b.apiKey();
    expectError(await h.gql(marketer.auth, RETRAIN, { input: { kind: 'CHURN' } }), 'FORBIDDEN');
    expectError(await h.gql(key.auth, RETRAIN, { input: { kind: 'CHURN' } }), 'FORBIDDEN');
    expectError(await h.gql(null, RETRAIN, { input: { kind: 'CHURN' } }), 'UNAUTHENTICATED');
    const admin = await b.admin(AdminRole.ADMIN);
    const bad = expectError(await h.gql(admin.auth, RETRAIN, { input: { kind: 'CHURN', horizonDays: 3 } }), 'BAD_USER_INPUT');
    expect(bad.extensions.fields[0].path).toBe('input.horizonDays');
  });
});

describe('modelJobs', () => {
  it('says when a delayed job will run (the nightly retrain, a retry after its backoff), beside when it was queued', async () => {
    const analyst = await build(h).admin(AdminRole.ANALYST);
    const queue = new Queue(QUEUE_OF.RECOMMENDER, h.config.REDIS_URL, { prefix });
    const delayMs = 6 * 3_600_000;
    const payload = { v: 1, kind: 'RECOMMENDER', requestedAt: new Date().toISOString(), requestedBy: 'schedule' };
    const job = await queue.add(payload, { jobId: `delayed-${randomUUID()}`, delay: delayMs });
    const waiting = await queue.add(payload, { jobId: `waiting-${randomUUID()}` });
    try {
      const res = await h.gql(analyst.auth, `{ modelJobs(kind: RECOMMENDER, first: 20) { id state createdAt runAt } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.modelJobs.find((j: { id: string }) => j.id === job.id)).toEqual({
        id: job.id,
        state: 'DELAYED',
        createdAt: new Date(job.timestamp).toISOString(),
        runAt: new Date(job.timestamp + delayMs).toISOString(),
      });
      // A job waiting or running has no run time of its own.
      expect(res.data.modelJobs.find((j: { id: string }) => j.id === waiting.id)).toMatchObject({ state: 'WAITING', runAt: null });
      const others = res.data.modelJobs.filter((j: { state: string }) => j.state !== 'DELAYED');
      expect(others.map((j: { runAt: string | null }) => j.runAt)).toEqual(others.map(() => null));
    } finally {
      await job.remove();
      await waiting.remove();
      await queue.close();
    }
  });
});

describe('member.recommendations', () => {
  it('serves the active version with reasons, and leaves out what the member bought when asked', async () => {
    const b = build(h);
    const key = await b.apiKey();
    const member = await b.member().inCountry('FR').save();
    const retired = await version('RECOMMENDER', 'RETIRED');
    const active = await version('RECOMMENDER', 'ACTIVE');
    await recommend(retired, member.id, ['OLD-1', 'OLD-2']);
    await recommend(active, member.id, ['MUG', 'TEA', 'CUP'], ['MUG']);
    await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id, [{ sku: 'CUP' }]) });

    const all = await h.gql(key.auth, RECS, { id: member.id, exclude: false });
    expect(all.errors).toBeUndefined();
    expect(all.data.member.recommendations.map((r: any) => [r.product.sku, r.isRepeat, r.modelVersionId, r.isColdStart])).toEqual([
      ['MUG', true, active, false],
      ['TEA', false, active, false],
      ['CUP', false, active, false],
    ]);
    expect(all.data.member.recommendations[1].reason).toBe('Similar to TEA');

    const fresh = await h.gql(key.auth, RECS, { id: member.id, exclude: true });
    expect(fresh.data.member.recommendations.map((r: any) => [r.rank, r.product.sku])).toEqual([[1, 'TEA']]);
  });

  it('gives members the model never scored popularity in their country, flagged as cold start', async () => {
    const b = build(h);
    const key = await b.apiKey();
    const active = (await h.sql(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`))[0]?.id ?? (await version('RECOMMENDER', 'ACTIVE'));
    for (const [country, skus] of [['DE', ['BRATWURST', 'PRETZEL']], ['', ['BREAD']]] as const) {
      for (const [i, sku] of skus.entries()) {
        await h.sql(`insert into popular_product (model_version_id, country, rank, product_id, score) values (?, ?, ?, ?, ?)`, [active, country, i + 1, await product(sku), 10 - i]);
      }
    }
    const german = await b.member().inCountry('DE').save();
    const elsewhere = await b.member().inCountry('JP').save();
    const de = await h.gql(key.auth, RECS, { id: german.id, exclude: false });
    expect(de.data.member.recommendations.map((r: any) => [r.product.sku, r.isColdStart, r.reason])).toEqual([
      ['BRATWURST', true, 'Popular in DE'],
      ['PRETZEL', true, 'Popular in DE'],
    ]);
    const jp = await h.gql(key.auth, RECS, { id: elsewhere.id, exclude: false });
    expect(jp.data.member.recommendations.map((r: any) => [r.product.sku, r.reason])).toEqual([['BREAD', 'Popular with all customers']]);
  });

  it('serves popularity from the newest trained version, flagged cold start, while the gate keeps every version out', async () => {
    const b = build(h);
    const key = await b.apiKey();
    const wasActive = await h.sql<{ id: string }>(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    try {
      const older = await version('RECOMMENDER', 'REJECTED');
      const newest = await version('RECOMMENDER', 'REJECTED');
      await h.sql(`update model_version set created_at = now() - interval '1 day' where id = ?`, [older]);
      await h.sql(`insert into popular_product (model_version_id, country, rank, product_id, score) values (?, '', 1, ?, 5), (?, '', 1, ?, 5)`, [
        older,
        await product('OLD-POP'),
        newest,
        await product('NEW-POP'),
      ]);
      const member = await b.member().inCountry('JP').save();
      // The refused model's own pick for this member is never served.
      await recommend(newest, member.id, ['REFUSED-PICK']);
      const res = await h.gql(key.auth, RECS, { id: member.id, exclude: false });
      expect(res.errors).toBeUndefined();
      expect(res.data.member.recommendations.map((r: any) => [r.product.sku, r.isColdStart, r.reason, r.modelVersionId])).toEqual([
        ['NEW-POP', true, 'Popular with all customers', newest],
      ]);
    } finally {
      await h.sql(`update model_version set status = 'ACTIVE' where id in (?)`, [wasActive.length ? wasActive.map((v) => v.id) : [randomUUID()]]);
    }
  });

  it('fills with popular products the member has not bought when they bought every stored pick', async () => {
    const b = build(h);
    const key = await b.apiKey();
    const wasActive = await h.sql<{ id: string }>(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
    await retireActive('RECOMMENDER');
    try {
      const active = await version('RECOMMENDER', 'ACTIVE');
      const member = await b.member().inCountry('NL').save();
      await recommend(active, member.id, ['FILL-A', 'FILL-G']);
      await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id, [{ sku: 'FILL-A' }, { sku: 'FILL-B' }, { sku: 'FILL-G' }]) });
      const lists = [['NL', ['FILL-A', 'FILL-B', 'FILL-C', 'FILL-D']], ['', ['FILL-C', 'FILL-E', 'FILL-F']]] as const;
      for (const [country, skus] of lists) {
        for (const [i, sku] of skus.entries()) {
          await h.sql(`insert into popular_product (model_version_id, country, rank, product_id, score) values (?, ?, ?, ?, ?)`, [active, country, i + 1, await product(sku), 10 - i]);
        }
      }
      const recs = async (first: number, exclude: boolean) => {
        const res = await h.gql(key.auth, `query M($id: ID!, $first: Int!, $exclude: Boolean!) { member(id: $id) { recommendations(first: $first, excludePurchased: $exclude) {
          rank reason isColdStart isRepeat modelVersionId product { sku } } } }`, { id: member.id, first, exclude });
        expect(res.errors).toBeUndefined();
        return res.data.member.recommendations as any[];
      };

      // Their country's list first, then everyone's, each by rank; FILL-C only once; `first` holds.
      const three = await recs(3, true);
      expect(three.map((r) => [r.rank, r.product.sku, r.reason, r.isColdStart, r.isRepeat, r.modelVersionId])).toEqual([
        [1, 'FILL-C', 'Popular in NL, not bought yet', true, false, active],
        [2, 'FILL-D', 'Popular in NL, not bought yet', true, false, active],
        [3, 'FILL-E', 'Popular with all customers, not bought yet', true, false, active],
      ]);
      expect((await recs(10, true)).map((r) => r.product.sku)).toEqual(['FILL-C', 'FILL-D', 'FILL-E', 'FILL-F']);
      expect((await recs(1, true)).map((r) => r.product.sku)).toEqual(['FILL-C']);
      // Without the exclusion the stored picks stand alone, as before.
      expect((await recs(10, false)).map((r) => [r.product.sku, r.isColdStart])).toEqual([['FILL-A', false], ['FILL-G', false]]);
    } finally {
      await retireActive('RECOMMENDER');
      await h.sql(`update model_version set status = 'ACTIVE' where id in (?)`, [wasActive.length ? wasActive.map((v) => v.id) : [randomUUID()]]);
    }
  });

  it('costs the same number of queries for a page of 2 members as for 10', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    for (let i = 0; i < 10; i++) await b.member().save();
    const page = (n: number) =>
      h.gql(admin.auth, `{ members(first: ${n}) { edges { node { id recommendations(first: 2) { product { sku } } churnRisk { band } predictedValue { amount band } } } } }`);
    await retireActive('VALUE');
    const value = await version('VALUE', 'ACTIVE');
    const ids = (await page(10)).data.members.edges.map((e: any) => e.node.id);
    for (const [i, id] of ids.entries()) if (i % 2 === 0) await valueScore(value, id, 1000 * (i + 1), 'MEDIUM');
    const small = await page(2);
    const large = await page(10);
    expect(large.errors).toBeUndefined();
    expect(large.data.members.edges.filter((e: any) => e.node.predictedValue?.band === 'MEDIUM')).toHaveLength(5);
    expect(Number(large.headers['x-db-queries'])).toBe(Number(small.headers['x-db-queries']));
  });
});

describe('member.churnRisk', () => {
  it('shows the active score with its band and drivers to analysts, and is refused to channels', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    const key = await b.apiKey();
    const member = await b.member().save();
    const active = await version('CHURN', 'ACTIVE');
    const drivers = [{ feature: 'recency_days', value: 120, contribution: 1.25 }];
    await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.75, 'HIGH', ?)`, [active, member.id, JSON.stringify(drivers)]);
    const res = await h.gql(analyst.auth, CHURN, { id: member.id });
    expect(res.data.member.churnRisk).toEqual({ score: 0.75, band: 'HIGH', horizonDays: 30, modelVersionId: active, drivers });
    expectError(await h.gql(key.auth, CHURN, { id: member.id }), 'FORBIDDEN');
  });

  it('gives the score served before this one, and when it was computed; null for a first score', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    const [rising, first] = [await b.member().save(), await b.member().save()];
    await retireActive('CHURN');
    const active = await version('CHURN', 'ACTIVE');
    await h.sql(
      `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at)
       values (?, ?, 0.75, 'HIGH', '[]', 0.25, '2026-11-30T06:00:00Z'), (?, ?, 0.5, 'MEDIUM', '[]', null, null)`,
      [active, rising.id, active, first.id],
    );
    const query = `query C($id: ID!) { member(id: $id) { churnRisk { score previousScore previousScoredAt } } }`;
    expect((await h.gql(analyst.auth, query, { id: rising.id })).data.member.churnRisk).toEqual({ score: 0.75, previousScore: 0.25, previousScoredAt: '2026-11-30T06:00:00.000Z' });
    expect((await h.gql(analyst.auth, query, { id: first.id })).data.member.churnRisk).toEqual({ score: 0.5, previousScore: null, previousScoredAt: null });
  });
});

describe('members(churnBand)', () => {
  it('lists only the members the active churn model put in that band', async () => {
    const b = build(h);
    const marketer = await b.admin(AdminRole.MARKETER);
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
    const retired = await version('CHURN', 'RETIRED');
    const active = await version('CHURN', 'ACTIVE');
    const [high, low, unscored, highOnlyBefore] = [await b.member().save(), await b.member().save(), await b.member().save(), await b.member().save()];
    await h.sql(
      `insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.8, 'HIGH', '[]'), (?, ?, 0.1, 'LOW', '[]'), (?, ?, 0.9, 'HIGH', '[]')`,
      [active, high.id, active, low.id, retired, highOnlyBefore.id],
    );
    const res = await h.gql(marketer.auth, `{ members(first: 50, churnBand: HIGH) { totalCount edges { node { id } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.members.edges.map((e: any) => e.node.id)).toEqual([high.id]);
    expect(res.data.members.totalCount).toBe(1);
    expect(unscored.id).not.toBe(high.id);
  });
});

describe('members(valueBand)', () => {
  it('lists only the members the active value model put in that band, alone or with a churn band', async () => {
    const b = build(h);
    const marketer = await b.admin(AdminRole.MARKETER);
    await retireActive('VALUE');
    await retireActive('CHURN');
    const retired = await version('VALUE', 'RETIRED');
    const active = await version('VALUE', 'ACTIVE');
    const churn = await version('CHURN', 'ACTIVE');
    const [highAtRisk, highSafe, low, highOnlyBefore] = [await b.member().save(), await b.member().save(), await b.member().save(), await b.member().save()];
    await valueScore(active, highAtRisk.id, 20_000, 'HIGH');
    await valueScore(active, highSafe.id, 15_000, 'HIGH');
    await valueScore(active, low.id, 100, 'LOW');
    await valueScore(retired, highOnlyBefore.id, 30_000, 'HIGH');
    await churnScore(churn, highAtRisk.id, 0.8, 'HIGH');
    await churnScore(churn, highSafe.id, 0.1, 'LOW');

    const ids = async (args: string) => {
      const res = await h.gql(marketer.auth, `{ members(first: 50, ${args}) { totalCount edges { node { id } } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data.members.totalCount).toBe(res.data.members.edges.length);
      return res.data.members.edges.map((e: any) => e.node.id).sort();
    };
    expect(await ids('valueBand: HIGH')).toEqual([highAtRisk.id, highSafe.id].sort());
    expect(await ids('valueBand: HIGH, churnBand: HIGH')).toEqual([highAtRisk.id]);
    expect(await ids('valueBand: LOW')).toEqual([low.id]);
    const bad = await h.gql(marketer.auth, `{ members(first: 5, valueBand: "HIGH; drop table member") { totalCount } }`);
    expect(bad.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('activateModelVersion', () => {
  it('rolls back to an earlier version in one step: scores served switch with it, and the change is audited', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const member = await b.member().save();
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
    const older = await version('CHURN', 'RETIRED');
    const newer = await version('CHURN', 'ACTIVE');
    const gateReason = 'promoted: rocAuc 0.7400 > RECENCY 0.6900';
    await h.sql(`update model_version set is_promoted = true, gate_reason = ?, activated_by = 'gate', activated_at = now() - interval '3 days' where id = ?`, [gateReason, older]);
    await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.1, 'LOW', '[]'), (?, ?, 0.9, 'HIGH', '[]')`, [older, member.id, newer, member.id]);
    expect((await h.gql(admin.auth, CHURN, { id: member.id })).data.member.churnRisk.band).toBe('HIGH');

    const before = Date.now();
    const res = await h.gql(admin.auth, ACTIVATE, { input: { id: older, reason: ' complaints about the new scores ' } });
    expect(res.errors).toBeUndefined();
    // The gate's decision and reason stay as the gate wrote them; who, when and why of the activation by hand beside them.
    expect(res.data.activateModelVersion).toMatchObject({
      id: older, status: 'ACTIVE', isPromoted: true, gateReason, activatedBy: `admin:${admin.id}`, activationReason: 'complaints about the new scores',
    });
    expect(Date.parse(res.data.activateModelVersion.activatedAt)).toBeGreaterThanOrEqual(before - 1000);
    const statuses = await h.sql(`select id, status from model_version where id in (?, ?) order by status`, [older, newer]);
    expect(statuses).toEqual([{ id: older, status: 'ACTIVE' }, { id: newer, status: 'RETIRED' }]);
    expect((await h.gql(admin.auth, CHURN, { id: member.id })).data.member.churnRisk.band).toBe('LOW');
    expect(await h.sql(`select entity_id from audit_entry where action = 'model.activated'`)).toEqual([{ entity_id: older }]);
  });

  it('lets an analyst roll back with a reason, audited under their name', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    await retireActive('VALUE');
    const older = await version('VALUE', 'RETIRED');
    const newer = await version('VALUE', 'ACTIVE');
    const res = await h.gql(analyst.auth, ACTIVATE, { input: { id: older, reason: 'the new version over-predicts store customers' } });
    expect(res.errors).toBeUndefined();
    expect(res.data.activateModelVersion).toMatchObject({ id: older, status: 'ACTIVE', activatedBy: `admin:${analyst.id}` });
    expect(await h.sql(`select id, status from model_version where id in (?, ?) order by status`, [older, newer])).toEqual([{ id: older, status: 'ACTIVE' }, { id: newer, status: 'RETIRED' }]);
    const [audit] = await h.sql(`select actor, after from audit_entry where action = 'model.activated' and entity_id = ?`, [older]);
    expect(audit.actor).toBe(`admin:${analyst.id}`);
    expect(JSON.stringify(audit.after)).toContain('the new version over-predicts store customers');
  });

  it("moves an admin's reason that the migration finds written over the gate's to activationReason, leaving the gate's others", async () => {
    const [byHand, byGate] = [await version('CHURN', 'RETIRED'), await version('CHURN', 'RETIRED')];
    await h.sql(`update model_version set gate_reason = 'activated by hand: complaints about the new scores' where id = ?`, [byHand]);
    await h.sql(`update model_version set gate_reason = 'kept out: rocAuc 0.5000 does not beat RECENCY 0.6000' where id = ?`, [byGate]);
    await h.sql(MOVE_HAND_REASONS);
    expect(await h.sql(`select id, gate_reason, activation_reason from model_version where id in (?, ?) order by id = ? desc`, [byHand, byGate, byHand])).toEqual([
      { id: byHand, gate_reason: null, activation_reason: 'complaints about the new scores' },
      { id: byGate, gate_reason: 'kept out: rocAuc 0.5000 does not beat RECENCY 0.6000', activation_reason: null },
    ]);
  });

  it('refuses versions without complete scores, unknown ids, an empty reason and marketers, changing nothing', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const marketer = await b.admin(AdminRole.MARKETER);
    const training = await version('RECOMMENDER', 'TRAINING');
    const failed = await version('RECOMMENDER', 'FAILED');
    for (const id of [training, failed]) {
      const err = expectError(await h.gql(admin.auth, ACTIVATE, { input: { id, reason: 'try' } }), 'CONFLICT');
      expect(err.extensions.reason).toBe('MODEL_NOT_ACTIVATABLE');
    }
    expectError(await h.gql(admin.auth, ACTIVATE, { input: { id: randomUUID(), reason: 'try' } }), 'NOT_FOUND');
    expectError(await h.gql(admin.auth, ACTIVATE, { input: { id: failed, reason: '  ' } }), 'BAD_USER_INPUT');
    expectError(await h.gql(marketer.auth, ACTIVATE, { input: { id: failed, reason: 'try' } }), 'FORBIDDEN');
    expect(await h.sql(`select status from model_version where id in (?, ?) order by status`, [training, failed])).toEqual([{ status: 'FAILED' }, { status: 'TRAINING' }]);
  });
});

describe('member.predictedValue', () => {
  it('serves the active VALUE version: amount in minor units of its currency, band, P(return) and drivers; null for members it did not score', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    const [scored, unscored] = [await b.member().save(), await b.member().save()];
    await retireActive('VALUE');
    const retired = await version('VALUE', 'RETIRED');
    const active = await version('VALUE', 'ACTIVE');
    const drivers = [{ feature: 'log_monetary', value: 6.2, contribution: 0.8 }, { feature: 'recency_days', value: 40, contribution: -0.2 }];
    await valueScore(retired, scored.id, 1, 'LOW');
    await valueScore(retired, unscored.id, 5, 'LOW');
    await valueScore(active, scored.id, 12_345, 'HIGH', 0.75, drivers);

    const res = await h.gql(analyst.auth, VALUE, { id: scored.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.member.predictedValue).toEqual({ amount: 12_345, currency: 'GBP', band: 'HIGH', pReturn: 0.75, horizonDays: 30, modelVersionId: active, drivers });
    // The retired version scored this member, but only the active one is served.
    expect((await h.gql(analyst.auth, VALUE, { id: unscored.id })).data.member.predictedValue).toBeNull();
  });

  it('is null for everyone while no VALUE version is active, even with scores of rejected and retired versions', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    const member = await b.member().save();
    await retireActive('VALUE');
    await valueScore(await version('VALUE', 'REJECTED'), member.id, 500, 'LOW');
    await valueScore(await version('VALUE', 'RETIRED'), member.id, 600, 'LOW');
    const res = await h.gql(analyst.auth, VALUE, { id: member.id });
    expect(res.errors).toBeUndefined();
    expect(res.data.member.predictedValue).toBeNull();
  });

  it('is refused as churn risk is: marketers and analysts read it, member-reading channels and anonymous callers do not', async () => {
    const b = build(h);
    const member = await b.member().save();
    await retireActive('VALUE');
    await valueScore(await version('VALUE', 'ACTIVE'), member.id, 700, 'LOW');
    const marketer = await b.admin(AdminRole.MARKETER);
    expect((await h.gql(marketer.auth, VALUE, { id: member.id })).data.member.predictedValue.amount).toBe(700);
    const key = await b.apiKey();
    expectError(await h.gql(key.auth, VALUE, { id: member.id }), 'FORBIDDEN');
    expectError(await h.gql(null, VALUE, { id: member.id }), 'UNAUTHENTICATED');
  });

  it('lists VALUE versions with their metrics, baselines and band thresholds', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    await retireActive('VALUE');
    const metrics = { gini: 0.61, spearman: 0.52, topDecileCapture: 0.44, mae: 120.5, rmse: 300.25, customers: 200, meanActual: 90, calibration: [{ meanPredicted: 10, meanActual: 12, count: 20 }] };
    const id = await version('VALUE', 'ACTIVE', metrics);
    await h.sql(`update model_version set baseline_metrics = ? where id = ?`, [JSON.stringify({ 'PAST-SPEND': { ...metrics, gini: 0.4 } }), id]);
    const res = await h.gql(analyst.auth, `{ modelVersions(kind: VALUE, first: 50) { id kind metrics baselineMetrics valueScoring { currency mediumQuantile highQuantile mediumFromMinor highFromMinor members } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.modelVersions.every((v: any) => v.kind === 'VALUE')).toBe(true);
    const listed = res.data.modelVersions.find((v: any) => v.id === id);
    expect(listed).toMatchObject({ metrics, baselineMetrics: { 'PAST-SPEND': { gini: 0.4 } }, valueScoring: VALUE_SCORING });
    const churn = await h.gql(analyst.auth, `{ modelVersions(kind: CHURN, first: 1) { valueScoring { currency } } }`);
    expect(churn.data.modelVersions.every((v: any) => v.valueScoring === null)).toBe(true);
  });
});

describe('erasure and merge', () => {
  it("drops every version's scores of an erased member and of a merged-away one, and leaves the survivor's", async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const [erased, survivor, absorbed] = [await b.member().save(), await b.member().save(), await b.member().save()];
    await retireActive('VALUE');
    await retireActive('CHURN');
    await retireActive('RECOMMENDER');
    const value = await version('VALUE', 'ACTIVE');
    const churn = await version('CHURN', 'ACTIVE');
    const recs = await version('RECOMMENDER', 'ACTIVE');
    const older = await version('VALUE', 'RETIRED');
    for (const m of [erased, survivor, absorbed]) {
      await valueScore(value, m.id, 5_000, 'MEDIUM');
      await valueScore(older, m.id, 4_000, 'MEDIUM');
      await churnScore(churn, m.id, 0.6, 'HIGH');
      await recommend(recs, m.id, ['FORGET-1', 'FORGET-2']);
    }
    const scores = async (id: string) =>
      (await h.sql<{ n: number }>(
        `select (select count(*) from member_value_score where member_id = ?) + (select count(*) from member_churn_score where member_id = ?)
              + (select count(*) from member_recommendation where member_id = ?) as n`,
        [id, id, id],
      ))[0].n;
    expect(Number(await scores(erased.id))).toBe(5);

    const erase = await h.gql(admin.auth, `mutation E($input: EraseMemberInput!) { eraseMember(input: $input) { id status } }`, { input: { id: erased.id, reason: 'request' } });
    expect(erase.errors).toBeUndefined();
    expect(Number(await scores(erased.id))).toBe(0);
    expect((await h.gql(admin.auth, VALUE, { id: erased.id })).data.member.predictedValue).toBeNull();

    const merge = await h.gql(admin.auth, `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { survivor { id } } }`, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
    expect(merge.errors).toBeUndefined();
    expect(Number(await scores(absorbed.id))).toBe(0);
    expect(Number(await scores(survivor.id))).toBe(5);
  });
});

describe('analytics.valueAtRisk', () => {
  it('sums predicted value × churn probability per churn band over ACTIVE members both active models scored', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    await retireActive('VALUE');
    await retireActive('CHURN');
    const [value, churn, oldValue] = [await version('VALUE', 'ACTIVE'), await version('CHURN', 'ACTIVE'), await version('VALUE', 'RETIRED')];
    const [high1, high2, low, valueOnly, churnOnly, erased] = await Promise.all(Array.from({ length: 6 }, () => b.member().save()));
    await valueScore(value, high1.id, 10_000, 'HIGH');
    await churnScore(churn, high1.id, 0.75, 'HIGH');
    await valueScore(value, high2.id, 3, 'LOW');
    await churnScore(churn, high2.id, 0.5, 'HIGH'); // 1.5 is rounded down to 1
    await valueScore(value, low.id, 1_000_000_000, 'HIGH');
    await churnScore(churn, low.id, 0, 'LOW');
    await valueScore(value, valueOnly.id, 50_000, 'HIGH');
    await churnScore(churn, churnOnly.id, 0.9, 'HIGH');
    await valueScore(oldValue, churnOnly.id, 80_000, 'HIGH');
    await valueScore(value, erased.id, 70_000, 'HIGH');
    await churnScore(churn, erased.id, 0.9, 'HIGH');
    await h.app.services.members.erase(b.ctx(), { id: erased.id, reason: 'asked to be forgotten' });

    const res = await h.gql(analyst.auth, VALUE_AT_RISK);
    expect(res.errors).toBeUndefined();
    expect(res.data.analytics.valueAtRisk).toEqual({
      currency: 'GBP',
      valueModelVersionId: value,
      churnModelVersionId: churn,
      bands: [
        { churnBand: 'LOW', members: 1, predictedValueMinor: 1_000_000_000, valueAtRiskMinor: 0 },
        { churnBand: 'MEDIUM', members: 0, predictedValueMinor: 0, valueAtRiskMinor: 0 },
        { churnBand: 'HIGH', members: 2, predictedValueMinor: 10_003, valueAtRiskMinor: 7_501 },
      ],
    });
  });

  it('is null while either model has no active version, and is refused to channels', async () => {
    const b = build(h);
    const analyst = await b.admin(AdminRole.ANALYST);
    await retireActive('VALUE');
    await retireActive('CHURN');
    await version('CHURN', 'ACTIVE');
    const res = await h.gql(analyst.auth, VALUE_AT_RISK);
    expect(res.errors).toBeUndefined();
    expect(res.data.analytics.valueAtRisk).toBeNull();
    const key = await b.apiKey();
    expectError(await h.gql(key.auth, VALUE_AT_RISK), 'FORBIDDEN');
  });
});
