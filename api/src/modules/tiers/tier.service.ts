import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { AuditService } from '../audit/audit.service';
import { upsertByKey, AppError } from '../../base/errors';
import { ProgrammeSettings, TierMetric } from '../programme/programme-settings.entity';
import { MemberPlan } from '../plans/membership-plan.entity';
import type { BenefitMultiplier } from '../earning/engine';
import { Tier } from './tier.entity';
import { MemberTier, TierChange, TierChangeReason } from './member-tier.entity';
import type { MemberBenefits, TierProgress, UpsertTierInput } from './tier.types';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import { DAY_MS } from '../../base/time';
import { lockBalance } from '../ledger/member-lock';


export class TierService {
  constructor(
    private readonly audit: AuditService,
    private readonly events: EventService,
  ) {}

  list(em: EntityManager): Promise<Tier[]> {
    return em.find(Tier, {}, { orderBy: { threshold: 'asc' } });
  }

  async upsert(ctx: Context, input: UpsertTierInput): Promise<Tier> {
    return upsertByKey(
      () =>
        ctx.em.transactional(async (em) => {
          // Locked, as rewards are: two upserts of one tier at once leave one input whole, not a mix of both.
          const existing = await em.findOne(Tier, { code: input.code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
          const tier = existing ?? em.create(Tier, { code: input.code, name: input.name, threshold: input.threshold });
          const before = existing ? { name: existing.name, threshold: existing.threshold, earnMultiplierPercent: existing.earnMultiplierPercent } : null;
          em.assign(tier, { name: input.name, threshold: input.threshold, earnMultiplierPercent: input.earnMultiplierPercent, benefitFlags: input.benefitFlags });
          await em.flush();
          this.audit.record(em, ctx, { action: existing ? 'tier.update' : 'tier.create', entityType: 'Tier', entityId: tier.id, before, after: { ...input } });
          return tier;
        }),
      () => AppError.conflict('IDENTIFIER_TAKEN', 'Another tier already has this threshold', { field: 'input.threshold' }),
    );
  }

  /** The member's tier: their recorded one, else the tier with threshold 0 (if the programme has one). */
  async current(em: EntityManager, memberId: string): Promise<{ tier: Tier | null; state: MemberTier | null }> {
    const state = await em.findOne(MemberTier, { member: memberId }, { populate: ['tier'] });
    if (state) return { tier: state.tier.getEntity(), state };
    return { tier: await em.findOne(Tier, { threshold: 0 }), state: null };
  }

  /** `current`'s tier for many members in two statements (the loader behind `member.tier`). */
  async currentOf(em: EntityManager, memberIds: readonly string[]): Promise<(Tier | null)[]> {
    const [tiers, states] = await Promise.all([this.list(em), em.find(MemberTier, { member: { $in: [...memberIds] } })]);
    const base = tiers.find((t) => t.threshold === 0) ?? null;
    const tierOf = new Map(states.map((s) => [s.member.id, tiers.find((t) => t.id === s.tier.id) ?? null]));
    return memberIds.map((id) => (tierOf.has(id) ? tierOf.get(id)! : base));
  }

  /**
   * Points earned from orders net of returns, or spend net of returns, since the rolling window began (`at` − window).
   * Either way a return counts against the window its order counted in, never below zero (TIER_METRIC_POINTS_SQL).
   * Summed exactly and read as a double: both grow past int4 with a few maximal orders (docs/reference/input-bounds.md).
   * Earnings stay on the ledger of the record they were earned on, so records merged into the member count too
   * (`absorbedIds`: a record being merged in this transaction, not yet marked merged).
   */
  async metric(em: EntityManager, memberId: string, settings: ProgrammeSettings, at: Date, absorbedIds: readonly string[] = []): Promise<number> {
    const since = new Date(at.getTime() - settings.tierWindowDays * DAY_MS);
    const [row] =
      settings.tierMetric === TierMetric.POINTS_EARNED
        ? await em.execute<{ v: number }[]>(
            TIER_METRIC_POINTS_SQL,
            [memberId, memberId, `{${absorbedIds.join(',')}}`, since],
          )
        : await em.execute<{ v: number }[]>(
            `select coalesce(sum(total_minor - returned_minor), 0)::float8 as v from customer_order
             where member_id = ? and placed_at > ?`,
            [memberId, since],
          );
    return row.v;
  }

  /**
   * Every tier and the member's tier row, locked for the rest of the transaction. Only that row is locked: a lock
   * taken through a join would also lock the tier's row and serialise every member of the tier.
   */
  async lockedState(em: EntityManager, memberId: string): Promise<LockedTier> {
    const tiers = await this.list(em);
    const state = tiers.length ? await em.findOne(MemberTier, { member: memberId }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    const current = (state ? tiers.find((t) => t.id === state.tier.id) : tiers.find((t) => t.threshold === 0)) ?? null;
    return { tiers, state, current };
  }

  /**
   * After a qualifying event, with its inputs read (tiers by threshold, the member's locked state with its tier, the
   * metric at `at`): upgrade at once when the member now qualifies for a higher tier, and keep the current tier for
   * another period when they still qualify for it; downgrades wait for the period's end (`endPeriods`). The earning
   * pipeline's tier stage (tier-earning.ts) calls it after each order. Returns the member's state afterwards.
   */
  decide(em: EntityManager, memberId: string, tiers: Tier[], state: MemberTier | null, metric: number, settings: ProgrammeSettings, at: Date): MemberTier | null {
    const target = [...tiers].reverse().find((t) => t.admits(metric)) ?? null;
    const retainUntil = new Date(at.getTime() + settings.tierWindowDays * DAY_MS);
    const current = state?.tier.getEntity() ?? tiers.find((t) => t.threshold === 0) ?? null;
    if (!target || (current && target.threshold < current.threshold)) return state;
    if (current && target.id === current.id) {
      if (state && state.retainUntil < retainUntil) state.retainUntil = retainUntil;
      return state;
    }
    return this.move(em, memberId, state, current, target, TierChangeReason.QUALIFIED, at, retainUntil);
  }

  /**
   * Nightly: members whose qualification period has ended keep the tier they still qualify for, or move down. Each
   * member in a transaction of its own that holds their member lock (member-lock.ts), then their tier row, read again:
   * an order that renewed or raised the tier while the job ran is seen, not written over. Returns how many moved.
   * Batches walk the due members by id, so each is visited once a run, however many are only renewed.
   */
  async endPeriods(rootEm: EntityManager, settings: ProgrammeSettings, at: Date, batch = 500): Promise<number> {
    let moved = 0;
    let after: string | null = null;
    for (;;) {
      const due: { member: { id: string } }[] = await rootEm.fork().find(
        MemberTier,
        { retainUntil: { $lte: at }, ...(after ? { member: { $gt: after } } : {}) },
        { fields: ['member'], orderBy: { member: 'asc' }, limit: batch },
      );
      for (const { member } of due) {
        if (await rootEm.fork().transactional((em) => this.endPeriod(em, member.id, settings, at))) moved++;
      }
      if (due.length < batch) return moved;
      after = due[due.length - 1].member.id;
    }
  }

  private async endPeriod(em: EntityManager, memberId: string, settings: ProgrammeSettings, at: Date): Promise<boolean> {
    await lockBalance(em, memberId);
    const { tiers, state, current } = await this.lockedState(em, memberId);
    // Renewed or raised by an order, or gone with a merge, since it was found due.
    if (!state || !current || state.retainUntil > at) return false;
    const metric = await this.metric(em, memberId, settings, at);
    const target = [...tiers].reverse().find((t) => t.admits(metric)) ?? null;
    const retainUntil = new Date(at.getTime() + settings.tierWindowDays * DAY_MS);
    if (target && target.id === current.id) {
      state.retainUntil = retainUntil;
      return false;
    }
    if (target) this.move(em, memberId, state, current, target, TierChangeReason.PERIOD_ENDED, at, retainUntil);
    else {
      em.create(TierChange, { member: memberId, fromTier: current.code, toTier: 'NONE', reason: TierChangeReason.PERIOD_ENDED, changedAt: at });
      em.remove(state);
    }
    await this.events.record(
      em,
      EventType.TIER_CHANGED,
      { memberId, fromTier: current.code, toTier: target?.code ?? null, reason: TierChangeReason.PERIOD_ENDED },
      { memberId, occurredAt: at },
    );
    return true;
  }

  /**
   * Nightly: warns (tier.at_risk) of members whose period ends within `withinDays` and whose metric, as it stands at
   * the period's end, no longer admits their tier. Once per member and period: the event's dedupe key holds both.
   */
  async warnAtRisk(em: EntityManager, settings: ProgrammeSettings, at: Date, withinDays: number): Promise<number> {
    const tiers = await this.list(em);
    const rows = await em.execute<{ member_id: string }[]>(
      `select mt.member_id from member_tier mt
       where mt.retain_until > ? and mt.retain_until <= ?
         and not exists (select 1 from event_outbox e
           where e.dedupe_key = 'tier.at_risk:' || mt.member_id || ':' || (extract(epoch from mt.retain_until) * 1000)::bigint)`,
      [at, new Date(at.getTime() + withinDays * DAY_MS)],
    );
    let warned = 0;
    for (const state of await em.find(MemberTier, { member: { $in: rows.map((r) => r.member_id) } }, { populate: ['tier'] })) {
      const memberId = state.member.id;
      const current = state.tier.getEntity();
      const metric = await this.metric(em, memberId, settings, state.retainUntil);
      if (current.admits(metric)) continue;
      const expected = [...tiers].reverse().find((t) => t.admits(metric)) ?? null;
      const payload = {
        memberId,
        tier: current.code,
        expectedTier: expected?.code ?? null,
        retainUntil: state.retainUntil.toISOString(),
        metric: settings.tierMetric,
        current: metric,
        threshold: current.threshold,
      };
      const dedupeKey = `tier.at_risk:${memberId}:${state.retainUntil.getTime()}`;
      if (await this.events.record(em, EventType.TIER_AT_RISK, payload, { memberId, occurredAt: at, dedupeKey })) warned++;
    }
    return warned;
  }

  async progress(em: EntityManager, memberId: string, settings: ProgrammeSettings, at: Date): Promise<TierProgress> {
    const tiers = await this.list(em);
    const { tier, state } = await this.current(em, memberId);
    // The metric evaluation decides on; it cannot go below zero (a clawback counts only with its order's earning).
    const current = Math.max(0, await this.metric(em, memberId, settings, at));
    const nextTier = tiers.find((t) => t.threshold > (tier?.threshold ?? -1)) ?? null;
    return {
      tier,
      nextTier,
      metric: settings.tierMetric,
      current,
      missing: nextTier ? Math.max(0, nextTier.threshold - current) : null,
      windowDays: settings.tierWindowDays,
      retainUntil: state?.retainUntil ?? null,
    };
  }

  async benefits(em: EntityManager, memberId: string, at: Date): Promise<MemberBenefits> {
    const { tier } = await this.current(em, memberId);
    const plans = await this.activePlans(em, memberId, at);
    const sources = [tier, ...plans.map((p) => p.plan.getEntity())].filter((s) => s !== null);
    return {
      earnMultiplierPercent: 100 + sources.reduce((sum, s) => sum + (s.earnMultiplierPercent - 100), 0),
      flags: [...new Set(sources.flatMap((s) => s.benefitFlags))].sort(),
    };
  }

  /** Merge: the survivor keeps the higher of the two tiers, then moves up if both records' earnings together qualify. */
  async merge(em: EntityManager, survivorId: string, absorbedId: string, settings: ProgrammeSettings, at: Date): Promise<void> {
    const mine = await em.findOne(MemberTier, { member: survivorId }, { populate: ['tier'] });
    const theirs = await em.findOne(MemberTier, { member: absorbedId }, { populate: ['tier'] });
    if (theirs) {
      const theirTier = theirs.tier.getEntity();
      if (!mine || theirTier.threshold > mine.tier.getEntity().threshold) {
        const from = mine?.tier.getEntity().code ?? null;
        this.move(em, survivorId, mine, mine?.tier.getEntity() ?? null, theirTier, TierChangeReason.MERGE, at, theirs.retainUntil);
        await this.events.record(em, EventType.TIER_CHANGED, { memberId: survivorId, fromTier: from, toTier: theirTier.code, reason: TierChangeReason.MERGE }, { memberId: survivorId, occurredAt: at });
      }
      em.remove(theirs);
    }
    // Together the two records may qualify for more than either did alone.
    await em.flush();
    const locked = await this.lockedState(em, survivorId);
    if (locked.tiers.length === 0) return;
    const metric = await this.metric(em, survivorId, settings, at, [absorbedId]);
    const after = this.decide(em, survivorId, locked.tiers, locked.state, metric, settings, at);
    const to = locked.tiers.find((t) => t.id === after?.tier.id) ?? null;
    if (to && to.id !== locked.current?.id) {
      await this.events.record(em, EventType.TIER_CHANGED, { memberId: survivorId, fromTier: locked.current?.code ?? null, toTier: to.code, reason: TierChangeReason.QUALIFIED }, { memberId: survivorId, occurredAt: at });
    }
  }

  activePlans(em: EntityManager, memberId: string, at: Date): Promise<MemberPlan[]> {
    return em.find(MemberPlan, { member: memberId, cancelledAt: null, startsAt: { $lte: at }, endsAt: { $gt: at } }, { populate: ['plan'] });
  }

  private move(
    em: EntityManager,
    memberId: string,
    state: MemberTier | null,
    from: Tier | null,
    to: Tier,
    reason: TierChangeReason,
    at: Date,
    retainUntil: Date,
  ): MemberTier {
    const next = state ? em.assign(state, { tier: to, achievedAt: at, retainUntil }) : em.create(MemberTier, { member: memberId, tier: to, achievedAt: at, retainUntil });
    em.create(TierChange, { member: memberId, fromTier: from?.code ?? null, toTier: to.code, reason, changedAt: at });
    return next;
  }
}

/**
 * When the points a return's clawback row (`e`) takes back were earned: the earliest ORDER_EARN row of its order (by
 * the (source_type, source_id) index); null when the order earned nothing.
 */
export const clawbackEarnedAtSql = (e: string) => `(select min(o.created_at) from order_return r
  join ledger_entry o on o.source_type = 'order' and o.source_id = r.order_id and o.reason = 'ORDER_EARN'
  where r.id = ${e}.source_id)`;

/**
 * Points earned in the window on the member's own ledger and those of records merged into them, net of returns. A
 * clawback counts only when the points it takes back were earned in the window (as spend nets returns of the orders
 * placed in it): the return of an order earned before the window made the metric negative, and no number of points
 * earned then reached the tier that progress said they would. One array of ids, so that the plan is an index scan of
 * (member_id, created_at); an OR across the subquery made it a scan of every ledger row.
 */
export const TIER_METRIC_POINTS_SQL = `with w as (select array(select id from member where id = ? union all select id from member where merged_into_id = ?) || ?::uuid[] as ids,
    ?::timestamptz as since)
  select coalesce(sum(e.lifetime_delta), 0)::float8 as v from w join ledger_entry e on e.member_id = any(w.ids)
  where e.reason in ('ORDER_EARN', 'RETURN_CLAWBACK') and e.created_at > w.since
    and (e.reason = 'ORDER_EARN' or ${clawbackEarnedAtSql('e')} > w.since)`;

/** Tiers by threshold, a member's locked tier row (null: none recorded) and the tier it gives them. */
export interface LockedTier {
  tiers: Tier[];
  state: MemberTier | null;
  current: Tier | null;
}

/** The engine's multiplier for the member's tier (none at 100 %). */
export function tierMultiplier(tier: Tier | null): BenefitMultiplier[] {
  return tier && tier.earnMultiplierPercent !== 100 ? [{ kind: 'TIER', label: `${tier.name} tier`, percent: tier.earnMultiplierPercent }] : [];
}
