import { expectedPurchases, expectedSpendPerPurchase, fitBgNbd, fitGammaGamma, probabilityAlive, purchaseSummaries, type BgNbdParams, type GammaGammaParams } from '../baselines/bgnbd';
import type { Txn } from '../eval/types';
import { DAY_MS } from '../time';
import { CF, CHURN_FEATURES, churnFeatures } from './churn-features';

/** Spend periods of the trajectory: PERIODS windows of PERIOD_DAYS before the feature date, newest first. */
export const PERIODS = 6;
export const PERIOD_DAYS = 30;
/** Product groups in the mix: the most-spent-on description words of the training rows. */
export const MIX_GROUPS = 8;

const TRAJECTORY = Array.from({ length: PERIODS }, (_, k) => `log_spend_period_${k + 1}`);
const OWN = [
  'spend_trend', 'log_spend_last_vs_rest', 'log_max_day_spend', 'log_mean_unit_price', 'log_mean_line_quantity',
  'log_return_lines', 'log_return_value', 'return_share',
  'log_bgnbd_purchases', 'p_alive', 'log_gg_spend_per_day', 'log_bgnbd_gg_value',
];
const MIX = Array.from({ length: MIX_GROUPS }, (_, k) => `mix_group_${k + 1}`);

/** Every feature name, in column order: the churn features, then spend trajectory, behaviour, returns, BG/NBD and the mix. */
export const VALUE_FEATURES: readonly string[] = [...CHURN_FEATURES, ...TRAJECTORY, ...OWN, ...MIX];
export const VF = VALUE_FEATURES.length;

const STOP = new Set(['SET', 'PACK', 'OF', 'THE', 'AND', 'WITH', 'IN', 'DESIGN', 'SMALL', 'LARGE', 'MINI', 'JUMBO', 'BOX', 'RED', 'PINK', 'BLUE', 'WHITE', 'GREEN', 'VINTAGE', 'RETROSPOT']);

/**
 * Product groups for the mix: the MIX_GROUPS words (4+ letters, not sizes or colours) with the most spend in the given
 * rows' descriptions, in order. Computed once on training rows and stored with the weights, so scoring uses the same
 * groups. Files without descriptions get none (the mix columns stay 0).
 */
export function productGroups(rows: readonly Txn[]): string[] {
  const spend = new Map<string, number>();
  for (const t of rows) {
    if (!t.description) continue;
    for (const w of new Set(t.description.toUpperCase().split(/[^A-Z]+/))) {
      if (w.length < 4 || STOP.has(w)) continue;
      spend.set(w, (spend.get(w) ?? 0) + t.quantity * t.unitPrice);
    }
  }
  return [...spend].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MIX_GROUPS).map(([w]) => w);
}

export interface FeatureContext {
  horizonDays: number;
  homeCountry: string | null;
  groups: readonly string[];
  /** Cancellation lines of known customers, when the source has them. */
  returns?: readonly Txn[];
}

export interface ValueFeatureSet {
  /** Row-major [customers × VF], raw (not standardised). */
  x: Float32Array;
  present: Uint8Array;
  bgnbd: (BgNbdParams & GammaGammaParams) | null;
}

/**
 * One row per customer as of `at`, from rows strictly before it. BG/NBD and Gamma-Gamma are fitted on the customers
 * with a row before `at` (a fit on the past alone, like every other feature).
 */
