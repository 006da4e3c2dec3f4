import type { RouteObject } from 'react-router';
import { SegmentsPage } from './SegmentsPage';

export const nav = { to: '/segments', label: 'Segments' };

export const routes: RouteObject[] = [{ path: 'segments', Component: SegmentsPage }];
