import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../shared/context';
import { AppError, type FieldProblem } from '../shared/errors';
import { isCurrency } from '../shared/currency';
import { newId } from '../shared/ids';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import { EarningRule, EarningRuleKind } from './earning-rule.entity';
import type { EarningRuleInput, UpdateEarningRuleInput } from './earning.types';

/** What each kind needs, so a rule that could never give a point is refused up front. */
function problemsOf(input: EarningRuleInput): FieldProblem[] {
  const need = (field: keyof EarningRuleInput, why: string): FieldProblem[] =>
    input[field] === undefined || input[field] === null ? [{ path: `input.${String(field)}`, message: `is required for ${why}` }] : [];
  const p: FieldProblem[] = [];
  switch (input.kind) {
    case EarningRuleKind.BASE_RATE:
      p.push(...need('currency', 'BASE_RATE'), ...need('points', 'BASE_RATE'), ...need('perMinor', 'BASE_RATE'));
      if (input.currency && !isCurrency(input.currency)) p.push({ path: 'input.currency', message: 'is not an ISO 4217 currency' });
      // At most a point per minor unit: a maximal order's base then stays within MAX_ORDER_TOTAL_MINOR points, and
      // every multiplier line of the engine is exact (README: Bounds).
      if (input.points && input.perMinor && input.points > input.perMinor) {
        p.push({ path: 'input.points', message: `must not exceed perMinor (${input.perMinor}): at most one point per minor unit` });
      }
      break;
    case EarningRuleKind.CATEGORY_MULTIPLIER:
      p.push(...need('category', 'CATEGORY_MULTIPLIER'), ...need('multiplierPercent', 'a multiplier'));
      break;
    case EarningRuleKind.PRODUCT_MULTIPLIER:
      p.push(...need('sku', 'PRODUCT_MULTIPLIER'), ...need('multiplierPercent', 'a multiplier'));
      break;
    case EarningRuleKind.CHANNEL_MULTIPLIER:
      p.push(...need('channelKind', 'CHANNEL_MULTIPLIER'), ...need('multiplierPercent', 'a multiplier'));
      break;
    case EarningRuleKind.BONUS:
      if ((input.multiplierPercent ?? null) === null && (input.fixedPoints ?? null) === null) {
        p.push({ path: 'input.multiplierPercent', message: 'or fixedPoints is required for BONUS' });
      }
      break;
    case EarningRuleKind.ORDER_CAP:
    case EarningRuleKind.DAILY_CAP:
      p.push(...need('capPoints', input.kind));
      break;
  }
  if (input.startsAt && input.endsAt && input.endsAt <= input.startsAt) p.push({ path: 'input.endsAt', message: 'must be after startsAt' });
  return p;
}

export class EarningRuleService {
  constructor(private readonly audit: AuditService) {}

  /** The rules in force: the newest version of each, if active. */
  current(em: EntityManager): Promise<EarningRule[]> {
    return em.find(EarningRule, { supersededAt: null, isActive: true }, { orderBy: { kind: 'asc', priority: 'desc' } });
  }

  list(em: EntityManager, includeHistory: boolean): Promise<EarningRule[]> {
    return em.find(EarningRule, includeHistory ? {} : { supersededAt: null }, { orderBy: { ruleKey: 'asc', version: 'desc' } });
  }

  async create(ctx: Context, input: EarningRuleInput): Promise<EarningRule> {
    const problems = problemsOf(input);
    if (problems.length) throw AppError.badInput(problems);
    return ctx.em.transactional(async (em) => {
      const rule = em.create(EarningRule, { ...this.fields(input), ruleKey: newId(), version: 1, isActive: true, createdBy: actorRef(ctx.principal) });
      this.audit.record(em, ctx, { action: 'earningRule.create', entityType: 'EarningRule', entityId: rule.ruleKey, after: { ...input } });
      return rule;
    });
  }

  /** Writes version n+1 and closes version n; orders keep pointing at the version that paid them. */
  async update(ctx: Context, input: UpdateEarningRuleInput): Promise<EarningRule> {
    const problems = problemsOf(input);
    if (problems.length) throw AppError.badInput(problems);
    return ctx.em.transactional(async (em) => {
      const latest = await em.findOne(EarningRule, { ruleKey: input.ruleKey, supersededAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!latest) throw AppError.notFound('EarningRule', input.ruleKey);
      latest.supersededAt = new Date();
      const next = em.create(EarningRule, {
        ...this.fields(input),
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
