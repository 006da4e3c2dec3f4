import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { EntityClass, EntitySchema, MigrationObject } from '@mikro-orm/core';
import { EarningRuleKinds, RuleKindDefinitionError, type EarningRuleKindDefinition } from '../modules/earning/rule-kinds';
import { checkSubscribers, type OutboxSubscriber } from '../modules/events/subscribers';
import { EarningStage, type EarningContributor } from '../modules/earning/pipeline';
import { RewardKindRegistry, type RewardKindDefinition } from '../modules/rewards/reward-kinds';
import type { DeliveryAdapterFactory } from '../modules/campaigns/delivery/registry';
import type { EventTypeDefinition } from '../modules/events/event-types';
import type { SegmentAttributeDefinition } from '../modules/segments/segment-attributes';
import type { ApiKeyScopeDefinition, PermissionDefinition } from '../modules/auth/permissions';
import type { TimelineSourceDefinition } from '../modules/timeline/timeline-sources';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../base/context';
import type { MemberEventService } from '../modules/earning/member-events';
import type { EventService } from '../modules/events/event.service';
import type { AuditService } from '../modules/audit/audit.service';
import type { SegmentService } from '../modules/segments/segment.service';
import type { ProgrammeService } from '../modules/programme/programme.service';

/**
 * What a plugin's resolvers are built with (`new R(services)`) and may rely on across versions: the member-event use
 * case, events, the audit log, segments and the programme's settings (Services has them all; the rest is internal).
 */
export interface PluginServices {
  memberEvents: MemberEventService;
  events: EventService;
  audit: AuditService;
  segments: SegmentService;
  programme: ProgrammeService;
}
import { errorCodes as coreErrorCodes, type ErrorCodeDefinition } from '../base/errors';

/**
 * What a plugin contributes to the platform. Composition (app, worker, CLI) reads the plugin list once, before the
 * ORM, services and schema are built; nothing in a module knows a plugin by name. docs/guides/extending.md shows each point.
 */
export interface LoyaltyPlugin {
  /** Unique, kebab-case: names the plugin's migrations table rows, subscriber cursors and logs. */
  name: string;
  earningRuleKinds?: EarningRuleKindDefinition<any>[];
  /**
   * Stages of the earning pipeline (docs/concepts/earning-pipeline.md), registered after the core's and run by stage: for every
   * order recorded, claimed or imported and every return, in the transaction of its cause.
   */
  earningContributors?: EarningContributor<any>[];
  rewardKinds?: RewardKindDefinition[];
  /** Message delivery adapters by name; MESSAGE_DELIVERY picks one. */
  deliveryAdapters?: Record<string, DeliveryAdapterFactory>;
  subscribers?: OutboxSubscriber[];
  /** MikroORM entities of the plugin's own tables (classes, or EntitySchema for plain JavaScript). */
  entities?: Array<EntityClass<any> | EntitySchema<any, any>>;
  /**
   * The plugin's own migrations, applied after the core's, in this order, by `npm run migrate`. Each is recorded as
   * `<plugin name>/<migration name>`, so two plugins' migrations never collide with each other or the core's.
   */
  migrations?: MigrationObject[];
  /** type-graphql resolver classes adding types and fields; each is built with the services (`new R(services)`). */
  resolvers?: Function[];
  /** Event types it records (`defineEventType`): webhooks subscribe to them and GraphQL's EventType lists them. */
  eventTypes?: EventTypeDefinition<any>[];
  /** Attributes segment rules may use (previewSegment, saved segments, campaigns, segmentGrammar). */
  segmentAttributes?: SegmentAttributeDefinition[];
  /** Permissions its resolvers require (`@Authorized('activities:write')`), and which admin roles hold them. */
  permissions?: PermissionDefinition[];
  /** API-key scopes granting its permissions to channels (createApiKey, create-api-key). */
  apiKeyScopes?: ApiKeyScopeDefinition[];
  /** Kinds of entry it adds to the member timeline. */
  timelineSources?: TimelineSourceDefinition[];
  /** Error codes its operations answer with (`defineErrorCode`), documented with the core's. */
  errorCodes?: ErrorCodeDefinition[];
  /**
   * What happens to its member rows when members are merged (move them to the survivor) or erased (delete or
   * anonymise them), in the transaction of the merge or erasure, which holds the members' locks; and what of them a
   * member's data export holds (`exportMemberData`, section `plugin:<name>`), read in the export's read-only snapshot.
   * `memberIds` are one person's records: the member and those merged into it.
   */
  memberSteps?: {
    merge?(em: EntityManager, survivorId: string, absorbedId: string): Promise<void>;
    erase?(em: EntityManager, memberIds: string[]): Promise<void>;
    export?(em: EntityManager, memberIds: readonly string[]): Promise<unknown>;
  };
  /**
   * What the plugin adds to the demo programme `npm start` seeds (SEED_DEMO): `programme` runs before the demo's purchase
   * history is imported (so the earning pipeline credits and counts that history with the plugin's definitions),
   * `activity` after it. Both run at every start: add nothing twice.
   */
  demo?: {
    programme?(demo: PluginDemo): Promise<void>;
    activity?(demo: PluginDemo): Promise<void>;
  };
}

