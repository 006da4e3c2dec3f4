-- recordOrder in plain SQL (pgbench -M prepared): exactly the statements the API runs for an order of a member with a
-- balance and no pending referral on the benchmark's programme (base rate, tiers on points earned), with the API's
-- own SQL text; only its bound parameters (JSON documents built in Node) are built here in SQL, and a few harness
-- columns pick the sampled member and products without a round trip of their own. The API runs statements 1 and 2-3
-- on two pooled connections at once; pgbench runs them one after the other.
-- Variables: members, products (sizes of the helper tables bench_member and bench_product).
\set n random(1, :members)
\set p1 random(1, :products)
\set p2 random(1, :products)
\set p3 random(1, :products)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
-- 1. the replay check with the version of the earning terms (the API process caches the terms themselves)
with terms_version as materialized (select version from earning_terms_version where id = 1)
  select (select to_jsonb(o) from customer_order o where o.idempotency_key = (select 'pgbench:' || gen_random_uuid())) as stored,
    (select version::text from terms_version) as terms_version,
    case when (select version from terms_version) is not distinct from (select version from earning_terms_version where id = 1)::bigint then null else
      (select to_jsonb(s) from programme_settings s where s.id = 1) end as settings,
    case when (select version from terms_version) is not distinct from (select version from earning_terms_version where id = 1)::bigint then null else
      (select coalesce(jsonb_agg(to_jsonb(r) order by r.kind, r.priority desc), '[]'::jsonb)
         from earning_rule r where r.superseded_at is null and r.is_active) end as rules;
-- 2. the member (MemberService.findById)
select "m0".* from "member" as "m0" where "m0"."id" = (select id from bench_member where n = :n) limit 1 \gset
-- 3. the members the contributors lock with them (a referred member's referrer)
select referrer_id from referral where referred_id = :id and status = 'PENDING';
BEGIN;
-- 4. unknown products created, the products returned, and the member's balance locked
with x as materialized (
    select * from jsonb_to_recordset((select jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'sku', b.sku, 'name', b.sku, 'category', null, 'brand', null, 'price_minor', b.price, 'currency', 'GBP'))
     from bench_product b where b.n in (:p1, :p2, :p3))::text::jsonb) as x(id uuid, sku text, name text, category text, brand text, price_minor int, currency text)
  ), inserted as (
    insert into product (id, sku, name, category, brand, price_minor, currency, created_at)
    select x.id, x.sku, x.name, x.category, x.brand, x.price_minor, x.currency, now() from x
    on conflict (sku) do nothing
    returning id, sku, category, brand
  ), locked as (
    select available::float8 as available, pending::float8 as pending, lifetime::float8 as lifetime from member_balance where member_id = :id for update
  )
  select (select coalesce(jsonb_agg(p), '[]'::jsonb) from (select * from inserted union all select p.id, p.sku, p.category, p.brand from product p join x on x.sku = p.sku) p) as products,
    (select to_jsonb(l) from locked l) as balance,
    -- harness columns (no round trip of their own): the sampled products' prices, for the order's totals
    (select sku from bench_product where n = :p1) as sku1, (select price from bench_product where n = :p1) as pr1,
    (select sku from bench_product where n = :p2) as sku2, (select price from bench_product where n = :p2) as pr2,
    (select sku from bench_product where n = :p3) as sku3, (select price from bench_product where n = :p3) as pr3,
    (select id from sales_channel where name = 'Bench POS') as cid, gen_random_uuid() as oid, gen_random_uuid() as lid, gen_random_uuid() as lotid \gset w_
