import { RecencyBaseline, RfmLogisticBaseline } from '../baselines/churn';
import { BgNbdGgBaseline, PastSpendBaseline, RfmLinearBaseline } from '../baselines/clv';
import { EaseBaseline } from '../baselines/ease';
import { ItemKnnBaseline } from '../baselines/itemknn';
import { PopBaseline } from '../baselines/pop';
import { RepeatBaseline } from '../baselines/repeat';
import { ChurnTfModel } from '../models/churn-model';
import { HybridRecommender } from '../models/hybrid-recommender';
import { ValueTfModel } from '../models/value-model';
import type { ChurnModel, RecsModel, ValueModel } from './types';

/**
 * Every model and baseline `npm run eval` can run, in report order. A model joins with one line:
 *   recs('BPR-MF', 'model', () => new BprModel()),        or        churn('CHURN-MLP', 'model', () => new ChurnMlp()),
 * `create` is called once per run, so a model may keep state between fit and score. A model that implements
 * HasParams (types.ts) has its chosen hyper-parameters printed and stored in the report.
 */
export type RegistryEntry =
  | { task: 'recs'; name: string; kind: 'baseline' | 'model'; create: () => RecsModel }
  | { task: 'churn'; name: string; kind: 'baseline' | 'model'; create: () => ChurnModel }
  | { task: 'clv'; name: string; kind: 'baseline' | 'model'; create: () => ValueModel };

/** The registry task each model kind trains (the worker's kinds, `jobs/src/payloads.ts`). */
export const TASK_OF_KIND = { RECOMMENDER: 'recs', CHURN: 'churn', VALUE: 'clv' } as const;

export const recs = (name: string, kind: 'baseline' | 'model', create: () => RecsModel): RegistryEntry => ({ task: 'recs', name, kind, create });
export const churn = (name: string, kind: 'baseline' | 'model', create: () => ChurnModel): RegistryEntry => ({ task: 'churn', name, kind, create });
export const clv = (name: string, kind: 'baseline' | 'model', create: () => ValueModel): RegistryEntry => ({ task: 'clv', name, kind, create });

export const REGISTRY: readonly RegistryEntry[] = [
  recs('POP', 'baseline', () => new PopBaseline()),
  recs('REPEAT', 'baseline', () => new RepeatBaseline()),
  recs('ITEMKNN', 'baseline', () => new ItemKnnBaseline()),
  recs('EASE', 'baseline', () => new EaseBaseline()),
  churn('RECENCY', 'baseline', () => new RecencyBaseline()),
  churn('RFM-LOGISTIC', 'baseline', () => new RfmLogisticBaseline()),
  clv('PAST-SPEND', 'baseline', () => new PastSpendBaseline()),
  clv('RFM-LINEAR', 'baseline', () => new RfmLinearBaseline()),
  clv('BGNBD-GG', 'baseline', () => new BgNbdGgBaseline()),
  // TensorFlow.js models (recommender/src/models), one line each:
  recs('TF-HYBRID', 'model', () => new HybridRecommender()),
  churn('TF-CHURN', 'model', () => new ChurnTfModel()),
  clv('TF-VALUE', 'model', () => new ValueTfModel()),
];

/** A fresh instance of the churn or value model a version names (its algorithm), or null when this process has not loaded it. */
export function scoringModel(registry: readonly RegistryEntry[], kind: 'CHURN' | 'VALUE', algorithm: string): ChurnModel | ValueModel | null {
  const entry = registry.find((e) => e.task === TASK_OF_KIND[kind] && e.name === algorithm);
  return entry ? (entry.create() as ChurnModel | ValueModel) : null;
}

/** `all`, `baselines`, `models`, or a comma-separated list of names (case-insensitive). */
export function selectModels(spec = 'all', registry: readonly RegistryEntry[] = REGISTRY): RegistryEntry[] {
  const s = spec.trim().toLowerCase();
  if (s === 'all') return [...registry];
  if (s === 'baselines') return registry.filter((e) => e.kind === 'baseline');
  if (s === 'models') return registry.filter((e) => e.kind === 'model');
  const names = s.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !registry.some((e) => e.name.toLowerCase() === n));
  if (unknown.length) {
    throw new Error(`unknown model(s) ${unknown.join(', ')}; known: ${registry.map((e) => e.name).join(', ')}`);
  }
  return registry.filter((e) => names.includes(e.name.toLowerCase()));
}
