/**
 * The largest money, quantity and points values the platform accepts (docs/reference/input-bounds.md), chosen so that every stored and
 * derived value fits its column: per-order and per-row values in int4 (at most 2,147,483,647); what accumulates
 * without end (balances, lifetime points, campaign spend, ledger rows that move a whole balance) in bigint, read as JS
 * numbers, which are exact below 2^53. Validation and the bulk importer both read these, so what one accepts the other
 * accepts too.
 */

/** An order line's unit price, in minor units (10,000,000.00 in a two-decimal currency). */
export const MAX_UNIT_PRICE_MINOR = 1_000_000_000;
/** Units on one order line. */
export const MAX_LINE_QUANTITY = 10_000;
/** Lines on one order. */
export const MAX_ORDER_LINES = 500;
/** An order line's unit price × quantity, in minor units: fits order_line.total_minor (int4). */
export const MAX_LINE_TOTAL_MINOR = 1_000_000_000;
/**
 * The sum of an order's lines after their discounts (its subtotal), hence also its total and its order discount, in
 * minor units: fits customer_order's int4 money columns.
 */
export const MAX_ORDER_TOTAL_MINOR = 1_000_000_000;

/**
 * Points one order can earn, rules, tier, plan and campaign bonuses together; more is cut by an ORDER_LIMIT line of
 * the breakdown. Fits the int4 order, lot and ledger columns.
 */
export const MAX_POINTS_PER_ORDER = 1_000_000_000;
/**
 * A member's available, pending or lifetime points, either sign. A change that would go beyond is refused with
 * CONFLICT POINTS_LIMIT_REACHED. Far above any real balance (a million orders at MAX_POINTS_PER_ORDER), and with room below
 * 2^53 (9.007e15) that a member's available + pending and the sums over a few members stay exact.
 */
export const MAX_MEMBER_POINTS = 1_000_000_000_000_000;

/** Points in one admin adjustment, either way. */
export const MAX_POINTS_PER_ADJUSTMENT = 1_000_000;
/** A reward's cost in points. */
export const MAX_REWARD_COST_POINTS = 10_000_000;
/** Points in a base rate (per perMinor), a rule's fixed bonus, a referral bonus. */
export const MAX_RULE_POINTS = 1_000_000;
/** An earning rule's, tier's or plan's earn multiplier, in percent (10,000 = a hundred times). */
export const MAX_EARN_MULTIPLIER_PERCENT = 10_000;
/** A campaign's points budget: campaign.budget_points is int4 (spent_points, bigint, may run past it when uncapped). */
export const MAX_CAMPAIGN_BUDGET_POINTS = 1_000_000_000;
/** A tier threshold: points or minor units of spend in the tier window. */
export const MAX_TIER_THRESHOLD = 1_000_000_000;
/** A reward's stock and per-member limit (reward.stock and redeemed_count are int4). */
export const MAX_REWARD_UNITS = 1_000_000_000;
/** What one point is worth, in minor units of the programme currency (the liability in money multiplies by it). */
export const MAX_POINT_VALUE_MINOR = 1_000_000;

/**
 * A member's predicted value (customer-value model), in minor units: member_value_score.amount_minor is int4, and a sum
 * over a million members, or the value at risk that weighs it by churn probability, stays exact below 2^53.
 */
export const MAX_PREDICTED_VALUE_MINOR = 1_000_000_000;

/** `n` with thousands separators, for bound messages and descriptions: 1000000000 → "1,000,000,000". */
export const grouped = (n: number): string => n.toLocaleString('en-GB');
