import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Redemption } from './redemption.entity';
import type { RewardService } from './reward.service';

/** Per-request batching: a page of members asking for their redemptions costs one round trip for the ids and one for the rows. */
export interface RewardLoaders {
  rewards: {
    /** Keyed by member id, newest first; one loader per page size asked for in the request. */
    redemptions(first: number): DataLoader<string, Redemption[]>;
  };
}

export function createRewardLoaders(em: EntityManager, rewards: RewardService): RewardLoaders {
  const byFirst = new Map<number, DataLoader<string, Redemption[]>>();
  return {
    rewards: {
      redemptions(first) {
        let loader = byFirst.get(first);
        if (!loader) byFirst.set(first, (loader = new DataLoader((ids) => rewards.redemptionsOf(em, ids, first))));
        return loader;
      },
    },
  };
}
