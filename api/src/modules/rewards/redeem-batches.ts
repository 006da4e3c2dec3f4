import { performance } from 'node:perf_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { runPrepared } from '../../base/prepared';
import type { LotAllocation } from './redemption.entity';

/**
 * The write under the member's lock as one statement of its own, no transaction around it: the function's migration
 * (Migration20261210100000_redeem_in_one_statement) says what it checks and writes. Parameter: its document.
 */
export const REDEEM_LOCKED_SQL = `select redeem_rewards_locked(?::jsonb) as result`;

/** One redemption for redeem_rewards_locked: the rows it writes once the checks pass. */
export interface LockedRedemptionItem {
  reward_id: string;
  cost: number;
  per_member_limit: number | null;
  redemption: Record<string, unknown>;
  ledger: Record<string, unknown>;
  events: Record<string, unknown>[];
}

export type LockedItemResult =
  | { outcome: 'REDEEMED'; lot_allocations: LotAllocation[] }
  | { outcome: 'LIMIT_REACHED' }
  | { outcome: 'OUT_OF_STOCK' }
  | { outcome: 'DUPLICATE' }
  | { outcome: 'INSUFFICIENT_POINTS'; available: number };

/**
 * What one redemption learns: the statement's outcome for the member, its own result, how long the lock was held for
 * the statement (through its commit) and how many redemptions shared it.
 */
export type LockedRedemptionAnswer =
  | { outcome: 'NO_BALANCE' | 'ERASED' }
  | { outcome: 'MOVED'; survivor_id: string }
  | { outcome: 'DONE'; result: LockedItemResult; holdSeconds: number; writes: number };

/** Most redemptions one statement carries; more wait for the next. */
const MAX_BATCH = 50;

interface Waiting {
  em: EntityManager;
  item: LockedRedemptionItem;
  resolve: (answer: LockedRedemptionAnswer) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends one member's redemptions to redeem_rewards_locked, one statement at a time per member in this process: those
 * that arrive while one is in flight wait here, not on the lock with a pooled connection each, and go together in the
 * next statement, under one lock and one commit. A redemption that finds none in flight goes at once, alone.
 */
export class RedeemBatches {
  /** Per member with a statement in flight: the redemptions waiting for it. */
  private readonly waiting = new Map<string, Waiting[]>();

  redeem(em: EntityManager, memberId: string, item: LockedRedemptionItem): Promise<LockedRedemptionAnswer> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(memberId);
      if (queue) {
        queue.push({ em, item, resolve, reject });
        return;
      }
      this.waiting.set(memberId, []);
      void this.drain(memberId, [{ em, item, resolve, reject }]);
    });
  }

  private async drain(memberId: string, batch: Waiting[]): Promise<void> {
    for (;;) {
      try {
        await this.send(memberId, batch);
      } catch (err) {
        // A failure of the whole statement (not one redemption's: those come back as results) fails each alone, so
        // that one redemption's fault is not its neighbours'.
        if (batch.length === 1) batch[0].reject(err);
        else for (const one of batch) await this.send(memberId, [one]).catch(one.reject);
      }
      const queue = this.waiting.get(memberId)!;
      if (queue.length === 0) {
        this.waiting.delete(memberId);
        return;
      }
      batch = queue.splice(0, MAX_BATCH);
    }
  }

  private async send(memberId: string, batch: Waiting[]): Promise<void> {
    const started = performance.now();
    const [{ result }] = await runPrepared<{ result: BatchResult }>(batch[0].em, REDEEM_LOCKED_SQL, [
      JSON.stringify({ member_id: memberId, items: batch.map((w) => w.item) }),
    ]);
    if (result.outcome !== 'DONE') return batch.forEach((w) => w.resolve(result));
    // The lock is released after the commit's WAL flush, which the function cannot time: the hold counted is the
    // statement's whole round trip here less its wait for the lock, an upper bound (it includes the network, the wait
    // for a pooled connection and this event loop's), and never less than what the function measured itself.
    const roundTrip = (performance.now() - started) / 1000;
    const holdSeconds = Math.max(result.hold_seconds, roundTrip - result.wait_seconds);
    batch.forEach((w, i) => w.resolve({ outcome: 'DONE', result: result.results[i], holdSeconds, writes: batch.length }));
  }
}

type BatchResult =
  | Exclude<LockedRedemptionAnswer, { outcome: 'DONE' }>
  | { outcome: 'DONE'; results: LockedItemResult[]; hold_seconds: number; wait_seconds: number };
