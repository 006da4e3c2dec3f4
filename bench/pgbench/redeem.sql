-- redeemReward's reads and writes in plain SQL (pgbench -M prepared): the ceiling for the API's redemption path.
-- Variables: rich (size of bench_rich, members holding a lot with enough points). Spends from one lot.
\set n random(1, :rich)
BEGIN;
SELECT id AS mid FROM bench_rich WHERE n = :n \gset
SELECT available FROM member_balance WHERE member_id = :mid FOR UPDATE;
-- the member's status, read once the lock is held (a merge or erasure may have won the lock)
SELECT status, merged_into_id FROM member WHERE id = :mid;
SELECT id AS rid, cost_points AS cost FROM reward WHERE code = 'BENCH-REWARD' \gset
\set spent -1 * :cost
SELECT id AS lot FROM point_lot WHERE member_id = :mid AND state = 'AVAILABLE' AND remaining >= :cost ORDER BY expires_at LIMIT 1 \gset
UPDATE point_lot SET remaining = remaining - :cost WHERE id = :lot;
INSERT INTO redemption (id, member_id, reward_id, points, status, voucher_code, idempotency_key, lot_allocations, created_at, expires_at)
  VALUES (gen_random_uuid(), :mid, :rid, :cost, 'ISSUED', upper(substr(md5(random()::text), 1, 12)), 'pgbench:' || gen_random_uuid(), '[]', now(), now() + interval '30 days')
  RETURNING id AS rdid \gset
INSERT INTO ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, actor, created_at)
  VALUES (gen_random_uuid(), :mid, 'REDEMPTION', 0, :spent, 0, 'redemption', :rdid, 'redemption:' || :rdid, 'system', now());
UPDATE member_balance SET available = available + :spent, updated_at = now() WHERE member_id = :mid;
INSERT INTO event_outbox (id, type, member_id, payload, occurred_at, created_at) VALUES (gen_random_uuid(), 'reward.redeemed', :mid, '{}', now(), now());
-- the shared reward row last, as the API does
UPDATE reward SET redeemed_count = redeemed_count + 1 WHERE id = :rid AND (stock IS NULL OR redeemed_count < stock);
END;
