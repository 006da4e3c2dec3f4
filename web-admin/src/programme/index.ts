import type { RouteObject } from 'react-router';
import type { AdminRole } from '../gql/graphql';
import { EarningRuleList } from './EarningRuleList';
import { PlanList } from './PlanList';
import { RewardList } from './RewardList';
import { TierList } from './TierList';

// Analysts work on behaviour, not on the programme's set-up.
const roles: readonly AdminRole[] = ['ADMIN', 'MARKETER'];

/** The programme's set-up: one resource per page. */
export const resources: { nav: { to: string; label: string; roles: readonly AdminRole[] }; routes: RouteObject[] }[] = [
  { nav: { to: '/rewards', label: 'Rewards', roles }, routes: [{ path: 'rewards', Component: RewardList }] },
  { nav: { to: '/tiers', label: 'Tiers', roles }, routes: [{ path: 'tiers', Component: TierList }] },
  { nav: { to: '/earning-rules', label: 'Earning rules', roles }, routes: [{ path: 'earning-rules', Component: EarningRuleList }] },
  { nav: { to: '/plans', label: 'Plans', roles }, routes: [{ path: 'plans', Component: PlanList }] },
];
