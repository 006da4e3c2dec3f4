import { describeOffer, formatRateUplift } from '../../web-admin/src/campaigns/campaign-format';
import { isChurnTraining, npsLine, npsTooFewNote, npsTooltip } from '../../web-admin/src/dashboard/dashboard-format';
import { gateReasonText, jobWhen } from '../../web-admin/src/models/model-format';
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

describe("the admin app's words for uplifts, NPS points, gate reasons and training jobs", () => {
  it("writes a purchase-rate uplift to one decimal, as the API's verdict does (+5.2 points, not +5.21)", () => {
    expect([0.05214, 0.4, -0.0125, 0, -0.0001].map(formatRateUplift)).toEqual(['+5.2 pts', '+40.0 pts', '-1.3 pts', '0.0 pts', '-0.0 pts']);
    // The verdict's own rule (campaign.service.ts `pp`), on the same values.
    const pp = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
    for (const x of [0.05214, 0.4, -0.0125, 0, -0.0001, 0.00049, 0.123456]) expect(formatRateUplift(x)).toBe(`${pp(x)} pts`);
  });

  it('leaves weeks with fewer than 5 NPS answers off the line, and says in each tooltip how many answers a point is from', () => {
    const week = (start: string, responses: number, score: number | null) => ({ start, nps: { responses, score } });
    const series = [week('2026-11-30', 12, 25), week('2026-12-07', 0, null), week('2026-12-14', 2, -100)];
    expect(npsLine(series)).toEqual([25, null, null]);
    expect(npsTooltip('30 Nov', series[0])).toBe('30 Nov: NPS 25 from 12 answers');
    expect(npsTooltip('7 Dec', series[1])).toBe('7 Dec: no answers');
    expect(npsTooltip('14 Dec', series[2])).toBe('14 Dec: 2 answers, too few for an NPS (fewer than 5: not drawn)');
    expect(npsTooltip('14 Dec', week('2026-12-14', 1, 100))).toContain('1 answer,');
    expect(npsTooFewNote('WEEK', series.map((b, i) => ({ label: ['30 Nov', '7 Dec', '14 Dec'][i], bucket: b })))).toBe(
      'Weeks with fewer than 5 answers are not drawn on the NPS line, so few answers swing it: 14 Dec (2 answers)',
    );
    expect(npsTooFewNote('WEEK', [{ label: '30 Nov', bucket: series[0] }])).toBeNull();
  });

  it("reads the gate's decision once: 'promoted: …' after Promoted drops its own word; a longer reason stays whole", () => {
    expect(gateReasonText({ isPromoted: true, gateReason: 'promoted: gini 0.6123 > BGNBD-GG 0.5800' })).toBe('gini 0.6123 > BGNBD-GG 0.5800');
    expect(gateReasonText({ isPromoted: false, gateReason: 'kept out: rocAuc 0.5 does not beat RECENCY 0.6' })).toBe('rocAuc 0.5 does not beat RECENCY 0.6');
    const standIn = 'in place of TF-VALUE, kept out: gini 0.76 does not beat BGNBD-GG 0.79 — promoted: gini 0.79 > PAST-SPEND 0.72';
    expect(gateReasonText({ isPromoted: true, gateReason: standIn })).toBe(standIn);
    expect(gateReasonText({ isPromoted: true, gateReason: 'beats every baseline' })).toBe('beats every baseline');
    expect(gateReasonText({ isPromoted: null, gateReason: null })).toBeNull();
  });

  it('says when a delayed training job will run, and when any other was queued', () => {
    expect(jobWhen({ state: 'DELAYED', createdAt: '2026-12-01T10:00:00Z', runAt: '2026-12-02T03:00:00Z' })).toBe('Runs 2 Dec 2026, 03:00');
    expect(jobWhen({ state: 'WAITING', createdAt: '2026-12-01T10:00:00Z', runAt: null })).toBe('Queued 1 Dec 2026, 10:00');
  });

  it('counts a churn job as training while queued, running or retrying, not the nightly retrain waiting for its hour', () => {
    expect(['WAITING', 'ACTIVE'].map((state) => isChurnTraining({ state, attemptsMade: 0 }))).toEqual([true, true]);
    expect(isChurnTraining({ state: 'DELAYED', attemptsMade: 1 })).toBe(true);
    expect(['DELAYED', 'COMPLETED', 'FAILED'].map((state) => isChurnTraining({ state, attemptsMade: 0 }))).toEqual([false, false, false]);
  });
});
