import { DAY_MS } from '../time';
import type { ChurnDriver, ChurnModel, RescoresChurn, Txn } from '../eval/types';
import { rfmFeatures, summarise } from './churn-features';
import { fitLogistic, sigmoid } from './logistic';

/** RECENCY: days since the last purchase before the cutoff. */
export class RecencyBaseline implements ChurnModel {
  readonly name = 'RECENCY';
  readonly kind = 'baseline' as const;

  async fitPredict(rows: Txn[], population: string[], cutoff: number) {
    const last = new Map<string, number>();
    for (const t of rows) if (t.time < cutoff && t.time > (last.get(t.customerId) ?? -Infinity)) last.set(t.customerId, t.time);
    const scores = Float64Array.from(population, (c) => {
      const l = last.get(c);
      return l === undefined ? Number.POSITIVE_INFINITY : (cutoff - l) / DAY_MS;
    });
    return { scores, isProbability: false };
  }
}

/**
 * RFM-LOGISTIC: the five log1p RFM features, standardised on the training population, L2 logistic regression (C = 1)
 * trained strictly in the past (features at D = cutoff − horizon, labels from [D, cutoff)), applied at the cutoff.
 */
export class RfmLogisticBaseline implements ChurnModel, RescoresChurn<RfmLogisticWeights> {
  readonly name = 'RFM-LOGISTIC';
  readonly kind = 'baseline' as const;
  weights: number[] = [];
  intercept = 0;
  private scaling: { mean: number[]; std: number[] } = { mean: [], std: [] };

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number) {
    const past = rows.filter((t) => t.time < cutoff);
    const d = cutoff - horizonDays * DAY_MS;
    const atD = summarise(past, d);
    const activeAfterD = new Set(past.filter((t) => t.time >= d).map((t) => t.customerId));
    const trainIds = [...atD.keys()].sort();
    if (trainIds.length === 0) throw new Error('no customer bought before cutoff − horizon: nothing to train on');
    const xTrain = trainIds.map((c) => rfmFeatures(atD.get(c)!, d));
    const y = trainIds.map((c) => (activeAfterD.has(c) ? 0 : 1));
    const churned = y.reduce<number>((a, b) => a + b, 0);
    if (churned === 0 || churned === y.length) {
      // One class only (everyone came back, or nobody did): the fit has no optimum, so the baseline knows only the rate.
      const rate = Math.min(1 - 1e-6, Math.max(1e-6, churned / y.length));
      this.weights = [];
      this.intercept = Math.log(rate / (1 - rate));
      this.scaling = { mean: [], std: [] };
      return { scores: Float64Array.from(population, () => rate), isProbability: true };
    }
    this.scaling = standardiser(xTrain);
    const { mean, std } = this.scaling;
    const model = fitLogistic(xTrain.map((row) => row.map((v, k) => (v - mean[k]) / std[k])), y, 1);
    this.weights = model.weights;
    this.intercept = model.intercept;
    return { ...this.scoreStored(this.exportWeights(), past, population, cutoff), isProbability: true };
  }

  /** The fit, for the six-hourly re-scoring of a version served in place of a churn model kept out. */
  exportWeights(): RfmLogisticWeights {
    return { format: 'rfm-logistic/1', ...this.scaling, coefficients: this.weights, intercept: this.intercept };
  }

  /**
   * The stored fit applied to the features at `cutoff` (rows before it only), with each customer's drivers: each
   * feature's share of the log-odds, strongest first. A customer without a purchase before the cutoff scores NaN.
   */
  scoreStored(weights: RfmLogisticWeights, rows: Txn[], population: string[], cutoff: number): { scores: Float64Array; drivers: ChurnDriver[][] } {
    const { mean, std, coefficients, intercept } = checkedWeights(weights);
    const atCutoff = summarise(rows.filter((t) => t.time < cutoff), cutoff);
    const drivers: ChurnDriver[][] = [];
    const scores = Float64Array.from(population, (c) => {
      const s = atCutoff.get(c);
      if (!s) return drivers.push([]), Number.NaN;
      if (coefficients.length === 0) return drivers.push([]), sigmoid(intercept);
      const raw = rfmFeatures(s, cutoff);
      const contributions = raw.map((v, k) => ((v - mean[k]) / std[k]) * coefficients[k]);
      drivers.push(
        contributions.map((contribution, k) => ({ feature: DRIVER_FEATURES[k], value: raw[k], contribution })).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)),
      );
      return sigmoid(contributions.reduce((acc, v) => acc + v, intercept));
    });
    return { scores, drivers };
  }
}

/** RFM-LOGISTIC's artefact: the standardisation and the logistic regression (no coefficients: the one-class rate alone). */
export interface RfmLogisticWeights {
  format: 'rfm-logistic/1';
  mean: number[];
  std: number[];
  coefficients: number[];
  intercept: number;
}

function checkedWeights(w: RfmLogisticWeights): RfmLogisticWeights {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const columns = (v: unknown) => Array.isArray(v) && v.every(finite);
  const n = w?.coefficients?.length;
  const isValid =
    w?.format === 'rfm-logistic/1' && columns(w.coefficients) && columns(w.mean) && columns(w.std) && finite(w.intercept) &&
    (n === 0 || (n === DRIVER_FEATURES.length && w.mean.length === n && w.std.length === n && w.std.every((v) => v > 0)));
  if (!isValid) throw new Error('RFM-LOGISTIC: the stored weights are not rfm-logistic/1 with five standardised coefficients; retrain the churn model');
  return w;
}

/** RFM_FEATURES under the names TF-CHURN gives the same quantities, so drivers read the same wherever they come from. */
const DRIVER_FEATURES = ['log_recency_days', 'log_invoices', 'log_spend', 'log_tenure_days', 'log_mean_gap_days'] as const;

/** Mean and population standard deviation per column (a constant column keeps scale 1). */
function standardiser(x: number[][]): { mean: number[]; std: number[] } {
  const d = x[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const row of x) row.forEach((v, k) => (mean[k] += v / x.length));
  for (const row of x) row.forEach((v, k) => (std[k] += (v - mean[k]) ** 2 / x.length));
  return { mean, std: std.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}
