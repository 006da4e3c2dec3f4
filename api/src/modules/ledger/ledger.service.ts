import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../base/errors';
import { MAX_MEMBER_POINTS } from '../../base/bounds';
import { MemberBalance } from './member-balance.entity';
import { LedgerEntry, LedgerReason } from './ledger-entry.entity';
import { LotState, PointLot } from './point-lot.entity';
import type { LotAllocation } from '../rewards/redemption.entity';
import { lockBalance, lockLiveMember, lockMembers } from './member-lock';
import { DAY_MS } from '../../base/time';
import { newId } from '../../base/ids';

export interface Cause {
  sourceType: string;
  sourceId: string;
  /** Unique per cause; a retried job or request cannot write the same row twice. */
  key: string;
  actor: string;
  note?: string | null;
  /** When it happened, if not now: the bulk importer records historical orders at their own time. */
  at?: Date;
}

export interface EarnTerms {
  at: Date;
  pendingDays: number;
  expiryMonths: number;
  /** The order whose crediting earns the lot, for the order's member (PointLot.orderId). */
  orderId?: string | null;
}


/** A lot as a credit opened it: an entity on the ORM's paths, a plain row in a LedgerBatch. */
export type EarnedLot = Pick<PointLot, 'id' | 'ledgerEntryId' | 'sourceType' | 'sourceId' | 'orderId' | 'points' | 'remaining' | 'state' | 'earnedAt' | 'availableAt' | 'expiresAt'>;

/** A lot taken from by a spend: what `consume` changes. */
export type SpendableLot = Pick<PointLot, 'id' | 'remaining' | 'state'>;

export interface LedgerRow {
  id: string;
  member_id: string;
  reason: LedgerReason;
  pending_delta: number;
  available_delta: number;
  lifetime_delta: number;
  source_type: string;
  source_id: string;
  idempotency_key: string;
  note: string | null;
  actor: string;
  created_at: Date;
}

/**
 * A hot path's points changes built in memory and written in one statement (`writeSql`) instead of the ORM's unit of
 * work: the ledger rows, the lots opened, the lots taken from and the balances they leave. Same rules as the ORM's
 * paths (LedgerService: the same checks, balance arithmetic and lot order); the balances are locked by the caller.
 */
export class LedgerBatch {
  readonly entries: LedgerRow[] = [];
  readonly newLots: (EarnedLot & { memberId: string })[] = [];
  /** Existing lots a spend took from, with what they hold afterwards. */
  readonly spentLots = new Map<string, SpendableLot>();
  readonly balances = new Set<MemberBalance>();

  get isEmpty(): boolean {
    return this.entries.length === 0 && this.newLots.length === 0 && this.spentLots.size === 0 && this.balances.size === 0;
  }