\set t1 :w_pr1 * :q1
\set t2 :w_pr2 * :q2
\set t3 :w_pr3 * :q3
\set total :t1 + :t2 + :t3
\set points :total / 100
-- 5. the member's status with every contributor's read (tier row lock, tiers, tier metric, plans, campaigns, referral)
with earning_keys as materialized (
        select * from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('member_id', :id::uuid, 'at_from', now(), 'at_to', now(), 'placed_from', now(), 'placed_to', now()))::text::jsonb) as k(member_id uuid, at_from timestamptz, at_to timestamptz, placed_from timestamptz, placed_to timestamptz)
      ), earning_tier_rows as materialized (select * from member_tier where member_id in (select member_id from earning_keys) order by member_id for update)
      select (select coalesce(jsonb_agg(jsonb_build_array(k.member_id, (null::jsonb), (select jsonb_build_object(
          'row', (select to_jsonb(r) from earning_tier_rows r where r.member_id = k.member_id),
          'metric', case when exists (select 1 from tier) then (select jsonb_build_object(
         'recent', coalesce(sum(e.lifetime_delta) filter (where e.created_at > k.at_to - make_interval(secs => 31536000)), 0)::float8,
         'entries', coalesce(jsonb_agg(jsonb_build_array(e.created_at, e.lifetime_delta::float8)) filter (where e.created_at <= k.at_to - make_interval(secs => 31536000)), '[]'::jsonb))
       from ledger_entry e
       where e.member_id = any(array(select id from member where id = k.member_id union all select id from member where merged_into_id = k.member_id))
         and e.reason in ('ORDER_EARN', 'RETURN_CLAWBACK') and e.created_at > k.at_from - make_interval(secs => 31536000)) end)), (select coalesce(jsonb_agg(jsonb_build_object('name', pl.name, 'earnMultiplierPercent', pl.earn_multiplier_percent,
                 'startsAt', mp.starts_at, 'endsAt', mp.ends_at) order by mp.starts_at, mp.id), '[]'::jsonb)
               from member_plan mp join membership_plan pl on pl.id = mp.plan_id
               where mp.member_id = k.member_id and mp.cancelled_at is null and mp.starts_at <= k.at_to and mp.ends_at > k.at_from), (select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name, 'fixedPoints', c.bonus_fixed_points,
                 'multiplierPercent', c.bonus_multiplier_percent, 'startsAt', c.starts_at, 'endsAt', c.ends_at) order by c.id), '[]'::jsonb)
               from campaign_member cm join campaign c on c.id = cm.campaign_id
               where cm.member_id = k.member_id and cm.assigned_group = 'TREATED'
                 and (c.bonus_fixed_points is not null or c.bonus_multiplier_percent is not null) and c.status in ('SCHEDULED', 'ACTIVE')
                 and c.starts_at <= k.placed_to and (c.ends_at is null or (c.ends_at > k.placed_from and c.ends_at > k.at_from))), (select jsonb_build_object('status', r.status, 'orderId', r.order_id) from referral r where r.referred_id = k.member_id))), '[]'::jsonb) from earning_keys k) as members,
        jsonb_build_array((null::jsonb), (select coalesce(jsonb_agg(to_jsonb(t) order by t.threshold), '[]'::jsonb) from tier t), (null::jsonb), (null::jsonb), (null::jsonb)) as shared, (select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = :id) as member_state,
    -- harness column: whether the member has a tier row (the API then extends its period through the ORM's flush)
    (select count(*) from earning_tier_rows)::int as has_tier \gset r_
\if :r_has_tier
-- 6. a member with a tier row: its qualification period extended (TierService.decide, the ORM's flush)
update "member_tier" set "retain_until" = now() + interval '365 days' where "member_id" = :id;
\endif
-- 7. the order, its lines, the ledger row, the lot, the balance and the outbox events, in one statement
with order_row as (insert into customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, status, currency, subtotal_minor,
  order_discount_minor, total_minor, returned_minor, store_code, placed_at, points_earned, points_clawed_back, points_basis_minor,
  returned_at_credit_minor, points_breakdown, claimed_at, created_at)
    select id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, status, currency, subtotal_minor,
  order_discount_minor, total_minor, returned_minor, store_code, placed_at, points_earned, points_clawed_back, points_basis_minor,
  returned_at_credit_minor, points_breakdown, claimed_at, created_at from jsonb_populate_record(null::customer_order, jsonb_build_object('id', :w_oid::uuid, 'idempotency_key', 'pgbench:' || :w_oid::text, 'body_hash', '', 'channel_id', :w_cid::uuid, 'channel_kind', 'STORE',
    'external_order_id', 'pgbench-' || :w_oid::text, 'member_id', :id::uuid, 'status', 'COMPLETED', 'currency', 'GBP', 'subtotal_minor', :total::int, 'order_discount_minor', 0,
    'total_minor', :total::int, 'returned_minor', 0, 'store_code', null, 'placed_at', now(), 'points_earned', :points::int, 'points_clawed_back', 0,
    'points_basis_minor', :total::int, 'returned_at_credit_minor', 0,
    'points_breakdown', jsonb_build_array(jsonb_build_object('kind', 'BASE_RATE', 'label', 'Base rate', 'ruleId', null, 'ruleVersion', 1, 'points', :points::int)),
    'claimed_at', null, 'created_at', now())::text::jsonb)),
order_lines as (insert into order_line (id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor, returned_quantity)
    select id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor, returned_quantity from jsonb_populate_recordset(null::order_line, jsonb_build_array(
    jsonb_build_object('id', gen_random_uuid(), 'order_id', :w_oid::uuid, 'line_no', 1, 'product_id', (select id from product where sku = :w_sku1), 'sku', :w_sku1::text, 'quantity', :q1::int, 'unit_price_minor', :w_pr1::int, 'discount_minor', 0, 'total_minor', :t1::int, 'net_minor', :t1::int, 'returned_quantity', 0),
    jsonb_build_object('id', gen_random_uuid(), 'order_id', :w_oid::uuid, 'line_no', 2, 'product_id', (select id from product where sku = :w_sku2), 'sku', :w_sku2::text, 'quantity', :q2::int, 'unit_price_minor', :w_pr2::int, 'discount_minor', 0, 'total_minor', :t2::int, 'net_minor', :t2::int, 'returned_quantity', 0),
    jsonb_build_object('id', gen_random_uuid(), 'order_id', :w_oid::uuid, 'line_no', 3, 'product_id', (select id from product where sku = :w_sku3), 'sku', :w_sku3::text, 'quantity', :q3::int, 'unit_price_minor', :w_pr3::int, 'discount_minor', 0, 'total_minor', :t3::int, 'net_minor', :t3::int, 'returned_quantity', 0))::text::jsonb)),
ledger_rows as (insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, note, actor, created_at)
        select x.id, x.member_id, x.reason, x.pending_delta, x.available_delta, x.lifetime_delta, x.source_type, x.source_id, x.idempotency_key, x.note, x.actor, x.created_at
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('id', :w_lid::uuid, 'member_id', :id::uuid, 'reason', 'ORDER_EARN', 'pending_delta', :points::int, 'available_delta', 0, 'lifetime_delta', :points::int,
    'source_type', 'order', 'source_id', :w_oid::uuid, 'idempotency_key', 'order:' || :w_oid::text, 'note', null, 'actor', 'apikey-bench', 'created_at', now()))::text::jsonb) as x(id uuid, member_id uuid, reason text, pending_delta bigint, available_delta bigint, lifetime_delta bigint,
          source_type text, source_id uuid, idempotency_key text, note text, actor text, created_at timestamptz)),
