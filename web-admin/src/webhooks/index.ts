import type { OperationsPage } from '../operations/operations-page';
import { WebhooksPage } from './WebhooksPage';

export const page: OperationsPage = {
  to: '/operations/webhooks',
  label: 'Webhooks',
  permissions: ['admin:manage'],
  routes: [{ path: 'webhooks/:id?', Component: WebhooksPage }],
};
