import type { Txn } from '../eval/types';
import { DAY_MS } from '../time';
import { gaussLegendre, lnGamma, lnGammaRatio, nelderMead } from './optimize';

// Module bindings, not `Math.` in the loops: jest runs tests in a vm context, where each read of the global `Math`
// goes through the context's interceptor, and the BG/NBD fits ran 25× slower there than under node.
const { abs, exp, expm1, floor, log, log1p, max, min } = Math;

/**
 * BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way") and the Gamma-Gamma spend model
 * (Fader, Hardie and Lee 2005, "RFM and CLV"), on purchase *days*: a customer's purchases on one calendar day are one
 * transaction, as the evaluation protocol's BGNBD-GG baseline says. Times are in weeks.
 */

/** One customer as the probability models see them at a cutoff. */
export interface PurchaseSummary {
  customerId: string;
  /** Repeat purchase days: distinct purchase days − 1. */
  x: number;
  /** Weeks from the first purchase day to the last. */
  tx: number;
  /** Weeks from the first purchase day to the cutoff. */
  T: number;
  /** Mean spend of the repeat days (every purchase day but the first); 0 when x = 0. */
  repeatMeanSpend: number;
  /** Spend on the first purchase day. */
  firstDaySpend: number;
  totalSpend: number;
}

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/**
 * Per-customer summaries from rows strictly before `cutoff` (a day's spend = Σ quantity × unit price of that
 * customer's rows on that calendar day). `customers` fixes the order and who is included (default: everyone with a
 * row before the cutoff, ascending); a listed customer without rows gets null.
 */
export function purchaseSummaries(rows: readonly Txn[], cutoff: number, customers?: readonly string[]): (PurchaseSummary | null)[] {
  const days = new Map<string, Map<number, number>>();
  for (const t of rows) {
    if (!(t.time < cutoff)) continue;
    let m = days.get(t.customerId);
    if (!m) days.set(t.customerId, (m = new Map()));
    const day = floor(t.time / DAY_MS);
    m.set(day, (m.get(day) ?? 0) + t.quantity * t.unitPrice);
  }
  const cutoffDay = cutoff / DAY_MS;
  const ids = customers ?? [...days.keys()].sort();
  return ids.map((customerId) => {
    const m = days.get(customerId);
    if (!m || m.size === 0) return null;
    const sorted = [...m.entries()].sort((p, q) => p[0] - q[0]);
    const first = sorted[0][0];
    const last = sorted[sorted.length - 1][0];
    const x = sorted.length - 1;
    let repeat = 0;
    for (let i = 1; i < sorted.length; i++) repeat += sorted[i][1];
    return {
      customerId,
      x,
      tx: (last - first) / 7,
      T: (cutoffDay - first) / 7,
      repeatMeanSpend: x > 0 ? repeat / x : 0,
      firstDaySpend: sorted[0][1],
      totalSpend: repeat + sorted[0][1],
    };
  });
}

/** Log-likelihood of one customer (x, t_x, T) under BG/NBD (the paper's equation 6, in logs). */
export function bgnbdLogLikelihood(p: BgNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const base = lnGammaRatio(r, x) + r * log(alpha) + lnGammaRatio(b, x) - lnGammaRatio(a + b, x);
  const a3 = -(r + x) * log(alpha + T);
  if (x === 0) return base + a3;
  const a4 = log(a) - log(b + x - 1) - (r + x) * log(alpha + tx);
  const m = max(a3, a4);
  return base + m + log(exp(a3 - m) + exp(a4 - m));
}

/** Log-parameters are kept in [−LOG_BOUND, LOG_BOUND]: on some data the dropout runs to a → 0, b → ∞. */
const LOG_BOUND = 18;

/**
 * Maximum-likelihood BG/NBD by Nelder–Mead on the log-parameters (identical (x, t_x, T) rows are grouped). Returns the
 * parameters and the total log-likelihood.
 */
