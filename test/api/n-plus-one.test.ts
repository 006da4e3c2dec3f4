import { randomUUID } from 'node:crypto';
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

const h = useHarness();

const UPSERT_TIER = `mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;

/** The admin app's members page: each member with its latest orders and their lines, tier, points and recommendations. */
const MEMBERS_PAGE = `query Page($first: Int!) { members(first: $first) { edges { node {
  id country
  tier { code name }
  points { available pending nextExpiry { points } }
  orders(first: 3) { edges { node { id totalMinor pointsEarned lines { sku quantity } } } pageInfo { hasNextPage } }
  recommendations(first: 2) { rank product { sku } }
  churnRisk { band }
  predictedValue { amount band drivers { feature } }
} } } }`;

const queriesOf = (res: { headers: Record<string, string> }) => Number(res.headers['x-db-queries']);

describe('members page', () => {
  it('costs the same number of SQL statements for 2 members as for 20', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    await b.baseRate();
    await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'BASE', name: 'Base', threshold: 0 } });
    await h.gql(admin.auth, UPSERT_TIER, { i: { code: 'GOLD', name: 'Gold', threshold: 50 } });

    const version = randomUUID();
    await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
       values (?, 'RECOMMENDER', 'ACTIVE', 'TEST', '{}', '{}', '{}', 30, now(), now())`,
      [version],
    );
    const value = randomUUID();
    await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, value_scoring, created_at, finished_at)
       values (?, 'VALUE', 'ACTIVE', 'TEST', '{}', '{}', '{}', 90, '{"currency": "GBP"}', now(), now())`,
      [value],
    );
    const [mug] = await h.sql<{ id: string }>(`insert into product (id, sku, name, created_at) values (?, 'N1-MUG', 'Mug', now()) returning id`, [randomUUID()]);

    for (let i = 0; i < 20; i++) {
      const member = await b.member().inCountry(i % 2 ? 'GB' : 'FR').save();
      // Every third member buys enough for GOLD; the others stay on the base tier; some never order.
      const orders = i % 4 === 3 ? 0 : 1 + (i % 3);
      for (let o = 0; o < orders; o++) {
        const res = await h.gql(key.auth, RECORD_ORDER, {
          input: orderInput(member.id, [{ sku: `N1-${o}`, unitPriceMinor: i % 3 === 0 ? 4000 : 500 }, { sku: 'N1-MUG' }]),
        });
        expect(res.errors).toBeUndefined();
      }
      if (i % 4 < 3) {
        await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, ?, 0.5, 'MEDIUM', ?)`, [
          value,
          member.id,
          1000 * i,
          JSON.stringify([{ feature: 'log_monetary', value: i, contribution: 0.1 }]),
        ]);
      }
      if (i % 2 === 0) {
        await h.sql(`insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat) values (?, ?, 1, ?, 0.9, 'Test', false)`, [
          version,
          member.id,
          mug.id,
        ]);
      }
    }

    const small = await h.gql(admin.auth, MEMBERS_PAGE, { first: 2 });
    const large = await h.gql(admin.auth, MEMBERS_PAGE, { first: 20 });
    expect(small.errors).toBeUndefined();
    expect(large.errors).toBeUndefined();

    // The page really holds what each field resolver has to load.
    const nodes = large.data.members.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(20);
    expect(new Set(nodes.map((n: any) => n.tier?.code))).toEqual(new Set(['BASE', 'GOLD']));
    expect(nodes.filter((n: any) => n.orders.edges.length === 0)).toHaveLength(5);
    expect(nodes.some((n: any) => n.orders.edges.length === 3 && n.orders.edges[0].node.lines.length === 2)).toBe(true);
    expect(nodes.filter((n: any) => n.recommendations.length === 1)).toHaveLength(10);
    expect(nodes.filter((n: any) => n.predictedValue?.drivers.length === 1)).toHaveLength(15);
    expect(nodes.filter((n: any) => n.points.pending > 0).length).toBeGreaterThan(0);

    expect(queriesOf(small)).toBeGreaterThan(0);
    expect(queriesOf(large)).toBe(queriesOf(small));
  });

  it('gives each member its own newest orders, a page at a time, when they come from one batched query', async () => {
    const b = build(h);
    const admin = await b.admin(AdminRole.ADMIN);
    const key = await b.apiKey();
    const [first, second] = [await b.member().save(), await b.member().save()];
    const recorded: Record<string, string[]> = { [first.id]: [], [second.id]: [] };
    for (const member of [first, second, first, second, first]) {
      const res = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(member.id) });
      recorded[member.id].unshift(res.data.recordOrder.id);
    }
    const res = await h.gql(admin.auth, `{ members(first: 2) { edges { node { id orders(first: 2) { edges { node { id memberId } } pageInfo { hasNextPage } } } } } }`);
    expect(res.errors).toBeUndefined();
    const byId = Object.fromEntries(res.data.members.edges.map((e: any) => [e.node.id, e.node.orders]));
    expect(byId[first.id].edges.map((e: any) => e.node.id)).toEqual(recorded[first.id].slice(0, 2));
    expect(byId[first.id].pageInfo.hasNextPage).toBe(true);
    expect(byId[second.id].edges.map((e: any) => e.node.id)).toEqual(recorded[second.id]);
    expect(byId[second.id].pageInfo.hasNextPage).toBe(false);
  });
});