/** What a plugin's demo step gets: a system context (no principal: an administrator's rights), the services, the time. */
export interface PluginDemo {
  ctx: Context;
  services: PluginServices;
  now: Date;
  /** Demo members who have bought recently, the most recent first (empty in the `programme` step). */
  memberIds: string[];
}

/** Identity, for type inference in a plugin's module. */
export const definePlugin = (plugin: LoyaltyPlugin): LoyaltyPlugin => plugin;

/** A plugin list the platform cannot start with; the message names the plugin and what is wrong. */
export class PluginError extends Error {}

/** Everything the plugins contribute, gathered in one place: each composition step reads its part from here. */
export interface PluginContributions {
  plugins: readonly LoyaltyPlugin[];
  earningRuleKinds: EarningRuleKindDefinition<any>[];
  /** With the plugin that owns each, in plugin order. */
  earningContributors: Array<{ plugin: string; contributor: EarningContributor<any> }>;
  entities: Array<EntityClass<any> | EntitySchema<any, any>>;
  /** Named `<plugin>/<migration>`, in plugin order. */
  migrations: MigrationObject[];
  resolvers: Function[];
  rewardKinds: RewardKindDefinition[];
  subscribers: OutboxSubscriber[];
  /** Registered after the built-in adapters; a name taken twice stops the services being built. */
  deliveryAdapters: Array<{ name: string; factory: DeliveryAdapterFactory }>;
  /** The plugins' error codes, with the plugin that declared each. */
  errorCodes: Array<ErrorCodeDefinition & { plugin: string }>;
}

const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MIGRATION_NAME = /^[\w.-]{1,120}$/;

