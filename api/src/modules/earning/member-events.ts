import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { idempotent } from '../../base/idempotent';
import type { Clock } from '../../base/time';
import { actorRef } from '../auth/principal';
import type { Member } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import type { IdentifierType } from '../members/member-identifier.entity';
import type { LedgerService } from '../ledger/ledger.service';
import { lockMembers, onLiveMember } from '../ledger/member-lock';
import type { EventService } from '../events/event.service';
import type { EventTypeDefinition } from '../events/event-types';
import { CoLockChanged, EarningEventKind, readKey, type ActivityEarningEvent, type EarningPipeline, type EarningRun, type EventOutcome } from './pipeline';

/** A member as a caller names them: by id, or by an identifier (email, phone, the channel's customer id). */
export interface MemberRef {
  id?: string | null;
  identifierType?: IdentifierType | string | null;
  identifierValue?: string | null;
}

/** What a plugin's write sees inside the transaction MemberEventService opens for it. */
export interface MemberEventTx {
  em: EntityManager;
  /** The live member: the one named, or the record they were merged into. Their balance is locked. */
  memberId: string;
  /** The API's clock when the transaction began. */
  at: Date;
  run: EarningRun;
  /** Runs the pipeline's contributors for the activity (their points, progress and events), in this transaction. */
  credit(activity: Omit<ActivityEarningEvent, 'kind' | 'memberId' | 'at'>): Promise<EventOutcome>;
  /** Records a plugin's event (defineEventType) in this transaction, in order with the pipeline's own. */
  recordEvent<P extends object>(type: EventTypeDefinition<P>, payload: P, options?: { occurredAt?: Date; dedupeKey?: string }): void;
}

export interface MemberEventRequest<T> {
  member: MemberRef;
  /**
   * The result of an earlier call with the same idempotency key (read on a fresh context), or null. Asked before
   * anything is locked, and again when the write loses a race on the plugin's unique key; it throws
   * CONFLICT/IDEMPOTENCY_KEY_REUSED itself when the stored body differs.
   */
  replay(em: EntityManager): Promise<T | null>;
  /** The plugin's rows and `tx.credit`; anything it throws rolls the whole event back. */
  write(tx: MemberEventTx): Promise<T>;
}

/**
 * The use case a plugin builds a member's non-purchase event on (an activity, a check-in): one transaction that holds
 * the member's balance lock (the survivor's when the member was merged, whenever that happened), runs the earning
 * pipeline's ACTIVITY stage in it and records its events with the plugin's rows; idempotent through the plugin's own
 * unique key (`replay`). Orders follow the same rules (orders/order.service.ts).
 */
export class MemberEventService {
  constructor(
    private readonly members: MemberService,
    private readonly ledger: LedgerService,
    private readonly earning: EarningPipeline,
    private readonly events: EventService,
    private readonly clock: Clock,
  ) {}

  /** The live member a reference names (a merged one's survivor); NOT_FOUND, CONFLICT/MEMBER_ERASED. */
  resolve(ctx: Context, ref: MemberRef): Promise<Member> {
    return this.members.resolveRef(ctx, ref);
  }

  async record<T>(ctx: Context, request: MemberEventRequest<T>): Promise<T> {
    const stored = await request.replay(ctx.em.fork());
    if (stored !== null) return stored;
    const member = await this.resolve(ctx, request.member);
    const terms = await this.earning.readTerms(ctx.em);
    const write = (memberId: string) =>
      ctx.em.transactional(async (em) => {
        const at = this.clock.now();
        // Members a contributor credits along with this one are locked first, in id order (member-lock.ts).
        const others = await this.earning.coLocked(em, [memberId]);
        const balances = others.length ? await lockMembers(em, [memberId, ...others]) : new Map();
        balances.set(memberId, await this.ledger.lockLive(em, memberId));
        const run = await this.earning.start(em, terms, [readKey(memberId, [{ at, placedAt: at }])], [EarningEventKind.ACTIVITY], {
          actor: actorRef(ctx.principal),
          log: ctx.log,
          balances,
        });
        const result = await request.write({
          em,
          memberId,
          at,
          run,
          credit: (activity) => run.activity({ ...activity, kind: EarningEventKind.ACTIVITY, memberId, at }),
          // Into the run's list: the outbox keeps the order the facts happened in (activity.recorded, then points.earned).
          recordEvent: (type, payload, options = {}) => {
            run.events.push(this.events.pendingEvent(type, payload, { memberId, occurredAt: options.occurredAt ?? at, dedupeKey: options.dedupeKey }));
          },
        });
        await run.flush();
        await this.events.recordAll(em, run.events);
        return result;
      });
    const writeForMember = (memberId: string) => write(memberId).catch((err) => (err instanceof CoLockChanged ? write(memberId) : Promise.reject(err)));
    return idempotent(
      () => onLiveMember(member.id, writeForMember),
      () => request.replay(ctx.em.fork()),
      (winner) => winner,
    );
  }
}
