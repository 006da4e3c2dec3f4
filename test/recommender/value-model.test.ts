import { blend, predictColumns, scoreFeatures, trainColumns, ValueTfModel, type ValueChoice, type ValueWeights } from '../../recommender/src/models/value-model';
import { initBackend } from '../../recommender/src/tf/backend';
import { VALUE_FEATURES, VF } from '../../recommender/src/models/value-features';
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
    // Every training (a network, or configurations trained together as its columns) reports its last epoch once.
    const counter = () => {
      const hooks = { trainings: 0, onEpoch: (epoch: number, epochs: number) => void (epoch === epochs && hooks.trainings++) };
      return hooks;
    };
    const first = counter();
    const { predictions, pReturn } = await model.fitPredict(past, population, cutoff, 90, first);
    const at = new Map(population.map((c, i) => [c, predictions[i]]));
    const lowestGrowing = Math.min(...growing.map((c) => at.get(c)!));
    const highestFlat = Math.max(...flat.map((c) => at.get(c)!));
    expect(lowestGrowing).toBeGreaterThan(highestFlat);
    expect(Array.from(pReturn!).every((p) => p > 0 && p < 1)).toBe(true);
    const drivers = model.valueDrivers(0, 3);
    expect(drivers).toHaveLength(3);
    for (const d of drivers) expect(VALUE_FEATURES).toContain(d.feature);
    // The inner split's choice is plain JSON a later fit can reuse: members with their epochs, and the blend weight.
    const choice = JSON.parse(JSON.stringify(model.params().choice)) as ValueChoice;
    expect(choice.members.length).toBeGreaterThanOrEqual(1);
    expect(choice.members.length).toBeLessThanOrEqual(3);
    for (const m of choice.members) expect(m.epochs).toBeLessThanOrEqual(150);
    expect([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]).toContain(choice.bgnbdWeight);
    expect(model.exportWeights().bgnbdWeight).toBe(choice.bgnbdWeight);
    // The worker's serving refit (withSameChoice) skips the inner split and trains the same ensemble: one training per
    // group of members sharing a scaling and hidden size, the same predictions, and the scores that chose it kept.
    const again = model.withSameChoice();
    const second = counter();
    const reused = await again.fitPredict(past, population, cutoff, 90, second);
    expect(second.trainings).toBe(new Set(choice.members.map((m) => `${m.scaling} ${m.hidden}`)).size);
    expect(first.trainings).toBeGreaterThan(second.trainings);
    expect(again.params()).toMatchObject({ choice, choiceReused: true, innerChoice: model.params().innerChoice });
    expect(model.params().choiceReused).toBeUndefined();
    Array.from(reused.predictions).forEach((v, i) => expect(v).toBeCloseTo(predictions[i], 6));
    expect(() => new ValueTfModel().withSameChoice()).toThrow('has not been fitted');
  }, 600_000); // two fits: under jest each takes minutes on a loaded machine (about 20 s in node)

  it('trains each configuration as a column of a shared network exactly as it would train alone', async () => {
    await initBackend();
    const rng = new Rng(3);
    const n = 300;
    const xs = Float32Array.from({ length: n * VF }, () => rng.next() * 2 - 1);
    const y = Float32Array.from({ length: n }, (_, k) => (xs[k * VF] > 0 ? Math.exp(3 + xs[k * VF + 1] + rng.next()) : 0));
    const columns = [{ l2: 0.001, shared: false }, { l2: 0.01, shared: true }, { l2: 0.001, shared: true }, { l2: 0.01, shared: false }];
    for (const hidden of [0, 16]) {
      const run = async (cols: typeof columns) => {
        let out: Float64Array[] = [];
        await trainColumns(xs, y, n, hidden, cols, 40, 0.02, 19, {}, new Set([40]), (_, net) => (out = predictColumns(net, xs, n)));
        return out;
      };
      const together = await run(columns);
      for (const c of [1, 3]) {
        const [alone] = await run([columns[c]]);
        alone.forEach((v, i) => expect(Math.abs(v - together[c][i]) / v).toBeLessThan(1e-4));
      }
      // Different L2 and σ heads do give different columns.
      expect(Math.abs(together[0][0] - together[1][0])).toBeGreaterThan(1e-6);
    }
  }, 120_000);

  it('blends with BG/NBD × Gamma-Gamma in log1p space with the stored weight', () => {
    const net = [10, 20, 40];
    const partner = [Math.log1p(40), Math.log1p(20), Math.log1p(10)];
    expect(Array.from(blend(net, partner, 0))).toEqual(net);
    Array.from(blend(net, partner, 1)).forEach((v, i) => expect(v).toBeCloseTo(Math.expm1(partner[i]), 9));
    // Halfway: the geometric mean of (1 + each forecast), minus 1: the two ends, in opposite orders, meet in a tie.
    const half = blend(net, partner, 0.5);
    expect(half[0]).toBeCloseTo(Math.sqrt(11 * 41) - 1, 9);
    expect(half[2]).toBeCloseTo(half[0], 9);
    expect(half[1]).toBeCloseTo(20, 9);

    // A linear network predicting the same for everyone: only the BG/NBD column can order the customers.
    const bg = VALUE_FEATURES.indexOf('log_bgnbd_gg_value');
    const weights = (bgnbdWeight?: number): ValueWeights => ({
      format: 'tf-value/2', features: [...VALUE_FEATURES], homeCountry: null, groups: [], horizonDays: 90,
      nets: [{ hidden: 0, w1: [0], b1: [0], w2: new Array(VF * 3).fill(0), b2: [5, Math.log(100), -2] }],
      mean: new Array(VF).fill(0), std: new Array(VF).fill(1), ...(bgnbdWeight === undefined ? {} : { bgnbdWeight }),
    });
    const n = 3;
    const x = new Float32Array(n * VF);
    [Math.log1p(50), Math.log1p(500), Math.log1p(5)].forEach((v, k) => (x[k * VF + bg] = v));
    const present = new Uint8Array([1, 1, 1]);
    const before = scoreFeatures(weights(), x, present, n).expected;
    expect(before[0]).toBeCloseTo(before[1], 9);
    expect(before[1]).toBeCloseTo(before[2], 9);
    const out = scoreFeatures(weights(0.4), x, present, n);
    expect(out.expected[1]).toBeGreaterThan(out.expected[0]);
    expect(out.expected[0]).toBeGreaterThan(out.expected[2]);
    expect(out.expected[0]).toBeCloseTo(Math.expm1(0.6 * Math.log1p(before[0]) + 0.4 * Math.log1p(50)), 3);
    expect(out.drivers[1][0].feature).toBe('log_bgnbd_gg_value');
    expect(out.drivers[1][0].contribution).toBeCloseTo(0.4 * Math.log1p(500), 3);
  });

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
    // The serving refit trained the evaluation fit's choice only, and records the inner-split scores that chose it.
    expect(out.params.choiceReused).toBe(true);
    expect(trainings.refitting).toBeGreaterThanOrEqual(1);
    expect(trainings.refitting).toBeLessThan(trainings.training);
    expect(Object.keys(out.params.innerChoice as object).length).toBeGreaterThanOrEqual(8);
  }, 600_000);

  it('a network scaled per snapshot reads the scored customers standardised among themselves: a shift of everyone changes nothing', () => {
    const f = VALUE_FEATURES.indexOf('log_spend_period_1');
    const w2 = new Array(VF * 3).fill(0);
    w2[f * 3 + 1] = 0.5; // μ rises with the last period's log spend
    const weights = (scaling?: 'snapshot'): ValueWeights => ({
      format: 'tf-value/2', features: [...VALUE_FEATURES], homeCountry: null, groups: [], horizonDays: 90,
      nets: [{ hidden: 0, w1: [0], b1: [0], w2, b2: [5, Math.log(100), -2], ...(scaling ? { scaling } : {}) }],
      mean: new Array(VF).fill(0), std: new Array(VF).fill(1),
    });
    const rows = (values: number[]) => {
      const x = new Float32Array(values.length * VF);
      values.forEach((v, k) => (x[k * VF + f] = v));
      return x;
    };
    const present = new Uint8Array([1, 1, 1]);
    const summer = [1, 2, 3], autumn = [4, 5, 6];
    const own = (v: number[]) => Array.from(scoreFeatures(weights('snapshot'), rows(v), present, 3).expected);
    own(summer).forEach((e, k) => expect(e).toBeCloseTo(own(autumn)[k], 6));
    expect(own(summer)[2]).toBeGreaterThan(own(summer)[0]);
    const pooled = (v: number[]) => Array.from(scoreFeatures(weights(), rows(v), present, 3).expected);
    expect(pooled(autumn)[0]).toBeGreaterThan(pooled(summer)[0] * 2);
  });
});
