import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TierService } from './tier.service';
import type { TierFields } from './tier.entity';

export interface TierLoaders {
  /** The member's tier (their recorded one, else the tier with threshold 0), keyed by member id. */
  tiers: DataLoader<string, TierFields | null>;
}

export function createTierLoaders(em: EntityManager, tiers: TierService): TierLoaders {
  return { tiers: new DataLoader((ids) => tiers.currentOf(em, ids)) };
}
