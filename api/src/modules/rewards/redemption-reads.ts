import type { EntityManager } from '@mikro-orm/postgresql';
import type { RewardOffer } from '../campaigns/campaign-offers';
import { Reward } from './reward.entity';

/** Parameters: member, member, member, member, at, at, reward. */
export const REDEMPTION_INPUTS_SQL = `select r.*,
    (select t.code from tier t
      where t.id = coalesce((select mt.tier_id from member_tier mt where mt.member_id = ?), (select b.id from tier b where b.threshold = 0))) as redeem_tier_code,
    case when r.per_member_limit is not null then
      (select count(*)::int from redemption x where x.member_id = ? and x.reward_id = r.id and x.status in ('ISSUED', 'CONSUMED'))
    end as redeem_held,
    (select jsonb_build_object('campaignId', c.id, 'costPoints', (cm.offer->>'costPoints')::int)
       from campaign_member cm join campaign c on c.id = cm.campaign_id
       where cm.member_id = ? and cm.assigned_group = 'TREATED' and cm.offer is not null and cm.offer->>'redemptionId' is null
         and c.offer_kind = 'REWARD_DISCOUNT' and c.offer_reward_id = r.id
         and c.status in ('SCHEDULED', 'ACTIVE') and c.starts_at <= ? and (c.ends_at is null or c.ends_at > ?)
       order by (cm.offer->>'costPoints')::int, c.id
       limit 1) as redeem_offer
  from reward r where r.id = ?`;

/** What a redemption checks once the member's balance is locked. */
export interface RedemptionReads {
  reward: Reward;
  /** The member's tier code (their recorded tier, else the threshold-0 tier), for tier-only rewards. */
  tierCode: string | null;
  /** Redemptions of this reward the member holds (ISSUED or CONSUMED); counted only when the reward has a limit. */
  held: number;
  /** The member's live REWARD_DISCOUNT offer for it (CampaignOfferService.offerFor), if any. */
  offer: RewardOffer | null;
}

/**
 * The reward, the member's tier, how many of it they hold and their campaign offer for it, in one round trip instead
 * of four (same answers as TierService.current, the count and CampaignOfferService.offerFor). Null: no such reward.
 */
export async function readRedemptionInputs(em: EntityManager, memberId: string, rewardId: string, at: Date): Promise<RedemptionReads | null> {
  const [row] = await em.execute<Record<string, unknown>[]>(REDEMPTION_INPUTS_SQL, [memberId, memberId, memberId, at, at, rewardId]);
  return row ? redemptionInputsOf(em, row) : null;
}

/** REDEMPTION_INPUTS_SQL's row as RedemptionReads. */
export function redemptionInputsOf(em: EntityManager, row: Record<string, unknown>): RedemptionReads {
  const { redeem_tier_code, redeem_held, redeem_offer, ...rewardRow } = row as Record<string, unknown> & {
    redeem_tier_code: string | null;
    redeem_held: number | null;
    redeem_offer: RewardOffer | null;
  };
  return { reward: em.map(Reward, rewardRow), tierCode: redeem_tier_code, held: redeem_held ?? 0, offer: redeem_offer };
}
