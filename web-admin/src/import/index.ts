import type { OperationsPage } from '../operations/operations-page';
import { ImportPage } from './ImportPage';

export const page: OperationsPage = {
  to: '/operations/import',
  label: 'Import',
  permissions: ['import:run'],
  routes: [{ path: 'import/:id?', Component: ImportPage }],
};
