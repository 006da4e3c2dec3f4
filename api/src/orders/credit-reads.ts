import type { EntityManager } from '@mikro-orm/postgresql';
import { Tier } from '../tiers/tier.entity';
import { MemberTier } from '../tiers/member-tier.entity';
import type { LockedTier } from '../tiers/tier.service';
import type { RunningBonus } from '../campaigns/campaign-bonus';
import { ProgrammeSettings } from '../programme/programme-settings.entity';
import { EarningRule } from '../earning/earning-rule.entity';
import { Order } from './order.entity';

/** Parameters: member, member, at, at, member, placedAt, placedAt, at, member. */
export const CREDIT_INPUTS_SQL =
  `with mt as (select * from member_tier where member_id = ? for update)
     select mt.*,
       (select coalesce(jsonb_agg(to_jsonb(t) order by t.threshold), '[]'::jsonb) from tier t) as credit_tiers,
       (select coalesce(jsonb_agg(jsonb_build_object('name', pl.name, 'earnMultiplierPercent', pl.earn_multiplier_percent) order by mp.starts_at, mp.id), '[]'::jsonb)
          from member_plan mp join membership_plan pl on pl.id = mp.plan_id
          where mp.member_id = ? and mp.cancelled_at is null and mp.starts_at <= ? and mp.ends_at > ?) as credit_plans,
       (select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name, 'bonus_fixed_points', c.bonus_fixed_points,
                 'bonus_multiplier_percent', c.bonus_multiplier_percent) order by c.id), '[]'::jsonb)
          from campaign_member cm join campaign c on c.id = cm.campaign_id
          where cm.member_id = ? and cm.assigned_group = 'TREATED'
            and c.action_kind = 'BONUS_POINTS' and c.status in ('SCHEDULED', 'ACTIVE')
            and c.starts_at <= ? and (c.ends_at is null or (c.ends_at > ? and c.ends_at > ?))) as credit_bonuses,
       exists (select 1 from referral r where r.referred_id = ? and r.status = 'PENDING') as credit_has_referral
     from (select 1) as one left join mt on true`;

/** What an order's earning depends on besides the member's balance, read in one round trip. */
export interface CreditReads {
  tier: LockedTier;
  /** The member's active paid plans: name and earn multiplier. */
  plans: { name: string; earnMultiplierPercent: number }[];
  /** BONUS_POINTS campaigns the member is TREATED in that run at the order's time (CampaignBonusService.apply). */
  bonuses: RunningBonus[];
  /** Whether a referral waits for this member's first qualifying order (ReferralService.creditOnOrder). */
  hasPendingReferral: boolean;
}

/**
 * Runs with the member's balance row already locked (LedgerService.lock), so it adds no lock order of its own: it locks
 * the member's tier row only, as `TierService.lockedState` does (never through a join, which would lock the tier row of
 * every member of that tier), and reads every tier, the active plans, the running bonus campaigns and the pending
 * referral. These were five statements one after another on the busiest write path; the answers are the same
 * (test/api/orders*.test.ts, campaigns, referrals and tiers suites cover each input).
 */
export async function readCreditInputs(em: EntityManager, memberId: string, placedAt: Date, at: Date): Promise<CreditReads> {
  const [row] = await em.execute<Record<string, unknown>[]>(
    CREDIT_INPUTS_SQL,
    [memberId, memberId, at, at, memberId, placedAt, placedAt, at, memberId],
  );
  const { credit_tiers, credit_plans, credit_bonuses, credit_has_referral, ...stateRow } = row as Record<string, unknown> & {
    credit_tiers: Record<string, unknown>[];
    credit_plans: CreditReads['plans'];
    credit_bonuses: RunningBonus[];
    credit_has_referral: boolean;
  };
  const tiers = credit_tiers.map((t) => em.map(Tier, t));
  // With no tiers there is no tier row to lock or evaluate (lockedState reads none either).
  const state = tiers.length && stateRow.member_id ? em.map(MemberTier, stateRow) : null;
  const current = (state ? tiers.find((t) => t.id === state.tier.id) : tiers.find((t) => t.threshold === 0)) ?? null;
  return { tier: { tiers, state, current }, plans: credit_plans, bonuses: credit_bonuses, hasPendingReferral: credit_has_referral };
}

/** Parameter: the order's idempotency key. */
export const ORDER_TERMS_SQL = `select
    (select to_jsonb(o) from customer_order o where o.idempotency_key = ?) as stored,
    (select to_jsonb(s) from programme_settings s where s.id = 1) as settings,
    (select coalesce(jsonb_agg(to_jsonb(r) order by r.kind, r.priority desc), '[]'::jsonb)
       from earning_rule r where r.superseded_at is null and r.is_active) as rules`;

/**
 * Before recordOrder's transaction, in one statement: the order already stored under this idempotency key (a replay;
 * none asked for with null, as when a claimed guest order is credited),
 * the programme's settings and the earning rules in force (as ProgrammeService.settings and EarningRuleService.current
 * read them). None of it is member data, and READ COMMITTED gives each statement its own snapshot, so reading them just
 * before `begin` is the same guarantee as just after it.
 */
export async function readOrderTerms(em: EntityManager, idempotencyKey: string | null): Promise<{ stored: Order | null; settings: ProgrammeSettings; rules: EarningRule[] }> {
  const [row] = await em.execute<{ stored: Record<string, unknown> | null; settings: Record<string, unknown> | null; rules: Record<string, unknown>[] }[]>(
    ORDER_TERMS_SQL,
    [idempotencyKey],
  );
  if (!row.settings) throw new Error('programme_settings row 1 is missing (run the migrations)');
  return {
    stored: row.stored ? em.map(Order, row.stored) : null,
    settings: em.map(ProgrammeSettings, row.settings),
    rules: row.rules.map((r) => em.map(EarningRule, r)),
  };
}
