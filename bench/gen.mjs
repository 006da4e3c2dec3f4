#!/usr/bin/env node
// Synthetic data generator (`npm run gen -- --members 1000000`). See docs/operations/benchmarks.md, "Synthetic data at scale".
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import pg from 'pg';
import { apiEnv, repoRoot, runCli } from './lib/api.mjs';

const USAGE = `usage: npm run gen -- --members N [--database-url URL] [--reset] [--seed S] [--retail FILE]
  --members N        members to create (orders, ledger rows and lots follow from them: about 10 ledger rows each)
  --database-url URL the database to fill (default DATABASE_URL); created if missing, then migrated
  --reset            empty the loyalty tables first (otherwise the database must have no members)
  --seed S           random seed in [-1, 1] (default 0.42): the same seed gives the same data
  --retail FILE      the Online Retail file to resample (default /work/shared/data/online_retail.csv.gz or
                     ../shared/data/online_retail.csv.gz beside the checkout); built-in distributions when absent`;

const DAY_MS = 86_400_000;
/** Lines per order are the real invoices' line counts, capped: a real invoice has ~20 lines, 1 M members × 4 orders × 20 would be 80 M rows. */
const MAX_LINES = 4;
const MAX_ORDERS_PER_MEMBER = 60;
const TIERS = [
  ['BASE', 'Base', 0, 100],
  ['SILVER', 'Silver', 250, 110],
  ['GOLD', 'Gold', 1000, 125],
];

