import { jStat } from 'jstat';

/** Two-sided 95%: the normal quantile for proportions, Student's t for means. */
const Z_975 = 1.959963984540054;

export interface Estimate {
  /** Treated minus holdout. */
  difference: number;
  low: number;
  high: number;
  standardError: number;
  /** Welch–Satterthwaite degrees of freedom; null for proportions (normal approximation). */
  degreesOfFreedom: number | null;
  /** The 95% interval excludes zero. */
  significant: boolean;
}

export interface ProportionSample {
  n: number;
  successes: number;
}

export interface MeanSample {
  n: number;
  mean: number;
  /** Sample variance (divisor n − 1). */
  variance: number;
}

/**
 * Difference of two proportions with the unpooled Wald interval: d = p₁ − p₀, SE = √(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀),
 * d ± 1.96·SE. Null when a group is empty or SE is 0 (every member in both groups did the same: nothing to estimate).
 */
export function differenceOfProportions(treated: ProportionSample, holdout: ProportionSample): Estimate | null {
  if (treated.n < 1 || holdout.n < 1) return null;
  const p1 = treated.successes / treated.n;
  const p0 = holdout.successes / holdout.n;
  const se = Math.sqrt((p1 * (1 - p1)) / treated.n + (p0 * (1 - p0)) / holdout.n);
  if (!(se > 0)) return null;
  return interval(p1 - p0, se, Z_975, null);
}

/**
 * Welch's t interval for a difference of means: d = m₁ − m₀, SE = √(s₁²/n₁ + s₀²/n₀), ν = SE⁴ / ((s₁²/n₁)²/(n₁−1) +
 * (s₀²/n₀)²/(n₀−1)), d ± t(0.975, ν)·SE. Null when a group has fewer than 2 members or both variances are 0.
 */
export function welch(treated: MeanSample, holdout: MeanSample): Estimate | null {
  if (treated.n < 2 || holdout.n < 2) return null;
  const a = treated.variance / treated.n;
  const b = holdout.variance / holdout.n;
  const se = Math.sqrt(a + b);
  if (!(se > 0)) return null;
  const df = (a + b) ** 2 / (a ** 2 / (treated.n - 1) + b ** 2 / (holdout.n - 1));
  return interval(treated.mean - holdout.mean, se, jStat.studentt.inv(0.975, df), df);
}

function interval(difference: number, se: number, quantile: number, df: number | null): Estimate {
  const low = difference - quantile * se;
  const high = difference + quantile * se;
  return { difference, low, high, standardError: se, degreesOfFreedom: df, significant: low > 0 || high < 0 };
}
