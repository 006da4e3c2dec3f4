import path from 'node:path';
import { repoRoot } from './api.mjs';

/** The API's own statements and rule compiler, from its build (api/dist), so baselines run exactly what it runs. */
export async function apiSql() {
  const dist = (p) => path.join(repoRoot, 'api', 'dist', p);
  const { RECOMMENDATIONS_SQL } = await import(dist('models/model.service.js'));
  const { MEMBER_CARD_SQL, CARD_BY_ID, CARD_BY_IDENTIFIER } = await import(dist('members/member-card.js'));
  const { CREDIT_INPUTS_SQL, ORDER_TERMS_SQL } = await import(dist('orders/credit-reads.js'));
  const { TIER_METRIC_POINTS_SQL } = await import(dist('tiers/tier.service.js'));
  const { REDEMPTION_INPUTS_SQL } = await import(dist('rewards/redemption-reads.js'));
  const { checkRule } = await import(dist('segments/segment-grammar.js'));
  const { compileRule, previewStatement } = await import(dist('segments/segment-sql.js'));
  /** The statement previewSegment runs for `rule` as of `asOf` (count and a sample of 20), with pg placeholders. */
  const preview = (rule, asOf) => {
    const checked = checkRule(rule, 'rule');
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const c = compileRule(checked.checked, new Date(asOf));
    const q = previewStatement(c, 20);
    return positional(q.sql, q.params);
  };
  return {
    RECOMMENDATIONS_SQL,
    preview,
    /** member(id) with balance, next expiry and tier: one statement (members/member-card.ts). */
    memberCardById: (id) => positional(MEMBER_CARD_SQL(CARD_BY_ID), [id]),
    memberCardByIdentifier: (type, scope, value) => positional(MEMBER_CARD_SQL(CARD_BY_IDENTIFIER), [type, scope, value]),
    orderTerms: (idempotencyKey) => positional(ORDER_TERMS_SQL, [idempotencyKey]),
    creditInputs: (memberId, placedAt, at) => positional(CREDIT_INPUTS_SQL, [memberId, memberId, at, at, memberId, placedAt, placedAt, at, memberId]),
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
