import type { OperationsPage } from '../operations/operations-page';
import { AdminUsersPage } from './AdminUsersPage';

export const page: OperationsPage = {
  to: '/operations/admin-users',
  label: 'Admin users',
  permissions: ['admin:manage'],
  routes: [{ path: 'admin-users', Component: AdminUsersPage }],
};
