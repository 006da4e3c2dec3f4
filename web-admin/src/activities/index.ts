import type { RouteObject } from 'react-router';
import type { AdminRole } from '../gql/graphql';
import { ActivityTypeList } from './ActivityTypeList';

/** Activity types, their rules and results (activities plugin): programme set-up, as rewards and tiers are. */
export const nav: { to: string; label: string; roles: readonly AdminRole[] } = { to: '/activities', label: 'Activities', roles: ['ADMIN', 'MARKETER'] };

export const routes: RouteObject[] = [{ path: 'activities', Component: ActivityTypeList }];

export { MemberActivitiesCard } from './MemberActivitiesCard';
