import type { HasParams, RescoresValue, Txn, ValueDriver, ValueModel, ValuePrediction } from '../eval/types';
import { DAY_MS } from '../time';
import { expectedPurchases, expectedSpendPerPurchase, fitBgNbd, fitGammaGamma, probabilityNoPurchase, purchaseSummaries, type BgNbdParams, type GammaGammaParams } from './bgnbd';
import { rfmFeatures, summarise } from './churn-features';

/** Σ quantity × unit price per customer over rows in [from, to). */
export function spendBetween(rows: readonly Txn[], from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of rows) if (t.time >= from && t.time < to) out.set(t.customerId, (out.get(t.customerId) ?? 0) + t.quantity * t.unitPrice);
  return out;
}

/** The driver name of the spend in the horizon's length before the cutoff (PAST-SPEND's prediction, RFM-LINEAR's sixth feature). */
const RECENT_SPEND = 'log_spend_last_horizon';

/**
 * PAST-SPEND: the customer's spend in [cutoff − horizon, cutoff). It fits nothing, so its stored fit names only its
 * format, and re-scoring is the rule applied to the history as it is then. Its one driver is that spend against the
 * population's mean log spend.
 */
export class PastSpendBaseline implements ValueModel, RescoresValue<PastSpendWeights> {
  readonly name = 'PAST-SPEND';
  readonly kind = 'baseline' as const;

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number): Promise<ValuePrediction> {
    return predictPastSpend(rows, population, cutoff, horizonDays);
  }

  exportWeights(): PastSpendWeights {
    return { format: 'past-spend/1' };
  }

  scoreStored(weights: PastSpendWeights, rows: Txn[], population: string[], cutoff: number, horizonDays: number): ValuePrediction {
    if (weights?.format !== 'past-spend/1') throw new Error('PAST-SPEND: the stored weights are not past-spend/1; retrain the value model');
    return predictPastSpend(rows, population, cutoff, horizonDays);
  }
}

export interface PastSpendWeights {
  format: 'past-spend/1';
}

function predictPastSpend(rows: readonly Txn[], population: string[], cutoff: number, horizonDays: number): ValuePrediction {
  const spend = spendBetween(rows, cutoff - horizonDays * DAY_MS, cutoff);
  const predictions = Float64Array.from(population, (c) => spend.get(c) ?? 0);
  const positive = predictions.filter((v) => v > 0);
  const meanLog = positive.reduce((sum, v) => sum + Math.log(v), 0) / Math.max(1, positive.length);
  const drivers = Array.from(predictions, (v): ValueDriver[] => (v > 0 ? [{ feature: RECENT_SPEND, value: Math.log1p(v), contribution: Math.log(v) - meanLog }] : []));
  return { predictions, drivers };
}

/** The six RFM-LINEAR features at `at`: the five RFM-LOGISTIC ones and log1p(spend in [at − horizon, at)). */
export function rfmLinearFeatures(rows: readonly Txn[], customers: readonly string[], at: number, horizonDays: number): (number[] | null)[] {
  const s = summarise(rows, at);
  const recent = spendBetween(rows, at - horizonDays * DAY_MS, at);
  return customers.map((c) => {
    const sc = s.get(c);
    return sc ? [...rfmFeatures(sc, at), Math.log1p(recent.get(c) ?? 0)] : null;
  });
}

/** RFM-LINEAR's features under the names TF-VALUE's drivers use for them. */
const RFM_LINEAR_FEATURES = ['log_recency_days', 'log_invoices', 'log_spend', 'log_tenure_days', 'log_mean_gap_days', RECENT_SPEND] as const;

/**
 * RFM-LINEAR: ordinary least squares with intercept of the horizon's spend on the six standardised features, trained
 * strictly in the past (features at D = cutoff − horizon, target = spend in [D, cutoff)); negative predictions → 0.
 * Its stored fit is the standardisation and the coefficients, for re-scoring where it is served.
 */
export class RfmLinearBaseline implements ValueModel, HasParams, RescoresValue<RfmLinearWeights> {
  readonly name = 'RFM-LINEAR';
  readonly kind = 'baseline' as const;
  private fitted: RfmLinearWeights | null = null;

