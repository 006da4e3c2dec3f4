import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CampaignService } from './campaign.service';
import type { CampaignCounts } from './campaign.types';

export interface CampaignLoaders {
  /** Members, contacts and messages of a campaign, keyed by campaign id. */
  campaignCounts: DataLoader<string, CampaignCounts>;
}

export function createCampaignLoaders(em: EntityManager, campaigns: CampaignService): CampaignLoaders {
  return { campaignCounts: new DataLoader((ids) => campaigns.countsOf(em, ids)) };
}
