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

  it('refits the chosen ensemble without searching again: one training per member, the same networks on the same data', async () => {
    const { rows, cutoff } = plantedHistory();
    const past = rows.filter((r) => r.time < cutoff);
    const population = [...new Set(past.map((r) => r.customerId))].sort();
    // Every training reports its last epoch once (trainNet), so counting those counts trainings.
    const counter = () => {
      const hooks = { maxEpochs: 30, trainings: 0, onEpoch: (epoch: number, epochs: number) => void (epoch === epochs && hooks.trainings++) };
      return hooks;
    };
    const searched = new ValueTfModel();
    const first = counter();
    const a = await searched.fitPredict(past, population, cutoff, 90, first);
    const members = String(searched.params().ensemble).split(' + ');
    const grid = searched.params().innerChoice as Record<string, number>;
    // The search: 2 hidden sizes × 2 L2 × 2 σ heads on the inner split, then the chosen members at the cutoff.
    expect(Object.keys(grid).filter((k) => !k.startsWith('ensemble_of_'))).toHaveLength(8);
    expect(first.trainings).toBe(8 + members.length);

    const refit = searched.withSameChoice();
    const second = counter();
    const b = await refit.fitPredict(past, population, cutoff, 90, second);
    expect(second.trainings).toBe(members.length);
    expect(refit.params().ensemble).toBe(searched.params().ensemble);
    expect(refit.params().innerChoice).toEqual(grid);
    expect(refit.params().choiceReused).toBe(true);
    // Same data and seed: the served networks are the chosen ensemble's, weight for weight.
    expect(refit.exportWeights()).toEqual(searched.exportWeights());
    expect(Array.from(b.predictions)).toEqual(Array.from(a.predictions));
    expect(() => new ValueTfModel().withSameChoice()).toThrow('has not been fitted');
    // Two fits with a dozen feature computations (BG/NBD fits included): minutes on a machine shared with other jobs.
  }, 600_000);

  it('VALUE pipeline: holdout metrics next to every baseline, a two-metric gate, and serving amounts for every customer', async () => {
    const { rows } = plantedHistory();
    const trainings = { training: 0, refitting: 0 };
    const out = await runPipeline(rows, {
      kind: 'VALUE', horizonDays: 90, maxEpochs: 20,
      onProgress: (p) => void (p.epoch !== undefined && p.epoch === p.epochs && (p.phase === 'training' || p.phase === 'refitting') && trainings[p.phase]++),
    });
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
    // The evaluation fit searched 8 configurations and trained its ensemble; the serving refit trained that ensemble only.
    const members = String(out.params.ensemble).split(' + ');
    expect(trainings).toEqual({ training: 8 + members.length, refitting: members.length });
    // The served version still records the inner-split scores its ensemble was chosen by (the evaluation fit's).
    expect(out.params.choiceReused).toBe(true);
    expect(Object.keys(out.params.innerChoice as object).length).toBeGreaterThanOrEqual(8);
    // Baselines, the evaluation fit and the refit: over 5 minutes at load average 13–17.
  }, 600_000);
});