  params() {
    return { coefficients: (this.fitted?.beta ?? []).map((c) => Number(c.toFixed(4))) };
  }

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number): Promise<ValuePrediction> {
    const past = rows.filter((t) => t.time < cutoff);
    const d = cutoff - horizonDays * DAY_MS;
    const trainIds = [...new Set(past.filter((t) => t.time < d).map((t) => t.customerId))].sort();
    if (!trainIds.length) throw new Error('no customer bought before cutoff − horizon: nothing to train on');
    const x = rfmLinearFeatures(past, trainIds, d, horizonDays) as number[][];
    const target = spendBetween(past, d, cutoff);
    const y = trainIds.map((c) => target.get(c) ?? 0);
    const { mean, std } = standardiser(x);
    const beta = leastSquares(x.map((row) => standardised(row, mean, std)), y);
    this.fitted = { format: 'rfm-linear/1', mean, std, beta };
    return predictRfmLinear(this.fitted, past, population, cutoff, horizonDays);
  }

  exportWeights(): RfmLinearWeights {
    if (!this.fitted) throw new Error('RFM-LINEAR has not been fitted');
    return this.fitted;
  }

  scoreStored(weights: RfmLinearWeights, rows: Txn[], population: string[], cutoff: number, horizonDays: number): ValuePrediction {
    const finite = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    const n = RFM_LINEAR_FEATURES.length;
    if (weights?.format !== 'rfm-linear/1' || !finite(weights.mean, n) || !finite(weights.std, n) || !finite(weights.beta, n + 1) || !weights.std.every((v) => v > 0)) {
      throw new Error(`RFM-LINEAR: the stored weights are not rfm-linear/1 with ${n} features; retrain the value model`);
    }
    return predictRfmLinear(weights, rows.filter((t) => t.time < cutoff), population, cutoff, horizonDays);
  }
}

/** RFM-LINEAR's artefact: the training period's means and standard deviations, and the intercept then the coefficients. */
export interface RfmLinearWeights {
  format: 'rfm-linear/1';
  mean: number[];
  std: number[];
  beta: number[];
}

const standardised = (row: number[], mean: number[], std: number[]) => [1, ...row.map((v, k) => (v - mean[k]) / std[k])];

/**
 * Predictions at `cutoff`, and as drivers each feature's share of the log of the prediction against the intercept (the
 * training period's mean spend): the linear terms split that log ratio in proportion, so the drivers add up to it.
 */
function predictRfmLinear({ mean, std, beta }: RfmLinearWeights, past: readonly Txn[], population: string[], cutoff: number, horizonDays: number): ValuePrediction {
  const now = rfmLinearFeatures(past, population, cutoff, horizonDays);
  const drivers: ValueDriver[][] = [];
  const predictions = Float64Array.from(now, (row) => {
    if (!row) {
      drivers.push([]);
      return 0;
    }
    const z = standardised(row, mean, std);
    const terms = z.map((f, k) => f * beta[k]);
    const v = Math.max(0, terms.reduce((s, t) => s + t, 0));
    const base = beta[0], moved = v - base;
    // log(v / base) per unit moved; its limit 1 / base where the prediction is the intercept.
    const perUnit = Math.abs(moved) > 1e-9 * Math.max(1, base) ? Math.log(v / base) / moved : 1 / base;
    drivers.push(
      v > 0 && base > 0
        ? RFM_LINEAR_FEATURES.map((feature, k) => ({ feature, value: row[k], contribution: terms[k + 1] * perUnit })).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
        : [],
    );
    return v;
  });
  return { predictions, drivers };
}

