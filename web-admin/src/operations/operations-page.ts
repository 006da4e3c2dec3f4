import type { RouteObject } from 'react-router';

/** A tab of the Operations section: exported as `page` from its domain folder's index.ts. */
export interface OperationsPage {
  /** Absolute path, under /operations. */
  to: string;
  label: string;
  /** The tab shows to admins holding any of these. */
  permissions: readonly string[];
  /** Relative to /operations. */
  routes: RouteObject[];
}