const listOf = <T>(plugin: LoyaltyPlugin, key: keyof LoyaltyPlugin): T[] => {
  const value = plugin[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new PluginError(`plugin "${plugin.name}": ${String(key)} must be an array`);
  return value as T[];
};

/**
 * Checks the plugin list and gathers what it contributes: unique kebab-case names, earning-rule kinds that are well
 * formed and clash with no core kind nor another plugin's, migrations with names. Throws PluginError otherwise, so
 * that a process stops at start-up with one line saying which plugin is wrong and why.
 */
export function composePlugins(plugins: readonly LoyaltyPlugin[] = []): PluginContributions {
  const out: PluginContributions = {
    plugins,
    earningRuleKinds: [],
    earningContributors: [],
    entities: [],
    migrations: [],
    resolvers: [],
    rewardKinds: [],
    subscribers: [],
    deliveryAdapters: [],
    errorCodes: [],
  };
  const names = new Set<string>();
  const kindOwner = new Map<string, string>();
  for (const plugin of plugins) {
    if (!plugin || typeof plugin !== 'object') throw new PluginError(`a plugin must be an object, not ${plugin === null ? 'null' : typeof plugin}`);
    if (typeof plugin.name !== 'string' || !PLUGIN_NAME.test(plugin.name) || plugin.name.length > 64) {
      throw new PluginError(`plugin name ${JSON.stringify(plugin.name)} must be kebab-case (a-z, 0-9, -), at most 64 characters`);
    }
    if (names.has(plugin.name)) throw new PluginError(`plugin "${plugin.name}" is loaded twice`);
    names.add(plugin.name);

    for (const def of listOf<EarningRuleKindDefinition<any>>(plugin, 'earningRuleKinds')) {
      try {
        new EarningRuleKinds([def]);
      } catch (err) {
        if (err instanceof RuleKindDefinitionError) throw new PluginError(`plugin "${plugin.name}": ${err.message}`);
        throw err;
      }
      const owner = kindOwner.get(def.kind);
      if (owner) throw new PluginError(`plugin "${plugin.name}": earning-rule kind "${def.kind}" is already registered by plugin "${owner}"`);
      kindOwner.set(def.kind, plugin.name);
      out.earningRuleKinds.push(def);
    }

    for (const contributor of listOf<EarningContributor<any>>(plugin, 'earningContributors')) {
      const problem = contributorProblem(contributor);
      if (problem) throw new PluginError(`plugin "${plugin.name}": ${problem}`);
      const clash = out.earningContributors.find((c) => c.contributor.name === contributor.name);
      if (clash) throw new PluginError(`plugin "${plugin.name}": earning contributor "${contributor.name}" is already registered by plugin "${clash.plugin}"`);
      out.earningContributors.push({ plugin: plugin.name, contributor });
    }

    out.entities.push(...listOf<EntityClass<any> | EntitySchema<any, any>>(plugin, 'entities'));

    const migrationNames = new Set<string>();
    for (const migration of listOf<MigrationObject>(plugin, 'migrations')) {
      const name = typeof migration?.name === 'string' ? migration.name.replace(/\.[jt]s$/, '') : '';
      if (!MIGRATION_NAME.test(name) || typeof migration.class !== 'function') {
        throw new PluginError(`plugin "${plugin.name}": each migration needs a name (letters, digits, _ . -) and a class`);
      }
      if (migrationNames.has(name)) throw new PluginError(`plugin "${plugin.name}": migration "${name}" is listed twice`);
      migrationNames.add(name);
      out.migrations.push({ name: `${plugin.name}/${name}`, class: migration.class });
    }

    for (const resolver of listOf<Function>(plugin, 'resolvers')) {
      if (typeof resolver !== 'function') throw new PluginError(`plugin "${plugin.name}": each resolver must be a class`);
      out.resolvers.push(resolver);
    }

    // Checked with the earlier plugins' contributions: a clash is this plugin's.
    out.rewardKinds.push(...listOf<RewardKindDefinition>(plugin, 'rewardKinds'));
    out.subscribers.push(...listOf<OutboxSubscriber>(plugin, 'subscribers'));
    try {
      new RewardKindRegistry(out.rewardKinds);
      checkSubscribers(out.subscribers);
    } catch (err) {
      throw new PluginError(`plugin "${plugin.name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const def of listOf<ErrorCodeDefinition>(plugin, 'errorCodes')) {
      if (!def || typeof def.code !== 'string' || typeof def.description !== 'string') throw new PluginError(`plugin "${plugin.name}": each error code comes from defineErrorCode`);
      const clash = def.code in coreErrorCodes ? 'the core' : out.errorCodes.find((c) => c.code === def.code)?.plugin;
      if (clash) throw new PluginError(`plugin "${plugin.name}": error code ${def.code} is already declared by ${clash === 'the core' ? clash : `plugin "${clash}"`}`);
      out.errorCodes.push({ ...def, plugin: plugin.name });
    }
    for (const hook of ['merge', 'erase', 'export'] as const) {
      const step = plugin.memberSteps?.[hook];
      if (step !== undefined && typeof step !== 'function') throw new PluginError(`plugin "${plugin.name}": memberSteps.${hook} must be a function`);
    }
    for (const hook of ['programme', 'activity'] as const) {
      const step = plugin.demo?.[hook];
      if (step !== undefined && typeof step !== 'function') throw new PluginError(`plugin "${plugin.name}": demo.${hook} must be a function`);
    }
    for (const [name, factory] of Object.entries(plugin.deliveryAdapters ?? {})) {
      if (typeof factory !== 'function') throw new PluginError(`plugin "${plugin.name}": delivery adapter "${name}" must be a factory function`);
      out.deliveryAdapters.push({ name, factory });
    }
  }
  return out;
}

const CONTRIBUTOR_NAME = /^[a-z][a-z0-9]*([-.][a-z0-9]+)*$/;
const HOOKS = ['coLocked', 'benefits', 'onOrder', 'onReturn', 'onActivity', 'afterOrder', 'flush'] as const;

/** What is wrong with a plugin's earning contributor, or null. */
function contributorProblem(c: EarningContributor<any>): string | null {
  if (!c || typeof c !== 'object') return 'each earning contributor must be an object';
  if (typeof c.name !== 'string' || !CONTRIBUTOR_NAME.test(c.name) || c.name.length > 64) {
    return `earning contributor name ${JSON.stringify(c.name)} must be lower-case (a-z, 0-9, - and .), at most 64 characters`;
  }
  const what = `earning contributor "${c.name}"`;
  if (typeof c.stage !== 'number' || !Number.isFinite(c.stage)) {
    return `${what}: stage must be a number (EarningStage.EARN ${EarningStage.EARN}, BONUS ${EarningStage.BONUS}, EVALUATE ${EarningStage.EVALUATE}, SETTLE ${EarningStage.SETTLE}, or one between)`;
  }
  for (const hook of HOOKS) if (c[hook] !== undefined && typeof c[hook] !== 'function') return `${what}: ${hook} must be a function`;
  if (!c.onOrder && !c.onReturn && !c.onActivity && !c.benefits) return `${what}: needs at least one of onOrder, onReturn, onActivity, benefits`;
  if (c.read !== undefined) {
    if (!c.read || typeof c.read !== 'object') return `${what}: read must be an object`;
    if (typeof c.read.select !== 'string' && typeof c.read.select !== 'function') return `${what}: read.select must be SQL text or a function of the terms`;
    if (typeof c.read.parse !== 'function') return `${what}: read.parse must be a function`;
  }
  return null;
}

/** The plugin a module exports: its default export, an export named `plugin`, or the module itself. */
function pluginOf(exported: unknown): unknown {
  if (exported && typeof exported === 'object') {
    const mod = exported as { default?: unknown; plugin?: unknown };
    if (mod.default && typeof mod.default === 'object') return mod.default;
    if (mod.plugin && typeof mod.plugin === 'object') return mod.plugin;
  }
  return exported;
}

/**
 * Libraries whose one copy the platform and its plugins must share: they keep registries (entity metadata, resolver
 * metadata) or are checked with instanceof (GraphQL types, the migration base class), so a plugin that brings its own
 * copy fails later with a message that does not name the cause.
 */
const SHARED_PACKAGES = ['@mikro-orm/core', '@mikro-orm/migrations', '@mikro-orm/postgresql', 'graphql', 'graphql-scalars', 'type-graphql'] as const;

/** Refuses a plugin that would load its own copy of a shared library (one installed in its own node_modules). */
function checkSharedPackages(specifier: string, pluginFile: string): void {
  const from = path.dirname(pluginFile);
  for (const name of SHARED_PACKAGES) {
    let theirs: string, ours: string;
    try {
      // Node's own resolution from each side (createRequire), as each will load it.
      theirs = realpathSync(createRequire(path.join(from, 'index.js')).resolve(name));
      ours = realpathSync(createRequire(__filename).resolve(name));
    } catch {
      continue; // not installed where the plugin would look: it does not use it, or fails to load naming it
    }
    if (theirs !== ours) {
      throw new PluginError(
        `LOYALTY_PLUGINS: "${specifier}" would load its own copy of ${name} (${theirs}), not the platform's (${ours}); a plugin must share the platform's ` +
          `${SHARED_PACKAGES.join(', ')}: install it into the platform (npm pack it, then npm install the tarball in the platform's folder) instead of giving it a node_modules of its own (docs/guides/extending.md, "A plugin in its own folder")`,
      );
    }
  }
}

/**
 * Loads the plugins LOYALTY_PLUGINS names, in its order: each a path (relative to `cwd`, the directory the process
 * was started from) or a package name resolved from there. A module must be CommonJS (or ESM that Node's require
 * accepts) and export a LoyaltyPlugin. Throws PluginError naming the specifier that fails; composePlugins checks the
 * plugins themselves.
 */
export function loadPlugins(specifiers: readonly string[], cwd: string = process.cwd()): LoyaltyPlugin[] {
  return specifiers.map((specifier) => {
    const cannotLoad = (err: unknown) =>
      new PluginError(`LOYALTY_PLUGINS: cannot load "${specifier}" (from ${cwd}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    let resolved: string;
    let exported: unknown;
    try {
      resolved = /^[./]/.test(specifier) || path.isAbsolute(specifier) ? require.resolve(path.resolve(cwd, specifier)) : require.resolve(specifier, { paths: [cwd] });
    } catch (err) {
      throw cannotLoad(err);
    }
    // Before loading it: a plugin's own copy of a shared library would register its entities and types there.
    checkSharedPackages(specifier, resolved);
    try {
      exported = require(resolved);
    } catch (err) {
      throw cannotLoad(err);
    }
    const plugin = pluginOf(exported);
    if (!plugin || typeof plugin !== 'object' || typeof (plugin as LoyaltyPlugin).name !== 'string') {
      throw new PluginError(`LOYALTY_PLUGINS: "${specifier}" exports no plugin (a default export, an export named "plugin" or module.exports, with a name)`);
    }
    return plugin as LoyaltyPlugin;
  });
}
