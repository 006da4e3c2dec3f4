import { TierMetric } from '../programme/programme-settings.entity';
import { LedgerReason } from '../ledger/ledger-entry.entity';
import { EarningEventKind, EarningStage, type EarningContributor, type EarningRun, type EarningTerms } from '../earning/pipeline';
import { DAY_MS } from '../../base/time';
import { EventType } from '../events/event-types';
import { Tier } from './tier.entity';
import { MemberTier, TierChangeReason } from './member-tier.entity';
import { clawbackEarnedAtSql, tierMultiplier, type TierService } from './tier.service';

/**
 * The tier metric as the run needs it: amounts by time, summed at each event's time. `recent` holds what counts at
 * every event of the run (after the latest event's window start), `entries` the rest one by one, with what the run adds.
 */
interface MetricBasis {
  recent: number;
  /** Time (ms), amount, and the order for spend (a return changes it). */
  entries: [number, number, string | null][];
  /** Amounts after this time are in `recent`. */
  cutoff: number;
}

interface TierState {
  tiers: Tier[];
  /** The member's locked tier row; null when none is recorded. */
  row: MemberTier | null;
  /** The tier whose multiplier applies: the row's, else the tier with threshold 0. */
  current: Tier | null;
  metric: MetricBasis | null;
  /** How many of the run's ledger writes for this member the metric has taken in. */
  seen: number;
}

const COUNTED = new Set<LedgerReason>([LedgerReason.ORDER_EARN, LedgerReason.RETURN_CLAWBACK]);

/**
 * Tier multipliers and tier evaluation (tiers module). Locks the member's tier row (only that row: a lock taken through
 * a join would lock the tier's row and serialise all its members), reads every tier once, and the basis of the metric
 * over the run's windows; after an order's points it upgrades the member at once when they now qualify for a higher
 * tier (downgrades wait for the period's end: TierService.endPeriods), with `TierService.decide`.
 */
export function tierContributor(tiers: TierService): EarningContributor<TierState | undefined> {
  const contributor: EarningContributor<TierState | undefined> = {
    name: 'tiers',
    stage: EarningStage.EVALUATE,
    read: {
      // Returns only change the metric for later orders of the same run: a run of returns alone reads nothing.
      kinds: [EarningEventKind.ORDER],
      with: { earning_tier_rows: 'select * from member_tier where member_id in (select member_id from earning_keys) order by member_id for update' },
      shared: `select coalesce(jsonb_agg(to_jsonb(t) order by t.threshold), '[]'::jsonb) from tier t`,
      select: (terms) => `select jsonb_build_object(
          'row', (select to_jsonb(r) from earning_tier_rows r where r.member_id = k.member_id),
          'metric', case when exists (select 1 from tier) then (${metricSql(terms)}) end)`,
      parse(value: { row: Record<string, unknown> | null; metric: Omit<MetricBasis, 'cutoff'> | null } | null, key, run, shared: Record<string, unknown>[] | null) {
        const all = run.scratch(contributor, () => (shared ?? []).map((t) => run.em.map(Tier, t)));
        const row = all.length && value?.row ? run.em.map(MemberTier, value.row) : null;
        const current = (row ? all.find((t) => t.id === row.tier.id) : all.find((t) => t.threshold === 0)) ?? null;
        const windowMs = run.terms.settings.tierWindowDays * DAY_MS;
        const metric = value?.metric
          ? { recent: value.metric.recent, entries: value.metric.entries.map(([at, amount, orderId]) => [new Date(at).getTime(), amount, orderId ?? null] as [number, number, string | null]), cutoff: key.atTo.getTime() - windowMs }
          : null;
        return { tiers: all, row, current, metric, seen: 0 };
      },
    },

    benefits(_event, state) {
      return tierMultiplier(state?.current ?? null);
    },

    onOrder({ memberId, order, at }, state, run) {
      if (!state?.metric || state.tiers.length === 0) return;
      const { settings } = run.terms;
      if (settings.tierMetric === TierMetric.SPEND_MINOR) state.metric.entries.push([order.placedAt.getTime(), order.totalMinor - order.returnedMinor, order.id]);
      const metric = metricAt(state, run, memberId, at);
      const from = state.current;
      state.row = tiers.decide(run.em, memberId, state.tiers, state.row, metric, settings, at);
      const rowTier = state.row?.tier.id;
      state.current = (rowTier ? state.tiers.find((t) => t.id === rowTier) : state.tiers.find((t) => t.threshold === 0)) ?? null;
      if (state.current && state.current.id !== from?.id) {
        run.emit(EventType.TIER_CHANGED, { memberId, fromTier: from?.code ?? null, toTier: state.current.code, reason: TierChangeReason.QUALIFIED }, { memberId, occurredAt: at });
      }
    },

    // A return lowers the spend of its order, or its points, for the member's later orders in the run.
    async onReturn({ memberId, order, valueMinor, orderLots }, state, run) {
      if (!state?.metric) return;
      if (run.terms.settings.tierMetric === TierMetric.POINTS_EARNED) {
        // The clawback (written by the earning stage, before this one) counts when the order's points were earned.
        const writes = run.writesOf(memberId).slice(state.seen);
        if (writes.some((w) => w.reason === LedgerReason.RETURN_CLAWBACK)) {
          const earned = (await orderLots()).filter((l) => l.sourceType === 'order' && l.sourceId === order.id).map((l) => l.earnedAt.getTime());
          for (const w of writes) {
            if (w.reason === LedgerReason.ORDER_EARN) state.metric.entries.push([w.at.getTime(), w.lifetimeDelta, null]);
            else if (w.reason === LedgerReason.RETURN_CLAWBACK && earned.length) state.metric.entries.push([Math.min(...earned), w.lifetimeDelta, null]);
          }
          state.seen += writes.length;
        }
        return;
      }
      const entry = state.metric.entries.find((e) => e[2] === order.id);
      if (entry) entry[1] -= valueMinor;
      else if (order.placedAt.getTime() > state.metric.cutoff) state.metric.recent -= valueMinor;
    },
  };
  return contributor;
}

