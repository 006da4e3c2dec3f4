import { Migration } from '@mikro-orm/migrations';

const BEFORE = `'ORDER_EARN', 'RELEASE', 'RETURN_CLAWBACK', 'REDEMPTION', 'REDEMPTION_CANCEL', 'EXPIRY', 'ADJUSTMENT', 'MERGE_OUT', 'MERGE_IN', 'REFERRAL', 'REFERRAL_REVERSAL', 'ACTIVITY', 'BONUS'`;

/** A UUIDv7 (time-ordered, as the API's ids: base/ids.ts) made in SQL; PostgreSQL 15 has no uuidv7(). */
const UUID_V7 = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;

/** The records of every erasure: the erased member, and the records merged into it (`erased_id` names the erasure). */
const ERASED_RECORDS = `select m.id, m.id as erased_id, coalesce(m.erased_at, now()) as at from member m where m.status = 'ERASED'
    union all
    select a.id, s.id, coalesce(s.erased_at, now()) from member a join member s on s.id = a.merged_into_id
    where a.status = 'MERGED' and s.status = 'ERASED'`;

/**
 * Closes the accounts of members erased before erasure did (LedgerService.closeAccounts): what each record still
 * holds is forfeited by an ERASURE_FORFEIT row, its lots are emptied and its balance is closed, as of the erasure.
 * Safe to run again: a closed, empty account writes nothing.
 */
export const CLOSE_ERASED_ACCOUNTS = [
  `insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, note, actor, created_at)
    select ${UUID_V7}, b.member_id, 'ERASURE_FORFEIT', -b.pending, -b.available, 0, 'erasure', e.erased_id, 'erasure:' || b.member_id, null, 'system', now()
    from member_balance b join (${ERASED_RECORDS}) e on e.id = b.member_id
    where b.available <> 0 or b.pending <> 0
    order by b.member_id
    on conflict (idempotency_key) do nothing;`,
  `update point_lot l set remaining = 0, state = 'CLOSED'
    from (${ERASED_RECORDS}) e where l.member_id = e.id and l.state <> 'CLOSED';`,
  `update member_balance b set available = 0, pending = 0, closed_at = coalesce(b.closed_at, e.at), updated_at = now()
    from (${ERASED_RECORDS}) e where b.member_id = e.id and (b.closed_at is null or b.available <> 0 or b.pending <> 0);`,
  // Erased before their first points change: a closed, empty account, as erasure leaves it now.
  `insert into member_balance (member_id, available, pending, lifetime, updated_at, closed_at)
    select m.id, 0, 0, 0, now(), coalesce(m.erased_at, now()) from member m where m.status = 'ERASED'
    on conflict (member_id) do nothing;`,
];

/**
 * Erasure closes the member's account (docs/concepts/ledger.md): the points it still holds are forfeited by ledger rows
 * of a new reason, ERASURE_FORFEIT, so the liability stops counting points no one can redeem; `closed_at` marks the
 * account, so that what settles an earlier write afterwards (a cancelled voucher, a return) cannot leave points on it.
 * Members erased before this release are closed now (CLOSE_ERASED_ACCOUNTS).
 */
export class Migration20261220100000_erasure_forfeit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in (${BEFORE}, 'ERASURE_FORFEIT'));`);
    this.addSql(`alter table "member_balance" add column "closed_at" timestamptz null;`);
    for (const sql of CLOSE_ERASED_ACCOUNTS) this.addSql(sql);
  }

  override async down(): Promise<void> {
    // Forfeit rows stay (the ledger is append-only), so the narrower check fails while any exists: as it should.
    this.addSql(`alter table "member_balance" drop column "closed_at";`);
    this.addSql(`alter table "ledger_entry" drop constraint "ledger_entry_reason_check";`);
    this.addSql(`alter table "ledger_entry" add constraint "ledger_entry_reason_check" check ("reason" in (${BEFORE}));`);
  }
}
