import { randomUUID } from 'node:crypto';
import Queue from 'bull';
import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

const prefix = `test-models-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });

const RETRAIN = `mutation R($input: RetrainModelInput!) { retrainModel(input: $input) { id kind state attemptsMade requestedBy progress { phase } } }`;
const JOBS = `query { modelJobs(first: 10) { id kind state } }`;
const RECS = `query M($id: ID!, $exclude: Boolean!) { member(id: $id) { recommendations(first: 3, excludePurchased: $exclude) {
  rank score reason isColdStart isRepeat modelVersionId product { sku name } } } }`;
const CHURN = `query M($id: ID!) { member(id: $id) { churnRisk { score band horizonDays modelVersionId drivers { feature value contribution } } } }`;
const ACTIVATE = `mutation A($input: ActivateModelVersionInput!) { activateModelVersion(input: $input) { id status activatedBy gateReason } }`;

/** What the worker writes, inserted directly: a version with its scores. */
async function version(kind: 'RECOMMENDER' | 'CHURN', status: string, metrics: Record<string, unknown> = {}) {
  const id = randomUUID();
  await h.sql(
    `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
     values (?, ?, ?, 'TEST', '{}', ?, '{}', 30, now(), now())`,
    [id, kind, status, JSON.stringify(metrics)],
  );
  return id;
}

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

const QUEUE_OF = { CHURN: 'recommender.train-churn', RECOMMENDER: 'recommender.train-recommender' } as const;

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

    const jobs = await h.gql(analyst.auth, JOBS);
    expect(jobs.data.modelJobs.map((j: { kind: string }) => j.kind).sort()).toEqual(['CHURN', 'RECOMMENDER']);
    // Each kind waits on its own queue with a versioned payload, retried with exponential backoff.
    for (const job of [first.data.retrainModel, other.data.retrainModel]) {
      const queue = new Queue(QUEUE_OF[job.kind as keyof typeof QUEUE_OF], h.config.REDIS_URL, { prefix });
      const stored = await queue.getJob(job.id);
      await queue.close();
      expect(stored?.data).toMatchObject({ v: 1, kind: job.kind, requestedBy: `admin:${analyst.id}` });
      expect(stored?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 30_000 } });
      const found = await h.gql(analyst.auth, `query J($id: ID!) { modelJob(id: $id) { id kind } }`, { id: job.id });
      expect(found.data.modelJob).toEqual({ id: job.id, kind: job.kind });
    }
    const audit = await h.sql(`select action from audit_entry where action = 'model.retrain_requested'`);
    expect(audit).toHaveLength(2);
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

  it('costs the same number of queries for a page of 2 members as for 10', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    for (let i = 0; i < 10; i++) await b.member().save();
    const page = (n: number) => h.gql(admin.auth, `{ members(first: ${n}) { edges { node { id recommendations(first: 2) { product { sku } } churnRisk { band } } } } }`);
    const small = await page(2);
    const large = await page(10);
    expect(large.errors).toBeUndefined();
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

describe('activateModelVersion', () => {
  it('rolls back to an earlier version in one step: scores served switch with it, and the change is audited', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const member = await b.member().save();
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
    const older = await version('CHURN', 'RETIRED');
    const newer = await version('CHURN', 'ACTIVE');
    await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.1, 'LOW', '[]'), (?, ?, 0.9, 'HIGH', '[]')`, [older, member.id, newer, member.id]);
    expect((await h.gql(admin.auth, CHURN, { id: member.id })).data.member.churnRisk.band).toBe('HIGH');

    const res = await h.gql(admin.auth, ACTIVATE, { input: { id: older, reason: 'complaints about the new scores' } });
    expect(res.errors).toBeUndefined();
    expect(res.data.activateModelVersion).toMatchObject({ id: older, status: 'ACTIVE', activatedBy: `admin:${admin.id}` });
    const statuses = await h.sql(`select id, status from model_version where id in (?, ?) order by status`, [older, newer]);
    expect(statuses).toEqual([{ id: older, status: 'ACTIVE' }, { id: newer, status: 'RETIRED' }]);
    expect((await h.gql(admin.auth, CHURN, { id: member.id })).data.member.churnRisk.band).toBe('LOW');
    expect(await h.sql(`select entity_id from audit_entry where action = 'model.activated'`)).toEqual([{ entity_id: older }]);
  });

  it('refuses versions without complete scores, unknown ids, an empty reason and non-admins, changing nothing', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const analyst = await b.admin(AdminRole.ANALYST);
    const training = await version('RECOMMENDER', 'TRAINING');
    const failed = await version('RECOMMENDER', 'FAILED');
    for (const id of [training, failed]) {
      const err = expectError(await h.gql(admin.auth, ACTIVATE, { input: { id, reason: 'try' } }), 'CONFLICT');
      expect(err.extensions.reason).toBe('MODEL_NOT_ACTIVATABLE');
    }
    expectError(await h.gql(admin.auth, ACTIVATE, { input: { id: randomUUID(), reason: 'try' } }), 'NOT_FOUND');
    expectError(await h.gql(admin.auth, ACTIVATE, { input: { id: failed, reason: '  ' } }), 'BAD_USER_INPUT');
    expectError(await h.gql(analyst.auth, ACTIVATE, { input: { id: failed, reason: 'try' } }), 'FORBIDDEN');
    expect(await h.sql(`select status from model_version where id in (?, ?) order by status`, [training, failed])).toEqual([{ status: 'FAILED' }, { status: 'TRAINING' }]);
  });
});
