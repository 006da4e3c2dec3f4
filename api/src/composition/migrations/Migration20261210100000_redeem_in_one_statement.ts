import { Migration } from '@mikro-orm/migrations';

/**
 * redeemReward's write under the member's lock as one statement, run on its own (no BEGIN/COMMIT around it): the lock
 * is taken, the balance, status and per-member limit checked, the reward's stock taken, the lots spent and the
 * redemption, ledger row, balance and event written inside PostgreSQL, so the lock is held for the function and its
 * commit and never across a round trip to the API (RewardService.redeem; issue 18's lock hold target). It takes one
 * member's redemptions that arrived together (redeem-batches.ts) and writes them one after the other under one lock
 * and one commit: the commit's WAL flush, which the lock outlives, is paid once for all of them.
 *
 * A VOLATILE function takes a fresh snapshot for each statement: everything after the lock sees what the write it
 * waited for committed (the rule in member-lock.ts), and each redemption sees the ones before it. The lots are spent as
 * LedgerService.spendInto spends them: in AVAILABLE_LOTS_ORDER, each giving what it holds until the cost is met, a lot
 * left empty CLOSED.
 *
 * Argument: { member_id, items: [{ reward_id, cost, per_member_limit, redemption (its row without lot_allocations),
 * ledger (the ledger row's cause; its deltas are the cost's), events (event_outbox rows) }] }. Answers { outcome }:
 * NO_BALANCE (no balance row yet: the caller takes the ORM path, which creates it), MOVED (survivor_id) or ERASED,
 * having written nothing; or DONE with hold_seconds (lock granted → last write), wait_seconds (statement start → lock
 * granted) and one result per item in order:
 * REDEEMED (lot_allocations), or, having written nothing for it, LIMIT_REACHED, INSUFFICIENT_POINTS (available),
 * OUT_OF_STOCK, DUPLICATE (a unique key taken: its idempotency key, by a twin that committed first).
 */
