import request from 'supertest';
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';

const h = useHarness({ GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_COMPLEXITY: '500' });
const deadRedis = useHarness({ REDIS_URL: 'redis://127.0.0.1:1' });
const b = build(h);

describe('health endpoints', () => {
  it('answers /healthz without credentials', async () => {
    const res = await h.http().get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when PostgreSQL and Redis answer', async () => {
    const res = await h.http().get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
  });

  it('answers /readyz 200 degraded naming Redis when Redis is unreachable, since reads and orders still work', async () => {
    const res = await deadRedis.http().get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'degraded', database: 'ok', redis: 'unavailable' });
  });
});

describe('request handling', () => {
  it('echoes a caller-supplied request id and makes one up otherwise', async () => {
    const given = await h.http().post('/graphql').set('x-request-id', 'pos-till-7:abc').send({ query: '{ __typename }' });
    expect(given.headers['x-request-id']).toBe('pos-till-7:abc');
    const made = await h.http().post('/graphql').send({ query: '{ __typename }' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses queries nested deeper than the limit', async () => {
    const admin = await b.admin();
    const deep = `{ members { edges { node { identifiers { value } } } } }`;
    const res = await h.gql(admin.auth, deep);
    expectError(res, 'GRAPHQL_VALIDATION_FAILED');
    expect(res.errors![0].message).toMatch(/exceeds maximum operation depth/);
  });

  it('refuses an operation whose page sizes make it too expensive, and allows a modest one', async () => {
    const admin = await b.admin();
    const costly = await h.gql(admin.auth, `{ members(first: 100) { edges { node { id email phone country status } } } }`);
    expect(expectError(costly, 'QUERY_TOO_COMPLEX').extensions).toMatchObject({ limit: 500 });
    const modest = await h.gql(admin.auth, `{ members(first: 20) { edges { node { id } } } }`);
    expect(modest.errors).toBeUndefined();
  });

  it('refuses a GET query without a CSRF-safe header', async () => {
    const res = await h.http().get('/graphql').query({ query: '{ __typename }' });
    expect(res.status).toBe(400);
  });

  it('hides internal failures: no message, stack or SQL, just a code and the request id', async () => {
    const admin = await b.admin();
    const a = await b.member().save();
    const c = await b.member().save();
    h.app.services.members.registerMergeStep(async (em) => {
      await em.getConnection().execute('select * from table_that_does_not_exist');
    });
    try {
      const res = await h.gql(admin.auth, `mutation($s: ID!, $a: ID!) { mergeMembers(input: { survivorId: $s, absorbedId: $a }) { movedIdentifiers } }`, {
        s: a.id,
        a: c.id,
      });
      const err = expectError(res, 'INTERNAL_SERVER_ERROR');
      expect(err.message).toBe('Internal server error');
      expect(err.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: res.headers['x-request-id'] });
      expect(JSON.stringify(res.errors)).not.toMatch(/table_that_does_not_exist|select|at /);
    } finally {
      (h.app.services.members as any).mergeSteps.pop();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, then refuses new connections', async () => {
    const { createApp } = await import('../../api/src/composition/app');
    const { createLogger } = await import('../../api/src/base/logger');
    const { createRedis } = await import('../../api/src/base/redis');
    const { MikroORM } = await import('@mikro-orm/postgresql');
    const { ormOptions } = await import('../../api/src/composition/orm');
    const config = { ...h.config, PORT: 0, HOST: '127.0.0.1' };
    const log = createLogger('silent');
    const orm = await MikroORM.init(ormOptions(config));
    const app = await createApp({ config, orm, redis: createRedis(config.REDIS_URL, log), log });
    const port = await app.listen();
    const admin = await b.admin();
    const a = await b.member().save();
    const c = await b.member().save();
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      app.services.members.registerMergeStep(async () => {
        resolve();
        await new Promise<void>((r) => (release = r));
      });
    });
    const inFlight = request(`http://127.0.0.1:${port}`)
      .post('/graphql')
      .set('authorization', `Bearer ${admin.token}`)
      .send({ query: `mutation { mergeMembers(input: { survivorId: "${a.id}", absorbedId: "${c.id}" }) { movedIdentifiers } }` });
    const response = inFlight.then((r) => r);
    await started;
    const stopping = app.stop();
    setTimeout(() => release(), 200);
    const res = await response;
    await stopping;
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.mergeMembers.movedIdentifiers).toBe(1);
    await expect(request(`http://127.0.0.1:${port}`).get('/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('points scheduler', () => {
  it('runs the points jobs on its cron schedule through Bull, records the run and reports a consistent ledger', async () => {
    const { startPointsScheduler } = await import('../../api/src/modules/jobs/points-scheduler');
    const { createLogger } = await import('../../api/src/base/logger');
    const scheduler = startPointsScheduler({
      orm: h.orm,
      services: h.app.services,
      log: createLogger('silent'),
      connection: h.config,
      cron: '* * * * * *',
      queueName: `test.points-jobs.${process.pid}`,
    });
    try {
      const result = await new Promise<any>((resolve, reject) => {
        scheduler.queue.once('completed', (_job, value) => resolve(value));
        scheduler.queue.once('failed', (_job, err) => reject(err));
      });
      expect(result).toMatchObject({ isConsistent: true, runId: expect.any(String) });
      const [run] = await h.em().execute(`select trigger, triggered_by, state, ledger_consistent, finished_at from points_job_run where id = ?`, [result.runId]);
      expect(run).toMatchObject({ trigger: 'SCHEDULE', triggered_by: null, state: 'DONE', ledger_consistent: true });
      expect(run.finished_at).not.toBeNull();
    } finally {
      await scheduler.queue.obliterate({ force: true });
      await scheduler.close();
    }
  });
});
