import type { RouteObject } from 'react-router';
import { CampaignDetail } from './CampaignDetail';
import { CampaignList } from './CampaignList';

export const nav = { to: '/campaigns', label: 'Campaigns' };

export const routes: RouteObject[] = [
  { path: 'campaigns', Component: CampaignList },
  { path: 'campaigns/:id', Component: CampaignDetail },
  { path: 'campaigns/:id/results', Component: CampaignDetail },
];