new_lots as (insert into point_lot (id, member_id, ledger_entry_id, source_type, source_id, order_id, points, remaining, state, earned_at, available_at, expires_at)
        select x.id, x.member_id, x.ledger_entry_id, x.source_type, x.source_id, x.order_id, x.points, x.remaining, x.state, x.earned_at, x.available_at, x.expires_at
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('id', :w_lotid::uuid, 'member_id', :id::uuid, 'ledger_entry_id', :w_lid::uuid, 'source_type', 'order', 'source_id', :w_oid::uuid, 'order_id', :w_oid::uuid,
    'points', :points::int, 'remaining', :points::int, 'state', 'PENDING', 'earned_at', now(), 'available_at', now() + interval '14 days', 'expires_at', now() + interval '12 months'))::text::jsonb) as x(id uuid, member_id uuid, ledger_entry_id uuid, source_type text, source_id uuid, order_id uuid, points int, remaining int, state text,
          earned_at timestamptz, available_at timestamptz, expires_at timestamptz)),
balances as (update member_balance b set available = x.available, pending = x.pending, lifetime = x.lifetime, updated_at = now()
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('member_id', :id::uuid, 'available', (:w_balance::jsonb->>'available')::bigint,
    'pending', (:w_balance::jsonb->>'pending')::bigint + :points, 'lifetime', (:w_balance::jsonb->>'lifetime')::bigint + :points))::text::jsonb) as x(member_id uuid, available bigint, pending bigint, lifetime bigint) where b.member_id = x.member_id),
outbox_events as (insert into event_outbox (id, type, member_id, payload, dedupe_key, occurred_at, created_at)
       select x.id, x.type, x.member_id, x.payload, x.dedupe_key, x.occurred_at, now()
       from jsonb_to_recordset(jsonb_build_array(
    jsonb_build_object('id', gen_random_uuid(), 'type', 'points.earned', 'member_id', :id::uuid, 'payload', jsonb_build_object('memberId', :id::text, 'points', :points::int, 'sourceType', 'order', 'sourceId', :w_oid::text, 'lotId', :w_lotid::text, 'isPending', true), 'dedupe_key', null, 'occurred_at', now()),
    jsonb_build_object('id', gen_random_uuid(), 'type', 'order.recorded', 'member_id', :id::uuid, 'payload', jsonb_build_object('orderId', :w_oid::text, 'memberId', :id::text, 'channelId', :w_cid::text, 'channelKind', 'STORE', 'currency', 'GBP', 'totalMinor', :total::int, 'pointsEarned', :points::int), 'dedupe_key', null, 'occurred_at', now()))::text::jsonb) as x(id uuid, type text, member_id uuid, payload jsonb, dedupe_key text, occurred_at timestamptz)
       order by x.id
       on conflict (dedupe_key) do nothing)
           select 1 as written;
END;
