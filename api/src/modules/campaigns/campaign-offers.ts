import type { EntityManager } from '@mikro-orm/postgresql';

/** A treated member's live REWARD_DISCOUNT offer for one reward. */
export interface RewardOffer {
  campaignId: string;
  costPoints: number;
}

/**
 * The redemption side of a campaign's REWARD_DISCOUNT offer: while the campaign runs, a treated member redeems the offered
 * reward once at the discounted cost recorded for them at contact (`campaign_member.offer.costPoints`). Runs inside
 * the redemption's transaction, after the member's balance lock, which serialises a member's redemptions. The offer
 * itself (the cheapest unused one of a running campaign) is read with the redemption's other inputs
 * (modules/rewards/redemption-reads.ts).
 */
export class CampaignOfferService {
  /** Records that the offer was used, so that it gives its discount once. */
  async markUsed(em: EntityManager, offer: RewardOffer, memberId: string, redemptionId: string, at: Date): Promise<void> {
    await em.execute(
      `update campaign_member set offer = offer || jsonb_build_object('redemptionId', ?::text, 'redeemedAt', ?::text)
       where campaign_id = ? and member_id = ?`,
      [redemptionId, at.toISOString(), offer.campaignId, memberId],
    );
  }
}
