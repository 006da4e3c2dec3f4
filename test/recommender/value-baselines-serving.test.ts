import { fitPReturnByAmount, pReturnByAmount, readPReturnByAmount } from '../../recommender/src/training/p-return';
import { PastSpendBaseline, RfmLinearBaseline } from '../../recommender/src/baselines/clv';
import type { Txn } from '../../recommender/src/eval/types';

/**
 * What PAST-SPEND and RFM-LINEAR need to be served in place of a value model kept out: a chance of buying fitted out
 * of sample on their predicted spend, a stored fit to re-score from, and drivers.
 */
describe('P(buys) by predicted spend (isotonic, pool-adjacent-violators)', () => {
  it('pools a step that falls with the one before it, and one that does not rise', () => {
    // Rates by prediction 1..6: 0, 1, 0, 1, 1, 1. The 1 at 2 and the 0 at 3 fall: pooled to 1/2. 4, 5 and 6 do not
    // rise on each other: one step.
    expect(fitPReturnByAmount([1, 2, 3, 4, 5, 6], [0, 5, 0, 7, 1, 2])).toEqual({ format: 'p-return-by-amount/1', from: [1, 2, 4], p: [0, 0.5, 1] });
    // In any order, and a prediction the model gives several customers is one step: 0 → 1 bought of 3, 5 → 1 of 2.
    expect(fitPReturnByAmount([5, 0, 0, 5, 0], [0, 3, 0, 9, 0])).toEqual({ format: 'p-return-by-amount/1', from: [0, 5], p: [1 / 3, 1 / 2] });
    // Ranked backwards: everyone in one step at the overall rate.
    expect(fitPReturnByAmount([1, 2, 3], [4, 4, 0])).toEqual({ format: 'p-return-by-amount/1', from: [1], p: [2 / 3] });
    // A non-finite prediction is left out; none at all is refused.
    expect(fitPReturnByAmount([NaN, 1, 2], [1, 0, 1])).toEqual({ format: 'p-return-by-amount/1', from: [1, 2], p: [0, 1] });
    expect(() => fitPReturnByAmount([NaN], [1])).toThrow(/no finite prediction/);
  });

  it('reads each amount at the step whose least spend is the greatest not above it', () => {
    const fit = { format: 'p-return-by-amount/1' as const, from: [1, 2, 4], p: [0.1, 0.5, 0.9] };
    expect(Array.from(pReturnByAmount(fit, [0, 1, 1.5, 2, 3.99, 4, 1e9]))).toEqual([0.1, 0.1, 0.1, 0.5, 0.5, 0.9, 0.9]);
  });

  it('reads a stored fit back, none as none, and refuses a broken one', () => {
    const fit = { format: 'p-return-by-amount/1', from: [0, 3], p: [0.2, 0.7] };
    expect(readPReturnByAmount(fit)).toEqual(fit);
    expect(readPReturnByAmount(undefined)).toBeNull();
    expect(readPReturnByAmount(null)).toBeNull();
    for (const broken of [{ ...fit, format: 'x' }, { ...fit, p: [0.7, 0.2] }, { ...fit, from: [3, 0] }, { ...fit, p: [0.2] }, { ...fit, p: [0.2, 1.5] }, { ...fit, from: [0, NaN] }, 'text']) {
      expect(() => readPReturnByAmount(broken)).toThrow(/retrain the value model/);
    }
  });
});

const DAY = 86_400_000;
const at = Date.parse('2011-06-01T00:00:00Z');
/** 40 customers: each buys every `gap` days for 200 days, a different amount; every fourth stopped 60 days ago. */
const history: Txn[] = [];
for (let c = 0; c < 40; c++) {
  const gap = 7 + (c % 5) * 6, stop = c % 4 === 0 ? 60 : 0;
  for (let daysAgo = 200 - c; daysAgo > stop; daysAgo -= gap) {
    history.push({ invoice: `${c}-${daysAgo}`, stockCode: 'A', description: null, quantity: 1 + (c % 3), unitPrice: 5 + c, time: at - daysAgo * DAY, customerId: `C${String(c).padStart(2, '0')}`, country: null });
  }
}
const population = [...new Set(history.map((t) => t.customerId))].sort();

describe('PAST-SPEND and RFM-LINEAR where they are served', () => {
  it('PAST-SPEND re-scores from its stored fit as it scored when fitted; its driver is the spend it predicts', async () => {
    const model = new PastSpendBaseline();
    const fitted = await model.fitPredict(history, population, at, 30);
    const weights = model.exportWeights();
    expect(JSON.parse(JSON.stringify(weights))).toEqual({ format: 'past-spend/1' });
    const again = model.scoreStored(weights, history, population, at, 30);
    expect(Array.from(again.predictions)).toEqual(Array.from(fitted.predictions));
    population.forEach((_, i) => {
      const spend = fitted.predictions[i];
      expect(fitted.drivers![i]).toEqual(spend > 0 ? [{ feature: 'log_spend_last_horizon', value: Math.log1p(spend), contribution: expect.any(Number) }] : []);
    });
    // Above the population's mean log spend, a positive contribution; below it, a negative one.
    const spent = population.map((_, i) => i).filter((i) => fitted.predictions[i] > 0);
    const meanLog = spent.reduce((s, i) => s + Math.log(fitted.predictions[i]), 0) / spent.length;
    for (const i of spent) expect(fitted.drivers![i][0].contribution).toBeCloseTo(Math.log(fitted.predictions[i]) - meanLog, 12);
    expect(() => model.scoreStored({ format: 'rfm-linear/1' } as never, history, population, at, 30)).toThrow(/not past-spend\/1; retrain/);
  });

  it('RFM-LINEAR re-scores from its stored fit exactly, its drivers add up to the log of the prediction against its intercept, and it refuses weights not its own', async () => {
    const model = new RfmLinearBaseline();
    const fitted = await model.fitPredict(history, population, at, 30);
    const weights = JSON.parse(JSON.stringify(model.exportWeights()));
    expect(weights).toMatchObject({ format: 'rfm-linear/1' });
    expect(weights.beta).toHaveLength(7);
    // The reported params are the stored coefficients.
    expect(model.params().coefficients).toEqual(weights.beta.map((c: number) => Number(c.toFixed(4))));
    const again = model.scoreStored(weights, history, population, at, 30);
    expect(Array.from(again.predictions)).toEqual(Array.from(fitted.predictions));
    let explained = 0;
    population.forEach((_, i) => {
      const v = fitted.predictions[i], drivers = fitted.drivers![i];
      if (v <= 0) return expect(drivers).toEqual([]);
      explained++;
      expect(drivers.map((d) => d.feature).sort()).toEqual(['log_invoices', 'log_mean_gap_days', 'log_recency_days', 'log_spend', 'log_spend_last_horizon', 'log_tenure_days']);
      expect(drivers.reduce((s, d) => s + d.contribution, 0)).toBeCloseTo(Math.log(v / weights.beta[0]), 9);
      // Strongest first.
      for (let k = 1; k < drivers.length; k++) expect(Math.abs(drivers[k - 1].contribution)).toBeGreaterThanOrEqual(Math.abs(drivers[k].contribution));
    });
    expect(explained).toBeGreaterThan(20);
    for (const broken of [{ ...weights, format: 'bgnbd-gg/1' }, { ...weights, beta: weights.beta.slice(1) }, { ...weights, std: weights.std.map(() => 0) }, { ...weights, mean: [...weights.mean.slice(1), null] }]) {
      expect(() => model.scoreStored(broken, history, population, at, 30)).toThrow(/not rfm-linear\/1 with 6 features; retrain/);
    }
  });
});
