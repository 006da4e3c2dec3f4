import type { RouteObject } from 'react-router';
import { MemberDetail } from './MemberDetail';
import { MemberList } from './MemberList';

export const nav = { to: '/members', label: 'Members' };

export const routes: RouteObject[] = [
  { path: 'members', Component: MemberList },
  { path: 'members/:id', Component: MemberDetail },
];
