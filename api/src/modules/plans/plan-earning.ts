import { EarningEventKind, EarningStage, type EarningContributor } from '../earning/pipeline';

interface ActivePlan {
  name: string;
  earnMultiplierPercent: number;
  startsAt: Date;
  endsAt: Date;
}

/**
 * Paid plans' earn multipliers (plans module): the member's plans not cancelled whose term overlaps the run's times,
 * each applied to an order credited within its term (the moment the points are earned).
 */
export function planContributor(): EarningContributor<ActivePlan[]> {
  return {
    name: 'plans',
    stage: EarningStage.EARN,
    read: {
      kinds: [EarningEventKind.ORDER],
      select: `select coalesce(jsonb_agg(jsonb_build_object('name', pl.name, 'earnMultiplierPercent', pl.earn_multiplier_percent,
                 'startsAt', mp.starts_at, 'endsAt', mp.ends_at) order by mp.starts_at, mp.id), '[]'::jsonb)
               from member_plan mp join membership_plan pl on pl.id = mp.plan_id
               where mp.member_id = k.member_id and mp.cancelled_at is null and mp.starts_at <= k.at_to and mp.ends_at > k.at_from`,
      parse: (value: { name: string; earnMultiplierPercent: number; startsAt: string; endsAt: string }[] | null) =>
        (value ?? []).map((p) => ({ ...p, startsAt: new Date(p.startsAt), endsAt: new Date(p.endsAt) })),
    },
    benefits({ at }, plans) {
      return (plans ?? [])
        .filter((p) => p.startsAt <= at && p.endsAt > at && p.earnMultiplierPercent !== 100)
        .map((p) => ({ kind: 'PLAN' as const, label: `${p.name} plan`, percent: p.earnMultiplierPercent }));
    },
  };
}
