#!/usr/bin/env node
// `npm run explain -- --database-url URL`: EXPLAIN (ANALYZE, BUFFERS) of the hot queries, as markdown. Writes run
// inside a transaction that is rolled back. See docs/operations/performance.md.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { apiSql } from './lib/sql.mjs';

const { values } = parseArgs({ options: { 'database-url': { type: 'string' } } });
const url = values['database-url'] || process.env.DATABASE_URL;
if (!url) {
  console.error('usage: npm run explain -- --database-url URL (or DATABASE_URL)');
  process.exit(1);
}

/** Tables big enough that a sequential scan of one on a point query is a missing index. */
const BIG = ['member', 'member_identifier', 'customer_order', 'order_line', 'ledger_entry', 'point_lot', 'member_balance', 'member_tier', 'member_recommendation', 'redemption'];

const client = new pg.Client({ connectionString: url });
await client.connect();
const { RECOMMENDATIONS_SQL, preview, memberCardById, memberCardByIdentifier, memberOrdersPage, timeKeySql, orderTerms, earningReads, tierMetricPoints, redemptionInputs } = await apiSql();
const one = async (sql, params = []) => (await client.query(sql, params)).rows[0];

// Representative parameters: a member with several orders, stored recommendations and an available lot.
const member = await one(`select o.member_id as id from customer_order o join member_recommendation r on r.member_id = o.member_id
  join point_lot l on l.member_id = o.member_id and l.state = 'AVAILABLE' where o.placed_at > now() - interval '60 days' limit 1`);
const email = await one(`select value from member_identifier where member_id = $1 and type = 'EMAIL'`, [member.id]);
const order = await one(`select idempotency_key from customer_order where member_id = $1 limit 1`, [member.id]);
const skus = (await client.query(`select sku from product order by random() limit 3`)).rows.map((r) => r.sku);
const counts = await one(`select (select count(*) from member)::int as members, (select reltuples::bigint from pg_class where relname = 'ledger_entry') as ledger`);
const asOf = (await one('select max(placed_at) as t from customer_order')).t;
const yearAgo = new Date(Date.now() - 365 * 86_400_000);

const rule = {
  and: [
    { attribute: 'purchaseCount', op: 'gte', value: 2, windowDays: 90 },
    { attribute: 'country', op: 'in', value: ['GB', 'DE', 'FR'] },
    { not: { attribute: 'tier', op: 'eq', value: 'GOLD' } },
  ],
};
const previewSql = preview(rule, asOf);
const card = memberCardById(member.id);
const terms = orderTerms(order.idempotency_key);
const cardByEmail = memberCardByIdentifier('EMAIL', '', email.value);
const credit = earningReads(member.id, new Date(), new Date());
const metric = tierMetricPoints(member.id, yearAgo);
// Any reward id will do for the plan (none may exist in a generated database: the statement then returns no row).
const reward = (await one(`select coalesce((select id from reward limit 1), gen_random_uuid()) as id`)).id;
const redemption = redemptionInputs(member.id, reward, new Date());
const newestOrders = memberOrdersPage(member.id, null, 21);
// The member with the most orders, and the keyset position halfway through them (what `after` decodes to).
const longest = await one('select member_id as id, orders from member_order_stats order by orders desc limit 1');
const halfway = await one(
  `select ${timeKeySql('placed_at')} as at, id from customer_order where member_id = $1
   order by placed_at desc, id desc offset $2 limit 1`,
  [longest.id, Math.floor(longest.orders / 2)],
);
const deepOrders = memberOrdersPage(longest.id, halfway, 21);
// The most orders one member has at one instant (a date-only import): the index orders them by placed_at alone, so a
// page among them sorts the whole group by id.
const ties = await one(`select member_id as id, placed_at, count(*)::int as orders from customer_order where member_id is not null
  group by member_id, placed_at order by count(*) desc limit 1`);
const midTie = await one(
  `select ${timeKeySql('placed_at')} as at, id from customer_order
   where member_id = $1 and placed_at = $2 order by id desc offset $3 limit 1`,
  [ties.id, ties.placed_at, Math.floor(ties.orders / 2)],
);
const tiedOrders = memberOrdersPage(ties.id, midTie, 21);
let n = 0;
const recs = RECOMMENDATIONS_SQL.replace(/\?/g, () => (n++ === 0 ? '$1' : '$2'));

