import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../services';
import type { MemberPoints } from '../ledger/points.types';
import { createModelLoaders, type ModelLoaders } from '../models/model.loaders';

/** Per-request batching for aggregates that a list of members fans out to. */
export interface Loaders {
  points: DataLoader<string, MemberPoints>;
  models: ModelLoaders;
}

export function createLoaders(em: EntityManager, services: Pick<Services, 'points' | 'models'>): Loaders {
  return {
    points: new DataLoader((ids) => services.points.pointsOf(em, ids)),
    models: createModelLoaders(em, services.models),
  };
}
