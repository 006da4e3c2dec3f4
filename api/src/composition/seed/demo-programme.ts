import { EarningRule, EarningRuleKind } from '../../modules/earning/earning-rule.entity';
import { Tier } from '../../modules/tiers/tier.entity';
import { Reward, RewardKind } from '../../modules/rewards/reward.entity';
import type { DemoSeedStep } from './demo-context';

/** Reward codes the other steps and the README's journey use. */
export const DEMO_REWARDS = { freeBag: 'FREE-JUMBO-BAG', fiveOff: 'FIVE-OFF', goldPercent: 'GOLD-20', donation: 'FOOD-BANK' } as const;

/**
 * The programme of a giftware shop: 1 point per pound (double at weekends), three tiers on points earned in a year
 * (on the demo slice about two customers in five reach Silver or Gold, one in six Gold), and rewards from a free bag
 * to a donation.
 */
export const programmeStep: DemoSeedStep = {
  name: 'programme',
  async run({ ctx, services, rootEm }) {
    const em = rootEm.fork();
    if ((await em.count(EarningRule, {})) === 0) {
      for (const currency of ['GBP', 'EUR']) {
        await services.earningRules.create(ctx(), { name: `1 point per ${currency} 1`, kind: EarningRuleKind.BASE_RATE, priority: 0, currency, points: 1, perMinor: 100 });
      }
      await services.earningRules.create(ctx(), {
        name: 'Double points at weekends',
        kind: EarningRuleKind.BONUS,
        priority: 0,
        multiplierPercent: 200,
        daysOfWeek: [0, 6],
      });
    }
    if ((await em.count(Tier, {})) === 0) {
      await services.tiers.upsert(ctx(), { code: 'GREEN', name: 'Green', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
      await services.tiers.upsert(ctx(), { code: 'SILVER', name: 'Silver', threshold: 1000, earnMultiplierPercent: 125, benefitFlags: [] });
      await services.tiers.upsert(ctx(), { code: 'GOLD', name: 'Gold', threshold: 3000, earnMultiplierPercent: 150, benefitFlags: ['FREE_DELIVERY'] });
    }
    if ((await em.count(Reward, {})) === 0) {
      const rewards = [
        { code: DEMO_REWARDS.freeBag, name: 'A free jumbo bag', kind: RewardKind.FREE_PRODUCT, sku: '85099B', costPoints: 150 },
        { code: DEMO_REWARDS.fiveOff, name: '£5 off your next order', kind: RewardKind.FIXED_DISCOUNT, valueMinor: 500, currency: 'GBP', costPoints: 500 },
        { code: DEMO_REWARDS.goldPercent, name: '20% off for Gold members', kind: RewardKind.PERCENT_DISCOUNT, percentOff: 20, costPoints: 800, tierCodes: ['GOLD'] },
        { code: DEMO_REWARDS.donation, name: 'Give 100 points to the food bank', kind: RewardKind.DONATION, partner: 'Local food bank', costPoints: 100 },
      ];
      for (const r of rewards) await services.rewards.upsert(ctx(), { tierCodes: [], isActive: true, ...r } as never);
    }
  },
};
