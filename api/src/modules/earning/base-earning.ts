import { DAY_MS } from '../../base/time';
import { EarningRuleKind } from './earning-rule.entity';
import { computeEarning } from './engine';
import { coreRuleKinds, type EarningRuleKinds } from './rule-kinds';
import { EarningEventKind, EarningStage, type CreditableOrder, type EarningContributor } from './pipeline';

/**
 * Read per member when the rules need it: the points the member's orders earned by UTC day (the day's first
 * millisecond), for the daily cap; the member's birthday, for plugin rule kinds (RuleKindInput.member).
 */
interface BaseRulesState {
  earnedByDay: Map<number, number> | null;
  birthday: string | null;
}

const dayOf = (at: Date) => Math.floor(at.getTime() / DAY_MS) * DAY_MS;

/**
 * The base rules and caps (earning module): the rules in force with the benefits other contributors give, applied by
 * the engine (engine.ts), credited as the order's pending lot; a return claws back in proportion. Reads the points the
 * member's orders earned on the days of the run's orders when a daily cap is in force, and the member's birthday when
 * a plugin's rule kind is.
 */
export function baseRulesContributor(kinds: EarningRuleKinds = coreRuleKinds): EarningContributor<BaseRulesState | undefined> {
  return {
    name: 'base-rules',
    stage: EarningStage.EARN,
    read: {
      kinds: [EarningEventKind.ORDER],
      select: (terms) => {
        const dailyCap = terms.rules.some((r) => r.kind === EarningRuleKind.DAILY_CAP);
        const pluginKind = terms.rules.some((r) => kinds.isPluginKind(r.kind) || !kinds.has(r.kind));
        if (!dailyCap && !pluginKind) return null;
        const earnedByDay = dailyCap
          ? `(select coalesce(jsonb_object_agg(d.day, d.points), '{}'::jsonb) from (
               select floor(extract(epoch from o.placed_at) / 86400)::bigint as day, sum(o.points_earned)::float8 as points
               from customer_order o
               where o.member_id = k.member_id
                 and o.placed_at >= to_timestamp(floor(extract(epoch from k.placed_from) / 86400) * 86400)
                 and o.placed_at < to_timestamp((floor(extract(epoch from k.placed_to) / 86400) + 1) * 86400)
               group by 1) d)`
          : 'null';
        const birthday = pluginKind ? `(select m.birthday::text from member m where m.id = k.member_id)` : 'null';
        return `jsonb_build_object('earnedByDay', ${earnedByDay}, 'birthday', ${birthday})`;
      },
      parse: (value: { earnedByDay: Record<string, number> | null; birthday: string | null } | null) =>
        value
          ? {
              earnedByDay: value.earnedByDay ? new Map(Object.entries(value.earnedByDay).map(([day, points]) => [Number(day) * DAY_MS, points])) : null,
              birthday: value.birthday ?? null,
            }
          : undefined,
    },

    onOrder({ memberId, order, lines, at }, state, run) {
      const earning = computeEarning({
        currency: order.currency,
        channelKind: order.channelKind,
        placedAt: order.placedAt,
        lines: lines.map((l) => ({
          sku: l.sku,
          category: l.category,
          brand: l.brand,
          // What is left of the line when a claimed order was partly returned before it was credited.
          netMinor: Math.floor((l.netMinor * (l.quantity - l.returnedQuantity)) / l.quantity),
        })),
        rules: run.terms.rules,
        kinds,
        benefits: run.benefits,
        earnedSameDay: state?.earnedByDay?.get(dayOf(order.placedAt)) ?? 0,
        member: { birthday: state?.birthday ?? null },
        timeZone: run.terms.settings.timeZone,
      });
      order.pointsEarned = earning.points;
      order.pointsBreakdown = earning.breakdown;
      order.pointsBasisMinor = order.totalMinor - order.returnedMinor;
      order.returnedAtCreditMinor = order.returnedMinor;
      run.earn(memberId, earning.points, { sourceType: 'order', sourceId: order.id, key: `order:${order.id}`, actor: run.actor, at });
    },

    // After the bonuses: the day's figure is what the order stores, bonuses included (as the read sums it).
    afterOrder({ order }, state) {
      if (!state?.earnedByDay) return;
      const day = dayOf(order.placedAt);
      state.earnedByDay.set(day, (state.earnedByDay.get(day) ?? 0) + order.pointsEarned);
    },

    async onReturn({ memberId, order, returnId, orderLots, at }, _state, run) {
      const points = clawbackDue(order);
      if (points <= 0) return;
      await run.clawback(memberId, points, await orderLots(), { sourceType: 'return', sourceId: returnId, key: `return:${returnId}`, actor: run.actor, at });
      order.pointsClawedBack += points;
    },
  };
}

/** Points still to claw back after the order's `returnedMinor` grew: in proportion to the value returned since credit. */
export function clawbackDue(order: Pick<CreditableOrder, 'pointsEarned' | 'pointsBasisMinor' | 'returnedMinor' | 'returnedAtCreditMinor' | 'pointsClawedBack'>): number {
  if (order.pointsEarned <= 0 || order.pointsBasisMinor <= 0) return 0;
  // In BigInt: points × minor units reach 10^18, past the 2^53 a double holds exactly.
  const due = Number((BigInt(order.pointsEarned) * BigInt(order.returnedMinor - order.returnedAtCreditMinor)) / BigInt(order.pointsBasisMinor));
  return Math.min(due, order.pointsEarned) - order.pointsClawedBack;
}