export function valueFeatures(rows: readonly Txn[], customers: readonly string[], at: number, ctx: FeatureContext): ValueFeatureSet {
  const n = customers.length;
  const churn = churnFeatures(rows as Txn[], customers as string[], at, ctx.horizonDays, ctx.homeCountry);
  const index = new Map(customers.map((c, k) => [c, k]));
  const period = new Float64Array(n * PERIODS);
  const day = new Map<number, Map<number, number>>();
  const lines = new Float64Array(n), units = new Float64Array(n), priceSum = new Float64Array(n), spend = new Float64Array(n);
  const mix = new Float64Array(n * MIX_GROUPS);
  const groupOf = new Map<string, number[]>();
  const groupsFor = (description: string | null): number[] => {
    if (!description || !ctx.groups.length) return [];
    let g = groupOf.get(description);
    if (!g) {
      const words = new Set(description.toUpperCase().split(/[^A-Z]+/));
      groupOf.set(description, (g = ctx.groups.flatMap((w, k) => (words.has(w) ? [k] : []))));
    }
    return g;
  };
  for (const t of rows) {
    if (!(t.time < at)) continue;
    const k = index.get(t.customerId);
    if (k === undefined) continue;
    const value = t.quantity * t.unitPrice;
    const p = Math.floor((at - t.time) / (PERIOD_DAYS * DAY_MS));
    if (p < PERIODS) period[k * PERIODS + p] += value;
    let days = day.get(k);
    if (!days) day.set(k, (days = new Map()));
    const d = Math.floor(t.time / DAY_MS);
    days.set(d, (days.get(d) ?? 0) + value);
    lines[k]++;
    units[k] += t.quantity;
    priceSum[k] += t.unitPrice;
    spend[k] += value;
    for (const g of groupsFor(t.description)) mix[k * MIX_GROUPS + g] += value;
  }
  const returnLines = new Float64Array(n), returnValue = new Float64Array(n);
  for (const t of ctx.returns ?? []) {
    if (!(t.time < at)) continue;
    const k = index.get(t.customerId);
    if (k === undefined) continue;
    returnLines[k]++;
    returnValue[k] += Math.abs(t.quantity * t.unitPrice);
  }

  const summaries = purchaseSummaries(rows, at, customers);
  const known = summaries.filter((s) => s !== null);
  let bgnbd: ValueFeatureSet['bgnbd'] = null;
  if (known.length >= 10 && known.filter((s) => s.x > 0 && s.repeatMeanSpend > 0).length >= 2) {
    const bg = fitBgNbd(known);
    const gg = fitGammaGamma(known);
    bgnbd = { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, p: gg.p, q: gg.q, gamma: gg.gamma };
  }
  const t = ctx.horizonDays / 7;

  const x = new Float32Array(n * VF);
  for (let k = 0; k < n; k++) {
    if (!churn.present[k]) continue;
    const row = x.subarray(k * VF, (k + 1) * VF);
    row.set(churn.x.subarray(k * CF, (k + 1) * CF), 0);
    let o = CF;
    const logs: number[] = [];
    for (let p = 0; p < PERIODS; p++) logs.push(Math.log1p(Math.max(0, period[k * PERIODS + p])));
    for (const v of logs) row[o++] = v;
    // Least-squares slope of log spend against period (newest = highest), per period: doubling each period gives ln 2.
    const mid = (PERIODS - 1) / 2;
    let num = 0, den = 0;
    logs.forEach((v, p) => {
      const time = PERIODS - 1 - p;
      num += (time - mid) * v;
      den += (time - mid) ** 2;
    });
    row[o++] = num / den;
    const rest = logs.slice(1).reduce((s, v) => s + Math.expm1(v), 0) / (PERIODS - 1);
    row[o++] = Math.log((Math.expm1(logs[0]) + 1) / (rest + 1));
    row[o++] = Math.log1p(Math.max(0, ...(day.get(k)?.values() ?? [0])));
    row[o++] = Math.log1p(priceSum[k] / Math.max(1, lines[k]));
    row[o++] = Math.log1p(units[k] / Math.max(1, lines[k]));
    row[o++] = Math.log1p(returnLines[k]);
    row[o++] = Math.log1p(returnValue[k]);
    row[o++] = returnValue[k] / (returnValue[k] + spend[k] || 1);
    const s = summaries[k];
    if (bgnbd && s) {
      const e = expectedPurchases(bgnbd, t, s.x, s.tx, s.T);
      const perDay = expectedSpendPerPurchase(bgnbd, s.x, s.repeatMeanSpend);
      row[o++] = Math.log1p(e);
      row[o++] = probabilityAlive(bgnbd, s.x, s.tx, s.T);
      row[o++] = Math.log1p(Number.isFinite(perDay) ? perDay : 0);
      row[o++] = Math.log1p(Number.isFinite(perDay) ? e * perDay : 0);
    } else o += 4;
    for (let g = 0; g < MIX_GROUPS; g++) row[o++] = spend[k] > 0 ? mix[k * MIX_GROUPS + g] / spend[k] : 0;
    // A BG/NBD fit on a few days of history can diverge; a missing value is the neutral 0.
    for (let f = 0; f < VF; f++) if (!Number.isFinite(row[f])) row[f] = 0;
  }
  return { x, present: churn.present, bgnbd };
}
