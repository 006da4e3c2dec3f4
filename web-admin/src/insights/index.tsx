import { Navigate, type RouteObject } from 'react-router';
import { RfmPage } from './RfmPage';

/** Analysis of the programme's members and orders: RFM segments for now (cohort retention is on the dashboard). */
export const nav = { to: '/insights', label: 'Insights', permissions: ['analytics:read'] };

export const routes: RouteObject[] = [
  {
    path: 'insights',
    children: [
      { index: true, element: <Navigate to="rfm" replace /> },
      { path: 'rfm', Component: RfmPage },
    ],
  },
];
