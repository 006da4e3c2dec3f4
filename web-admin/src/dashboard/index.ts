import type { RouteObject } from 'react-router';
import { Dashboard } from './Dashboard';

export const nav = { to: '/dashboard', label: 'Dashboard' };

export const routes: RouteObject[] = [{ path: 'dashboard', Component: Dashboard }];