/**
 * Both metrics, over (earliest event's window start, ∞): as TierService.metric sums them at each event's time. A
 * clawback is placed at the time its order's points were earned, so it leaves the window with them.
 */
function metricSql(terms: EarningTerms): string {
  const window = `make_interval(secs => ${Math.trunc(terms.settings.tierWindowDays) * 86400})`;
  return terms.settings.tierMetric === TierMetric.POINTS_EARNED
    ? `select jsonb_build_object(
         'recent', coalesce(sum(e.amount) filter (where e.at > k.at_to - ${window}), 0)::float8,
         'entries', coalesce(jsonb_agg(jsonb_build_array(e.at, e.amount::float8)) filter (where e.at <= k.at_to - ${window}), '[]'::jsonb))
       from (select e.lifetime_delta as amount, case when e.reason = 'ORDER_EARN' then e.created_at else ${clawbackEarnedAtSql('e')} end as at
             from ledger_entry e
             where e.member_id = any(array(select id from member where id = k.member_id union all select id from member where merged_into_id = k.member_id))
               and e.reason in ('ORDER_EARN', 'RETURN_CLAWBACK') and e.created_at > k.at_from - ${window}) e
       where e.at > k.at_from - ${window}`
    : `select jsonb_build_object(
         'recent', coalesce(sum(o.total_minor - o.returned_minor) filter (where o.placed_at > k.at_to - ${window}), 0)::float8,
         'entries', coalesce(jsonb_agg(jsonb_build_array(o.placed_at, (o.total_minor - o.returned_minor)::float8, o.id)) filter (where o.placed_at <= k.at_to - ${window}), '[]'::jsonb))
       from customer_order o where o.member_id = k.member_id and o.placed_at > k.at_from - ${window}`;
}

/** The metric at `at`, with the run's ledger writes for the member taken in first (points earned). */
function metricAt(state: TierState, run: EarningRun, memberId: string, at: Date): number {
  const basis = state.metric!;
  const writes = run.writesOf(memberId);
  if (run.terms.settings.tierMetric === TierMetric.POINTS_EARNED) {
    for (const w of writes.slice(state.seen)) if (COUNTED.has(w.reason)) basis.entries.push([w.at.getTime(), w.lifetimeDelta, null]);
  }
  state.seen = writes.length;
  const since = at.getTime() - run.terms.settings.tierWindowDays * DAY_MS;
  return basis.entries.reduce((sum, [t, amount]) => (t > since ? sum + amount : sum), basis.recent);
}
