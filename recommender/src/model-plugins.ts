import path from 'node:path';
import type { ModelKind } from '@loyalty/jobs';
import { REGISTRY, TASK_OF_KIND, type RegistryEntry } from './eval/registry';

/**
 * A module that adds models (or baselines) to the ones `npm run eval` compares and the worker may serve: its default
 * export, an export named `modelPlugin`, or module.exports. Each entry is a line like the built-in ones in
 * eval/registry.ts (`recs('MY-RECS', 'model', () => new MyRecs())`), behind the RecsModel, ChurnModel or ValueModel
 * interface (eval/types.ts); see docs/guides/extending.md.
 */
export interface ModelPlugin {
  name: string;
  models: readonly RegistryEntry[];
}

export class ModelPluginError extends Error {}

const TASKS = ['recs', 'churn', 'clv'] as const;
const KINDS = ['baseline', 'model'] as const;

/** The built-in models and baselines, then each plugin's in the order given; a name is used once, whatever its case. */
export function registryWith(plugins: readonly ModelPlugin[], base: readonly RegistryEntry[] = REGISTRY): RegistryEntry[] {
  const out = [...base];
  for (const plugin of plugins) {
    for (const entry of plugin.models ?? []) {
      const where = `model plugin "${plugin.name}"`;
      if (!entry || typeof entry.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(entry.name)) {
        throw new ModelPluginError(`${where}: each model needs a name of letters, digits, ".", "_" or "-" (at most 40)`);
      }
      if (!TASKS.includes(entry.task) || !KINDS.includes(entry.kind) || typeof entry.create !== 'function') {
        throw new ModelPluginError(`${where}: model ${entry.name} needs a task (recs, churn or clv), a kind (baseline or model) and create()`);
      }
      const clash = out.find((e) => e.name.toLowerCase() === entry.name.toLowerCase());
      if (clash) throw new ModelPluginError(`${where}: the model name ${entry.name} is taken`);
      out.push(entry);
    }
  }
  return out;
}

/** LOYALTY_MODEL_PLUGINS: module paths (from the working directory) or package names, comma-separated. */
export function loadModelPlugins(spec: string | undefined, cwd: string = process.cwd()): ModelPlugin[] {
  const specifiers = (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return specifiers.map((specifier) => {
    let exported: unknown;
    try {
      const resolved = /^[./]/.test(specifier) || path.isAbsolute(specifier) ? require.resolve(path.resolve(cwd, specifier)) : require.resolve(specifier, { paths: [cwd] });
      exported = require(resolved);
    } catch (err) {
      throw new ModelPluginError(`LOYALTY_MODEL_PLUGINS: cannot load "${specifier}" (from ${cwd}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    const e = exported as { default?: unknown; modelPlugin?: unknown };
    const plugin = (e?.modelPlugin ?? e?.default ?? exported) as ModelPlugin | undefined;
    if (!plugin || typeof plugin.name !== 'string' || !Array.isArray(plugin.models)) {
      throw new ModelPluginError(`LOYALTY_MODEL_PLUGINS: "${specifier}" exports no model plugin (a default export, an export named "modelPlugin" or module.exports, with a name and models)`);
    }
    return plugin;
  });
}

/** What the worker trains: the registry with the model plugins', and the entry each kind serves. */
export interface ServedModels {
  registry: RegistryEntry[];
  names: Record<ModelKind, string>;
}

/**
 * Loads LOYALTY_MODEL_PLUGINS and checks that RECOMMENDER_MODEL, CHURN_MODEL and VALUE_MODEL each name a model (not a
 * baseline: the gate would compare it with itself) of the right task; throws ModelPluginError naming what is wrong.
 */
export function servedModels(config: { LOYALTY_MODEL_PLUGINS?: string; RECOMMENDER_MODEL: string; CHURN_MODEL: string; VALUE_MODEL: string }, cwd?: string): ServedModels {
  const registry = registryWith(loadModelPlugins(config.LOYALTY_MODEL_PLUGINS, cwd));
  const names = { RECOMMENDER: config.RECOMMENDER_MODEL, CHURN: config.CHURN_MODEL, VALUE: config.VALUE_MODEL };
  for (const [kind, name] of Object.entries(names) as [ModelKind, string][]) {
    const entry = registry.find((e) => e.name.toLowerCase() === name.toLowerCase());
    const models = registry.filter((e) => e.task === TASK_OF_KIND[kind] && e.kind === 'model').map((e) => e.name);
    if (!entry || entry.task !== TASK_OF_KIND[kind] || entry.kind !== 'model') {
      throw new ModelPluginError(`${kind}_MODEL: ${name} is not a ${TASK_OF_KIND[kind]} model; known: ${models.join(', ')}`);
    }
    names[kind] = entry.name;
  }
  return { registry, names };
}
