import type { OperationsPage } from '../operations/operations-page';
import { AuditLogPage } from './AuditLogPage';

export const page: OperationsPage = {
  to: '/operations/audit',
  label: 'Audit log',
  permissions: ['admin:manage'],
  routes: [{ path: 'audit', Component: AuditLogPage }],
};
