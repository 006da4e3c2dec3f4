import type { EntityManager } from '@mikro-orm/postgresql';
import type { PointsService } from '../modules/ledger/points.service';
import type { TierService } from '../modules/tiers/tier.service';
import type { OrderService } from '../modules/orders/order.service';
import type { ModelService } from '../modules/models/model.service';
import type { CampaignService } from '../modules/campaigns/campaign.service';
import type { RewardService } from '../modules/rewards/reward.service';
import { createPointsLoaders, type PointsLoaders } from '../modules/ledger/points.loaders';
import { createTierLoaders, type TierLoaders } from '../modules/tiers/tier.loaders';
import { createOrderLoaders, type OrderLoaders } from '../modules/orders/order.loaders';
import { createModelLoaders, type ModelLoaders } from '../modules/models/model.loaders';
import { createCampaignLoaders, type CampaignLoaders } from '../modules/campaigns/campaign.loaders';
import { createRewardLoaders, type RewardLoaders } from '../modules/rewards/reward.loaders';

/**
 * Per-request batching for aggregates that a list of members fans out to: every module's slice in one object. A
 * resolver names the slices it reads (`ResolverContext<PointsLoaders & TierLoaders>`), so a slice used by a resolver
 * must be listed here.
 */
export type Loaders = PointsLoaders & TierLoaders & OrderLoaders & ModelLoaders & CampaignLoaders & RewardLoaders;

/** The services the loaders read through, as composition hands them over. */
export interface LoaderServices {
  points: PointsService;
  tiers: TierService;
  orders: OrderService;
  models: ModelService;
  campaigns: CampaignService;
  rewards: RewardService;
}

export function createLoaders(em: EntityManager, services: LoaderServices): Loaders {
  return {
    ...createPointsLoaders(em, services.points),
    ...createTierLoaders(em, services.tiers),
    ...createOrderLoaders(em, services.orders),
    ...createModelLoaders(em, services.models),
    ...createCampaignLoaders(em, services.campaigns),
    ...createRewardLoaders(em, services.rewards),
  };
}
