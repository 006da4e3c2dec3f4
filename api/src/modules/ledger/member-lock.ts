import { performance } from 'node:perf_hooks';
import { DeadlockException, LockWaitTimeoutException, type EventSubscriber, type TransactionEventArgs } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../base/errors';
import { MemberBalance } from './member-balance.entity';

/**
 * The member lock. A member's balance row is the one lock that serialises every write affecting their points (orders,
 * returns, claims, redemptions, cancellations, adjustments, referral bonuses, merges, erasure), and the writes that
 * depend on what a merge or erasure changes: a referral code given (its referrer's lock), a tier period's end.
 *
 * Global order: a use case takes member locks before any other row lock it needs (an order, a redemption, a tier row),
 * and when it needs several members it takes them in ascending id order (`lockMembers`). A merge therefore waits for
 * every write in flight on either record and every later write waits for the merge.
 *
 * Merged members: once a write holds the lock it reads the member's status in the same statement. A record merged
 * away while the write waited is not written to: `MemberMoved` rolls the transaction back and `onLiveMember` runs the
 * use case again for the survivor. An erased member answers CONFLICT/MEMBER_ERASED.
 */
export class MemberMoved extends Error {
  constructor(
    readonly memberId: string,
    readonly survivorId: string,
  ) {
    super(`member ${memberId} was merged into ${survivorId}`);
  }
}

const LOCK_SQL = 'select * from member_balance where member_id = ? for update';
// Read once the lock is held, in a statement of its own: a statement that waited for the lock still sees the member as
// it was when it began, before the merge or erasure it waited for. Merges and erasures change a member's status only
// while holding their balance lock, so what this reads stays true until the caller commits.
const STATUS_SQL = 'select status, merged_into_id as "mergedIntoId" from member where id = ?';

/**
 * When each transaction took its first member lock (performance.now()), keyed by its transaction context, for
 * `loyalty_member_lock_hold_seconds` (MemberLockHoldTimer, registered at composition).
 */
const lockTakenAt = new WeakMap<object, number>();

/** Notes that the transaction of `em` now holds a member lock (the first one counts). */
export function noteMemberLockTaken(em: EntityManager): void {
  const trx = em.getTransactionContext();
  if (trx && !lockTakenAt.has(trx)) lockTakenAt.set(trx, performance.now());
}

/**
 * Records the hold of a write that takes the lock, writes and commits in one statement of its own
 * (redeem_rewards_locked, redeem-batches.ts says how it is timed): there is no transaction here to time.
 */
export function noteMemberLockHeld(em: EntityManager, seconds: number): void {
  for (const subscriber of em.getEventManager().getSubscribers()) {
    if (subscriber instanceof MemberLockHoldTimer) subscriber.observeHeld(seconds);
  }
}

/**
 * Times how long a transaction holds its member locks: from the first lock statement's answer to the end of its commit
 * or rollback. Every other write on the member waits that long, so it is the figure that bounds one member's write rate.
 */
export class MemberLockHoldTimer implements EventSubscriber {
  constructor(private readonly observe: (seconds: number, outcome: 'commit' | 'rollback') => void) {}

  /** A one-statement write's hold (noteMemberLockHeld); it committed. */
  observeHeld(seconds: number): void {
    this.observe(seconds, 'commit');
  }

  afterTransactionCommit(args: TransactionEventArgs): void {
    this.end(args, 'commit');
  }

  afterTransactionRollback(args: TransactionEventArgs): void {
    this.end(args, 'rollback');
  }

  private end(args: TransactionEventArgs, outcome: 'commit' | 'rollback'): void {
    const trx = args.transaction as object | undefined;
    const at = trx && lockTakenAt.get(trx);
    if (at === undefined) return;
    lockTakenAt.delete(trx!);
    this.observe((performance.now() - at) / 1000, outcome);
  }
}

/** Locks one member's balance (created on their first change), whatever the member's status: merges and jobs. */
export async function lockBalance(em: EntityManager, memberId: string): Promise<MemberBalance> {
  // Most members already have a balance row: one statement then; the insert only for their first change.
  let rows = await em.execute<Record<string, unknown>[]>(LOCK_SQL, [memberId]);
  if (rows.length === 0) {
    await em.execute(
      'insert into member_balance (member_id, available, pending, lifetime, updated_at) select id, 0, 0, 0, now() from member where id = ? on conflict do nothing',
      [memberId],
    );
    rows = await em.execute<Record<string, unknown>[]>(LOCK_SQL, [memberId]);
  }
  if (rows.length === 0) throw AppError.notFound('Member', memberId);
  noteMemberLockTaken(em);
  return em.map(MemberBalance, rows[0]);
}

/**
 * Locks the balance of a member a write is about to change and hands a merged one on. An erased member is refused,
 * except by writes that settle what they did before erasure (a return of their order, a cancellation of their voucher:
 * `allowErased`); their account is closed, so these leave no points on it (LedgerService.clawback, restore).
 */
export async function lockLiveMember(em: EntityManager, memberId: string, opts: { allowErased?: boolean } = {}): Promise<MemberBalance> {
  const balance = await lockBalance(em, memberId);
  const [{ status, mergedIntoId }] = await em.execute<{ status: string; mergedIntoId: string | null }[]>(STATUS_SQL, [memberId]);
  if (status === 'MERGED' && mergedIntoId) throw new MemberMoved(memberId, mergedIntoId);
  if (status === 'ERASED' && !opts.allowErased) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId });
  return balance;
}

/** Locks several members' balances in ascending id order (the global lock order), whatever their status. */
export async function lockMembers(em: EntityManager, memberIds: readonly string[]): Promise<Map<string, MemberBalance>> {
  const out = new Map<string, MemberBalance>();
  for (const id of [...new Set(memberIds)].sort()) out.set(id, await lockBalance(em, id));
  return out;
}

const MAX_MERGE_HOPS = 5;
const MAX_DEADLOCK_RETRIES = 4;

/**
 * Runs a member's write, in its own transaction, for the member or the record they were merged into. Deadlocks run
 * again (`rerunningLockConflicts`).
 */
export async function onLiveMember<T>(memberId: string, work: (memberId: string) => Promise<T>): Promise<T> {
  let id = memberId;
  for (let hops = 0; ; hops++) {
    try {
      return await rerunningLockConflicts(() => work(id));
    } catch (err) {
      if (!(err instanceof MemberMoved) || hops >= MAX_MERGE_HOPS) throw err;
      id = err.survivorId;
    }
  }
}

/**
 * The safety net for lock cycles the global order cannot rule out (a return reversing a pending referral bonus locks
 * the referrer after the referred member): PostgreSQL breaks a deadlock by failing one transaction, which rolled back
 * whole and runs again here, so no caller sees it. Every use case that takes member locks runs under it, merges and
 * erasures included.
 */
export async function rerunningLockConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await work();
    } catch (err) {
      if (!isLockConflict(err) || retries >= MAX_DEADLOCK_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (retries + 1)));
    }
  }
}

/** A transaction PostgreSQL failed to break a lock cycle (or a lock wait limit): it wrote nothing and can run again. */
export function isLockConflict(err: unknown): boolean {
  return err instanceof DeadlockException || err instanceof LockWaitTimeoutException || (err as { code?: string })?.code === '40P01';
}
