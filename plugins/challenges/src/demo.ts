import { DAY_MS, type PluginDemo } from '@loyalty/api/extension-api';
import { Challenge, ChallengeRewardKind } from './challenge.entity';
import { ChallengeService } from './challenge.service';
import { ChallengeGoalKind } from './goals';

/**
 * The demo's running challenge: three orders in a month that began two weeks ago, worth 200 points, with a 10 %
 * holdout. Declared before the demo's history is imported, so the history's recent orders count towards it: members
 * are part way through it, some finished. Once.
 */
export async function demoProgramme({ ctx, services, now }: PluginDemo): Promise<void> {
  if (await ctx.em.fork().count(Challenge, { code: 'three_orders_this_month' })) return;
  await new ChallengeService(services).create(ctx, {
    code: 'three_orders_this_month',
    name: 'Three orders this month',
    description: 'Place three orders before the month is out for 200 bonus points.',
    goalKind: ChallengeGoalKind.ORDER_COUNT,
    target: 3,
    startsAt: new Date(now.getTime() - 14 * DAY_MS),
    endsAt: new Date(now.getTime() + 16 * DAY_MS),
    reward: { kind: ChallengeRewardKind.POINTS, points: 200 },
    holdoutPercent: 10,
    isActive: true,
  });
}
