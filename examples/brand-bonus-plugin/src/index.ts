import type { LoyaltyPlugin } from '@loyalty/api/extension-api';
import { brandBonus } from './brand-bonus';
import { BrandBonusTally, BrandBonusTallyResolver, brandTallySubscriber, Migration20261206220000_brand_bonus_tally } from './brand-tally';

/**
 * An example plugin (docs/guides/extending.md): the earning-rule kind BRAND_BONUS, and an outbox subscriber keeping a per-brand
 * tally of the bonus points it gave (its own table and migration), read through the GraphQL field brandBonusTally.
 * Load it with LOYALTY_PLUGINS=./examples/brand-bonus-plugin/dist/index.js once built (`npx tsc -b
 * examples/brand-bonus-plugin`). Only types come from the core; at run time it needs the packages the API already has
 * (type-graphql, MikroORM, graphql-scalars), resolved from the same node_modules.
 */
export const plugin: LoyaltyPlugin = {
  name: 'brand-bonus',
  earningRuleKinds: [brandBonus],
  subscribers: [brandTallySubscriber],
  entities: [BrandBonusTally],
  migrations: [{ name: 'Migration20261206220000_brand_bonus_tally', class: Migration20261206220000_brand_bonus_tally }],
  resolvers: [BrandBonusTallyResolver],
};

export default plugin;
export { brandBonus, type BrandBonusParams } from './brand-bonus';
export { BrandBonusTally, brandTallySubscriber, brandKey } from './brand-tally';
