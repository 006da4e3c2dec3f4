import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ModelService } from './model.service';
import type { ChurnRisk, PredictedValue, Recommendation, SimilarProduct } from './model.types';

/** Per-request batching: a page of members (or products) costs one query per field, whatever its size. */
export interface ModelLoaders {
  models: {
    churnRisk: DataLoader<string, ChurnRisk | null>;
    predictedValue: DataLoader<string, PredictedValue | null>;
    /** Keyed by member id; one loader per (first, excludePurchased) pair asked for in the request. */
    recommendations(first: number, excludePurchased: boolean): DataLoader<string, Recommendation[]>;
    similarProducts(first: number): DataLoader<string, SimilarProduct[]>;
  };
}

export function createModelLoaders(em: EntityManager, models: ModelService): ModelLoaders {
  const byArgs = new Map<string, DataLoader<string, any>>();
  const cached = <V>(key: string, make: () => DataLoader<string, V>): DataLoader<string, V> => {
    if (!byArgs.has(key)) byArgs.set(key, make());
    return byArgs.get(key)!;
  };
  return {
    models: {
      churnRisk: new DataLoader((ids) => models.churnRiskOf(em, ids)),
      predictedValue: new DataLoader((ids) => models.predictedValueOf(em, ids)),
      recommendations: (first, excludePurchased) =>
        cached(`recs:${first}:${excludePurchased}`, () => new DataLoader((ids) => models.recommendationsOf(em, ids, first, excludePurchased))),
      similarProducts: (first) => cached(`similar:${first}`, () => new DataLoader((ids) => models.similarProductsOf(em, ids, first))),
    },
  };
}
