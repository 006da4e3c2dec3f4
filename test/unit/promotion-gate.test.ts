import { decideGate, windowOf } from '../../recommender/src/training/pipeline';
import { bandOf } from '../../recommender/src/training/store';
import { defaultHorizonDays } from '../../recommender/src/jobs/train';

const check = (model: number, baselines: Record<string, number>, active: number | null = null) => ({ metric: 'ndcg@10 (all)', model, baselines, active });

describe('the promotion gate', () => {
  it('promotes a version that beats every baseline and the active version, naming the strongest rival', () => {
    const gate = decideGate([check(0.36, { POP: 0.11, REPEAT: 0.348, EASE: 0.305 }, 0.35)]);
    expect(gate).toEqual({ isPromoted: true, reason: 'promoted: ndcg@10 (all) 0.3600 > REPEAT 0.3480; active 0.3500' });
  });

  it('keeps out a version that only ties the best baseline', () => {
    const gate = decideGate([check(0.348, { POP: 0.11, REPEAT: 0.348 })]);
    expect(gate.isPromoted).toBe(false);
    expect(gate.reason).toBe('kept out: ndcg@10 (all) 0.3480 does not beat REPEAT 0.3480');
  });

  it('keeps out a version that beats the baselines but not the active version', () => {
    const gate = decideGate([check(0.36, { REPEAT: 0.348 }, 0.37)]);
    expect(gate).toEqual({ isPromoted: false, reason: "kept out: ndcg@10 (all) 0.3600 does not beat the active version's 0.3700" });
  });

  it('needs every check to pass: winning view all but losing view new is not enough', () => {
    const gate = decideGate([check(0.4, { REPEAT: 0.35 }), { ...check(0.1, { EASE: 0.12 }), metric: 'ndcg@10 (new)' }]);
    expect(gate.isPromoted).toBe(false);
    expect(gate.reason).toBe('kept out: ndcg@10 (new) 0.1000 does not beat EASE 0.1200');
  });

  it('keeps out a NaN metric rather than promoting it', () => {
    expect(decideGate([check(Number.NaN, { POP: 0.1 })]).isPromoted).toBe(false);
  });
});

describe('training windows', () => {
  const day = 86_400_000;
  it('puts the holdout cutoff horizon days before the day after the last purchase', () => {
    const rows = [{ time: Date.UTC(2011, 0, 5, 10) }, { time: Date.UTC(2011, 11, 9, 12, 50) }] as never[];
    const w = windowOf(rows, 90);
    expect(new Date(w.servingCutoff).toISOString()).toBe('2011-12-10T00:00:00.000Z');
    expect(new Date(w.cutoff).toISOString()).toBe('2011-09-11T00:00:00.000Z');
  });

  it('uses 90 days on long histories and a quarter of a short one, never under a week', () => {
    expect(defaultHorizonDays([{ time: 0 }, { time: 400 * day }])).toBe(90);
    expect(defaultHorizonDays([{ time: 0 }, { time: 120 * day }])).toBe(30);
    expect(defaultHorizonDays([{ time: 0 }, { time: 10 * day }])).toBe(7);
  });

  it('bands churn probabilities at the configured thresholds', () => {
    const bands = { medium: 0.3, high: 0.6 };
    expect([0.29, 0.3, 0.59, 0.6, 0.99].map((s) => bandOf(s, bands))).toEqual(['LOW', 'MEDIUM', 'MEDIUM', 'HIGH', 'HIGH']);
  });
});
