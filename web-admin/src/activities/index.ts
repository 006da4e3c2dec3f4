import type { RouteObject } from 'react-router';
import { ActivityTypeList } from './ActivityTypeList';

/** Activity types, their rules and results (activities plugin): programme set-up, as rewards and tiers are. */
export const nav = { to: '/activities', label: 'Activities', permissions: ['activities:manage'] };

export const routes: RouteObject[] = [{ path: 'activities', Component: ActivityTypeList }];

export { MemberActivitiesCard } from './MemberActivitiesCard';
