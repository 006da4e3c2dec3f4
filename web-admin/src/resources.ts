import * as members from './members';

/** Every admin resource, each exporting `{ nav, routes }` from its folder's index.ts. The first is the landing page. */
export const resources = [members];
