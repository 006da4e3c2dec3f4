-- recordOrder's writes in plain SQL (pgbench -M prepared): the ceiling for the API's write path.
-- Variables: members, products (sizes of the helper tables bench_member and bench_product).
\set n random(1, :members)
\set p1 random(1, :products)
\set p2 random(1, :products)
\set p3 random(1, :products)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
BEGIN;
-- the API key lookup
SELECT c.id AS cid FROM sales_channel c WHERE c.name = 'Bench POS' \gset
SELECT id AS mid FROM bench_member WHERE n = :n \gset
-- the product upsert, returning the three products
SELECT (SELECT id FROM product WHERE sku = b1.sku) AS pid1, b1.sku AS sku1, b1.price AS pr1,
       (SELECT id FROM product WHERE sku = b2.sku) AS pid2, b2.sku AS sku2, b2.price AS pr2,
       (SELECT id FROM product WHERE sku = b3.sku) AS pid3, b3.sku AS sku3, b3.price AS pr3
  FROM bench_product b1, bench_product b2, bench_product b3 WHERE b1.n = :p1 AND b2.n = :p2 AND b3.n = :p3 \gset
\set t1 :pr1 * :q1
\set t2 :pr2 * :q2
\set t3 :pr3 * :q3
\set total :t1 + :t2 + :t3
\set points :total / 100
-- the waiting-referral read (a referred member's order locks the referrer too, in id order)
SELECT referrer_id FROM referral WHERE referred_id = :mid AND status = 'PENDING';
SELECT available FROM member_balance WHERE member_id = :mid FOR UPDATE;
-- the member's status, read once the lock is held (a merge or erasure may have won the lock)
SELECT status, merged_into_id FROM member WHERE id = :mid;
INSERT INTO customer_order (id, idempotency_key, body_hash, channel_id, channel_kind, external_order_id, member_id, currency, subtotal_minor,
    order_discount_minor, total_minor, placed_at, points_earned, points_basis_minor, points_breakdown, created_at)
  VALUES (gen_random_uuid(), 'pgbench:' || gen_random_uuid(), '', :cid, 'STORE', 'pgbench', :mid, 'GBP', :total, 0, :total, now(), :points, :total, '[]', now())
  RETURNING id AS oid \gset
INSERT INTO order_line (id, order_id, line_no, product_id, sku, quantity, unit_price_minor, discount_minor, total_minor, net_minor)
  VALUES (gen_random_uuid(), :oid, 1, :pid1, :sku1, :q1, :pr1, 0, :t1, :t1),
         (gen_random_uuid(), :oid, 2, :pid2, :sku2, :q2, :pr2, 0, :t2, :t2),
         (gen_random_uuid(), :oid, 3, :pid3, :sku3, :q3, :pr3, 0, :t3, :t3);
INSERT INTO ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, actor, created_at)
  VALUES (gen_random_uuid(), :mid, 'ORDER_EARN', :points, 0, :points, 'order', :oid, 'order:' || :oid, 'system', now()) RETURNING id AS lid \gset
INSERT INTO point_lot (id, member_id, ledger_entry_id, source_type, source_id, points, remaining, state, earned_at, available_at, expires_at)
  VALUES (gen_random_uuid(), :mid, :lid, 'order', :oid, :points, :points, 'PENDING', now(), now() + interval '14 days', now() + interval '12 months');
UPDATE member_balance SET pending = pending + :points, lifetime = lifetime + :points, updated_at = now() WHERE member_id = :mid;
SELECT coalesce(sum(lifetime_delta), 0) FROM ledger_entry WHERE member_id = :mid AND reason IN ('ORDER_EARN', 'RETURN_CLAWBACK') AND created_at > now() - interval '365 days';
INSERT INTO event_outbox (id, type, member_id, payload, occurred_at, created_at)
  VALUES (gen_random_uuid(), 'points.earned', :mid, '{}', now(), now()), (gen_random_uuid(), 'order.recorded', :mid, '{}', now(), now());
END;