  /**
   * Data-modifying CTEs (`name as (...)`, comma-joined) writing the batch, and their parameters in order: one JSON
   * document per table, so the statement's text does not depend on how many rows it writes.
   */
  ctes(): { sql: string[]; params: string[] } {
    const sql: string[] = [];
    const params: string[] = [];
    if (this.entries.length) {
      sql.push(`ledger_rows as (insert into ledger_entry (id, member_id, reason, pending_delta, available_delta, lifetime_delta, source_type, source_id, idempotency_key, note, actor, created_at)
        select x.id, x.member_id, x.reason, x.pending_delta, x.available_delta, x.lifetime_delta, x.source_type, x.source_id, x.idempotency_key, x.note, x.actor, x.created_at
        from jsonb_to_recordset(?::jsonb) as x(id uuid, member_id uuid, reason text, pending_delta bigint, available_delta bigint, lifetime_delta bigint,
          source_type text, source_id uuid, idempotency_key text, note text, actor text, created_at timestamptz))`);
      params.push(JSON.stringify(this.entries));
    }
    if (this.newLots.length) {
      sql.push(`new_lots as (insert into point_lot (id, member_id, ledger_entry_id, source_type, source_id, order_id, points, remaining, state, earned_at, available_at, expires_at)
        select x.id, x.member_id, x.ledger_entry_id, x.source_type, x.source_id, x.order_id, x.points, x.remaining, x.state, x.earned_at, x.available_at, x.expires_at
        from jsonb_to_recordset(?::jsonb) as x(id uuid, member_id uuid, ledger_entry_id uuid, source_type text, source_id uuid, order_id uuid, points int, remaining int, state text,
          earned_at timestamptz, available_at timestamptz, expires_at timestamptz))`);
      params.push(
        JSON.stringify(
          this.newLots.map((l) => ({
            id: l.id,
            member_id: l.memberId,
            ledger_entry_id: l.ledgerEntryId,
            source_type: l.sourceType,
            source_id: l.sourceId,
            order_id: l.orderId,
            points: l.points,
            remaining: l.remaining,
            state: l.state,
            earned_at: l.earnedAt,
            available_at: l.availableAt,
            expires_at: l.expiresAt,
          })),
        ),
      );
    }
    if (this.spentLots.size) {
      sql.push(`spent_lots as (update point_lot p set remaining = x.remaining, state = x.state
        from jsonb_to_recordset(?::jsonb) as x(id uuid, remaining int, state text) where p.id = x.id)`);
      params.push(JSON.stringify([...this.spentLots.values()].map((l) => ({ id: l.id, remaining: l.remaining, state: l.state }))));
    }
    if (this.balances.size) {
      // The balances as the batch leaves them (they were read under the lock), as the ORM would write them.
      sql.push(`balances as (update member_balance b set available = x.available, pending = x.pending, lifetime = x.lifetime, updated_at = now()
        from jsonb_to_recordset(?::jsonb) as x(member_id uuid, available bigint, pending bigint, lifetime bigint) where b.member_id = x.member_id)`);
      params.push(JSON.stringify([...this.balances].map((b) => ({ member_id: b.member.id, available: b.available, pending: b.pending, lifetime: b.lifetime }))));
    }
    return { sql, params };
  }
}

/**
 * An order's lots in the order a return takes from them: the order's own lot, then its bonuses by source and id (the
 * same order on every path, so the importer and the API leave the same lots).
 */
export function orderLotsInClawbackOrder<L extends Pick<PointLot, 'id' | 'sourceType' | 'sourceId'>>(lots: L[], orderId: string): L[] {
  const own = (l: L) => (l.sourceType === 'order' && l.sourceId === orderId ? 0 : 1);
  return [...lots].sort((a, b) => own(a) - own(b) || a.sourceType.localeCompare(b.sourceType) || a.sourceId.localeCompare(b.sourceId) || a.id.localeCompare(b.id));
}

