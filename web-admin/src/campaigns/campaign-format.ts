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
