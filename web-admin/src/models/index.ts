import type { RouteObject } from 'react-router';
import { ModelsPage } from './ModelsPage';

export const nav = { to: '/models', label: 'Models' };

export const routes: RouteObject[] = [{ path: 'models', Component: ModelsPage }];