export class Migration20261210100000_redeem_in_one_statement extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function redeem_rewards_locked(p jsonb) returns jsonb language plpgsql volatile as $$
      declare
        v_member uuid := (p->>'member_id')::uuid;
        v_available bigint;
        v_locked_at timestamptz;
        v_status text;
        v_survivor uuid;
        v_item jsonb;
        v_reward uuid;
        v_cost bigint;
        v_limit int;
        v_allocations jsonb;
        v_results jsonb := '[]'::jsonb;
        v_spent bigint := 0;
        v_ledger jsonb := '[]'::jsonb;
        v_events jsonb := '[]'::jsonb;
      begin
        select b.available into v_available from member_balance b where b.member_id = v_member for update;
        if not found then
          return jsonb_build_object('outcome', 'NO_BALANCE');
        end if;
        v_locked_at := clock_timestamp();
        select m.status, m.merged_into_id into v_status, v_survivor from member m where m.id = v_member;
        if v_status = 'MERGED' and v_survivor is not null then
          return jsonb_build_object('outcome', 'MOVED', 'survivor_id', v_survivor);
        end if;
        if v_status = 'ERASED' then
          return jsonb_build_object('outcome', 'ERASED');
        end if;
        for v_item in select value from jsonb_array_elements(p->'items') loop
          v_reward := (v_item->>'reward_id')::uuid;
          v_cost := (v_item->>'cost')::bigint;
          v_limit := (v_item->>'per_member_limit')::int;
          if v_limit is not null and (select count(*) from redemption x
              where x.member_id = v_member and x.reward_id = v_reward and x.status in ('ISSUED', 'CONSUMED')) >= v_limit then
            v_results := v_results || jsonb_build_array(jsonb_build_object('outcome', 'LIMIT_REACHED'));
            continue;
          end if;
          if v_available < v_cost then
            v_results := v_results || jsonb_build_array(jsonb_build_object('outcome', 'INSUFFICIENT_POINTS', 'available', v_available));
            continue;
          end if;
          begin
            -- The reward's row is shared by every member redeeming it: taken after the member's checks, then only writes.
            update reward set redeemed_count = redeemed_count + 1 where id = v_reward and (stock is null or redeemed_count < stock);
            if not found then
              v_results := v_results || jsonb_build_array(jsonb_build_object('outcome', 'OUT_OF_STOCK'));
              continue;
            end if;
            with lots as (
              select l.id, l.remaining, sum(l.remaining) over (order by l.expires_at, l.earned_at, l.id) - l.remaining as before
              from point_lot l where l.member_id = v_member and l.state = 'AVAILABLE' and l.remaining > 0
            ), taken as (
              select t.id, t.before, least(t.remaining, least(v_cost, greatest(v_available, 0)) - t.before)::int as points
              from lots t where t.before < least(v_cost, greatest(v_available, 0))
            ), spent as (
              update point_lot l set remaining = l.remaining - t.points, state = case when l.remaining = t.points then 'CLOSED' else l.state end
              from taken t where l.id = t.id
            )
            select coalesce(jsonb_agg(jsonb_build_object('lotId', t.id, 'points', t.points) order by t.before), '[]'::jsonb) into v_allocations from taken t;
            insert into redemption (id, member_id, reward_id, points, status, voucher_code, idempotency_key, lot_allocations, created_at, expires_at,
                consumed_at, consumed_order_ref, cancelled_at, fulfilment, granted_by)
              select r.id, r.member_id, r.reward_id, r.points, r.status, r.voucher_code, r.idempotency_key, r.lot_allocations, r.created_at, r.expires_at,
                r.consumed_at, r.consumed_order_ref, r.cancelled_at, r.fulfilment, r.granted_by
              from jsonb_populate_record(null::redemption, (v_item->'redemption') || jsonb_build_object('lot_allocations', v_allocations)) r;
            v_available := v_available - v_cost;
            v_spent := v_spent + v_cost;
            v_ledger := v_ledger || jsonb_build_array((v_item->'ledger') || jsonb_build_object('pending_delta', 0, 'available_delta', -v_cost, 'lifetime_delta', 0));
            v_events := v_events || (v_item->'events');
            v_results := v_results || jsonb_build_array(jsonb_build_object('outcome', 'REDEEMED', 'lot_allocations', v_allocations));
          exception when unique_violation then
            -- This item's writes are undone (the block is a subtransaction) and none of its rows are kept; the others stand.
            v_results := v_results || jsonb_build_array(jsonb_build_object('outcome', 'DUPLICATE'));
          end;
        end loop;
        -- The ledger rows, the balance and the events of every redemption written, each in one statement: the ledger's
        -- per-member history trigger then runs once for them all.
        if jsonb_array_length(v_ledger) > 0 then
          insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, note, actor, created_at)
            select e.id, e.member_id, e.reason, e.pending_delta, e.available_delta, e.lifetime_delta, e.source_type, e.source_id, e.idempotency_key, e.note, e.actor, e.created_at
            from jsonb_populate_recordset(null::ledger_entry, v_ledger) e;
          -- A spend moves available points only, down to no less than 0 here: within the points limit (checkWithinLimit).
          update member_balance set available = available - v_spent, updated_at = now() where member_id = v_member;
          insert into event_outbox (id, type, member_id, payload, dedupe_key, occurred_at, created_at)
            select x.id, x.type, x.member_id, x.payload, x.dedupe_key, x.occurred_at, now()
            from jsonb_to_recordset(v_events) as x(id uuid, type text, member_id uuid, payload jsonb, dedupe_key text, occurred_at timestamptz)
            order by x.id
            on conflict (dedupe_key) do nothing;
        end if;
        return jsonb_build_object('outcome', 'DONE', 'results', v_results, 'hold_seconds', extract(epoch from clock_timestamp() - v_locked_at),
          'wait_seconds', extract(epoch from v_locked_at - statement_timestamp()));
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists redeem_rewards_locked(jsonb);`);
  }
}
