import type { CampaignFieldsFragment, CampaignStatus } from '../gql/graphql';
import { formatInteger, formatPercent, humanize } from '../shared/format';
import type { Tone } from '../shared/ui';

export const statusTones: Record<CampaignStatus, Tone> = {
  DRAFT: 'neutral',
  SCHEDULED: 'info',
  ACTIVE: 'good',
  ENDED: 'neutral',
  CANCELLED: 'warn',
};

/** What treated members get, in a few words. */
export function describeAction(c: Pick<CampaignFieldsFragment, 'actionKind' | 'bonus' | 'offer' | 'message'>): string {
  if (c.bonus) {
    return c.bonus.fixedPoints != null
      ? `${formatInteger(c.bonus.fixedPoints)} bonus points per order`
      : `${formatPercent((c.bonus.multiplierPercent ?? 100) / 100)} of order points (×${(c.bonus.multiplierPercent ?? 100) / 100})`;
  }
  if (c.offer) {
    return c.offer.kind === 'REWARD_DISCOUNT'
      ? `${c.offer.discountPercent}% off a reward`
      : `${c.offer.recommendationCount} recommended products`;
  }
  if (c.message) return `${humanize(c.message.medium)} message${c.message.subject ? `: “${c.message.subject}”` : ''}`;
  return humanize(c.actionKind);
}

/**
 * What an OFFER campaign recorded for the member (docs/concepts/campaigns.md): its recommended products by name, best
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
