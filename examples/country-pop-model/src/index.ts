import { churn, DAY_MS, recs, type ModelPlugin, type RecsModel, type RecsTrainSet } from '@loyalty/recommender/model-plugin-api';
import { CountryChurn } from './country-churn';

export { CountryChurn, type CountryChurnWeights } from './country-churn';

const WINDOW_DAYS = 90;

/**
 * COUNTRY-POP: for each member, the products most customers of their own country bought in the 90 days before the
 * cutoff; members of a country with no such purchases (or no country) get the overall list. A model a retailer's data
 * team might try first: it needs no training, and the evaluation and the promotion gate say whether it beats the
 * built-in baselines.
 */
export class CountryPopularity implements RecsModel {
  readonly name = 'COUNTRY-POP';
  readonly kind = 'model' as const;
  private byCountry = new Map<string, Float64Array>();
  private overall = new Float64Array(0);
  /** Divides the overall counts so that, as tie-breaks, they stay below 1: never worth one more local buyer. */
  private tieScale = 1;
  private countryOf: (string | null)[] = [];

  async fit(train: RecsTrainSet): Promise<void> {
    const n = train.items.length;
    const from = train.cutoff - WINDOW_DAYS * DAY_MS;
    const seen = new Set<number>();
    this.overall = new Float64Array(n);
    this.byCountry = new Map();
    this.countryOf = train.userCountry;
    const { user, item, time } = train.events;
    for (let k = 0; k < user.length; k++) {
      // Distinct buyers, as the protocol's POP counts them.
      if (time[k] < from || seen.has(user[k] * n + item[k])) continue;
      seen.add(user[k] * n + item[k]);
      this.overall[item[k]]++;
      const country = train.userCountry[user[k]];
      if (country === null) continue;
      let counts = this.byCountry.get(country);
      if (!counts) this.byCountry.set(country, (counts = new Float64Array(n)));
      counts[item[k]]++;
    }
    this.tieScale = 1 / (this.overall.reduce((max, c) => Math.max(max, c), 0) + 1);
  }

  score(users: Int32Array): Float64Array {
    const n = this.overall.length;
    const out = new Float64Array(users.length * n);
    users.forEach((u, b) => {
      const country = this.countryOf[u];
      const local = country === null ? undefined : this.byCountry.get(country);
      // The overall count breaks ties within a country.
      for (let i = 0; i < n; i++) out[b * n + i] = (local ? local[i] : 0) + this.overall[i] * this.tieScale;
    });
    return out;
  }
}

/**
 * LOYALTY_MODEL_PLUGINS=./examples/country-pop-model adds both models; RECOMMENDER_MODEL=COUNTRY-POP or
 * CHURN_MODEL=COUNTRY-CHURN has the worker serve one.
 */
export const modelPlugin: ModelPlugin = {
  name: 'country-pop',
  models: [recs('COUNTRY-POP', 'model', () => new CountryPopularity()), churn('COUNTRY-CHURN', 'model', () => new CountryChurn())],
};

export default modelPlugin;
