import type { LoyaltyPlugin } from '../../api/src/composition/plugin';
import { plugin as activities } from '../../plugins/activities/src';
import { plugin as challenges } from '../../plugins/challenges/src';

/**
 * The plugins the platform runs with by default (`loyalty.plugins` in the root package.json), from their TypeScript
 * sources: what a test of the app as installed passes to useHarness. test/api/schema.test.ts holds this list to that one.
 */
export const DISTRIBUTION_PLUGINS: readonly LoyaltyPlugin[] = [activities, challenges];
export const DISTRIBUTION_PLUGIN_PATHS = ['./plugins/activities', './plugins/challenges'];
