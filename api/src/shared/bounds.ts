/**
 * The largest money, quantity and points values the platform accepts, chosen so that every stored and derived
 * value fits its column: per-order values in int4 (2,147,483,647), accumulating values (balances, lifetime
 * points, campaign spend) in bigint read as JS numbers, exact below 2^53. Validation and the importer both read
 * these, so an order that one accepts the other accepts too.
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
 * The sum of an order's lines after line discounts, hence also its total and any discount: fits
 * customer_order.subtotal_minor and total_minor (int4), and a member's spend over a tier window in bigint.
 */
export const MAX_ORDER_TOTAL_MINOR = 1_000_000_000;

/** Points one order can earn after every rule, multiplier and bonus; more is cut with an ORDER_LIMIT line. */
export const MAX_POINTS_PER_ORDER = 1_000_000_000;
/** Points in one admin adjustment, either way. */
export const MAX_POINTS_PER_ADJUSTMENT = 100_000_000;
/** A reward's cost in points. */
export const MAX_REWARD_COST_POINTS = 100_000_000;
/** Points in a rule's base rate, fixed bonus or cap; a referral bonus. */
export const MAX_RULE_POINTS = 1_000_000;
/** A rule's, tier's, plan's or campaign's earn multiplier, in percent (1000 = ten times). */
export const MAX_MULTIPLIER_PERCENT = 1_000;
