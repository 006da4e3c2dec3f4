-- redeemReward in plain SQL (pgbench -M prepared): exactly the statements the API runs for a redemption of the
-- benchmark's reward (a DONATION of 1 point, completed at once) by a member with available points, with the API's own
-- SQL text; only its bound parameters (JSON documents built in Node) are built here in SQL, and harness columns pick
-- the sampled member and the new rows' ids without a round trip of their own. Statement 2 runs on its own, as the API
-- runs it: no BEGIN/END, the function takes the member's lock, writes and commits in one statement (one redemption:
-- the API sends several together only when the same member's arrive while one is in flight).
-- Variables: rich (size of bench_rich, members holding a lot with enough points).
\set n random(1, :rich)
-- 1. the replay check, the voucher validity, the member's status, and the reward with their tier, holdings and campaign offer
select (select to_jsonb(r) from redemption r where r.idempotency_key = (select 'pgbench:' || gen_random_uuid())) as prior,
    (select s.voucher_valid_days from programme_settings s where s.id = 1) as voucher_valid_days,
    (select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = (select id from bench_rich where n = :n)) as member_state,
    (select to_jsonb(x) from (select r.*,
    (select t.code from tier t
      where t.id = coalesce((select mt.tier_id from member_tier mt where mt.member_id = (select id from bench_rich where n = :n)), (select b.id from tier b where b.threshold = 0))) as redeem_tier_code,
    case when r.per_member_limit is not null then
      (select count(*)::int from redemption x where x.member_id = (select id from bench_rich where n = :n) and x.reward_id = r.id and x.status in ('ISSUED', 'CONSUMED'))
    end as redeem_held,
    (select jsonb_build_object('campaignId', c.id, 'costPoints', (cm.offer->>'costPoints')::int)
       from campaign_member cm join campaign c on c.id = cm.campaign_id
       where cm.member_id = (select id from bench_rich where n = :n) and cm.assigned_group = 'TREATED' and cm.offer is not null and cm.offer->>'redemptionId' is null
         and c.offer_kind = 'REWARD_DISCOUNT' and c.offer_reward_id = r.id
         and c.status in ('SCHEDULED', 'ACTIVE') and c.starts_at <= now() and (c.ends_at is null or c.ends_at > now())
       order by (cm.offer->>'costPoints')::int, c.id
       limit 1) as redeem_offer
  from reward r where r.id = (select id from reward where code = 'BENCH-REWARD')) x) as inputs,
    -- harness columns (no round trip of their own): the member, ids for the write
    (select id from bench_rich where n = :n) as id, gen_random_uuid() as rdid, gen_random_uuid() as lid, gen_random_uuid() as eid \gset
-- 2. the write under the member's lock: the checks, the reward's count, the lots, the redemption, the ledger row, the balance and the event
select redeem_rewards_locked(jsonb_build_object('member_id', :id::uuid, 'items', jsonb_build_array(jsonb_build_object('reward_id', :inputs::jsonb->>'id',
    'cost', (:inputs::jsonb->>'cost_points')::int, 'per_member_limit', :inputs::jsonb->'per_member_limit',
    'redemption', jsonb_build_object('id', :rdid::uuid, 'member_id', :id::uuid, 'reward_id', :inputs::jsonb->>'id', 'points', (:inputs::jsonb->>'cost_points')::int,
      'status', 'CONSUMED', 'voucher_code', null, 'idempotency_key', :id::text || '-pgbench-' || :rdid::text, 'lot_allocations', '[]'::jsonb, 'created_at', now(),
      'expires_at', null, 'consumed_at', now(), 'consumed_order_ref', null, 'cancelled_at', null, 'fulfilment', null, 'granted_by', null),
    'ledger', jsonb_build_object('id', :lid::uuid, 'member_id', :id::uuid, 'reason', 'REDEMPTION', 'pending_delta', 0, 'available_delta', -(:inputs::jsonb->>'cost_points')::int,
      'lifetime_delta', 0, 'source_type', 'redemption', 'source_id', :rdid::uuid, 'idempotency_key', 'redemption:' || :rdid::text, 'note', null, 'actor', 'apikey-bench',
      'created_at', now()),
    'events', jsonb_build_array(jsonb_build_object('id', :eid::uuid, 'type', 'reward.redeemed', 'member_id', :id::uuid,
      'payload', jsonb_build_object('memberId', :id::text, 'redemptionId', :rdid::text, 'rewardId', :inputs::jsonb->>'id', 'points', (:inputs::jsonb->>'cost_points')::int,
        'status', 'CONSUMED', 'expiresAt', null),
      'dedupe_key', null, 'occurred_at', now())))))::text::jsonb) as result;
