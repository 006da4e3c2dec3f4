import { EventTypes } from '../modules/events/event-types';
import { SegmentAttributes } from '../modules/segments/segment-attributes';
import { AccessControl } from '../modules/auth/permissions';
import { TimelineSources } from '../modules/timeline/timeline-sources';
import type { LoyaltyPlugin } from './plugin';

/** The registries modules own, holding the core's entries and what the plugins add; createServices hands each to its module. */
export interface PluginRegistries {
  eventTypes: EventTypes;
  segmentAttributes: SegmentAttributes;
  access: AccessControl;
  timelineSources: TimelineSources;
}

/**
 * Builds the registries from the plugins, in plugin order. A malformed entry, or one whose name another plugin or the
 * core already uses, throws an Error naming the plugin, so the process stops at start-up.
 */
export function pluginRegistries(plugins: readonly LoyaltyPlugin[] = []): PluginRegistries {
  const registries: PluginRegistries = {
    eventTypes: new EventTypes(),
    segmentAttributes: new SegmentAttributes(),
    access: new AccessControl(),
    timelineSources: new TimelineSources(),
  };
  for (const plugin of plugins) {
    const owner = `plugin "${plugin.name}"`;
    for (const def of plugin.eventTypes ?? []) registries.eventTypes.register(def, owner);
    for (const def of plugin.segmentAttributes ?? []) registries.segmentAttributes.register(def, owner);
    for (const def of plugin.permissions ?? []) registries.access.registerPermission(def, owner);
    for (const def of plugin.apiKeyScopes ?? []) registries.access.registerScope(def, owner);
    for (const def of plugin.timelineSources ?? []) registries.timelineSources.register(def, owner);
  }
  return registries;
}
