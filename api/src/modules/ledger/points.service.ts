import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { Logger } from '../../base/logger';
import { AppError } from '../../base/errors';
import { idempotent } from '../../base/idempotent';
import { checkPageSize, decodeTimeCursor, timeKeySql, timeKeyedPageOf } from '../../base/pagination';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import type { MemberService } from '../members/member.service';
import { MemberStatus } from '../members/member.entity';
import type { ProgrammeService } from '../programme/programme.service';
import type { TierService } from '../tiers/tier.service';
import type { RewardService } from '../rewards/reward.service';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import { LedgerEntry } from './ledger-entry.entity';
import type { LedgerService } from './ledger.service';
import { onLiveMember } from './member-lock';
import { pointsHistoryMismatches } from './points-history';
import { LotState, PointLot } from './point-lot.entity';
import type { AdjustPointsInput, LedgerCheckResult, LedgerConnection, MemberPoints, PointsJobsResult } from './points.types';
import { DAY_MS } from '../../base/time';

const JOB_BATCH = 500;

/** Reading points, admin adjustments, and the scheduled jobs that release, expire and check them. */
export class PointsService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly members: MemberService,
    private readonly programme: ProgrammeService,
    private readonly tiers: TierService,
    private readonly audit: AuditService,
    private readonly events: EventService,
    private readonly rewards: RewardService,
    /** Aggregates other modules keep beside the ledger, proven by the same check (the orders module's order history). */
    private readonly aggregateChecks: { orderHistory?: (em: EntityManager) => Promise<LedgerCheckResult['aggregateMismatches']> } = {},
  ) {}

  /** Balances for many members in two queries (the DataLoader behind `member.points`). */
  async pointsOf(em: EntityManager, memberIds: readonly string[]): Promise<MemberPoints[]> {
    const placeholders = memberIds.map(() => '?').join(', ');
    const [balances, expiries] = await Promise.all([
      em.execute<{ member_id: string; available: number; pending: number; lifetime: number }[]>(
        // bigint columns, read as doubles (exact within MAX_MEMBER_POINTS) rather than pg's strings.
        `select member_id, available::float8 as available, pending::float8 as pending, lifetime::float8 as lifetime from member_balance where member_id in (${placeholders})`,
        [...memberIds],
      ),
      em.execute<{ member_id: string; points: number; expires_at: Date }[]>(
        `select distinct on (member_id) member_id, expires_at,
           (sum(remaining) over (partition by member_id, expires_at::date))::float8 as points
         from point_lot
         where member_id in (${placeholders}) and state in ('AVAILABLE', 'PENDING') and remaining > 0
         order by member_id, expires_at`,
        [...memberIds],
      ),
    ]);
    return memberIds.map((id) => {
      const b = balances.find((r) => r.member_id === id);
      const e = expiries.find((r) => r.member_id === id);
      return {
        available: b?.available ?? 0,
        pending: b?.pending ?? 0,
        lifetime: b?.lifetime ?? 0,
        nextExpiry: e ? { points: e.points, expiresAt: new Date(e.expires_at) } : null,
      };
    });
  }

  /**
   * The member's ledger, newest first by when each change happened (ties by id). Write order would put two years of
   * imported history, written today, above last week's orders.
   */
  async history(em: EntityManager, memberId: string, first: number, after: string | null): Promise<LedgerConnection> {
    checkPageSize(first);
    const before = after ? decodeTimeCursor(after) : null;
    const rows = await em.execute<({ key_at: string } & Record<string, unknown>)[]>(MEMBER_LEDGER_PAGE_SQL, [
      memberId,
      before?.at ?? null,
      before?.id ?? null,
      first + 1,
    ]);
    const keyed = rows.map(({ key_at, ...row }) => {
      const entry = em.map(LedgerEntry, row);
      return { node: entry, key: { at: key_at, id: entry.id } };
    });
    return timeKeyedPageOf(keyed, first, Boolean(after));
  }

  /** A support correction with a reason. Safe to retry: the key makes it happen once. */
  async adjust(ctx: Context, input: AdjustPointsInput): Promise<MemberPoints> {
    const member = await this.members.findById(ctx.em, input.memberId);
    if (member.status !== MemberStatus.ACTIVE) throw AppError.conflict('MEMBER_ERASED', 'Points of an erased member cannot change');
    const key = `adjustment:${input.idempotencyKey}`;
    // A retry of an adjustment that already happened answers as the first did; the same key with other contents is
    // a client error, not a silent no-op.
    // Either record may have been merged since the first attempt: compare, and answer for, the person each is now.
    const survivorOf = async (id: string) => (await this.members.findById(ctx.em.fork(), id)).id;
    const keyReused = () => AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for another adjustment', { field: 'input.idempotencyKey' });
    const adjusted = await idempotent(
      // A member merged away while this waited for their lock is adjusted on the survivor (member-lock.ts).
      () => onLiveMember(member.id, (memberId) => ctx.em.transactional(async (em) => {
        const settings = await this.programme.settings(em);
        const bal = await this.ledger.lockLive(em, memberId);
        const before = { available: bal.available };
        await this.ledger.adjust(
          em,
          bal,
          input.points,
          { sourceType: 'adjustment', sourceId: memberId, key, actor: actorRef(ctx.principal), note: input.reason },
          { at: new Date(), pendingDays: 0, expiryMonths: settings.lotExpiryMonths },
        );
        this.audit.record(em, ctx, {
          action: 'points.adjust',
          entityType: 'Member',
          entityId: memberId,
          before,
          after: { available: bal.available, points: input.points, reason: input.reason },
        });
        return memberId;
      })),
      async () => {
        const first = await ctx.em.fork().findOne(LedgerEntry, { idempotencyKey: key });
        if (!first) throw keyReused();
        return first;
      },
      async (first) => {
        const [theirs, ours] = await Promise.all([survivorOf(first.member.id), survivorOf(input.memberId)]);
        if (theirs !== ours || first.availableDelta !== input.points || first.note !== input.reason) throw keyReused();
        return theirs;
      },
    );
    const [points] = await this.pointsOf(ctx.em.fork(), [adjusted]);
    return points;
  }

  /** The scheduled work, each member in its own short transaction. `now` is injectable for tests and replays. */
  async runJobs(rootEm: EntityManager, log: Logger, now = new Date()): Promise<PointsJobsResult> {
    const result: PointsJobsResult = { lotsReleased: 0, lotsExpired: 0, pointsExpired: 0, vouchersExpired: 0, tierPeriodsEnded: 0 };
    const em = rootEm.fork();
    const settings = await this.programme.settings(em);

    for (;;) {
      const due = await em.fork().find(PointLot, { state: LotState.PENDING, availableAt: { $lte: now } }, { limit: JOB_BATCH, fields: ['id', 'member'] });
      if (due.length === 0) break;
      for (const memberId of new Set(due.map((l) => l.member.id))) {
        await em.fork().transactional(async (tx) => {
          const bal = await this.ledger.lock(tx, memberId);
          const lots = await tx.find(PointLot, { member: memberId, state: LotState.PENDING, availableAt: { $lte: now } });
          for (const lot of lots) {
            // Dated when the points became available, not when the job ran: a late run, or history imported today,
            // puts each change on its own day (the ledger's order, the analytics' periods).
            this.ledger.release(tx, bal, lot, { sourceType: 'lot', sourceId: lot.id, key: `release:${lot.id}`, actor: 'system', at: lot.availableAt });
            result.lotsReleased++;
          }
        });
      }
    }

    for (;;) {
      const due = await em.fork().find(
        PointLot,
        { state: LotState.AVAILABLE, remaining: { $gt: 0 }, expiresAt: { $lte: now } },
        { limit: JOB_BATCH, fields: ['id', 'member'] },
      );
      if (due.length === 0) break;
      for (const memberId of new Set(due.map((l) => l.member.id))) {
        await em.fork().transactional(async (tx) => {
          const bal = await this.ledger.lock(tx, memberId);
          const lots = await tx.find(PointLot, { member: memberId, state: LotState.AVAILABLE, remaining: { $gt: 0 }, expiresAt: { $lte: now } });
          for (const lot of lots) {
            const points = this.ledger.expire(tx, bal, lot, {
              sourceType: 'lot',
              sourceId: lot.id,
              key: `expiry:${lot.id}:${lot.remaining}:${now.toISOString()}`,
              actor: 'system',
              // When the points expired, as a release is dated when they became available.
              at: lot.expiresAt,
            });
            result.pointsExpired += points;
            result.lotsExpired++;
            if (points > 0) await this.events.record(tx, EventType.POINTS_EXPIRED, { memberId, lotId: lot.id, points, expiredAt: lot.expiresAt.toISOString() }, { memberId, occurredAt: now });
          }
        });
      }
    }

    // Announced once per lot (the dedupe key), so a channel can remind the member before the points go.
    const horizon = new Date(now.getTime() + this.events.pointsExpiringDays * DAY_MS);
    let lotsExpiring = 0;
    for (;;) {
      const announced = await em.fork().transactional(async (tx) => {
        const lots = await tx.execute<{ id: string; member_id: string; remaining: number; expires_at: Date }[]>(
          `select l.id, l.member_id, l.remaining, l.expires_at from point_lot l
           where l.state = 'AVAILABLE' and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?
             and not exists (select 1 from event_outbox e where e.dedupe_key = 'points.expiring:' || l.id)
           order by l.id limit ?`,
          [now, horizon, JOB_BATCH],
        );
        for (const lot of lots) {
          const expiresAt = new Date(lot.expires_at);
          const payload = { memberId: lot.member_id, lotId: lot.id, points: lot.remaining, expiresAt: expiresAt.toISOString(), daysAhead: Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS) };
          await this.events.record(tx, EventType.POINTS_EXPIRING, payload, { memberId: lot.member_id, occurredAt: now, dedupeKey: `points.expiring:${lot.id}` });
        }
        return lots.length;
      });
      lotsExpiring += announced;
      if (announced < JOB_BATCH) break;
    }

    result.vouchersExpired = await this.rewards.expireVouchers(em, now);
    result.tierPeriodsEnded = await this.tiers.endPeriods(em, settings, now, JOB_BATCH);
    const tiersAtRisk = await em.fork().transactional((tx) => this.tiers.warnAtRisk(tx, settings, now, this.events.tierAtRiskDays));
    log.info({ ...result, lotsExpiring, tiersAtRisk }, 'points.jobs_ran');
    return result;
  }

  async check(em: EntityManager): Promise<LedgerCheckResult> {
    const [mismatches, mergedAwayHoldings, erasedHoldings] = [await this.ledger.check(em), await this.ledger.mergedAwayHoldings(em), await this.ledger.erasedHoldings(em)];
    const aggregateMismatches = [...(await pointsHistoryMismatches(em)), ...((await this.aggregateChecks.orderHistory?.(em)) ?? [])];
    const [{ n }] = await em.execute<{ n: number }[]>('select count(*)::int as n from member_balance');
    return {
      isConsistent: mismatches.length === 0 && mergedAwayHoldings.length === 0 && erasedHoldings.length === 0 && aggregateMismatches.length === 0,
      membersChecked: n,
      mismatches,
      mergedAwayHoldings,
      erasedHoldings,
      aggregateMismatches,
    };
  }
}

/**
 * `history`'s statement: one backward scan of ledger_entry (member_id, created_at) from the cursor's position; no
 * position is (infinity, the largest uuid) rather than an `or`, as for a member's orders.
 */
const MEMBER_LEDGER_PAGE_SQL = `select ${timeKeySql('e.created_at')} as key_at, e.* from ledger_entry e
  where e.member_id = ?
    and (e.created_at, e.id) < (coalesce(?::timestamptz, 'infinity'), coalesce(?::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
  order by e.created_at desc, e.id desc limit ?`;
