import { DAY_MS, type ChurnDriver, type ChurnModel, type RescoresChurn, type StoredChurnScores, type Txn } from '@loyalty/recommender/model-plugin-api';

/** Customers a country needs before its own churn rate outweighs everyone's (additive smoothing). */
const COUNTRY_PRIOR = 20;
const STEPS = 400;
const LEARNING_RATE = 0.5;

/**
 * What COUNTRY-CHURN learned, stored by the worker with the version and read back by `scoreStored`: plain JSON.
 * The two inputs are standardised with the training window's mean and spread.
 */
export interface CountryChurnWeights {
  format: 'country-churn/1';
  intercept: number;
  /** Coefficients on log(1 + days since the last purchase) and on the customer's country's churn rate. */
  coefficients: [number, number];
  mean: [number, number];
  std: [number, number];
  /** Smoothed churn rate per country in the training window; '' is everyone's, for other countries. */
  countryRate: Record<string, number>;
  /** A customer with no purchase at all is scored as the longest-lapsed customer seen in training. */
  maxLogDays: number;
}

/**
 * COUNTRY-CHURN: a logistic regression on two inputs, how long ago the customer last bought and how often customers of
 * their country stopped buying, trained on the last horizon before the cutoff (inputs at its start, labels inside it).
 * It implements RescoresChurn, so the worker's periodic re-scoring refreshes its served scores from the stored weights
 * as new orders arrive, without training again.
 */
export class CountryChurn implements ChurnModel, RescoresChurn<CountryChurnWeights> {
  readonly name = 'COUNTRY-CHURN';
  readonly kind = 'model' as const;
  private weights: CountryChurnWeights | null = null;

  async fitPredict(rows: Txn[], population: string[], cutoff: number, horizonDays: number): Promise<StoredChurnScores & { isProbability: boolean }> {
    const windowStart = cutoff - horizonDays * DAY_MS;
    const before = lastPurchases(rows, windowStart);
    const active = new Set(rows.filter((r) => r.time >= windowStart && r.time < cutoff).map((r) => r.customerId));
    const ids = [...before.keys()];
    if (ids.length === 0) throw new Error('COUNTRY-CHURN: nobody bought anything before the training window');
    const churned = ids.map((id) => (active.has(id) ? 0 : 1));

    const overall = churned.reduce((s: number, y) => s + y, 0) / ids.length;
    const byCountry = new Map<string, { n: number; churned: number }>();
    ids.forEach((id, i) => {
      const c = byCountry.get(before.get(id)!.country) ?? { n: 0, churned: 0 };
      byCountry.set(before.get(id)!.country, { n: c.n + 1, churned: c.churned + churned[i] });
    });
    const countryRate: Record<string, number> = { '': overall };
    for (const [country, c] of byCountry) if (country) countryRate[country] = (c.churned + COUNTRY_PRIOR * overall) / (c.n + COUNTRY_PRIOR);

    const raw = ids.map((id) => inputs(before.get(id), windowStart, countryRate, 0));
    const maxLogDays = Math.max(...raw.map((x) => x[0]));
    const mean = [0, 1].map((j) => raw.reduce((s, x) => s + x[j], 0) / raw.length) as [number, number];
    const std = [0, 1].map((j) => Math.sqrt(raw.reduce((s, x) => s + (x[j] - mean[j]) ** 2, 0) / raw.length) || 1) as [number, number];
    const xs = raw.map((x) => [(x[0] - mean[0]) / std[0], (x[1] - mean[1]) / std[1]]);

    // Full-batch gradient descent on the mean log-loss: two standardised inputs converge well within STEPS.
    let intercept = 0;
    const coefficients: [number, number] = [0, 0];
    for (let step = 0; step < STEPS; step++) {
      const grad = [0, 0, 0];
      xs.forEach((x, i) => {
        const err = sigmoid(intercept + coefficients[0] * x[0] + coefficients[1] * x[1]) - churned[i];
        grad[0] += err;
        grad[1] += err * x[0];
        grad[2] += err * x[1];
      });
      intercept -= (LEARNING_RATE * grad[0]) / xs.length;
      coefficients[0] -= (LEARNING_RATE * grad[1]) / xs.length;
      coefficients[1] -= (LEARNING_RATE * grad[2]) / xs.length;
    }

    this.weights = { format: 'country-churn/1', intercept, coefficients, mean, std, countryRate, maxLogDays };
    return { ...this.scoreStored(this.weights, rows, population, cutoff), isProbability: true };
  }

  exportWeights(): CountryChurnWeights {
    if (!this.weights) throw new Error('COUNTRY-CHURN has not been fitted');
    return this.weights;
  }

  scoreStored(w: CountryChurnWeights, rows: Txn[], population: string[], cutoff: number): StoredChurnScores {
    if (w?.format !== 'country-churn/1') throw new Error('these are not COUNTRY-CHURN weights; retrain the churn model');
    const last = lastPurchases(rows, cutoff);
    const scores = new Float64Array(population.length);
    const drivers = population.map((id, i) => {
      const x = inputs(last.get(id), cutoff, w.countryRate, w.maxLogDays);
      const parts = [0, 1].map((j) => (w.coefficients[j] * (x[j] - w.mean[j])) / w.std[j]);
      scores[i] = sigmoid(w.intercept + parts[0] + parts[1]);
      const found: ChurnDriver[] = [
        { feature: 'log_days_since_last', label: 'Days since the last purchase (log)', value: x[0], contribution: parts[0] },
        { feature: 'country_churn_rate', label: "Share of the country's customers who stopped buying", value: x[1], contribution: parts[1] },
      ];
      return found.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
    });
    return { scores, drivers };
  }
}

/** Each customer's latest purchase before `until`, and their country ('' when the file has none). */
function lastPurchases(rows: readonly Txn[], until: number): Map<string, { time: number; country: string }> {
  const out = new Map<string, { time: number; country: string }>();
  for (const r of rows) {
    if (r.time >= until) continue;
    const seen = out.get(r.customerId);
    if (!seen || r.time > seen.time) out.set(r.customerId, { time: r.time, country: r.country ?? seen?.country ?? '' });
  }
  return out;
}

function inputs(last: { time: number; country: string } | undefined, asOf: number, countryRate: Record<string, number>, missingLogDays: number): [number, number] {
  const logDays = last ? Math.log1p(Math.max(0, asOf - last.time) / DAY_MS) : missingLogDays;
  return [logDays, countryRate[last?.country ?? ''] ?? countryRate['']];
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
