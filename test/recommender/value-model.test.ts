import { ValueTfModel } from '../../recommender/src/models/value-model';
import { VALUE_FEATURES } from '../../recommender/src/models/value-features';
import { decideGate, runPipeline } from '../../recommender/src/training/pipeline';
import type { Txn } from '../../recommender/src/eval/types';
import { Rng } from '../../recommender/src/tf/random';

const DAY = 86_400_000;
const START = Date.UTC(2011, 0, 1);
const PERIOD = 30;

/**
 * 30 members whose spend doubles every 30 days and 30 whose spend is flat at 400 per 30 days (more in total until the
 * last periods), all buying every 10 days, over 10 periods and a 90-day horizon that continues both patterns.
 */
function plantedHistory() {
  const rng = new Rng(5);
  const rows: Txn[] = [];
  const growing: string[] = [], flat: string[] = [];
  for (let c = 0; c < 60; c++) {
    const id = `C${String(c).padStart(3, '0')}`;
    const isGrowing = c % 2 === 0;
    (isGrowing ? growing : flat).push(id);
    const scale = 0.8 + 0.4 * rng.next();
    const offset = rng.int(10);
    for (let day = offset; day < 13 * PERIOD; day += 10) {
      const period = Math.floor(day / PERIOD);
      const perPeriod = isGrowing ? 5 * 2 ** period : 400;
      rows.push({ invoice: `${id}-${day}`, stockCode: isGrowing ? 'G1' : 'F1', description: isGrowing ? 'RED HEART' : 'BLUE CAKE', quantity: 1, unitPrice: (scale * perPeriod) / 3, time: START + day * DAY + 10 * 3_600_000, customerId: id, country: 'United Kingdom' });
    }
  }
  return { rows, growing, flat, cutoff: START + 10 * PERIOD * DAY };
}

describe('TF-VALUE', () => {
  it('ranks members whose spend doubles each period above members with flat spend (planted signal)', async () => {
    const { rows, growing, flat, cutoff } = plantedHistory();
    const past = rows.filter((r) => r.time < cutoff);
    const population = [...growing, ...flat].sort();
    const model = new ValueTfModel({ epochs: 150 });
    const { predictions, pReturn } = await model.fitPredict(past, population, cutoff, 90);
    const at = new Map(population.map((c, i) => [c, predictions[i]]));
    const lowestGrowing = Math.min(...growing.map((c) => at.get(c)!));
    const highestFlat = Math.max(...flat.map((c) => at.get(c)!));
    expect(lowestGrowing).toBeGreaterThan(highestFlat);
    expect(Array.from(pReturn!).every((p) => p > 0 && p < 1)).toBe(true);
    const drivers = model.valueDrivers(0, 3);
    expect(drivers).toHaveLength(3);
    for (const d of drivers) expect(VALUE_FEATURES).toContain(d.feature);
  }, 300_000);

  it('VALUE pipeline: holdout metrics next to every baseline, a two-metric gate, and serving amounts for every customer', async () => {
    const { rows } = plantedHistory();
    const out = await runPipeline(rows, { kind: 'VALUE', horizonDays: 90, maxEpochs: 20 });
    expect(out.kind).toBe('VALUE');
    expect(out.algorithm).toBe('TF-VALUE');
    expect(Object.keys(out.baselineMetrics).sort()).toEqual(['BGNBD-GG', 'PAST-SPEND', 'RFM-LINEAR']);
    expect(out.metrics.customers).toBe(60);
    expect(out.metrics.calibration).toHaveLength(10);
    const checks = out.gateChecks(null);
    expect(checks.map((c) => c.metric)).toEqual(['gini', 'topDecileCapture']);
    expect(Object.keys(checks[0].baselines).sort()).toEqual(['BGNBD-GG', 'PAST-SPEND', 'RFM-LINEAR']);
    // An active version with perfect figures cannot be beaten.
    expect(decideGate(out.gateChecks({ gini: 1, topDecileCapture: 1 })).isPromoted).toBe(false);
    expect(out.serving.population).toHaveLength(60);
    expect(out.serving.amounts).toHaveLength(60);
    expect(Array.from(out.serving.amounts).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(out.serving.pReturn).toHaveLength(60);
    expect(out.serving.drivers.every((d) => d.length === 3)).toBe(true);
    expect((out.weights as { format: string }).format).toBe('tf-value/2');
  }, 300_000);
});
