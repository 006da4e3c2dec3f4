import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError } from '../../base/errors';
import { newId } from '../../base/ids';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import { EarningRule } from './earning-rule.entity';
import type { EarningRuleInput, UpdateEarningRuleInput } from './earning.types';
import { coreRuleKinds, type EarningRuleKinds } from './rule-kinds';

export class EarningRuleService {
  constructor(
    private readonly audit: AuditService,
    /** Every kind a rule may have, plugins' included; a rule that could never give a point is refused up front. */
    readonly kinds: EarningRuleKinds = coreRuleKinds,
  ) {}

  /** The rules in force: the newest version of each, if active. */
  current(em: EntityManager): Promise<EarningRule[]> {
    return em.find(EarningRule, { supersededAt: null, isActive: true }, { orderBy: { kind: 'asc', priority: 'desc' } });
  }

  list(em: EntityManager, includeHistory: boolean): Promise<EarningRule[]> {
    return em.find(EarningRule, includeHistory ? {} : { supersededAt: null }, { orderBy: { ruleKey: 'asc', version: 'desc' } });
  }

  async create(ctx: Context, input: EarningRuleInput): Promise<EarningRule> {
    const { problems, params } = this.kinds.validate(input);
    if (problems.length) throw AppError.badInput(problems);
    return ctx.em.transactional(async (em) => {
      const rule = em.create(EarningRule, { ...this.fields(input), params, ruleKey: newId(), version: 1, isActive: true, createdBy: actorRef(ctx.principal) });
      this.audit.record(em, ctx, { action: 'earningRule.create', entityType: 'EarningRule', entityId: rule.ruleKey, after: { ...input } });
      return rule;
    });
  }

  /** Writes version n+1 and closes version n; orders keep pointing at the version that paid them. */
  async update(ctx: Context, input: UpdateEarningRuleInput): Promise<EarningRule> {
    const { problems, params } = this.kinds.validate(input);
    if (problems.length) throw AppError.badInput(problems);
    return ctx.em.transactional(async (em) => {
      const latest = await this.lockLatest(em, input.ruleKey);
      latest.supersededAt = new Date();
      const next = em.create(EarningRule, {
        ...this.fields(input),
        params,
        ruleKey: latest.ruleKey,
        version: latest.version + 1,
        isActive: input.isActive,
        createdBy: actorRef(ctx.principal),
      });
      this.audit.record(em, ctx, {
        action: 'earningRule.update',
        entityType: 'EarningRule',
        entityId: latest.ruleKey,
        before: { version: latest.version },
        after: { ...input, version: next.version },
      });
      return next;
    });
  }

  /**
   * The current version, locked. A concurrent update that closed the version this waited for leaves nothing matching
   * its read, whose snapshot predates the successor: the next read (a new snapshot) finds that successor.
   */
  private async lockLatest(em: EntityManager, ruleKey: string): Promise<EarningRule> {
    for (;;) {
      const latest = await em.findOne(EarningRule, { ruleKey, supersededAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (latest) return latest;
      if ((await em.count(EarningRule, { ruleKey, supersededAt: null })) === 0) throw AppError.notFound('EarningRule', ruleKey);
    }
  }

  private fields(input: EarningRuleInput) {
    return {
      name: input.name,
      kind: input.kind,
      priority: input.priority ?? 0,
      currency: input.currency ?? null,
      points: input.points ?? null,
      perMinor: input.perMinor ?? null,
      multiplierPercent: input.multiplierPercent ?? null,
      fixedPoints: input.fixedPoints ?? null,
      category: input.category ?? null,
      sku: input.sku ?? null,
      channelKind: input.channelKind ?? null,
      startsAt: input.startsAt ?? null,
      endsAt: input.endsAt ?? null,
      daysOfWeek: input.daysOfWeek ?? null,
      capPoints: input.capPoints ?? null,
    };
  }
}
