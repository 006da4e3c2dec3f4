import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../services';
import type { MemberPoints } from '../ledger/points.types';
import type { Tier } from '../tiers/tier.entity';
import { createModelLoaders, type ModelLoaders } from '../models/model.loaders';
import { createOrderLoaders, type OrderLoaders } from '../orders/order.loaders';
import type { CampaignCounts } from '../campaigns/campaign.types';
import type { MemberCard } from '../members/member-card';

/** Per-request batching for aggregates that a list of members fans out to. */
export interface Loaders {
  points: DataLoader<string, MemberPoints>;
  /** The member's tier (their recorded one, else the tier with threshold 0), keyed by member id. */
  tiers: DataLoader<string, Tier | null>;
  orders: OrderLoaders;
  models: ModelLoaders;
  /** Members, contacts and messages of a campaign, keyed by campaign id. */
  campaignCounts: DataLoader<string, CampaignCounts>;
}

export function createLoaders(em: EntityManager, services: Pick<Services, 'points' | 'tiers' | 'orders' | 'models' | 'campaigns'>): Loaders {
  return {
    points: new DataLoader((ids) => services.points.pointsOf(em, ids)),
    tiers: new DataLoader((ids) => services.tiers.currentOf(em, ids)),
    orders: createOrderLoaders(em, services.orders),
    models: createModelLoaders(em, services.models),
    campaignCounts: new DataLoader((ids) => services.campaigns.countsOf(em, ids)),
  };
}

/** Hands the balance and tier a member card statement read (members/member-card.ts) to the request's loaders. */
export function primeCard(loaders: Pick<Loaders, 'points' | 'tiers'>): (card: MemberCard) => void {
  return (card) => {
    loaders.points.prime(card.memberId, card.points);
    loaders.tiers.prime(card.memberId, card.tier);
  };
}