const cases = [
  ['member by id with balance, next expiry and tier (member(id): one statement)', card.text, card.values],
  ['member by email identifier with the same (memberByIdentifier)', cardByEmail.text, cardByEmail.values],
  ["member's newest orders (member.orders loader, first page of 20)", newestOrders.text, newestOrders.values],
  [`member.orders, a page of 20 halfway through the longest history (${longest.orders.toLocaleString('en-GB')} orders)`, deepOrders.text, deepOrders.values],
  [`member.orders, a page of 20 halfway through one member's ${ties.orders.toLocaleString('en-GB')} orders at one instant`, tiedOrders.text, tiedOrders.values],
  ['recordOrder: replay check, programme settings and earning rules (one statement)', terms.text, terms.values],
  [
    'recordOrder: products upsert returning them',
    `with x as (select * from jsonb_to_recordset($1::jsonb) as x(id uuid, sku text, name text, category text, brand text, price_minor int, currency text)),
     inserted as (insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
       select x.id, x.sku, x.name, x.category, x.brand, x.price_minor, x.currency, now() from x on conflict (sku) do nothing returning *)
     select * from inserted union all select p.* from product p join x on x.sku = p.sku`,
    [JSON.stringify(skus.map((sku) => ({ id: crypto.randomUUID(), sku, name: sku, category: null, brand: null, price_minor: 100, currency: 'GBP' })))],
  ],
  ['recordOrder / redeemReward: balance lock', 'select m0.* from member_balance as m0 where m0.member_id = $1 limit 1 for update', [member.id]],
  [
    'recordOrder: earning reads: tier row lock, tiers, tier metric, points the same day, plans, bonus campaigns, referral (one statement)',
    credit.text,
    credit.values,
  ],
  ['tierProgress / nightly tier periods: tier metric (points earned in the window, merged records included)', metric.text, metric.values],
  ['redeemReward: replay check', 'select r0.* from redemption as r0 where r0.idempotency_key = $1 limit 1', [`${member.id}:none`]],
  ['redeemReward: reward, tier, redemptions held, campaign offer (one statement)', redemption.text, redemption.values],
  [
    'redeemReward: lots to spend, first to expire first',
    `select p0.* from point_lot as p0 where p0.member_id = $1 and p0.state = 'AVAILABLE' and p0.remaining > 0 order by p0.expires_at asc, p0.earned_at asc, p0.id asc`,
    [member.id],
  ],
  ['member recommendations (first: 5)', recs, [member.id, false]],
  ['member recommendations, excluding purchases', recs, [member.id, true]],
  // With the session settings the API's preview transaction uses (segment.service.ts).
  ['segment preview (3 conditions, count and sample of 20)', previewSql.text, previewSql.values, `set local jit = off; set local max_parallel_workers_per_gather = 0; set local work_mem = '128MB'`],
  // With the session settings of analytics reads (analytics.service.ts); RFM from the per-member order history.
  [
    'analytics RFM segments (analytics_rfm)',
    `select segment, count(*)::int as members, sum(orders)::int as orders, sum(monetary_minor)::float8 as revenue from analytics_rfm($1) group by segment`,
    [asOf],
    `set local jit = off; set local work_mem = '128MB'`,
  ],
];

console.log(`Plans on ${new URL(url).pathname.slice(1)}: ${counts.members.toLocaleString('en-GB')} members, ~${Number(counts.ledger).toLocaleString('en-GB')} ledger rows.\n`);
const findings = [];
for (const [title, sql, params, settings] of cases) {
  await client.query('begin');
  try {
    if (settings) await client.query(settings);
    const { rows } = await client.query(`explain (analyze, buffers, timing off, summary on) ${sql}`, params);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    const seq = BIG.filter((t) => new RegExp(`Seq Scan on ${t}\\b`).test(plan));
    const time = plan.match(/Execution Time: ([\d.]+) ms/)?.[1];
    console.log(`### ${title}\n\nexecution ${time} ms${seq.length ? `; sequential scan of ${seq.join(', ')}` : ''}\n\n\`\`\`\n${plan}\n\`\`\`\n`);
    findings.push({ title, time: Number(time), seq });
  } finally {
    await client.query('rollback');
  }
}
console.log('| query | execution ms | sequential scans of large tables |\n|---|---|---|');
for (const f of findings) console.log(`| ${f.title} | ${f.time.toFixed(2)} | ${f.seq.join(', ') || 'none'} |`);
await client.end();
