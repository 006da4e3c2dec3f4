import { jStat } from 'jstat';
import { Field, Float, ObjectType } from 'type-graphql';

/**
 * 95% confidence intervals for comparing a treated group with its holdout (a campaign's, a challenge's results), and
 * for one group's rate. Domain-free: counts, sums and variances in, intervals out.
 */

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

/** A proportion's interval, within [0, 1]. */
export interface Bounds {
  low: number;
  high: number;
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

/**
 * The mean and sample variance of n whole values from their sum Σx and sum of squares Σx² (values left out of the
 * sums are 0): s² = (n·Σx² − (Σx)²) / (n(n−1)). The numerator is exact in bigint, so large amounts lose nothing to
 * cancellation; only the final division is a float. Null for n < 1, or when the sums cannot be those of n values
 * (a negative numerator).
 */
export function meanSampleOfSums(n: number, sum: bigint, sumOfSquares: bigint): MeanSample | null {
  if (!Number.isInteger(n) || n < 1) return null;
  const spread = BigInt(n) * sumOfSquares - sum * sum;
  if (spread < 0n) return null;
  return { n, mean: Number(sum) / n, variance: n < 2 ? 0 : Number(spread) / (n * (n - 1)) };
}

/**
 * One proportion's Wilson score interval: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.96. Unlike the
 * Wald interval it stays within [0, 1] and does not shrink to a point at 0% or 100%. Null for n < 1.
 */
export function wilson(sample: ProportionSample): Bounds | null {
  if (sample.n < 1) return null;
  const { n } = sample;
  const p = sample.successes / n;
  const z2 = Z_975 ** 2;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z_975 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

function interval(difference: number, se: number, quantile: number, df: number | null): Estimate {
  const low = difference - quantile * se;
  const high = difference + quantile * se;
  return { difference, low, high, standardError: se, degreesOfFreedom: df, significant: low > 0 || high < 0 };
}

@ObjectType({ description: 'Treated minus holdout with its 95% confidence interval (a campaign’s or a challenge’s results).' })
export class UpliftEstimate implements Estimate {
  @Field(() => Float)
  difference: number;

  @Field(() => Float)
  low: number;

  @Field(() => Float)
  high: number;

  @Field(() => Float)
  standardError: number;

  @Field(() => Float, { nullable: true, description: 'Welch–Satterthwaite degrees of freedom; null for a difference of proportions (normal approximation).' })
  degreesOfFreedom: number | null;

  @Field(() => Boolean, { description: 'The 95% interval excludes 0.' })
  significant: boolean;
}

@ObjectType({ description: 'A rate’s 95% confidence interval (Wilson score), each bound a share from 0 to 1.' })
export class RateInterval implements Bounds {
  @Field(() => Float)
  low: number;

  @Field(() => Float)
  high: number;
}
