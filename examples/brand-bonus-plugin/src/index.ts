import type { LoyaltyPlugin } from '../../../api/src/plugin';
import { brandBonus } from './brand-bonus';

/**
 * An example plugin (docs/extending.md): one earning-rule kind, BRAND_BONUS. Load it with
 * LOYALTY_PLUGINS=./examples/brand-bonus-plugin/dist/index.js once built (`npx tsc -b examples/brand-bonus-plugin`).
 * Only types come from the core, so the built plugin needs nothing of it at run time.
 */
export const plugin: LoyaltyPlugin = {
  name: 'brand-bonus',
  earningRuleKinds: [brandBonus],
  // Outbox subscribers of this plugin go here (docs/extending.md, "Outbox subscribers").
  subscribers: [],
};

export default plugin;
export { brandBonus, type BrandBonusParams } from './brand-bonus';