function options() {
  const { values } = parseArgs({
    options: {
      members: { type: 'string' },
      'database-url': { type: 'string' },
      reset: { type: 'boolean', default: false },
      seed: { type: 'string', default: '0.42' },
      retail: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const members = Number(values.members);
  if (!Number.isInteger(members) || members < 1 || members > 50_000_000) throw new Error(`--members must be an integer from 1 to 50,000,000\n${USAGE}`);
  const url = values['database-url'] || process.env.DATABASE_URL;
  if (!url) throw new Error(`give --database-url or set DATABASE_URL\n${USAGE}`);
  const seed = Number(values.seed);
  if (!(seed >= -1 && seed <= 1)) throw new Error(`--seed must be a number from -1 to 1\n${USAGE}`);
  const retail =
    values.retail ?? ['/work/shared/data/online_retail.csv.gz', path.resolve(repoRoot, '..', 'shared', 'data', 'online_retail.csv.gz')].find((f) => existsSync(f));
  return { members, url, reset: values.reset, seed, retail: retail && existsSync(retail) ? retail : null, retailAsked: values.retail ?? null };
}

/**
 * Distributions resampled from the real Online Retail transactions: products with their price and popularity,
 * lines per invoice, units per line, orders per customer and customers per country.
 */
async function retailDistributions(file) {
  const products = new Map();
  const invoices = new Map();
  const customers = new Map();
  const quantities = [];
  const parser = createReadStream(file).pipe(createGunzip()).pipe(parse({ columns: true, skip_empty_lines: true }));
  for await (const r of parser) {
    const qty = Number(r.Quantity);
    const price = Math.round(Number(r.UnitPrice) * 100);
    if (r.InvoiceNo.startsWith('C') || r.InvoiceNo.startsWith('A') || !(qty > 0) || !(price > 0) || !/^\d{5}[A-Z]?$/.test(r.StockCode)) continue;
    const p = products.get(r.StockCode) ?? { sku: r.StockCode, name: r.Description || r.StockCode, prices: [], count: 0 };
    p.count++;
    if (p.prices.length < 50) p.prices.push(price);
    products.set(r.StockCode, p);
    invoices.set(r.InvoiceNo, (invoices.get(r.InvoiceNo) ?? 0) + 1);
    quantities.push(Math.min(qty, 48));
    if (r.CustomerID) {
      const c = customers.get(r.CustomerID) ?? { country: r.Country, invoices: new Set() };
      c.invoices.add(r.InvoiceNo);
      customers.set(r.CustomerID, c);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    source: `resampled from ${file}`,
    products: [...products.values()].map((p) => ({ sku: p.sku, name: p.name.slice(0, 200), price: median(p.prices), weight: p.count })),
    basketSizes: [...invoices.values()].map((n) => Math.min(n, MAX_LINES)),
    quantities: sample(quantities, 20_000),
    ordersPerMember: [...customers.values()].map((c) => Math.min(c.invoices.size, MAX_ORDERS_PER_MEMBER)),
    countries: [...customers.values()].map((c) => countryCode(c.country)),
  };
}

/** Used when the Online Retail file is absent: shapes like it, invented. */
function builtInDistributions() {
  const products = Array.from({ length: 3000 }, (_, i) => ({ sku: `G${String(i).padStart(5, '0')}`, name: `Product ${i}`, price: 50 + ((i * 7919) % 1500), weight: Math.ceil(2000 / (i + 1)) }));
  const skew = (n, max) => Array.from({ length: n }, (_, i) => Math.max(1, Math.min(max, Math.round(max * Math.pow((i + 1) / n, 4)))));
  return {
    source: 'built-in distributions (the Online Retail file is absent)',
    products,
    basketSizes: skew(1000, MAX_LINES),
    quantities: skew(1000, 24),
    ordersPerMember: skew(1000, 30),
    countries: [...Array(70).fill('GB'), ...Array(8).fill('DE'), ...Array(8).fill('FR'), ...Array(5).fill('IE'), 'ES', 'NL', 'BE', 'CH', 'PT', 'AU', 'NO', 'IT', 'SE'],
  };
}

const COUNTRY_CODES = {
  'United Kingdom': 'GB', Germany: 'DE', France: 'FR', EIRE: 'IE', Spain: 'ES', Netherlands: 'NL', Belgium: 'BE', Switzerland: 'CH',
  Portugal: 'PT', Australia: 'AU', Norway: 'NO', Italy: 'IT', 'Channel Islands': 'JE', Finland: 'FI', Cyprus: 'CY', Sweden: 'SE',
  Austria: 'AT', Denmark: 'DK', Japan: 'JP', Poland: 'PL', USA: 'US', Israel: 'IL', Singapore: 'SG', Iceland: 'IS', Canada: 'CA',
  Greece: 'GR', Malta: 'MT', 'United Arab Emirates': 'AE', Lebanon: 'LB', Lithuania: 'LT', Brazil: 'BR', 'Czech Republic': 'CZ',
  Bahrain: 'BH', 'Saudi Arabia': 'SA', 'RSA': 'ZA',
};
const countryCode = (name) => COUNTRY_CODES[name] ?? 'GB';

function sample(xs, n) {
  if (xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]);
}

/** Categories from the product name, so category rules and segment attributes have something to match. */
const CATEGORY_SQL = `case
  when name ~* 'CHRISTMAS|ADVENT|XMAS' then 'Christmas'
  when name ~* 'GARDEN|PLANT|FLOWER|BIRD' then 'Garden'
  when name ~* 'MUG|CUP|PLATE|BOWL|TEA|CAKE|BAKING|KITCHEN|JAR|LUNCH' then 'Kitchen'
  when name ~* 'BAG|PURSE' then 'Bags'
  when name ~* 'CARD|PAPER|PEN|NOTEBOOK|WRAP' then 'Stationery'
  when name ~* 'TOY|GAME|DOLL|CHILDREN' then 'Toys'
  when name ~* 'LIGHT|CANDLE|LANTERN|HOLDER|FRAME|CLOCK|CUSHION|SIGN' then 'Home'
  else 'Other' end`;

async function step(client, label, sql, params = []) {
  const started = Date.now();
  process.stdout.write(`  ${label}…`);
  const res = await client.query(sql, params);
  process.stdout.write(` ${res.rowCount != null && res.command !== 'CREATE' ? `${Number(res.rowCount).toLocaleString('en-GB')} rows, ` : ''}${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return res;
}

/** Small lookup tables as one multi-row insert per chunk (thousands of rows, not millions). */
async function fill(client, table, columns, rows) {
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const params = [];
    const values = chunk.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
    await client.query(`insert into ${table} (${columns.join(', ')}) values ${values.join(', ')}`, params);
  }
}

async function ensureDatabase(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      await c.query(`create database "${name.replaceAll('"', '""')}"`);
      console.log(`  created database ${name}`);
    }
  } finally {
    await c.end();
  }
}

async function main() {
  const opt = options();
  const started = Date.now();
  await ensureDatabase(opt.url);
  console.log('  migrating…');
  await runCli('migrate', [], apiEnv({ databaseUrl: opt.url, port: 0, poolMax: 2 }));

  if (opt.retailAsked && !opt.retail) throw new Error(`--retail ${opt.retailAsked}: no such file`);
  const dist = opt.retail ? await retailDistributions(opt.retail) : builtInDistributions();
  console.log(`  distributions: ${dist.source}`);
  console.log(
    `    ${dist.products.length} products, ${dist.basketSizes.length} baskets (lines capped at ${MAX_LINES}), ` +
      `${dist.ordersPerMember.length} customers (orders capped at ${MAX_ORDERS_PER_MEMBER}, mean ${(dist.ordersPerMember.reduce((a, b) => a + b, 0) / dist.ordersPerMember.length).toFixed(2)})`,
  );

  const client = new pg.Client({ connectionString: opt.url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from member');
    if (rows[0].n > 0 && !opt.reset) throw new Error(`the database already has ${rows[0].n} members: use --reset to empty it first`);
    // Session settings for a bulk load only: big sorts in memory, no wait for the WAL flush on each statement, and
    // no foreign-key triggers (replica role; needs a superuser): every reference is built from rows inserted before.
    // The ledger check at the end proves the result.
    await client.query(`set work_mem = '256MB'; set maintenance_work_mem = '512MB'; set synchronous_commit = off`);
    await client.query(`set session_replication_role = replica`).catch(() => console.log('  (not a superuser: foreign keys are checked row by row, which is slower)'));
    await client.query('select setseed($1)', [opt.seed]);
    if (opt.reset) {
      await step(
        client,
        'emptying the loyalty tables',
        `truncate member, member_identifier, member_consent, member_balance, member_tier, tier_change, tier, customer_order, order_line,
           order_return, ledger_entry, point_lot, product, earning_rule, redemption, event_outbox, member_recommendation, popular_product,
           member_churn_score, model_version, sales_channel, api_key cascade`,
      );
    }

    await client.query(`
      drop schema if exists gen cascade;
      create schema gen;
      -- A UUIDv7 for a moment: ids sort by time as the API's own do (pages are ordered by id).
      create function gen.uuid7(ts timestamptz) returns uuid language sql volatile as $$
        select (lpad(to_hex(floor(extract(epoch from ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
          || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid $$;
      create unlogged table gen.product (rn int primary key, sku text, name text, price int, weight int);
      create unlogged table gen.pick_product (slot int primary key, rn int);
      create unlogged table gen.basket (slot int primary key, n int);
      create unlogged table gen.qty (slot int primary key, q int);
      create unlogged table gen.orders_per_member (slot int primary key, n int);
      create unlogged table gen.country (slot int primary key, code text);`);
    await fill(client, 'gen.product', ['rn', 'sku', 'name', 'price', 'weight'], dist.products.map((p, i) => [i + 1, p.sku, p.name, p.price, p.weight]));
    // Weighted choice by uniform pick over slots: each product holds slots in proportion to its real popularity.
    await client.query(`
      insert into gen.pick_product
      select row_number() over (), rn from gen.product, generate_series(1, greatest(1, round(weight * 20000.0 / (select sum(weight) from gen.product))::int))`);
    for (const [table, column, values] of [
      ['gen.basket', 'n', sample(dist.basketSizes, 20_000)],
      ['gen.qty', 'q', dist.quantities],
      ['gen.orders_per_member', 'n', dist.ordersPerMember],
      ['gen.country', 'code', dist.countries],
    ]) {
      await fill(client, table, ['slot', column], values.map((v, i) => [i + 1, v]));
    }
    const counts = (await client.query(`select (select count(*) from gen.pick_product)::int as products, (select count(*) from gen.basket)::int as baskets,
      (select count(*) from gen.qty)::int as qty, (select count(*) from gen.orders_per_member)::int as opm, (select count(*) from gen.country)::int as countries`)).rows[0];

    const now = new Date();
    const p = [now.toISOString()];
    await client.query(
      `insert into sales_channel (id, name, kind, created_at) values (gen.uuid7($1), 'Generated web shop', 'WEB', $1), (gen.uuid7($1), 'Generated stores', 'STORE', $1)
       on conflict (name) do nothing`,
      p,
    );
    await client.query(
      `insert into tier (id, code, name, threshold, earn_multiplier_percent, benefit_flags)
       select gen.uuid7($1), code, name, threshold, mult, '{}' from (values ${TIERS.map((t) => `('${t[0]}', '${t[1]}', ${t[2]}, ${t[3]})`).join(', ')}) t(code, name, threshold, mult)
       on conflict (code) do nothing`,
      p,
    );
    await client.query(
      `insert into earning_rule (id, rule_key, version, name, kind, priority, currency, points, per_minor, is_active, created_by, created_at)
       select gen.uuid7($1), gen_random_uuid(), 1, 'Generated base rate', 'BASE_RATE', 0, 'GBP', 1, 100, true, 'system', $1
       where not exists (select 1 from earning_rule where kind = 'BASE_RATE' and superseded_at is null)`,
      p,
    );
    await step(
      client,
      'products',
      `insert into product (id, sku, name, category, price_minor, currency, created_at)
       select gen.uuid7($1), sku, name, ${CATEGORY_SQL}, price, 'GBP', $1 from gen.product on conflict (sku) do nothing`,
      p,
    );

    // Members enrolled over three years; each one's number of orders is a real customer's, resampled.
    await step(
      client,
      'members (plan)',
      `create unlogged table gen.member as
       select i, gen.uuid7(enrolled_at) as id, enrolled_at, c.code as country, o.n as orders
       from (select i, $1::timestamptz - random() * interval '1095 days' as enrolled_at,
                    1 + floor(random() * ${counts.countries})::int as cslot, 1 + floor(random() * ${counts.opm})::int as oslot
             from generate_series(1, ${opt.members}) i) m
       join gen.country c on c.slot = m.cslot
       join gen.orders_per_member o on o.slot = m.oslot`,
      p,
    );
    await step(
      client,
      'members',
      `insert into member (id, status, first_name, last_name, email, country, enrolment_channel, enrolled_at, updated_at)
       select id, 'ACTIVE', (array['Ada','Ben','Cleo','Dev','Ema','Finn','Gus','Hana','Ivo','Jen'])[1 + i % 10],
              (array['Smith','Jones','Brown','Taylor','Wilson','Evans','Patel','Murphy','Martin','Lee'])[1 + (i / 10) % 10],
              'member' || i || '@gen.example', country, case when i % 3 = 0 then 'STORE' else 'WEB' end, enrolled_at, enrolled_at
       from gen.member order by id`,
    );
    await step(
      client,
      'member identifiers (email)',
      `insert into member_identifier (id, member_id, type, scope, value, created_at)
       select gen.uuid7(enrolled_at), id, 'EMAIL', '', 'member' || i || '@gen.example', enrolled_at from gen.member order by id`,
    );

    // Orders between enrolment and now; lines drawn by popularity; 1 point per whole pound (the base rate above).
    await step(
      client,
      'orders (plan)',
      `create unlogged table gen.orders as
       select gen.uuid7(placed_at) as id, member_id, placed_at, b.n as nlines, channel
       from (select m.id as member_id, m.enrolled_at + random() * ($1::timestamptz - m.enrolled_at) as placed_at,
                    1 + floor(random() * ${counts.baskets})::int as bslot, case when random() < 0.3 then 'STORE' else 'WEB' end as channel
             from gen.member m, generate_series(1, m.orders)) o
       join gen.basket b on b.slot = o.bslot`,
      p,
    );
    await step(
      client,
      'order lines (plan)',
      `create unlogged table gen.line as
       select gen.uuid7(o.placed_at) as id, o.id as order_id, l.n as line_no, pr.rn as prn, q.q as quantity
       from gen.orders o, generate_series(1, o.nlines) l(n),
            lateral (select 1 + floor(random() * ${counts.products})::int as pslot, 1 + floor(random() * ${counts.qty})::int as qslot where l.n > 0) r
       join gen.pick_product pr on pr.slot = r.pslot
       join gen.qty q on q.slot = r.qslot`,
    );
    await step(
      client,
      'orders',
      `insert into customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, currency,
         subtotal_minor, order_discount_minor, total_minor, placed_at, points_earned, points_basis_minor, points_breakdown, created_at)
       select o.id, c.id || ':GEN-' || o.id, '', c.id, c.kind, 'GEN-' || o.id, o.member_id, 'GBP', t.total, 0, t.total, o.placed_at,
              t.total / 100, t.total,
              case when t.total >= 100 then jsonb_build_array(jsonb_build_object('kind', 'BASE_RATE', 'label', 'Generated base rate', 'points', t.total / 100)) else '[]'::jsonb end,
              o.placed_at
       from gen.orders o
       join (select l.order_id, sum(l.quantity * g.price)::int as total from gen.line l join gen.product g on g.rn = l.prn group by l.order_id) t on t.order_id = o.id
       join sales_channel c on c.kind = o.channel and c.name like 'Generated %'
       order by o.id`,
    );

    await step(
      client,
      'order lines',
      `insert into order_line (id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor)
       select l.id, l.order_id, l.line_no, p.id, p.sku, l.quantity, p.price_minor, 0, l.quantity * p.price_minor, l.quantity * p.price_minor
       from gen.line l join gen.product g on g.rn = l.prn join product p on p.sku = g.sku
       order by l.order_id, l.line_no`,
    );
    // One lot per order that earned points. After the 14-day return window it is released; a quarter of released
    // lots are partly or wholly redeemed; what is left a year after earning expires.
    await step(
      client,
      'lots (plan)',
      `create unlogged table gen.lot as
       select gen.uuid7(placed_at) as id, gen.uuid7(placed_at) as earn_id, id as order_id, member_id, points_earned as points, placed_at,
              placed_at + interval '14 days' <= $1::timestamptz as released,
              placed_at + interval '12 months' <= $1::timestamptz as expired,
              case when placed_at + interval '14 days' <= $1::timestamptz and random() < 0.25 then least(points_earned, 1 + floor(random() * points_earned * 1.2)::int) else 0 end as redeemed
       from customer_order where points_earned > 0`,
      p,
    );
    await step(
      client,
      'ledger rows',
      `insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, actor, created_at)
       select earn_id, member_id, 'ORDER_EARN', points, 0, points, 'order', order_id, 'order:' || order_id, 'system', placed_at from gen.lot
       union all
       select gen.uuid7(placed_at + interval '14 days'), member_id, 'RELEASE', -points, points, 0, 'lot', id, 'release:' || id, 'system', placed_at + interval '14 days'
       from gen.lot where released
       union all
       select gen.uuid7(t), member_id, 'REDEMPTION', 0, -redeemed, 0, 'redemption', gen_random_uuid(), 'redemption:' || id, 'system', t
       -- Spread over the up to 300 days between the release and the generation time (clipping to one minute before it had
       -- piled a third of all redemptions into that minute).
       from (select *, placed_at + interval '14 days'
               + random() * greatest(interval '0', least(interval '300 days', $1::timestamptz - placed_at - interval '14 days' - interval '1 minute')) as t
             from gen.lot where redeemed > 0) r
       union all
       select gen.uuid7(placed_at + interval '12 months'), member_id, 'EXPIRY', 0, -(points - redeemed), 0, 'lot', id,
              'expiry:' || id || ':' || (points - redeemed), 'system', placed_at + interval '12 months'
       from gen.lot where expired and points > redeemed`,
      p,
    );
    await step(
      client,
      'point lots',
      `insert into point_lot (id, member_id, ledger_entry_id, source_type, source_id, order_id, points, remaining, state, earned_at, available_at, expires_at)
       select id, member_id, earn_id, 'order', order_id, order_id, points,
              case when expired then 0 else points - redeemed end,
              case when not released then 'PENDING' when expired or points = redeemed then 'CLOSED' else 'AVAILABLE' end,
              placed_at, placed_at + interval '14 days', placed_at + interval '12 months'
       from gen.lot order by id`,
    );
    await step(
      client,
      'balances',
      `insert into member_balance (member_id, available, pending, lifetime, updated_at)
       select m.id, coalesce(sum(case when l.released and not l.expired then l.points - l.redeemed else 0 end), 0),
              coalesce(sum(case when not l.released then l.points else 0 end), 0), coalesce(sum(l.points), 0), $1
       from gen.member m left join gen.lot l on l.member_id = m.id group by m.id order by m.id`,
      p,
    );
    // Tiers on points earned in the last 365 days (the programme's default window), held for a year from now.
    await step(
      client,
      'member tiers',
      `insert into member_tier (member_id, tier_id, achieved_at, retain_until)
       select e.member_id, t.id, $1::timestamptz - interval '30 days', $1::timestamptz + interval '335 days'
       from (select member_id, sum(points) as earned from gen.lot where placed_at > $1::timestamptz - interval '365 days' group by member_id) e
       join lateral (select id from tier where threshold > 0 and threshold <= e.earned order by threshold desc limit 1) t on true`,
      p,
    );

    // An active recommender: stored picks for a fifth of the members, popularity per country for the others.
    const version = (
      await client.query(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, activated_at, activated_by)
         select gen.uuid7($1), 'RECOMMENDER', 'ACTIVE', 'GENERATED', '{}', '{}', '{}', 30, $1, $1, $1, 'system'
         where not exists (select 1 from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE')
         returning id`,
        p,
      )
    ).rows[0]?.id;
    if (version) {
      await step(
        client,
        'popular products per country',
        `insert into popular_product (model_version_id, country, rank, product_id, score)
         select $1::uuid, country, rank, product_id, score from (
           select coalesce(m.country, '') as country, l.product_id, count(*)::real as score,
                  row_number() over (partition by coalesce(m.country, '') order by count(*) desc, l.product_id) as rank
           from order_line l join customer_order o on o.id = l.order_id join member m on m.id = o.member_id
           where o.placed_at > $2::timestamptz - interval '90 days'
           group by 1, 2) x where rank <= 20
         union all
         select $1::uuid, '', rank, product_id, score from (
           select p.id as product_id, g.weight::real as score, row_number() over (order by g.weight desc, g.rn) as rank
           from gen.product g join product p on p.sku = g.sku) y where rank <= 20`,
        [version, now.toISOString()],
      );
      await step(
        client,
        'member recommendations',
        `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat)
         select $1::uuid, m.id, r.rank, p.id, 1 - r.rank / 10.0, 'Generated pick', false
         from gen.member m
         cross join lateral (select rank, 1 + floor(random() * ${counts.products})::int as pslot from generate_series(1, 5) rank where m.i > 0) r
         join gen.pick_product pp on pp.slot = r.pslot
         join gen.product g on g.rn = pp.rn join product p on p.sku = g.sku
         where m.i % 5 = 0
         on conflict do nothing`,
        [version],
      );
    }
    await client.query('drop schema gen cascade');
    // The per-member order and points histories (Migration20261209100000_order_history, …100200_ledger_history) are kept
    // by triggers on customer_order and ledger_entry, which the replica role switches off: rebuilt here from the rows,
    // as the migrations' backfills do.
    await step(client, 'order history (per-member aggregates)', 'select order_history_rebuild()');
    await step(client, 'points history (per-member aggregates)', 'select points_history_rebuild()');
    // And the pre-aggregates read from them and from the rows (Migration20261210100000_scale_aggregates).
    await step(client, 'order stats, daily order and hourly points totals', 'select scale_aggregates_rebuild()');
    // Vacuumed as well as analysed, as autovacuum leaves a table some time after a bulk load (visibility map and hint
    // bits set): the first benchmark would otherwise pay for both, which a database in service does not.
    await step(client, 'vacuum and analyze', 'vacuum (analyze)');

    const totals = (
      await client.query(`select (select count(*) from member)::bigint as members, (select count(*) from customer_order)::bigint as orders,
        (select count(*) from order_line)::bigint as lines, (select count(*) from ledger_entry)::bigint as ledger_rows,
        (select count(*) from point_lot)::bigint as lots, (select count(*) from member_tier)::bigint as tiered,
        pg_size_pretty(pg_database_size(current_database())) as size`)
    ).rows[0];
    console.log(
      `  totals: ${Number(totals.members).toLocaleString('en-GB')} members, ${Number(totals.orders).toLocaleString('en-GB')} orders, ` +
        `${Number(totals.lines).toLocaleString('en-GB')} lines, ${Number(totals.ledger_rows).toLocaleString('en-GB')} ledger rows, ` +
        `${Number(totals.lots).toLocaleString('en-GB')} lots, ${Number(totals.tiered).toLocaleString('en-GB')} members above the base tier; database ${totals.size}`,
    );
  } finally {
    await client.end();
  }

  // The proof that balances and lots equal the ledger sums: the same check as `npm run ledger:check`.
  process.stdout.write('  ledger check…');
  const checkStarted = Date.now();
  const out = await runCli('points-jobs', ['--check'], apiEnv({ databaseUrl: opt.url, port: 0, poolMax: 2 }), { timeoutMs: 3_600_000 }).catch((err) => {
    throw new Error(`the ledger check failed: ${err.message}`);
  });
  console.log(` ${((Date.now() - checkStarted) / 1000).toFixed(1)} s\n${out.trim().replace(/^/gm, '    ')}`);
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
