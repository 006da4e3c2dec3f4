import type { ChallengeFieldsFragment, ChallengeGoalKind, ChallengeStatus } from '../gql/graphql';
import { formatInteger, formatMoney } from '../shared/format';
import type { Tone } from '../shared/ui';

export const statusTones: Record<ChallengeStatus, Tone> = { DRAFT: 'neutral', SCHEDULED: 'info', RUNNING: 'good', ENDED: 'neutral' };

export const goalLabels: Record<ChallengeGoalKind, string> = {
  ORDER_COUNT: 'Orders',
  SPEND: 'Spend',
  DISTINCT_CATEGORIES: 'Different categories',
  ACTIVITY_COUNT: 'Activities of a type',
  STREAK_DAYS: 'Streak of days',
  STREAK_WEEKS: 'Streak of weeks',
};

type GoalOf = Pick<ChallengeFieldsFragment, 'goalKind' | 'target' | 'activityType' | 'currency' | 'personalisation' | 'personalDelta'>;

/** "3 orders", "£50.00 spent", "a 5-day streak of store_visit", with the personal rule when there is one. */
export function describeGoal(c: GoalOf): string {
  const n = formatInteger(c.target);
  const of = c.activityType ? ` of ${c.activityType}` : '';
  const goal = {
    ORDER_COUNT: `${n} ${c.target === 1 ? 'order' : 'orders'}`,
    SPEND: `${formatMoney(c.target, c.currency)} spent`,
    DISTINCT_CATEGORIES: `${n} different categories`,
    ACTIVITY_COUNT: `${n} × ${c.activityType}`,
    STREAK_DAYS: `a ${n}-day streak${of || ' of orders'}`,
    STREAK_WEEKS: `a ${n}-week streak${of || ' of orders'}`,
  }[c.goalKind];
  if (c.personalisation !== 'PERSONAL_PLUS') return goal;
  const delta = c.goalKind === 'SPEND' ? formatMoney(c.personalDelta, c.currency) : formatInteger(c.personalDelta);
  return `their usual + ${delta} (at least ${goal})`;
}

export function describeReward(c: Pick<ChallengeFieldsFragment, 'rewardKind' | 'rewardPoints' | 'badgeName' | 'rewardId'>): string {
  if (c.rewardKind === 'POINTS') return `${formatInteger(c.rewardPoints)} points`;
  if (c.rewardKind === 'BADGE') return `Badge “${c.badgeName}”`;
  return 'A catalogue reward';
}