function addMonths(at: Date, months: number): Date {
  const d = new Date(at);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/**
 * Every change to points. Callers run inside one transaction and pass its `em`; the first call locks the member's
 * balance row (`lock`), which serialises all points changes of that member. Each method writes one ledger row per
 * member it changes (a cancellation on a closed account two) and keeps the balance cache and the lots in step with it.
 *
 * Invariants, proven by `check()`: balance.available = Σ availableDelta, balance.pending = Σ pendingDelta,
 * balance.lifetime = Σ lifetimeDelta, Σ pending lots = pending, Σ available lots = max(available, 0); and by
 * `erasedHoldings()`: an erased member's account is closed and holds nothing.
 */
export class LedgerService {
  /** The member's balance, locked (member-lock.ts: the one lock every points change takes, in its global order). */
  lock(em: EntityManager, memberId: string): Promise<MemberBalance> {
    return lockBalance(em, memberId);
  }

  /** As `lock`, for a write about to change a member's points: refuses an erased member, hands a merged one on. */
  lockLive(em: EntityManager, memberId: string, opts: { allowErased?: boolean } = {}): Promise<MemberBalance> {
    return lockLiveMember(em, memberId, opts);
  }

  /** Points for an order (or a referral): pending for the return window (available at once when it is 0 days). */
  earn(em: EntityManager, bal: MemberBalance, points: number, cause: Cause, terms: EarnTerms, reason = LedgerReason.ORDER_EARN): PointLot | null {
    if (points <= 0) return null;
    const isPending = terms.pendingDays > 0;
    const entry = this.write(em, bal, reason, cause, creditDeltas(points, isPending));
    const lot = this.newLot(em, bal, entry, cause, points, terms, isPending);
    if (!isPending) this.repayDebt(bal, [lot], points);
    return lot;
  }

  /** `earn` into a batch: the same rows, written later in one statement with the batch (LedgerBatch). */
  earnInto(batch: LedgerBatch, bal: MemberBalance, points: number, cause: Cause, terms: EarnTerms, reason = LedgerReason.ORDER_EARN): EarnedLot | null {
    if (points <= 0) return null;
    const isPending = terms.pendingDays > 0;
    const entry = this.writeRow(batch, bal, reason, cause, creditDeltas(points, isPending));
    const lot = { id: newId(), memberId: bal.member.id, ...lotFields(entry, cause, points, terms, isPending) };
    batch.newLots.push(lot);
    if (!isPending) this.repayDebt(bal, [lot], points);
    return lot;
  }

  /**
   * `spend` into a batch, from `lots`: the member's AVAILABLE lots with points left, in the order they are spent
   * (`AVAILABLE_LOTS_ORDER`), read under the member's lock.
   */
  spendInto(batch: LedgerBatch, bal: MemberBalance, points: number, lots: SpendableLot[], reason: LedgerReason, cause: Cause): LotAllocation[] {
    if (bal.available < points) throw insufficientPoints(bal.available, points);
    const allocations = bal.available <= 0 ? [] : this.consume(lots, Math.min(points, bal.available));
    for (const a of allocations) batch.spentLots.set(a.lotId, lots.find((l) => l.id === a.lotId)!);
    this.writeRow(batch, bal, reason, cause, { available: -points });
    return allocations;
  }

  /** Goodwill or correction by an admin. Positive adds a lot; negative spends like a redemption. */
  async adjust(em: EntityManager, bal: MemberBalance, points: number, cause: Cause, terms: EarnTerms): Promise<void> {
    if (points > 0) {
      const entry = this.write(em, bal, LedgerReason.ADJUSTMENT, cause, { available: points, lifetime: points });
      const lot = this.newLot(em, bal, entry, cause, points, terms, false);
      this.repayDebt(bal, [lot], points);
    } else {
      await this.spend(em, bal, -points, LedgerReason.ADJUSTMENT, cause);
    }
  }

  /** The lot a credit opens: pending for the return window, or available at once; it expires `expiryMonths` on. */
  private newLot(em: EntityManager, bal: MemberBalance, entry: { id: string }, cause: Cause, points: number, terms: EarnTerms, isPending: boolean): PointLot {
    return em.create(PointLot, { member: bal.member, ...lotFields(entry, cause, points, terms, isPending) });
  }

  /** Pending → available for one lot whose return window has closed. */
  release(em: EntityManager, bal: MemberBalance, lot: PointLot, cause: Cause): void {
    if (lot.state !== LotState.PENDING) return;
    const points = lot.remaining;
    lot.state = points > 0 ? LotState.AVAILABLE : LotState.CLOSED;
    if (points === 0) return;
    this.write(em, bal, LedgerReason.RELEASE, cause, { pending: -points, available: points });
    this.repayDebt(bal, [lot], points);
  }

  /**
   * Spends available points from the lots that expire first. Throws INSUFFICIENT_POINTS unless `allowNegative`,
   * in which case what the lots cannot cover leaves the balance negative (a debt repaid by later earnings).
   */
  async spend(em: EntityManager, bal: MemberBalance, points: number, reason: LedgerReason, cause: Cause, allowNegative = false): Promise<LotAllocation[]> {
    if (!allowNegative && bal.available < points) throw insufficientPoints(bal.available, points);
    const allocations = await this.takeFromLots(em, bal, points);
    this.write(em, bal, reason, cause, { available: -points });
    return allocations;
  }

  /**
   * Takes back an order's points after a return: first from what is left of the lots the order earned (`orderLots`, in
   * the order given: its own lot, then the bonuses on it), then from the member's other available points; if those were
   * spent, the balance goes negative (documented policy). On a closed account (an erased member's) only from those lots,
   * which hold nothing: the return takes back lifetime points only.
   */
  async clawback(em: EntityManager, bal: MemberBalance, points: number, orderLots: readonly PointLot[], cause: Cause, reason = LedgerReason.RETURN_CLAWBACK): Promise<void> {
    if (points <= 0) return;
    let fromPending = 0;
    let fromAvailable = 0;
    let left = points;
    for (const lot of orderLots) {
      if (left === 0) break;
      const own = Math.min(lot.remaining, left);
      if (own <= 0 || lot.state === LotState.CLOSED) continue;
      lot.remaining -= own;
      left -= own;
      if (lot.state === LotState.PENDING) fromPending += own;
      else fromAvailable += own;
      if (lot.remaining === 0 && lot.state === LotState.AVAILABLE) lot.state = LotState.CLOSED;
    }
    // A closed account owes nothing: what the order's lots no longer hold was forfeited when the erasure closed it.
    if (left > 0 && !bal.closedAt) {
      await this.takeFromLots(em, bal, left);
      fromAvailable += left;
    }
    this.write(em, bal, reason, cause, { pending: -fromPending, available: -fromAvailable, lifetime: -points });
  }

  /** The lots `orderId` earned its member, in the order a return claws back from them (`orderLotsInClawbackOrder`). */
  async lotsOfOrder(em: EntityManager, memberId: string, orderId: string): Promise<PointLot[]> {
    return orderLotsInClawbackOrder(await em.find(PointLot, { orderId, member: memberId }), orderId);
  }

  /**
   * Gives spent points back to the lots they came from, keeping each lot's own expiry date. On a closed account (a
   * voucher of an erased member cancelled) they are forfeited at once, by a second row.
   */
  async restore(em: EntityManager, bal: MemberBalance, allocations: LotAllocation[], cause: Cause): Promise<void> {
    const points = allocations.reduce((s, a) => s + a.points, 0);
    if (points === 0) return;
    const lots = await em.find(PointLot, { id: { $in: allocations.map((a) => a.lotId) } });
    for (const a of allocations) {
      const lot = lots.find((l) => l.id === a.lotId)!;
      lot.remaining += a.points;
      lot.state = LotState.AVAILABLE;
    }
    this.write(em, bal, LedgerReason.REDEMPTION_CANCEL, cause, { available: points });
    this.repayDebt(bal, lots, points);
    if (bal.closedAt) this.forfeit(em, bal, lots, { ...cause, key: `${cause.key}:forfeit` });
  }

  /**
   * Erasure closes the accounts of the erased member and of the records merged into it (`memberIds`, the erased member
   * first), in the erasure's transaction: what each still holds, available and pending (or a debt), is written off by
   * one ERASURE_FORFEIT row, its lots are emptied, and the balance is marked closed. Lifetime points stay (history).
   * Takes the members' locks (id order; the erased member's is held already). The rows name who erased (`actor`), as
   * the audit entry does. Returns the points forfeited; an account
   * already closed and empty writes nothing.
   */
  async closeAccounts(em: EntityManager, memberIds: readonly string[], { actor, at }: { actor: string; at: Date }): Promise<number> {
    if (memberIds.length === 0) return 0;
    const balances = await lockMembers(em, memberIds);
    const lots = await em.find(PointLot, { member: { $in: [...balances.keys()] }, state: { $ne: LotState.CLOSED } });
    let forfeited = 0;
    for (const bal of balances.values()) {
      const own = lots.filter((l) => l.member.id === bal.member.id);
      // No personal data: the erased member's id as the cause, who erased as the actor, and no note.
      forfeited += this.forfeit(em, bal, own, { sourceType: 'erasure', sourceId: memberIds[0], key: `erasure:${bal.member.id}`, actor, at });
      bal.closedAt ??= at;
    }
    return forfeited;
  }

  /** Writes off everything the account holds (ERASURE_FORFEIT) and empties `lots`, its live lots; returns the points. */
  private forfeit(em: EntityManager, bal: MemberBalance, lots: readonly SpendableLot[], cause: Cause): number {
    for (const lot of lots) {
      lot.remaining = 0;
      lot.state = LotState.CLOSED;
    }
    if (bal.available === 0 && bal.pending === 0) return 0;
    const points = Math.max(bal.available, 0) + bal.pending;
    this.write(em, bal, LedgerReason.ERASURE_FORFEIT, cause, { pending: -bal.pending, available: -bal.available });
    return points;
  }

  expire(em: EntityManager, bal: MemberBalance, lot: PointLot, cause: Cause): number {
    const points = lot.remaining;
    lot.remaining = 0;
    lot.state = LotState.CLOSED;
    if (points > 0) this.write(em, bal, LedgerReason.EXPIRY, cause, { available: -points });
    return points;
  }

  /** Merge: the absorbed member's balance and lots move to the survivor, as a pair of rows. */
  async transfer(em: EntityManager, from: MemberBalance, to: MemberBalance, cause: Cause): Promise<void> {
    // Closed lots move too: a redemption cancelled after the merge gives its points back to them.
    await em.nativeUpdate(PointLot, { member: from.member.id }, { member: to.member.id });
    const moved = { pending: from.pending, available: from.available, lifetime: from.lifetime };
    if (moved.pending === 0 && moved.available === 0 && moved.lifetime === 0) return;
    this.write(em, from, LedgerReason.MERGE_OUT, { ...cause, key: `${cause.key}:out` }, {
      pending: -moved.pending,
      available: -moved.available,
      lifetime: -moved.lifetime,
    });
    const hadDebt = to.available < 0 || moved.available < 0;
    this.write(em, to, LedgerReason.MERGE_IN, { ...cause, key: `${cause.key}:in` }, moved);
    if (hadDebt) {
      // The combined balance may now owe what the survivor's lots hold: settle it from the lots.
      const lots = await this.availableLots(em, to.member.id);
      const excess = lots.reduce((s, l) => s + l.remaining, 0) - Math.max(to.available, 0);
      if (excess > 0) this.consume(lots, excess);
    }
  }

  /** Every member whose cached balance or lots disagree with the ledger; empty when all is consistent. */
  async check(em: EntityManager): Promise<LedgerMismatch[]> {
    return em.execute<LedgerMismatch[]>(`
      with l as (
        select member_id, sum(available_delta) as available, sum(pending_delta) as pending, sum(lifetime_delta) as lifetime
        from ledger_entry group by member_id
      ), lots as (
        select member_id,
          coalesce(sum(remaining) filter (where state = 'AVAILABLE'), 0) as available,
          coalesce(sum(remaining) filter (where state = 'PENDING'), 0) as pending
        from point_lot group by member_id
      )
      -- Compared exactly (numeric sums); reported as doubles, exact for every balance (base/bounds.ts).
      select coalesce(b.member_id, l.member_id, lots.member_id) as "memberId",
        b.available::float8 as "balanceAvailable", coalesce(l.available, 0)::float8 as "ledgerAvailable",
        b.pending::float8 as "balancePending", coalesce(l.pending, 0)::float8 as "ledgerPending",
        b.lifetime::float8 as "balanceLifetime", coalesce(l.lifetime, 0)::float8 as "ledgerLifetime",
        coalesce(lots.available, 0)::float8 as "lotsAvailable", coalesce(lots.pending, 0)::float8 as "lotsPending"
      from member_balance b
      full join l on l.member_id = b.member_id
      -- A full join can only be hashed or merged: a left join here let the planner pick a nested loop, quadratic in
      -- members (it never finished at 1 M). It also reports lots of a member with no balance row.
      full join lots on lots.member_id = coalesce(b.member_id, l.member_id)
      where b.member_id is null
        or b.available <> coalesce(l.available, 0) or b.pending <> coalesce(l.pending, 0) or b.lifetime <> coalesce(l.lifetime, 0)
        or coalesce(lots.pending, 0) <> b.pending or coalesce(lots.available, 0) <> greatest(b.available, 0)
      limit 100`);
  }

  /**
   * Merged-away records that still hold something: a merge moves every order, lot and point of the absorbed record to
   * the survivor, and every later write goes to the survivor (member-lock.ts), so each of these is a lost write. An
   * erasure of the survivor forfeiting what such a record held settles it: its ERASURE_FORFEIT row is not counted.
   */
  async mergedAwayHoldings(em: EntityManager): Promise<MergedAwayHolding[]> {
    return em.execute<MergedAwayHolding[]>(`
      select m.id as "memberId",
        (select count(*) from customer_order o where o.member_id = m.id)::int as orders,
        (select count(*) from point_lot l where l.member_id = m.id and l.state <> 'CLOSED')::int as "liveLots",
        (select count(*) from redemption r where r.member_id = m.id)::int as redemptions,
        (select count(*) from ledger_entry e where e.member_id = m.id and e.created_at > m.merged_at and e.reason <> 'ERASURE_FORFEIT')::int as "ledgerRowsAfterMerge",
        coalesce(b.available, 0)::float8 as available, coalesce(b.pending, 0)::float8 as pending
      from member m
      left join member_balance b on b.member_id = m.id
      where m.status = 'MERGED' and (
        coalesce(b.available, 0) <> 0 or coalesce(b.pending, 0) <> 0
        or exists (select 1 from customer_order o where o.member_id = m.id)
        or exists (select 1 from point_lot l where l.member_id = m.id and l.state <> 'CLOSED')
        or exists (select 1 from redemption r where r.member_id = m.id)
        or exists (select 1 from ledger_entry e where e.member_id = m.id and e.created_at > m.merged_at and e.reason <> 'ERASURE_FORFEIT'))
      limit 100`);
  }

  /**
   * Erased members whose account is not closed, or still holds points or live lots: erasure closes it and empties it
   * (`closeAccounts`), and what settles an earlier write afterwards leaves nothing on it, so each is a lost write.
   */
  async erasedHoldings(em: EntityManager): Promise<ErasedHolding[]> {
    return em.execute<ErasedHolding[]>(`
      select m.id as "memberId", b.closed_at is not null as "isClosed",
        coalesce(b.available, 0)::float8 as available, coalesce(b.pending, 0)::float8 as pending,
        (select count(*) from point_lot l where l.member_id = m.id and l.state <> 'CLOSED')::int as "liveLots"
      from member m
      left join member_balance b on b.member_id = m.id
      where m.status = 'ERASED' and (b.closed_at is null or b.available <> 0 or b.pending <> 0
        or exists (select 1 from point_lot l where l.member_id = m.id and l.state <> 'CLOSED'))
      limit 100`);
  }

  private write(
    em: EntityManager,
    bal: MemberBalance,
    reason: LedgerReason,
    cause: Cause,
    delta: { pending?: number; available?: number; lifetime?: number },
  ): LedgerEntry {
    const pending = delta.pending ?? 0;
    const available = delta.available ?? 0;
    const lifetime = delta.lifetime ?? 0;
    checkWithinLimit(bal, pending, available, lifetime);
    bal.pending += pending;
    bal.available += available;
    bal.lifetime += lifetime;
    return em.create(LedgerEntry, {
      member: bal.member,
      reason,
      pendingDelta: pending,
      availableDelta: available,
      lifetimeDelta: lifetime,
      sourceType: cause.sourceType,
      sourceId: cause.sourceId,
      idempotencyKey: cause.key,
      actor: cause.actor,
      note: cause.note ?? null,
      createdAt: cause.at ?? new Date(),
    });
  }

  /** `write`'s row for a batch: the same checks and balance arithmetic. */
  private writeRow(batch: LedgerBatch, bal: MemberBalance, reason: LedgerReason, cause: Cause, delta: { pending?: number; available?: number; lifetime?: number }): LedgerRow {
    const pending = delta.pending ?? 0;
    const available = delta.available ?? 0;
    const lifetime = delta.lifetime ?? 0;
    checkWithinLimit(bal, pending, available, lifetime);
    bal.pending += pending;
    bal.available += available;
    bal.lifetime += lifetime;
    batch.balances.add(bal);
    const row = ledgerRow(bal.member.id, reason, cause, { pending, available, lifetime });
    batch.entries.push(row);
    return row;
  }

  private availableLots(em: EntityManager, memberId: string): Promise<PointLot[]> {
    return em.find(
      PointLot,
      { member: memberId, state: LotState.AVAILABLE, remaining: { $gt: 0 } },
      { orderBy: { expiresAt: 'asc', earnedAt: 'asc', id: 'asc' } },
    );
  }

  /** Takes up to `points` from the lots that expire first; returns what each gave. */
  private async takeFromLots(em: EntityManager, bal: MemberBalance, points: number): Promise<LotAllocation[]> {
    if (bal.available <= 0) return [];
    return this.consume(await this.availableLots(em, bal.member.id), Math.min(points, bal.available));
  }

  private consume(lots: SpendableLot[], points: number): LotAllocation[] {
    const out: LotAllocation[] = [];
    let left = points;
    for (const lot of lots) {
      if (left === 0) break;
      const take = Math.min(lot.remaining, left);
      if (take === 0) continue;
      lot.remaining -= take;
      if (lot.remaining === 0) lot.state = LotState.CLOSED;
      out.push({ lotId: lot.id, points: take });
      left -= take;
    }
    return out;
  }

  /**
   * New available points (`added`, now sitting in `lots`) first pay off a negative balance. Call after the balance
   * was updated: lots must hold max(available, 0), and before the change they held max(available − added, 0).
   */
  private repayDebt(bal: MemberBalance, lots: SpendableLot[], added: number): void {
    const excess = Math.max(0, added - Math.max(bal.available, 0));
    if (excess > 0) this.consume(lots, excess);
  }
}

/** A ledger row as LedgerBatch (and redeem_rewards_locked, a migration's function) writes it. */
export function ledgerRow(memberId: string, reason: LedgerReason, cause: Cause, delta: { pending: number; available: number; lifetime: number }): LedgerRow {
  return {
    id: newId(),
    member_id: memberId,
    reason,
    pending_delta: delta.pending,
    available_delta: delta.available,
    lifetime_delta: delta.lifetime,
    source_type: cause.sourceType,
    source_id: cause.sourceId,
    idempotency_key: cause.key,
    note: cause.note ?? null,
    actor: cause.actor,
    created_at: cause.at ?? new Date(),
  };
}

/** The error of a spend of `required` points when the member has `available`. */
export function insufficientPoints(available: number, required: number): AppError {
  return new AppError('INSUFFICIENT_POINTS', 'Not enough available points', { available, required });
}

/** The order `spend` takes lots in (first to expire first), for the hot paths' own reads of the lots. */
export const AVAILABLE_LOTS_ORDER = 'expires_at, earned_at, id';

export interface MergedAwayHolding {
  memberId: string;
  orders: number;
  liveLots: number;
  redemptions: number;
  ledgerRowsAfterMerge: number;
  available: number;
  pending: number;
}

export interface ErasedHolding {
  memberId: string;
  isClosed: boolean;
  available: number;
  pending: number;
  liveLots: number;
}

/** CONFLICT POINTS_LIMIT_REACHED, before anything is written, when a change would take a sum beyond ±MAX_MEMBER_POINTS. */
function checkWithinLimit(bal: MemberBalance, pending: number, available: number, lifetime: number): void {
  const after = { pending: bal.pending + pending, available: bal.available + available, lifetime: bal.lifetime + lifetime };
  if (Object.values(after).some((v) => Math.abs(v) > MAX_MEMBER_POINTS)) {
    throw AppError.conflict('POINTS_LIMIT_REACHED', `A member's points cannot go beyond ${MAX_MEMBER_POINTS}`, { limit: MAX_MEMBER_POINTS });
  }
}

export interface LedgerMismatch {
  memberId: string;
  balanceAvailable: number | null;
  ledgerAvailable: number;
  balancePending: number | null;
  ledgerPending: number;
  balanceLifetime: number | null;
  ledgerLifetime: number;
  lotsAvailable: number;
  lotsPending: number;
}

/** What a credit's lot holds, whether the ORM or the one-statement batch writes it: pending for the return window or available at once, expiring `expiryMonths` on. */
function lotFields(entry: { id: string }, cause: Cause, points: number, terms: EarnTerms, isPending: boolean) {
  return {
    ledgerEntryId: entry.id,
    sourceType: cause.sourceType,
    sourceId: cause.sourceId,
    orderId: terms.orderId ?? null,
    points,
    remaining: points,
    state: isPending ? LotState.PENDING : LotState.AVAILABLE,
    earnedAt: terms.at,
    availableAt: isPending ? new Date(terms.at.getTime() + terms.pendingDays * DAY_MS) : terms.at,
    expiresAt: addMonths(terms.at, terms.expiryMonths),
  };
}

/** What a credit moves: pending for the return window, or available at once; lifetime either way. */
function creditDeltas(points: number, isPending: boolean) {
  return { pending: isPending ? points : 0, available: isPending ? 0 : points, lifetime: points };
}
