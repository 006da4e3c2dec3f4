import type { OperationsPage } from '../operations/operations-page';
import { PointsJobsPage } from './PointsJobsPage';

export const page: OperationsPage = {
  to: '/operations/points-jobs',
  label: 'Points jobs',
  permissions: ['programme:manage'],
  routes: [{ path: 'points-jobs', Component: PointsJobsPage }],
};
