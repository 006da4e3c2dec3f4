-- redeemReward in plain SQL (pgbench -M prepared): exactly the statements the API runs for a redemption of the
-- benchmark's reward (a DONATION of 1 point, completed at once) by a member with available points, with the API's own
-- SQL text; only its bound parameters (JSON documents built in Node) are built here in SQL, and harness columns pick
-- the sampled member without a round trip of their own. The API runs statements 1 and 2 on two pooled connections at
-- once; pgbench runs them one after the other.
-- Variables: rich (size of bench_rich, members holding a lot with enough points).
\set n random(1, :rich)
-- 1. the member (MemberService.findById)
select "m0".* from "member" as "m0" where "m0"."id" = (select id from bench_rich where n = :n) limit 1 \gset
-- 2. the replay check with the voucher validity
select (select to_jsonb(r) from redemption r where r.idempotency_key = (select 'pgbench:' || gen_random_uuid())) as prior,
    (select s.voucher_valid_days from programme_settings s where s.id = 1) as voucher_valid_days;
BEGIN;
-- 3. the member's balance, locked
select available::float8 as available, pending::float8 as pending, lifetime::float8 as lifetime
  from member_balance where member_id = :id for update \gset
-- 4. the member's status, the reward with their tier, holdings and campaign offer, and their lots in spending order
select
    (select jsonb_build_object('status', m.status, 'mergedIntoId', m.merged_into_id) from member m where m.id = :id) as member_state,
    (select to_jsonb(x) from (select r.*,
    (select t.code from tier t
      where t.id = coalesce((select mt.tier_id from member_tier mt where mt.member_id = :id), (select b.id from tier b where b.threshold = 0))) as redeem_tier_code,
    case when r.per_member_limit is not null then
      (select count(*)::int from redemption x where x.member_id = :id and x.reward_id = r.id and x.status in ('ISSUED', 'CONSUMED'))
    end as redeem_held,
    (select jsonb_build_object('campaignId', c.id, 'costPoints', (cm.offer->>'costPoints')::int)
       from campaign_member cm join campaign c on c.id = cm.campaign_id
       where cm.member_id = :id and cm.assigned_group = 'TREATED' and cm.offer is not null and cm.offer->>'redemptionId' is null
         and c.action_kind = 'OFFER' and c.offer_kind = 'REWARD_DISCOUNT' and c.offer_reward_id = r.id
         and c.status in ('SCHEDULED', 'ACTIVE') and c.starts_at <= now() and (c.ends_at is null or c.ends_at > now())
       order by (cm.offer->>'costPoints')::int, c.id
       limit 1) as redeem_offer
  from reward r where r.id = (select id from reward where code = 'BENCH-REWARD')) x) as inputs,
    (select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'remaining', l.remaining, 'state', l.state) order by expires_at, earned_at, id), '[]'::jsonb)
       from point_lot l where l.member_id = :id and l.state = 'AVAILABLE' and l.remaining > 0) as lots,
    -- harness columns (no round trip of their own): ids for the write
    gen_random_uuid() as rdid, gen_random_uuid() as lid \gset
-- 5. the redemption, the lot taken from, the ledger row, the balance, the event and the reward's count (its row lock last)
with redemption_row as (insert into redemption (id, member_id, reward_id, points, status, voucher_code, idempotency_key, lot_allocations, created_at, expires_at, consumed_at,
  consumed_order_ref, cancelled_at, fulfilment, granted_by)
    select id, member_id, reward_id, points, status, voucher_code, idempotency_key, lot_allocations, created_at, expires_at, consumed_at,
  consumed_order_ref, cancelled_at, fulfilment, granted_by from jsonb_populate_record(null::redemption, jsonb_build_object('id', :rdid::uuid, 'member_id', :id::uuid, 'reward_id', (:inputs::jsonb->>'id')::uuid, 'points', (:inputs::jsonb->>'cost_points')::int, 'status', 'CONSUMED',
    'voucher_code', null, 'idempotency_key', :id::text || '-pgbench-' || :rdid::text, 'lot_allocations', jsonb_build_array(jsonb_build_object('lotId', :lots::jsonb->0->>'id', 'points', (:inputs::jsonb->>'cost_points')::int)),
    'created_at', now(), 'expires_at', null, 'consumed_at', now(), 'consumed_order_ref', null, 'cancelled_at', null, 'fulfilment', null, 'granted_by', null)::text::jsonb)),
ledger_rows as (insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, note, actor, created_at)
        select x.id, x.member_id, x.reason, x.pending_delta, x.available_delta, x.lifetime_delta, x.source_type, x.source_id, x.idempotency_key, x.note, x.actor, x.created_at
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('id', :lid::uuid, 'member_id', :id::uuid, 'reason', 'REDEMPTION', 'pending_delta', 0, 'available_delta', -(:inputs::jsonb->>'cost_points')::int, 'lifetime_delta', 0,
    'source_type', 'redemption', 'source_id', :rdid::uuid, 'idempotency_key', 'redemption:' || :rdid::text, 'note', null, 'actor', 'apikey-bench', 'created_at', now()))::text::jsonb) as x(id uuid, member_id uuid, reason text, pending_delta bigint, available_delta bigint, lifetime_delta bigint,
          source_type text, source_id uuid, idempotency_key text, note text, actor text, created_at timestamptz)),
spent_lots as (update point_lot p set remaining = x.remaining, state = x.state
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('id', :lots::jsonb->0->>'id', 'remaining', (:lots::jsonb->0->>'remaining')::int - (:inputs::jsonb->>'cost_points')::int,
    'state', case when (:lots::jsonb->0->>'remaining')::int = (:inputs::jsonb->>'cost_points')::int then 'CLOSED' else 'AVAILABLE' end))::text::jsonb) as x(id uuid, remaining int, state text) where p.id = x.id),
balances as (update member_balance b set available = x.available, pending = x.pending, lifetime = x.lifetime, updated_at = now()
        from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('member_id', :id::uuid, 'available', :available::bigint - (:inputs::jsonb->>'cost_points')::int, 'pending', :pending::bigint, 'lifetime', :lifetime::bigint))::text::jsonb) as x(member_id uuid, available bigint, pending bigint, lifetime bigint) where b.member_id = x.member_id),
outbox_events as (insert into event_outbox (id, type, member_id, payload, dedupe_key, occurred_at, created_at)
       select x.id, x.type, x.member_id, x.payload, x.dedupe_key, x.occurred_at, now()
       from jsonb_to_recordset(jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'type', 'reward.redeemed', 'member_id', :id::uuid,
    'payload', jsonb_build_object('memberId', :id::text, 'redemptionId', :rdid::text, 'rewardId', :inputs::jsonb->>'id', 'points', (:inputs::jsonb->>'cost_points')::int, 'status', 'CONSUMED', 'expiresAt', null),
    'dedupe_key', null, 'occurred_at', now()))::text::jsonb) as x(id uuid, type text, member_id uuid, payload jsonb, dedupe_key text, occurred_at timestamptz)
       order by x.id
       on conflict (dedupe_key) do nothing),
reward_taken as (update reward set redeemed_count = redeemed_count + 1 where id = (:inputs::jsonb->>'id')::uuid and (stock is null or redeemed_count < stock) returning id)
           select (select count(*) from reward_taken)::int as taken;
END;
