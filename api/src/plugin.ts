import type { MigrationObject } from '@mikro-orm/core';
import type { EarningRuleKindDefinition } from './earning/rule-kinds';
import type { OutboxSubscriber } from './events/subscribers';
import type { RewardKindDefinition } from './rewards/reward-kinds';
import type { DeliveryAdapterFactory } from './campaigns/delivery/registry';

/**
 * What a plugin contributes to the platform. Composition (app, worker, CLI) reads the plugin list once, before the
 * ORM, services and schema are built; nothing in a module knows a plugin by name. docs/extending.md shows each point.
 */
export interface LoyaltyPlugin {
  /** Unique, kebab-case: names the plugin's migrations table rows, subscriber cursors and logs. */
  name: string;
  earningRuleKinds?: EarningRuleKindDefinition<any>[];
  rewardKinds?: RewardKindDefinition[];
  /** Message delivery adapters by name; MESSAGE_DELIVERY picks one. */
  deliveryAdapters?: Record<string, DeliveryAdapterFactory>;
  subscribers?: OutboxSubscriber[];
  /** MikroORM entity classes of the plugin's own tables. */
  entities?: Function[];
  /** The plugin's own migrations, applied after the core's, in this order. */
  migrations?: MigrationObject[];
  /** type-graphql resolver classes adding types and fields. */
  resolvers?: Function[];
}

/** Identity, for type inference in a plugin's module. */
export const definePlugin = (plugin: LoyaltyPlugin): LoyaltyPlugin => plugin;
