import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { databaseUrl, templateName, withAdminClient, workerDbName } from '../support/databases';

/**
 * DATABASE_READ_URL: the analytics queries read there, everything else reads and writes DATABASE_URL. The "replica"
 * here is a second database cloned from the migrated template, which the primary's writes never reach, so where each
 * query ran shows in its answer.
 */
const env: Record<string, string> = {};
const replicaName = `${workerDbName(process.env.TEST_RUN_ID!, process.env.JEST_WORKER_ID ?? '1')}_replica`;

beforeAll(async () => {
  await withAdminClient(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${replicaName}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${replicaName}" TEMPLATE "${templateName(process.env.TEST_RUN_ID!)}"`);
  });
  env.DATABASE_READ_URL = databaseUrl(replicaName); // read by the harness's beforeAll, which runs after this one
});
const h = useHarness(env);
afterAll(async () => {
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${replicaName}" WITH (FORCE)`));
});
const b = build(h);

const KPIS = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) { orders activeMembers } } }`;
const MEMBER_ORDERS = `query($id: ID!) { member(id: $id) { orders(first: 5) { edges { node { id } } } } }`;

describe('analytics on a read replica', () => {
  it('runs the analytics queries on DATABASE_READ_URL while member reads and order writes use the primary', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    const member = await b.member().save();
    const recorded = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id) });
    expect(recorded.errors).toBeUndefined();

    const day = 86_400_000;
    const input = { from: new Date(Date.now() - day).toISOString(), to: new Date(Date.now() + day).toISOString() };
    const kpis = await h.gql(analyst.auth, KPIS, { input });
    expect(kpis.errors).toBeUndefined();
    expect(kpis.data.analytics.kpis).toEqual({ orders: 0, activeMembers: 0 });

    const orders = await h.gql(admin.auth, MEMBER_ORDERS, { id: member.id });
    expect(orders.data.member.orders.edges.map((e: any) => e.node.id)).toEqual([recorded.data.recordOrder.id]);
    const [onPrimary] = await h.sql(`select count(*)::int as n from customer_order`);
    expect(onPrimary.n).toBe(1);
  });
});
