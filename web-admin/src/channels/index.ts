import type { OperationsPage } from '../operations/operations-page';
import { ChannelsPage } from './ChannelsPage';

export const page: OperationsPage = {
  to: '/operations/channels',
  label: 'Channels & API keys',
  permissions: ['admin:manage'],
  routes: [{ path: 'channels', Component: ChannelsPage }],
};
