import { MAX_POINTS_PER_ORDER } from '../../base/bounds';
import { EarningEventKind, EarningStage, type EarningContributor, type EarningRun } from '../earning/pipeline';

/** A campaign with bonus points the member is TREATED in (never the holdout) whose window may hold one of the run's orders. */
interface RunningBonus {
  id: string;
  name: string;
  fixedPoints: number | null;
  multiplierPercent: number | null;
  startsAt: Date;
  endsAt: Date | null;
}

/** The budgets of the run's campaigns, locked once, and what the run granted from them. */
interface Budgets {
  rows: Map<string, { status: string; budget: number | null; spent: number }>;
  granted: { campaignId: string; memberId: string; points: number }[];
}

/** The breakdown kind of a campaign bonus; `ruleId` is the campaign id. */
export const CAMPAIGN_BONUS_KIND = 'CAMPAIGN_BONUS';

/**
 * Campaign bonus points on a credited order (the earning step of campaigns with a bonus action, alone or with others): after the base rules and
 * caps, each running campaign adds its fixed points or its multiplier of the order's points, as a lot of its own.
 *
 * Budget: the rows of the run's campaigns are locked (`for update`, in id order, after the members' locks: the same
 * order on every path) the first time one of them grants, so concurrent orders take turns and a grant is at most what
 * is left; the `campaign_budget_kept` check constraint refuses any overspend regardless. What the run granted is
 * written once, when it flushes.
 */
export function campaignBonusContributor(): EarningContributor<RunningBonus[] | undefined> {
  const contributor: EarningContributor<RunningBonus[] | undefined> = {
    name: 'campaign-bonus',
    stage: EarningStage.BONUS,
    read: {
      kinds: [EarningEventKind.ORDER],
      // The window holds the order's time and has not ended when the points are earned.
      select: `select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name, 'fixedPoints', c.bonus_fixed_points,
                 'multiplierPercent', c.bonus_multiplier_percent, 'startsAt', c.starts_at, 'endsAt', c.ends_at) order by c.id), '[]'::jsonb)
               from campaign_member cm join campaign c on c.id = cm.campaign_id
               where cm.member_id = k.member_id and cm.assigned_group = 'TREATED'
                 and (c.bonus_fixed_points is not null or c.bonus_multiplier_percent is not null) and c.status in ('SCHEDULED', 'ACTIVE')
                 and c.starts_at <= k.placed_to and (c.ends_at is null or (c.ends_at > k.placed_from and c.ends_at > k.at_from))`,
      parse: (value: (Omit<RunningBonus, 'startsAt' | 'endsAt'> & { startsAt: string; endsAt: string | null })[] | null) =>
        (value ?? []).map((c) => ({ ...c, startsAt: new Date(c.startsAt), endsAt: c.endsAt ? new Date(c.endsAt) : null })),
    },

    async onOrder({ memberId, order, at }, running, run) {
      const basePoints = order.pointsEarned;
      const placedAt = order.placedAt;
      for (const campaign of running ?? []) {
        if (campaign.startsAt > placedAt || (campaign.endsAt && (campaign.endsAt <= placedAt || campaign.endsAt <= at))) continue;
        const bonus = campaign.fixedPoints ?? Math.trunc((basePoints * ((campaign.multiplierPercent ?? 100) - 100)) / 100);
        // The order with its bonuses earns at most MAX_POINTS_PER_ORDER, as the engine's ORDER_LIMIT does for the rules.
        const due = Math.min(bonus, MAX_POINTS_PER_ORDER - order.pointsEarned);
        if (due <= 0) continue;
        const points = await take(run, campaign.id, due);
        if (points === 0) continue;
        run.scratch(contributor, newBudgets).granted.push({ campaignId: campaign.id, memberId, points });
        run.earn(memberId, points, { sourceType: 'campaign', sourceId: campaign.id, key: `campaign:${campaign.id}:order:${order.id}`, actor: run.actor, note: `order ${order.id}`, at });
        order.pointsEarned += points;
        order.pointsBreakdown = [
          ...order.pointsBreakdown,
          { kind: CAMPAIGN_BONUS_KIND, label: points < due ? `${campaign.name} (budget reached)` : due < bonus ? `${campaign.name} (order limit reached)` : campaign.name, ruleId: campaign.id, ruleVersion: null, points },
        ];
      }
    },

    async flush(run) {
      const { granted } = run.scratch(contributor, newBudgets);
      if (granted.length === 0) return;
      await run.em.execute(
        `with x as (select * from jsonb_to_recordset(?::jsonb) as x(campaign_id uuid, member_id uuid, points int)),
           spent as (
             update campaign c set spent_points = c.spent_points + s.points
             from (select campaign_id, sum(points) as points from x group by campaign_id) s where c.id = s.campaign_id
           )
         update campaign_member cm set bonus_points = cm.bonus_points + m.points
         from (select campaign_id, member_id, sum(points) as points from x group by campaign_id, member_id) m
         where cm.campaign_id = m.campaign_id and cm.member_id = m.member_id`,
        [JSON.stringify(granted.map((g) => ({ campaign_id: g.campaignId, member_id: g.memberId, points: g.points })))],
      );
      granted.length = 0;
    },
  };

  const newBudgets = (): Budgets => ({ rows: new Map(), granted: [] });

  /** Takes up to `due` points from the campaign's budget; 0 once spent or no longer running. */
  async function take(run: EarningRun, campaignId: string, due: number): Promise<number> {
    const budgets = run.scratch(contributor, newBudgets);
    if (!budgets.rows.has(campaignId)) {
      // Every campaign of the run at once, in id order: locks taken one by one as orders need them could cross another run's.
      const ids = new Set<string>([campaignId]);
      for (const running of run.statesOf(contributor)) for (const c of running ?? []) if (!budgets.rows.has(c.id)) ids.add(c.id);
      const rows = await run.em.execute<{ id: string; status: string; budget_points: number | null; spent_points: number }[]>(
        // spent_points is bigint, which pg hands over as a string: read as a double (exact below 2^53).
        `select id, status, budget_points, spent_points::float8 as spent_points from campaign where id in (?) order by id for update`,
        [[...ids]],
      );
      for (const r of rows) budgets.rows.set(r.id, { status: r.status, budget: r.budget_points, spent: r.spent_points });
    }
    const row = budgets.rows.get(campaignId);
    // A cancel may have committed while this order waited for the lock.
    if (!row || (row.status !== 'SCHEDULED' && row.status !== 'ACTIVE')) return 0;
    const points = row.budget === null ? due : Math.min(due, row.budget - row.spent);
    if (points <= 0) return 0;
    row.spent += points;
    return points;
  }

  return contributor;
}