function standardiser(x: number[][]): { mean: number[]; std: number[] } {
  const d = x[0].length;
  const mean = new Array<number>(d).fill(0), std = new Array<number>(d).fill(0);
  for (const row of x) row.forEach((v, k) => (mean[k] += v / x.length));
  for (const row of x) row.forEach((v, k) => (std[k] += (v - mean[k]) ** 2 / x.length));
  return { mean, std: std.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/** OLS by the normal equations (a handful of standardised columns) with partial pivoting; a tiny ridge if singular. */
export function leastSquares(x: number[][], y: number[], ridge = 0): number[] {
  const d = x[0].length;
  const a = Array.from({ length: d }, () => new Array<number>(d + 1).fill(0));
  x.forEach((row, i) => {
    for (let p = 0; p < d; p++) {
      a[p][d] += row[p] * y[i];
      for (let q = 0; q < d; q++) a[p][q] += row[p] * row[q];
    }
  });
  for (let p = 1; p < d; p++) a[p][p] += ridge;
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    [a[c], a[piv]] = [a[piv], a[c]];
    if (Math.abs(a[c][c]) < 1e-12) return ridge > 0 ? new Array<number>(d).fill(0) : leastSquares(x, y, 1e-6 * x.length);
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k <= d; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.map((row, c) => row[d] / row[c]);
}

/**
 * BGNBD-GG: BG/NBD on the customers' purchase days before the cutoff, expected purchase days in the horizon, times the
 * Gamma-Gamma expected spend per purchase day (fitted on customers with repeat days, over their repeat days' mean).
 */
export class BgNbdGgBaseline implements ValueModel, HasParams, RescoresValue<BgNbdGgWeights> {
  readonly name = 'BGNBD-GG';
  readonly kind = 'baseline' as const;
  private fitted: BgNbdGgWeights | null = null;

  /** The fitted parameters to four significant digits, for the report and the registry. */
  params(): Record<string, unknown> {
    if (!this.fitted) return {};
    const sig = (v: number) => Number(v.toPrecision(4));
    const { bg, gg } = this.fitted;
    return { r: sig(bg.r), alpha: sig(bg.alpha), a: sig(bg.a), b: sig(bg.b), p: sig(gg.p), q: sig(gg.q), gamma: sig(gg.gamma) };
  }

  /**
   * Also, where it is served in place of a model kept out: P(any purchase in the horizon), and as drivers the two
   * factors of the prediction, each as its log against the population's mean log (they add up to the log of the
   * prediction against the mean log prediction), under the feature names TF-VALUE uses for them.
   */
  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number): Promise<ValuePrediction> {
    const summaries = purchaseSummaries(rows, cutoff, population);
    const known = summaries.filter((s) => s !== null);
    const { r, alpha, a, b } = fitBgNbd(known);
    const { p, q, gamma } = fitGammaGamma(known);
    this.fitted = { format: 'bgnbd-gg/1', bg: { r, alpha, a, b }, gg: { p, q, gamma } };
    return predictBgNbdGg(this.fitted, summaries, horizonDays);
  }

  /** The fitted parameters, for the six-hourly re-scoring of a version served in place of a model kept out. */
  exportWeights(): BgNbdGgWeights {
    if (!this.fitted) throw new Error('BGNBD-GG has not been fitted');
    return this.fitted;
  }

  /** The stored parameters applied to the history as it is at `cutoff`: every customer's recency and frequency move on. */
  scoreStored(weights: BgNbdGgWeights, rows: Txn[], population: string[], cutoff: number, horizonDays: number): ValuePrediction {
    const numbers = [weights?.bg?.r, weights?.bg?.alpha, weights?.bg?.a, weights?.bg?.b, weights?.gg?.p, weights?.gg?.q, weights?.gg?.gamma];
    if (weights?.format !== 'bgnbd-gg/1' || !numbers.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new Error('BGNBD-GG: the stored weights are not bgnbd-gg/1 with seven positive parameters; retrain the value model');
    }
    return predictBgNbdGg(weights, purchaseSummaries(rows, cutoff, population), horizonDays);
  }
}

/** BGNBD-GG's artefact: the fitted BG/NBD and Gamma-Gamma parameters, at full precision. */
export interface BgNbdGgWeights {
  format: 'bgnbd-gg/1';
  bg: BgNbdParams;
  gg: GammaGammaParams;
}

function predictBgNbdGg({ bg, gg }: BgNbdGgWeights, summaries: ReturnType<typeof purchaseSummaries>, horizonDays: number): ValuePrediction {
  const t = horizonDays / 7;
  const purchases = summaries.map((s) => (s ? expectedPurchases(bg, t, s.x, s.tx, s.T) : 0));
  const perPurchase = summaries.map((s) => (s ? expectedSpendPerPurchase(gg, s.x, s.repeatMeanSpend) : 0));
  const predictions = Float64Array.from(summaries, (_, i) => purchases[i] * perPurchase[i]);
  const pReturn = Float64Array.from(summaries, (s) => (s ? 1 - probabilityNoPurchase(bg, t, s.x, s.tx, s.T) : 0));
  return { predictions, pReturn, drivers: factorDrivers(purchases, perPurchase) };
}

/** Each customer's two factors as drivers, strongest first; none for a customer with a factor that is not positive. */
function factorDrivers(purchases: number[], perPurchase: number[]): ValueDriver[][] {
  const meanLog = (values: number[]) => {
    const logs = values.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log);
    return logs.reduce((s, v) => s + v, 0) / Math.max(1, logs.length);
  };
  const [purchasesMean, perPurchaseMean] = [meanLog(purchases), meanLog(perPurchase)];
  return purchases.map((n, i) => {
    const spend = perPurchase[i];
    if (!(n > 0 && spend > 0 && Number.isFinite(n) && Number.isFinite(spend))) return [];
    const drivers: ValueDriver[] = [
      { feature: 'log_bgnbd_purchases', value: Math.log1p(n), contribution: Math.log(n) - purchasesMean },
      { feature: 'log_gg_spend_per_day', value: Math.log1p(spend), contribution: Math.log(spend) - perPurchaseMean },
    ];
    return drivers.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  });
}
