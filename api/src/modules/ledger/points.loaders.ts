import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PointsService } from './points.service';
import type { MemberPoints } from './points.types';

/** Per-request batching: a page of members costs one balance statement, whatever its size. */
export interface PointsLoaders {
  points: DataLoader<string, MemberPoints>;
}

export function createPointsLoaders(em: EntityManager, points: PointsService): PointsLoaders {
  return { points: new DataLoader((ids) => points.pointsOf(em, ids)) };
}
