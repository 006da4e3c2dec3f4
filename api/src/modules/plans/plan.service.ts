import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, upsertByKey } from '../../base/errors';
import { isCurrency } from '../../base/currency';
import type { AuditService } from '../audit/audit.service';
import { MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import { MemberPlan, MembershipPlan } from './membership-plan.entity';
import type { CancelMemberPlanInput, SubscribeMemberInput, UpsertMembershipPlanInput } from './plan.types';
import { DAY_MS } from '../../base/time';
import { lockLiveMember, onLiveMember } from '../ledger/member-lock';

/** How far from now a plan may be recorded to start: a sale keyed in late, or a plan sold ahead of its start. */
const MAX_START_OFFSET_DAYS = 366;

/** Paid plans: payment happens in the channel; the platform records the term and grants the benefits. */
export class PlanService {
  constructor(
    private readonly members: MemberService,
    private readonly audit: AuditService,
  ) {}

  list(em: EntityManager): Promise<MembershipPlan[]> {
    return em.find(MembershipPlan, {}, { orderBy: { code: 'asc' } });
  }

  memberPlans(em: EntityManager, memberId: string): Promise<MemberPlan[]> {
    return em.find(MemberPlan, { member: memberId }, { orderBy: { startsAt: 'desc' }, populate: ['plan'] });
  }

  async upsert(ctx: Context, input: UpsertMembershipPlanInput): Promise<MembershipPlan> {
    if (!isCurrency(input.currency)) throw AppError.badInput([{ path: 'input.currency', message: 'is not an ISO 4217 currency' }]);
    return upsertByKey(
      () =>
        ctx.em.transactional(async (em) => {
          // Locked, as rewards are: two upserts of one plan at once leave one input whole (a fee with its own currency).
          const existing = await em.findOne(MembershipPlan, { code: input.code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          const plan = existing ?? em.create(MembershipPlan, { ...input });
          em.assign(plan, { ...input });
          await em.flush();
          this.audit.record(em, ctx, { action: existing ? 'plan.update' : 'plan.create', entityType: 'MembershipPlan', entityId: plan.id, after: { ...input } });
          return plan;
        }),
      () => AppError.conflict('IDENTIFIER_TAKEN', 'A plan with this code already exists', { field: 'input.code' }),
    );
  }

  /**
   * Under the member lock (member-lock.ts), like every write to a member: two renewals paid at once chain one after the
   * other instead of covering the same days, and a plan paid while its member is merged away lands on the survivor.
   */
  async subscribe(ctx: Context, input: SubscribeMemberInput): Promise<MemberPlan> {
    const now = new Date();
    if (input.startsAt && Math.abs(input.startsAt.getTime() - now.getTime()) > MAX_START_OFFSET_DAYS * DAY_MS) {
      throw AppError.badInput([{ path: 'input.startsAt', message: `must be within ${MAX_START_OFFSET_DAYS} days of now` }]);
    }
    const member = await this.members.findById(ctx.em, input.memberId);
    if (member.status !== MemberStatus.ACTIVE) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased');
    return onLiveMember(member.id, (memberId) =>
      ctx.em.transactional(async (em) => {
        await lockLiveMember(em, memberId);
        const plan = await em.findOne(MembershipPlan, { code: input.planCode });
        if (!plan) throw AppError.notFound('MembershipPlan', input.planCode);
        if (!plan.isActive) throw AppError.badInput([{ path: 'input.planCode', message: 'this plan is no longer sold' }]);
        const running = await em.findOne(MemberPlan, { member: memberId, plan, cancelledAt: null, endsAt: { $gt: now } }, { orderBy: { endsAt: 'desc' } });
        const startsAt = input.startsAt ?? running?.endsAt ?? now;
        const memberPlan = em.create(MemberPlan, { member: memberId, plan, startsAt, endsAt: new Date(startsAt.getTime() + plan.durationDays * DAY_MS) });
        this.audit.record(em, ctx, {
          action: 'plan.subscribe',
          entityType: 'Member',
          entityId: memberId,
          after: { plan: plan.code, startsAt, endsAt: memberPlan.endsAt },
        });
        return memberPlan;
      }),
    );
  }

  /**
   * Erase step: erasure closes the member's account, so their plans that have not ended (running, or sold to start
   * later) are cancelled as of the erasure; plans that ended stay as they were (history). Payment and any refund are
   * the channel's, as for a cancellation.
   */
  async cancelForErasure(em: EntityManager, memberIds: readonly string[], at: Date): Promise<void> {
    await em.nativeUpdate(MemberPlan, { member: { $in: [...memberIds] }, cancelledAt: null, endsAt: { $gt: at } }, { cancelledAt: at });
  }

  /**
   * Once: calls at the same moment wait on the plan's row, and each answers the first cancellation. Only that row is
   * locked, and nothing after it, so a merge moving the plan waits for it without a lock cycle.
   */
  async cancel(ctx: Context, input: CancelMemberPlanInput): Promise<MemberPlan> {
    return ctx.em.transactional(async (em) => {
      const memberPlan = await em.findOne(MemberPlan, input.memberPlanId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!memberPlan) throw AppError.notFound('MemberPlan', input.memberPlanId);
      if (!memberPlan.cancelledAt) {
        memberPlan.cancelledAt = new Date();
        this.audit.record(em, ctx, { action: 'plan.cancel', entityType: 'Member', entityId: memberPlan.member.id, after: { memberPlanId: memberPlan.id } });
      }
      return memberPlan;
    });
  }
}
