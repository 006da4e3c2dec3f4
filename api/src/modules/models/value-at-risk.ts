/**
 * A member's value at risk in minor units, as SQL over a value-score row `value` and a churn-score row `churn`:
 * predicted value × churn probability, rounded down to a whole minor unit. The product is taken in double precision
 * from the stored real score and floored, which is exact and the same everywhere (PostgreSQL's round of a double
 * breaks ties to even), so the dashboard, segments and a plain evaluation of the same rows agree to the unit.
 */
export const VALUE_AT_RISK_SQL = (value: string, churn: string) => `floor(${value}.amount_minor * ${churn}.score::float8)::bigint`;
