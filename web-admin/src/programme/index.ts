import type { RouteObject } from 'react-router';
import { EarningRuleList } from './EarningRuleList';
import { PlanList } from './PlanList';
import { RewardList } from './RewardList';
import { TierList } from './TierList';

// For those who set the programme up (analysts work on behaviour instead); each page says what the role may change.
const permissions = ['programme:manage', 'rewards:manage'];

/** The programme's set-up: one resource per page. */
export const resources: { nav: { to: string; label: string; permissions: readonly string[] }; routes: RouteObject[] }[] = [
  { nav: { to: '/rewards', label: 'Rewards', permissions }, routes: [{ path: 'rewards', Component: RewardList }] },
  { nav: { to: '/tiers', label: 'Tiers', permissions }, routes: [{ path: 'tiers', Component: TierList }] },
  { nav: { to: '/earning-rules', label: 'Earning rules', permissions }, routes: [{ path: 'earning-rules', Component: EarningRuleList }] },
  { nav: { to: '/plans', label: 'Plans', permissions }, routes: [{ path: 'plans', Component: PlanList }] },
];
