import type { RouteObject } from 'react-router';
import * as activities from './activities';
import * as campaigns from './campaigns';
import * as challenges from './challenges';
import * as dashboard from './dashboard';
import * as insights from './insights';
import * as members from './members';
import * as models from './models';
import * as operations from './operations';
import * as programme from './programme';
import * as segments from './segments';

/**
 * Every admin resource, each exporting `{ nav, routes }` from its folder's index.ts (programme/ as `resources`).
 * The first is the landing page. `nav.permissions` shows the link to admins holding any of them (as `me.permissions` lists); the API still checks every field.
 * To add a page (segments, campaigns, webhooks): a folder with index.ts exporting `nav` and `routes`, listed here.
 */
export interface Resource {
  nav: { to: string; label: string; permissions?: readonly string[] };
  routes: RouteObject[];
}

export const resources: Resource[] = [dashboard, insights, members, segments, campaigns, activities, challenges, ...programme.resources, models, operations];
