import { describeOffer } from '../../web-admin/src/campaigns/campaign-format';
import { formatMoneyCompact } from '../../web-admin/src/shared/format';

describe("the admin app's words for campaign offers and chart money", () => {
  it("names a member's recommended products best first, as the campaign recorded them (campaign_member.offer)", () => {
    const products = [
      { productId: 'p2', sku: '23355', name: 'HOT WATER BOTTLE KEEP CALM', rank: 2, modelVersionId: 'v' },
      { productId: 'p1', sku: '23439', name: 'HAND WARMER RED LOVE HEART', rank: 1, modelVersionId: 'v' },
      { productId: 'p3', sku: '15056N', name: 'EDWARDIAN PARASOL NATURAL', rank: 3, modelVersionId: 'v' },
    ];
    expect(describeOffer({ products })).toBe('HAND WARMER RED LOVE HEART, HOT WATER BOTTLE KEEP CALM and EDWARDIAN PARASOL NATURAL');
    expect(describeOffer({ products: [{ sku: 'MUG', rank: 1 }] })).toBe('MUG');
    expect(describeOffer({ rewardId: 'r', rewardCode: 'FIVE-OFF', discountPercent: 20, costPoints: 400 })).toBe('FIVE-OFF at 20% off (400 points)');
    // A member the recommender had nothing for gets no offer.
    for (const none of [null, undefined, {}, { products: [] }, 'text']) expect(describeOffer(none)).toBeNull();
  });

  it('writes chart ticks of money short enough to stand side by side', () => {
    expect([0, 2_000_000, 12_000_000, 150, 100_000_000_000].map((minor) => formatMoneyCompact(minor, 'GBP'))).toEqual(['£0', '£20k', '£120k', '£1.5', '£1bn']);
    // In the currency's own decimals: 50,000 yen, not 500.
    expect(formatMoneyCompact(50_000, 'JPY')).toBe('JP¥50k');
  });
});
