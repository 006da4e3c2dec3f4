import type { CampaignFieldsFragment, CampaignStatus } from '../gql/graphql';
import { formatDecimal, formatInteger, formatPercent, humanize } from '../shared/format';
import type { Tone } from '../shared/ui';

export const statusTones: Record<CampaignStatus, Tone> = {
  DRAFT: 'neutral',
  SCHEDULED: 'info',
  ACTIVE: 'good',
  ENDED: 'neutral',
  CANCELLED: 'warn',
};

/**
 * A difference of purchase rates in percentage points, to one decimal as the API's verdict writes it (`pp` in
 * api/src/modules/campaigns/campaign.service.ts): the card under the verdict reads "+5.2 pts" where it says "+5.2 points".
 */
export function formatRateUplift(difference: number): string {
  return `${difference > 0 ? '+' : ''}${formatDecimal(difference * 100, 1)} pts`;
}

/** What treated members get, one phrase per action, bonus points first, then the offer, then the message. */
export function describeActions(c: Pick<CampaignFieldsFragment, 'bonus' | 'offer' | 'message'>): string[] {
  const phrases: string[] = [];
  if (c.bonus) {
    phrases.push(
      c.bonus.fixedPoints != null
        ? `${formatInteger(c.bonus.fixedPoints)} bonus points per order`
        : `${formatPercent((c.bonus.multiplierPercent ?? 100) / 100)} of order points (×${(c.bonus.multiplierPercent ?? 100) / 100})`,
    );
  }
  if (c.offer) {
    phrases.push(c.offer.kind === 'REWARD_DISCOUNT' ? `${c.offer.discountPercent}% off a reward` : `${c.offer.recommendationCount} recommended products`);
  }
  if (c.message) phrases.push(`${humanize(c.message.medium)} message${c.message.subject ? `: “${c.message.subject}”` : ''}`);
  return phrases;
}

/** Every action in a few words, for a table cell: "25 bonus points per order · 3 recommended products". */
export function describeAction(c: Pick<CampaignFieldsFragment, 'bonus' | 'offer' | 'message'>): string {
  return describeActions(c).join(' · ');
}

/**
 * What a campaign's offer recorded for the member (docs/concepts/campaigns.md): its recommended products by name, best
 * first, or a reward at its discounted cost.
 */
export function describeOffer(offer: unknown): string | null {
  if (!offer || typeof offer !== 'object') return null;
  const o = offer as { products?: { name?: unknown; sku?: unknown; rank?: unknown }[]; rewardCode?: unknown; discountPercent?: unknown; costPoints?: unknown };
  if (Array.isArray(o.products)) {
    const names = [...o.products]
      .sort((a, b) => Number(a.rank ?? 0) - Number(b.rank ?? 0))
      .map((p) => String(p.name ?? p.sku ?? ''))
      .filter(Boolean);
    if (names.length === 0) return null;
    return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }
  if (typeof o.rewardCode === 'string') {
    return `${o.rewardCode}${typeof o.discountPercent === 'number' ? ` at ${o.discountPercent}% off` : ''}${typeof o.costPoints === 'number' ? ` (${formatInteger(o.costPoints)} points)` : ''}`;
  }
  return null;
}
