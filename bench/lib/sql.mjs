import path from 'node:path';
import { repoRoot } from './api.mjs';

/** The API's own statements and rule compiler, from its build (api/dist), so baselines run exactly what it runs. */
export async function apiSql() {
  const dist = (p) => path.join(repoRoot, 'api', 'dist', p);
  const { RECOMMENDATIONS_SQL } = await import(dist('modules/models/model.service.js'));
  const { CARD_BY_ID_SQL, CARD_BY_IDENTIFIER_SQL } = await import(dist('modules/members/member-card.js'));
  const { preparedStatement } = await import(dist('base/prepared.js'));
  const { timeKeySql } = await import(dist('base/pagination.js'));
  const { termsSql, EarningPipeline, EarningEventKind } = await import(dist('modules/earning/pipeline.js'));
  const { REPLAY_CHECK_COLUMN, MEMBER_ORDERS_PAGE_SQL } = await import(dist('modules/orders/order.service.js'));
  const { baseRulesContributor } = await import(dist('modules/earning/base-earning.js'));
  const { tierContributor } = await import(dist('modules/tiers/tier-earning.js'));
  const { planContributor } = await import(dist('modules/plans/plan-earning.js'));
  const { campaignBonusContributor } = await import(dist('modules/campaigns/campaign-bonus.js'));
  const { referralContributor } = await import(dist('modules/referrals/referral-earning.js'));
  const { TIER_METRIC_POINTS_SQL } = await import(dist('modules/tiers/tier.service.js'));
  const { REDEMPTION_INPUTS_SQL } = await import(dist('modules/rewards/redemption-reads.js'));
  const { checkRule } = await import(dist('modules/segments/segment-grammar.js'));
  const { compileRule, previewStatement } = await import(dist('modules/segments/segment-sql.js'));
  /** The statement previewSegment runs for `rule` as of `asOf` (count and a sample of 20), with pg placeholders. */
  const preview = (rule, asOf) => {
    const checked = checkRule(rule, 'rule');
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const c = compileRule(checked.checked, new Date(asOf));
    const q = previewStatement(c, 20);
    return positional(q.sql, q.params);
  };
  // The built-in contributors as services.ts registers them; only their reads are used here.
  const earning = new EarningPipeline(null, null)
    .register(baseRulesContributor())
    .register(tierContributor(null))
    .register(planContributor())
    .register(campaignBonusContributor())
    .register(referralContributor(null));
  /** A programme with a daily cap and tiers on points earned over a year: every read the order path can make. */
  const fullTerms = { settings: { tierMetric: 'POINTS_EARNED', tierWindowDays: 365 }, rules: [{ kind: 'DAILY_CAP' }] };
  return {
    RECOMMENDATIONS_SQL,
    preview,
    /** member(id) with balance, next expiry and tier: one statement (modules/members/member-card.ts). */
    memberCardById: (id) => positional(CARD_BY_ID_SQL, [id]),
    /** The same, as the API runs it: a named prepared statement (base/prepared.ts), for pg's query({ name, text, values }). */
    preparedMemberCardById: (id) => ({ ...preparedStatement(CARD_BY_ID_SQL), values: [id] }),
    memberCardByIdentifier: (type, scope, value) => positional(CARD_BY_IDENTIFIER_SQL, [type, scope, value]),
    /** SQL for a timestamptz column as a keyset cursor's time (base/pagination.ts). */
    timeKeySql,
    /** member.orders' loader for one member: `limit` orders placed before `before` ({ at, id }, or null for the newest). */
    memberOrdersPage: (memberId, before, limit) =>
      positional(MEMBER_ORDERS_PAGE_SQL, [JSON.stringify([{ batch_index: 0, member_id: memberId, before_at: before?.at ?? null, before_id: before?.id ?? null }]), limit]),
    orderTerms: (idempotencyKey) => positional(termsSql(REPLAY_CHECK_COLUMN), [idempotencyKey]),
    /** The earning pipeline's one read for an order of `memberId` (modules/earning/pipeline.ts readStatement). */
    earningReads: (memberId, placedAt, at) => {
      const key = { memberId, atFrom: at, atTo: at, placedFrom: placedAt, placedTo: placedAt };
      const { sql, params } = earning.readStatement(fullTerms, [key], [EarningEventKind.ORDER]);
      return positional(sql, params);
    },
    tierMetricPoints: (memberId, since) => positional(TIER_METRIC_POINTS_SQL, [memberId, memberId, '{}', since]),
    redemptionInputs: (memberId, rewardId, at) => positional(REDEMPTION_INPUTS_SQL, [memberId, memberId, memberId, at, at, rewardId]),
  };
}

/** knex-style `?` placeholders to pg's `$n`; an array bound to `in (?)` becomes one placeholder per element. */
export function positional(sql, params) {
  const values = [];
  let i = 0;
  const text = sql.replace(/\?/g, () => {
    const v = params[i++];
    if (Array.isArray(v)) return v.map((x) => `$${values.push(x)}`).join(', ');
    return `$${values.push(v)}`;
  });
  return { text, values };
}
