import type { RouteObject } from 'react-router';
import { ChallengeDetail } from './ChallengeDetail';
import { ChallengeList } from './ChallengeList';

export const nav = { to: '/challenges', label: 'Challenges', permissions: ['challenges:read'] };

export const routes: RouteObject[] = [
  { path: 'challenges', Component: ChallengeList },
  { path: 'challenges/:id', Component: ChallengeDetail },
];
