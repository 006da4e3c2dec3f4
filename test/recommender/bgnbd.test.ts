import {
  bgnbdLogLikelihood,
  expectedPurchases,
  expectedSpendPerPurchase,
  fitBgNbd,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  hyp2f1,
  probabilityAlive,
  probabilityNoPurchase,
  purchaseSummaries,
  type BgNbdParams,
} from '../../recommender/src/baselines/bgnbd';
import { lnGamma } from '../../recommender/src/baselines/optimize';
import { BgNbdGgBaseline } from '../../recommender/src/baselines/clv';
import type { Txn } from '../../recommender/src/eval/types';
import { Rng } from '../../recommender/src/tf/random';

// The CDNOW estimates of the BG/NBD paper (Fader, Hardie and Lee 2005, section 5).
const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

/** The paper's closed form (equation 10), fine for moderate a and b. */
function closedForm(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, a, b } = p;
  const z = t / (alpha + T + t);
  const f = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const main = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * f);
  const den = 1 + (x > 0 ? (a / (b + x - 1)) * Math.pow((alpha + T) / (alpha + tx), r + x) : 0);
  return main / den;
}

function gammaSample(rng: Rng, shape: number, rate: number): number {
  if (shape < 1) return gammaSample(rng, shape + 1, rate) * Math.pow(rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      const u1 = rng.next() || 1e-12, u2 = rng.next();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (Math.log(u || 1e-300) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

function betaSample(rng: Rng, a: number, b: number): number {
  const x = gammaSample(rng, a, 1);
  return x / (x + gammaSample(rng, b, 1));
}

/** Customers from the BG/NBD's own story: Poisson(λ) purchases, dropout with prob. p after each one, over T weeks. */
function simulateBgNbd(params: BgNbdParams, n: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const lambda = gammaSample(rng, params.r, params.alpha);
    const p = betaSample(rng, params.a, params.b);
    const T = 20 + 20 * rng.next();
    let t = 0, x = 0, tx = 0;
    for (;;) {
      t += -Math.log(1 - rng.next()) / lambda;
      if (t > T) break;
      x++;
      tx = t;
      if (rng.next() < p) break;
    }
    return { x, tx, T };
  });
}

describe('BG/NBD', () => {
  it('reproduces the paper\'s conditional expectation for the CDNOW customer (x = 2, t_x = 30.43, T = 38.86): 1.226 in 39 weeks', () => {
    expect(expectedPurchases(CDNOW, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 3);
  });

  it('equals the closed form (equation 10) where that one is well conditioned', () => {
    for (const [t, x, tx, T] of [[39, 2, 30.43, 38.86], [10, 0, 0, 20], [52, 7, 35, 38], [5, 1, 2, 30], [100, 15, 39, 39]]) {
      const ours = expectedPurchases(CDNOW, t, x, tx, T);
      expect(Math.abs(ours - closedForm(CDNOW, t, x, tx, T))).toBeLessThan(1e-9 * Math.max(1, ours));
    }
    const other: BgNbdParams = { r: 2, alpha: 3, a: 3.5, b: 8 };
    for (const [t, x, tx, T] of [[13, 3, 10, 30], [13, 0, 0, 2], [40, 20, 25, 26]]) {
      expect(expectedPurchases(other, t, x, tx, T)).toBeCloseTo(closedForm(other, t, x, tx, T), 9);
    }
  });

  it('stays exact with the dropout at its bound (a → 0, b → ∞), where E[Y] tends to (r + x)·t/(α + T)', () => {
    const p: BgNbdParams = { r: 0.7206, alpha: 9.517, a: 6.3e-6, b: 66209 };
    for (const [x, tx, T] of [[0, 0, 1], [3, 20, 30], [40, 38, 39]]) {
      const limit = ((p.r + x) * 12.857) / (p.alpha + T);
      const e = expectedPurchases(p, 12.857, x, tx, T);
      expect(Math.abs(e / limit - 1)).toBeLessThan(1e-3);
      // The closed form has nothing left of its digits here.
      expect(Number.isFinite(e)).toBe(true);
    }
    expect(probabilityAlive(p, 3, 20, 30)).toBeGreaterThan(0.9999);
  });

  it('stays finite and exact when the dropout Beta is concentrated (a and b both large, as fits pinning only a/(a+b) give)', () => {
    const [x, tx, T, t] = [5, 30, 40, 13];
    // Either side of the switch from the series to integrating over p, the mean dropout held at 1/21: continuous.
    const series = expectedPurchases({ r: 1, alpha: 4, a: 499, b: 499 * 20 }, t, x, tx, T);
    const direct = expectedPurchases({ r: 1, alpha: 4, a: 501, b: 501 * 20 }, t, x, tx, T);
    expect(Math.abs(direct / series - 1)).toBeLessThan(1e-4);
    // Far out (a fit seen on simulated data: a ≈ 1.0e6, b ≈ 3.9e7), p is in effect its mean μ: E[Y] → P(alive)·(1 − (1 + μu)^−(r+x))/μ.
    const far: BgNbdParams = { r: 1.939, alpha: 4.103, a: 1.019e6, b: 3.944e7 };
    const mu = far.a / (far.a + far.b + x), u = t / (far.alpha + T);
    const limit = (probabilityAlive(far, x, tx, T) * (1 - Math.pow(1 + mu * u, -(far.r + x)))) / mu;
    const got = expectedPurchases(far, t, x, tx, T);
    expect(Number.isFinite(got)).toBe(true);
    expect(Math.abs(got / limit - 1)).toBeLessThan(1e-6);
  });

  it('P(alive) is 1 without repeats and falls with time since the last purchase; P(no purchase) lies between', () => {
    expect(probabilityAlive(CDNOW, 0, 0, 30)).toBe(1);
    const recent = probabilityAlive(CDNOW, 4, 29, 30);
    const lapsed = probabilityAlive(CDNOW, 4, 5, 30);
    expect(recent).toBeGreaterThan(lapsed);
    // By hand: a/(b+x−1) = 0.793/5.426 = 0.146148; ((α+T)/(α+t_x))^(r+x) = (34.414/9.414)^4.243 = 244.78…; 1/(1 + 35.774) = 0.027193.
    expect(lapsed).toBeCloseTo(1 / (1 + (0.793 / 5.426) * Math.pow(34.414 / 9.414, 4.243)), 12);
    const none = probabilityNoPurchase(CDNOW, 10, 4, 29, 30);
    expect(none).toBeCloseTo(1 - recent + recent * Math.pow(34.414 / 44.414, 4.243), 12);
  });

  it('recovers known parameters from simulated customers, and its optimum beats the true parameters\' likelihood', () => {
    const truth: BgNbdParams = { r: 0.5, alpha: 4, a: 0.8, b: 2.5 };
    const data = simulateBgNbd(truth, 8000, 7);
    const fit = fitBgNbd(data);
    let llTrue = 0;
    for (const d of data) llTrue += bgnbdLogLikelihood(truth, d.x, d.tx, d.T);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(llTrue);
    expect(Math.abs(fit.r / truth.r - 1)).toBeLessThan(0.1);
    expect(Math.abs(fit.alpha / truth.alpha - 1)).toBeLessThan(0.15);
    expect(Math.abs(fit.a / truth.a - 1)).toBeLessThan(0.3);
    expect(Math.abs(fit.b / truth.b - 1)).toBeLessThan(0.4);
  });

  it('builds day-level summaries: one transaction per calendar day, weeks from the first day, repeat days\' mean spend', () => {
    const day = (d: number, h = 10) => Date.UTC(2011, 0, d, h);
    const row = (customerId: string, time: number, quantity: number, unitPrice: number): Txn => ({ invoice: `${customerId}${time}`, stockCode: 'X', description: null, quantity, time, unitPrice, customerId, country: null });
    const rows = [row('A', day(1), 2, 5), row('A', day(1, 15), 1, 10), row('A', day(8), 1, 30), row('A', day(15), 1, 50), row('B', day(10), 1, 7), row('A', day(29), 9, 9)];
    const [a, b, c] = purchaseSummaries(rows, Date.UTC(2011, 0, 29), ['A', 'B', 'C']);
    expect(a).toEqual({ customerId: 'A', x: 2, tx: 2, T: 4, repeatMeanSpend: 40, firstDaySpend: 20, totalSpend: 100 });
    expect(b).toMatchObject({ x: 0, tx: 0, T: 19 / 7, repeatMeanSpend: 0 });
    expect(c).toBeNull();
  });
});

describe('Gamma-Gamma', () => {
  it('recovers known parameters from simulated spend and beats the true parameters\' likelihood', () => {
    const truth = { p: 6, q: 4, gamma: 15 };
    const rng = new Rng(3);
    const data = Array.from({ length: 5000 }, () => {
      const nu = gammaSample(rng, truth.q, truth.gamma);
      const x = 1 + Math.floor(-Math.log(1 - rng.next()) * 3);
      let sum = 0;
      for (let i = 0; i < x; i++) sum += gammaSample(rng, truth.p, nu);
      return { x, repeatMeanSpend: sum / x };
    });
    const fit = fitGammaGamma(data);
    const llTrue = data.reduce((s, d) => s + gammaGammaLogLikelihood(truth, d.x, d.repeatMeanSpend), 0);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(llTrue);
    expect(Math.abs(fit.p / truth.p - 1)).toBeLessThan(0.15);
    expect(Math.abs(fit.q / truth.q - 1)).toBeLessThan(0.2);
    expect(Math.abs(fit.gamma / truth.gamma - 1)).toBeLessThan(0.3);
    // The posterior mean shrinks a customer's own mean towards the population mean pγ/(q − 1) = 30.
    expect(expectedSpendPerPurchase(truth, 0, 0)).toBeCloseTo(30, 12);
    expect(expectedSpendPerPurchase(truth, 2, 60)).toBeCloseTo((6 * (15 + 120)) / (12 + 3), 12);
  });

  it('lnGamma matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 11);
    expect(lnGamma(1e-6)).toBeCloseTo(13.815510, 5);
  });
});

describe('BGNBD-GG as a served value model', () => {
  it('gives P(any purchase in the horizon) from BG/NBD and, as drivers, its two factors, which add up to the log prediction against the mean', async () => {
    // 60 customers over 40 weeks: a purchase every `gap` days from day `start` until day `last`, each of `amount`.
    const DAY = 86_400_000;
    const START = Date.UTC(2011, 0, 1);
    const rows: Txn[] = [];
    const population: string[] = [];
    for (let c = 0; c < 60; c++) {
      const id = `C${String(c).padStart(2, '0')}`;
      population.push(id);
      const gap = 5 + (c % 6) * 7, last = c % 3 === 0 ? 120 : 279, amount = 10 + 7 * (c % 5);
      for (let day = c % 4; day <= last; day += gap) rows.push({ invoice: `${id}-${day}`, stockCode: 'X', description: null, quantity: 1, unitPrice: amount, time: START + day * DAY, customerId: id, country: null });
    }
    const cutoff = START + 280 * DAY;
    const out = await new BgNbdGgBaseline().fitPredict(rows, population, cutoff, 90);
    const { pReturn, drivers, predictions } = out;
    expect(pReturn).toHaveLength(60);
    for (const p of pReturn!) expect(p > 0 && p < 1).toBe(true);
    // The same frequency and spend: one who stopped on day 120 is less likely to buy than one still buying.
    const lapsed = population.indexOf('C00'), active = population.indexOf('C30');
    expect(pReturn![lapsed]).toBeLessThan(pReturn![active]);
    expect(predictions[lapsed]).toBeLessThan(predictions[active]);
    const meanLog = predictions.reduce((s, v) => s + Math.log(v), 0) / predictions.length;
    drivers!.forEach((d, i) => {
      expect(d.map((x) => x.feature).sort()).toEqual(['log_bgnbd_purchases', 'log_gg_spend_per_day']);
      expect(Math.abs(d[0].contribution)).toBeGreaterThanOrEqual(Math.abs(d[1].contribution));
      expect(d[0].contribution + d[1].contribution).toBeCloseTo(Math.log(predictions[i]) - meanLog, 9);
      expect(Math.expm1(d.find((x) => x.feature === 'log_bgnbd_purchases')!.value) * Math.expm1(d.find((x) => x.feature === 'log_gg_spend_per_day')!.value)).toBeCloseTo(predictions[i], 6);
    });

    // Re-scoring from the stored parameters: the same history gives the same answer, a later one moves it.
    const model = new BgNbdGgBaseline();
    await model.fitPredict(rows, population, cutoff, 90);
    const weights = JSON.parse(JSON.stringify(model.exportWeights()));
    expect(new BgNbdGgBaseline().scoreStored(weights, rows, population, cutoff, 90)).toEqual(out);
    const later = new BgNbdGgBaseline().scoreStored(weights, rows, population, cutoff + 60 * DAY, 90);
    expect(later.pReturn![lapsed]).toBeLessThan(pReturn![lapsed]);
    expect(() => new BgNbdGgBaseline().scoreStored({ ...weights, bg: { ...weights.bg, a: -1 } }, rows, population, cutoff, 90)).toThrow(
      'BGNBD-GG: the stored weights are not bgnbd-gg/1 with seven positive parameters; retrain the value model',
    );
    expect(() => new BgNbdGgBaseline().scoreStored({ format: 'tf-value/2' } as never, rows, population, cutoff, 90)).toThrow(/not bgnbd-gg\/1/);
  });
});
