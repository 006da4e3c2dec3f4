import { createHash } from 'node:crypto';
import { CampaignGroup } from './campaign.entity';

/**
 * A member's position in [0, 1) for a campaign: the first 32 bits of MD5("<campaign id>:<member id>") over 2^32.
 * Deterministic (the same pair always lands in the same place) and independent between campaigns; MD5 is used only
 * to spread ids evenly, not for security. `HOLDOUT_SQL` computes the same value in PostgreSQL for the launch insert.
 */
export function holdoutPosition(campaignId: string, memberId: string): number {
  const hex = createHash('md5').update(`${campaignId}:${memberId}`).digest('hex').slice(0, 8);
  return parseInt(hex, 16) / 2 ** 32;
}

/** HOLDOUT when the member's position falls below the share, so each member is held out with probability `share`. */
export function holdoutGroup(campaignId: string, memberId: string, share: number): CampaignGroup {
  return holdoutPosition(campaignId, memberId) < share ? CampaignGroup.HOLDOUT : CampaignGroup.TREATED;
}

/** `holdoutPosition` in SQL; binds the campaign id, reads the member id from `memberIdColumn`. */
export const holdoutPositionSql = (memberIdColumn: string) =>
  `(('x' || substr(md5(?::text || ':' || ${memberIdColumn}::text), 1, 8))::bit(32)::bigint / 4294967296.0)`;
