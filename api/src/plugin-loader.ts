import path from 'node:path';
import { PluginError, type LoyaltyPlugin } from './plugin';

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
 * Loads the plugins LOYALTY_PLUGINS names, in its order: each a path (relative to `cwd`, the directory the process
 * was started from) or a package name resolved from there. A module must be CommonJS (or ESM that Node's require
 * accepts) and export a LoyaltyPlugin. Throws PluginError naming the specifier that fails; composePlugins checks the
 * plugins themselves.
 */
export function loadPlugins(specifiers: readonly string[], cwd: string = process.cwd()): LoyaltyPlugin[] {
  return specifiers.map((specifier) => {
    let resolved: string;
    let exported: unknown;
    try {
      resolved = /^[./]/.test(specifier) || path.isAbsolute(specifier) ? require.resolve(path.resolve(cwd, specifier)) : require.resolve(specifier, { paths: [cwd] });
      exported = require(resolved);
    } catch (err) {
      throw new PluginError(`LOYALTY_PLUGINS: cannot load "${specifier}" (from ${cwd}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    const plugin = pluginOf(exported);
    if (!plugin || typeof plugin !== 'object' || typeof (plugin as LoyaltyPlugin).name !== 'string') {
      throw new PluginError(`LOYALTY_PLUGINS: "${specifier}" exports no plugin (a default export, an export named "plugin" or module.exports, with a name)`);
    }
    return plugin as LoyaltyPlugin;
  });
}
