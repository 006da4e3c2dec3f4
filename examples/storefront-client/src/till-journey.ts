import { randomUUID } from 'node:crypto';
import { LoyaltyApiError, type EnrolMemberInput, type IdentifierType, type LoyaltyClient, type OrderLineInput } from '@loyalty/client';

/** How the till knows the shopper: an email, or a loyalty card number (the channel's own customer id). */
export type Shopper = { email: string } | { cardNumber: string };

export interface TillJourneyOptions {
  /** Enrolled when new, looked up when already a member. */
  shopper: Shopper;
  firstName?: string;
  /** The till's own order id: a retry with the same id and contents returns the stored order. */
  externalOrderId?: string;
  /** Default now. */
  placedAt?: Date;
  storeCode?: string;
  lines?: OrderLineInput[];
}

export interface TillJourneyResult {
  memberId: string;
  isNewMember: boolean;
  orderId: string;
  pointsEarned: number;
  points: { available: number; pending: number };
  recommendedSkus: string[];
  redemption:
    | { rewardCode: string; status: string; voucherCode: string | null }
    | { rewardCode: string; refusedWith: LoyaltyApiError['code'] }
    | null;
}

const BASKET: OrderLineInput[] = [
  { sku: 'COFFEE-BEANS-1KG', name: 'Coffee beans 1 kg', category: 'Coffee', quantity: 1, unitPriceMinor: 1800 },
  { sku: 'MUG-BLUE', name: 'Blue mug', category: 'Kitchen', quantity: 2, unitPriceMinor: 650 },
];

function identify(shopper: Shopper): { enrol: EnrolMemberInput; type: IdentifierType; value: string } {
  return 'email' in shopper
    ? { enrol: { email: shopper.email }, type: 'EMAIL', value: shopper.email }
    : { enrol: { channelCustomerId: shopper.cardNumber }, type: 'CHANNEL_CUSTOMER_ID', value: shopper.cardNumber };
}

const money = (minor: number, currency: string) => `${currency} ${(minor / 100).toFixed(2)}`;

/**
 * What a till does for a shopper at checkout, through the typed client: enrol (or find) the shopper, record the
 * sale, show the points and what to offer next, and redeem a reward. Each step prints a line through `say`.
 */
export async function runTillJourney(client: LoyaltyClient, options: TillJourneyOptions, say: (line: string) => void): Promise<TillJourneyResult> {
  // 1. Enrol, or find the member when the identifier is already taken: a CONFLICT whose reason says so. (Enrolling
  // first is one call for a new shopper, and safe when two tills enrol the same one.)
  const shopper = identify(options.shopper);
  let memberId: string;
  let isNewMember = true;
  try {
    const { enrolMember } = await client.enrolMember({ input: { ...shopper.enrol, firstName: options.firstName, country: 'GB' } });
    memberId = enrolMember.id;
    say(`Enrolled ${shopper.value} as member ${memberId}`);
  } catch (err) {
    if (!(err instanceof LoyaltyApiError && err.code === 'CONFLICT' && err.extensions.reason === 'IDENTIFIER_TAKEN')) throw err;
    const { memberByIdentifier } = await client.findMember({ type: shopper.type, value: shopper.value });
    if (!memberByIdentifier) throw err;
    memberId = memberByIdentifier.id;
    isNewMember = false;
    say(`${shopper.value} is already member ${memberId}`);
  }

  // 2. Record the sale; the external order id makes a retry safe.
  const lines = options.lines ?? BASKET;
  const totalMinor = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor - (l.discountMinor ?? 0), 0);
  const { recordOrder: order } = await client.recordOrder({
    input: {
      externalOrderId: options.externalOrderId ?? `TILL-${randomUUID()}`,
      member: { id: memberId },
      placedAt: (options.placedAt ?? new Date()).toISOString(),
      currency: 'GBP',
      storeCode: options.storeCode,
      lines,
      totalMinor,
    },
  });
  const breakdown = order.pointsBreakdown.map((l) => `${l.label} ${l.points}`).join(', ');
  say(`Order ${order.externalOrderId}: ${money(order.totalMinor, order.currency)}, +${order.pointsEarned} points${breakdown ? ` (${breakdown})` : ''}`);

  // 3. Points, tier and the rewards worth offering.
  const { member } = await client.memberAccount({ id: memberId, ordersFirst: 3, rewardsFirst: 5 });
  say(`Points: ${member.points.available} available, ${member.points.pending} pending (released after the return window)`);
  if (member.tier) say(`Tier: ${member.tier.name}${member.tierProgress?.nextTier ? `, ${member.tierProgress.missing} points to ${member.tierProgress.nextTier.name}` : ''}`);
  for (const s of member.recommendedRewards) {
    say(`  Reward ${s.reward.code} (${s.reward.costPoints} points): ${s.canAffordNow ? 'affordable now' : `${s.pointsShort} points short`} - ${s.reason}`);
  }

  // 4. Products to suggest, from the active recommender (empty until one is trained).
  const { member: withRecommendations } = await client.memberRecommendations({ id: memberId, first: 3 });
  const recommended = withRecommendations.recommendations;
  if (recommended.length === 0) say('Recommendations: none yet (no active recommender model)');
  for (const r of recommended) say(`  Suggest ${r.product.name} (${r.product.sku}): ${r.reason}`);

  // 5. Redeem: the first reward affordable now, else the cheapest, to show how a refusal reads.
  const affordable = member.recommendedRewards.find((s) => s.canAffordNow)?.reward;
  const { rewards } = await client.rewards();
  const reward = affordable ?? [...rewards].filter((r) => r.tierCodes.length === 0).sort((a, b) => a.costPoints - b.costPoints)[0];
  let redemption: TillJourneyResult['redemption'] = null;
  if (!reward) {
    say('No active reward to redeem');
  } else {
    try {
      const { redeemReward } = await client.redeemReward({ input: { memberId, rewardId: reward.id, idempotencyKey: randomUUID() } });
      redemption = { rewardCode: reward.code, status: redeemReward.status, voucherCode: redeemReward.voucherCode };
      say(`Redeemed ${reward.code} for ${redeemReward.points} points: ${redeemReward.status}${redeemReward.voucherCode ? `, voucher ${redeemReward.voucherCode}` : ''}`);
    } catch (err) {
      if (!(err instanceof LoyaltyApiError && err.code === 'INSUFFICIENT_POINTS')) throw err;
      redemption = { rewardCode: reward.code, refusedWith: err.code };
      say(`Cannot redeem ${reward.code} yet: ${err.extensions.available} of ${err.extensions.required} points available`);
    }
  }

  const { member: after } = await client.memberAccount({ id: memberId });
  return {
    memberId,
    isNewMember,
    orderId: order.id,
    pointsEarned: order.pointsEarned,
    points: { available: after.points.available, pending: after.points.pending },
    recommendedSkus: recommended.map((r) => r.product.sku),
    redemption,
  };
}
