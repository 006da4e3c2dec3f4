import type { RouteObject } from 'react-router';
import { MemberList } from './MemberList';

export const nav = { to: '/members', label: 'Members' };

export const routes: RouteObject[] = [{ path: 'members', Component: MemberList }];