export function fitBgNbd(summaries: readonly { x: number; tx: number; T: number }[]): BgNbdParams & { logLikelihood: number } {
  const groups = new Map<string, { x: number; tx: number; T: number; n: number }>();
  for (const s of summaries) {
    const key = `${s.x}|${s.tx}|${s.T}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { x: s.x, tx: s.tx, T: s.T, n: 1 });
  }
  const list = [...groups.values()];
  if (!list.length) throw new Error('BG/NBD needs at least one customer');
  const toParams = (th: number[]): BgNbdParams => {
    const e = th.map((v) => exp(min(LOG_BOUND, max(-LOG_BOUND, v))));
    return { r: e[0], alpha: e[1], a: e[2], b: e[3] };
  };
  const negLL = (th: number[]) => {
    const p = toParams(th);
    let s = 0;
    for (const g of list) s += g.n * bgnbdLogLikelihood(p, g.x, g.tx, g.T);
    // Outside the box the likelihood is flat (clamped): a small pull back keeps the simplex from wandering off.
    const excess = th.reduce((acc, v) => acc + max(0, abs(v) - LOG_BOUND) ** 2, 0);
    return -s + excess;
  };
  const meanT = summaries.reduce((acc, s) => acc + s.T, 0) / summaries.length;
  const best = nelderMead(negLL, [0, log(max(meanT, 1e-3)), 0, 0], { step: 1 });
  const params = toParams(best.x);
  let ll = 0;
  for (const g of list) ll += g.n * bgnbdLogLikelihood(params, g.x, g.tx, g.T);
  return { ...params, logLikelihood: ll };
}

/** P(the customer is still alive at T) given (x, t_x, T) (the paper's equation 11). */
export function probabilityAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = p;
  const logOdds = log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + tx));
  return 1 / (1 + exp(logOdds));
}

/** P(no purchase day in (T, T + t]) given (x, t_x, T): the dead never buy; the alive buy nothing with prob. ((α+T)/(α+T+t))^(r+x). */
export function probabilityNoPurchase(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const alive = probabilityAlive(p, x, tx, T);
  return 1 - alive + alive * exp(-(p.r + x) * log1p(t / (p.alpha + T)));
}

const GL = gaussLegendre(32);

/**
 * E[purchase days in (T, T + t] | x, t_x, T] (the paper's equation 10), in a form without cancellation.
 * The closed form (a+b+x−1)/(a−1)·[1 − ((α+T)/(α+T+t))^(r+x)·₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]·P(alive) subtracts two
 * numbers close to 1 and multiplies the difference by about −b: with a → 0 and b ≈ 10⁵ it loses every digit.
 * Instead, given alive, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x) independently, and E[Y | λ, p] = (1 − e^(−λpt))/p, so
 *   E[Y | alive] = E_p[(1 − (1 + p·u)^(−A))/p]   with u = t/(α+T), A = r+x
 *               = A ∫₀ᵘ E_p[(1 + p·v)^(−A−1)] dv = A ∫₀ᵘ ₂F₁(A+1, a; a+b+x; −v) dv,
 * and by Pfaff ₂F₁(A+1, a; c; −v) = (1+v)^(−a)·₂F₁(a, c−A−1; c; v/(1+v)), a series with positive argument below 1
 * whose first term is 1: nothing cancels. The integral is Gauss–Legendre in s = ln(1+v).
 */
export function expectedPurchases(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = p;
  const A = r + x;
  const u = t / (alpha + T);
  if (a > CONCENTRATED_A) return probabilityAlive(p, x, tx, T) * purchasesGivenConcentratedDropout(A, u, a, b + x);
  const c = a + b + x;
  const c2 = c - A - 1;
  const sMax = log1p(u);
  let integral = 0;
  for (let i = 0; i < GL.nodes.length; i++) {
    const s = 0.5 * sMax * (GL.nodes[i] + 1);
    const v = expm1(s);
    const y = v / (1 + v);
    integral += GL.weights[i] * exp(s - a * s) * hyp2f1(a, c2, c, y);
  }
  integral *= 0.5 * sMax;
  return probabilityAlive(p, x, tx, T) * A * integral;
}

/**
 * Above this first shape of the dropout Beta the series in expectedPurchases needs more terms than it may take (they
 * peak near k ≈ a·y/(1 − y)), and (1+v)^(−a)·₂F₁ is 0 × ∞. Such fits occur (a and b both large when the data pin
 * only a/(a + b) down), and there p is concentrated: its standard deviation is below its mean over √a.
 */
const CONCENTRATED_A = 500;
const GL_P = gaussLegendre(64);

/**
 * E[Y | alive] = E_p[(1 − (1 + p·u)^(−A))/p] for p ~ Beta(a, b′) with a > CONCENTRATED_A, integrated over p directly:
 * Gauss–Legendre over the mean ± 12 standard deviations, the density in logs relative to its value at the mean and
 * normalised by the same nodes.
 */
function purchasesGivenConcentratedDropout(A: number, u: number, a: number, b2: number): number {
  const n = a + b2;
  const mean = a / n;
  const sd = Math.sqrt((a * b2) / (n * n * (n + 1)));
  const lo = max(mean - 12 * sd, mean * 1e-3);
  const hi = min(mean + 12 * sd, 1);
  const logAt = (q: number) => (a - 1) * log(q) + (b2 - 1) * log1p(-q);
  const ref = logAt(mean);
  let sum = 0;
  let norm = 0;
  for (let i = 0; i < GL_P.nodes.length; i++) {
    const q = lo + 0.5 * (hi - lo) * (GL_P.nodes[i] + 1);
    const w = GL_P.weights[i] * exp(logAt(q) - ref);
    sum += w * (-expm1(-A * log1p(q * u)) / q);
    norm += w;
  }
  return sum / norm;
}

/** ₂F₁(a, b; c; y) by its series, for 0 ≤ y < 1 and c > 0. */
export function hyp2f1(a: number, b: number, c: number, y: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 200_000; k++) {
    term *= (((a + k) * (b + k)) / ((c + k) * (k + 1))) * y;
    sum += term;
    if (abs(term) <= 1e-17 * abs(sum)) break;
    if (term === 0) break;
  }
  return sum;
}

/** Gamma-Gamma log-likelihood of one customer with x ≥ 1 repeat transactions of mean value m. */
export function gammaGammaLogLikelihood(g: GammaGammaParams, x: number, m: number): number {
  const { p, q, gamma } = g;
  return (
    lnGamma(p * x + q) - lnGamma(p * x) - lnGamma(q) + q * log(gamma) + (p * x - 1) * log(m) + p * x * log(x) -
    (p * x + q) * log(gamma + m * x)
  );
}

/** Maximum-likelihood Gamma-Gamma on customers with x ≥ 1 and a positive mean repeat spend. */
export function fitGammaGamma(summaries: readonly { x: number; repeatMeanSpend: number }[]): GammaGammaParams & { logLikelihood: number; customers: number } {
  const data = summaries.filter((s) => s.x >= 1 && s.repeatMeanSpend > 0);
  if (data.length < 2) throw new Error('Gamma-Gamma needs at least two customers with a repeat purchase');
  const toParams = (th: number[]): GammaGammaParams => {
    const e = th.map((v) => exp(min(LOG_BOUND, max(-LOG_BOUND, v))));
    return { p: e[0], q: e[1], gamma: e[2] };
  };
  const negLL = (th: number[]) => {
    const g = toParams(th);
    let s = 0;
    for (const d of data) s += gammaGammaLogLikelihood(g, d.x, d.repeatMeanSpend);
    return -s + th.reduce((acc, v) => acc + max(0, abs(v) - LOG_BOUND) ** 2, 0);
  };
  const meanSpend = data.reduce((acc, d) => acc + d.repeatMeanSpend, 0) / data.length;
  const best = nelderMead(negLL, [0, log(2), log(meanSpend)], { step: 1 });
  const params = toParams(best.x);
  return { ...params, logLikelihood: -negLL(best.x), customers: data.length };
}

/** E[spend per transaction | x, m̄]: the Gamma-Gamma posterior mean; the population mean pγ/(q − 1) when x = 0. */
export function expectedSpendPerPurchase(g: GammaGammaParams, x: number, m: number): number {
  if (x === 0) return gammaGammaPopulationMean(g);
  return (g.p * (g.gamma + m * x)) / (g.p * x + g.q - 1);
}

export function gammaGammaPopulationMean(g: GammaGammaParams): number {
  return g.q > 1 ? (g.p * g.gamma) / (g.q - 1) : Number.POSITIVE_INFINITY;
}
