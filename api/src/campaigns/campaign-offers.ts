import type { EntityManager } from '@mikro-orm/postgresql';

/** A treated member's live REWARD_DISCOUNT offer for one reward. */
export interface RewardOffer {
  campaignId: string;
  costPoints: number;
}

/**
 * The redemption side of REWARD_DISCOUNT campaigns: while the campaign runs, a treated member redeems the offered
 * reward once at the discounted cost recorded for them at contact (`campaign_member.offer.costPoints`). Runs inside
 * the redemption's transaction, after the member's balance lock, which serialises a member's redemptions.
 */
export class CampaignOfferService {
  /** The cheapest unused offer of a running campaign for this member and reward, or null. */
  async offerFor(em: EntityManager, memberId: string, rewardId: string, at: Date): Promise<RewardOffer | null> {
    const [row] = await em.execute<{ campaign_id: string; cost_points: number }[]>(
      `select c.id as campaign_id, (cm.offer->>'costPoints')::int as cost_points
       from campaign_member cm join campaign c on c.id = cm.campaign_id
       where cm.member_id = ? and cm.assigned_group = 'TREATED' and cm.offer is not null and cm.offer->>'redemptionId' is null
         and c.action_kind = 'OFFER' and c.offer_kind = 'REWARD_DISCOUNT' and c.offer_reward_id = ?
         and c.status in ('SCHEDULED', 'ACTIVE') and c.starts_at <= ? and (c.ends_at is null or c.ends_at > ?)
       order by cost_points, c.id
       limit 1`,
      [memberId, rewardId, at, at],
    );
    return row ? { campaignId: row.campaign_id, costPoints: row.cost_points } : null;
  }

  /** Records that the offer was used, so that it gives its discount once. */
  async markUsed(em: EntityManager, offer: RewardOffer, memberId: string, redemptionId: string, at: Date): Promise<void> {
    await em.execute(
      `update campaign_member set offer = offer || jsonb_build_object('redemptionId', ?::text, 'redeemedAt', ?::text)
       where campaign_id = ? and member_id = ?`,
      [redemptionId, at.toISOString(), offer.campaignId, memberId],
    );
  }
}
