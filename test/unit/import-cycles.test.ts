import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// STYLE.md §4, "Imports point down": no import cycle in api/src, recommender/src, web-admin/src or jobs/src, and in
// api/src layers whose imports only point down. The graph is read with the TypeScript compiler's own pre-processor, so
// `import type` and `export ... from` count as edges, as they do for `madge --circular` (a type-only cycle still ties
// the files' designs together).

const ROOT = path.resolve(__dirname, '../..');

/** Source folders checked for cycles. `generated` names a folder written by a tool (codegen), absent before a build. */
const SOURCES: { dir: string; generated?: string }[] = [
  { dir: 'api/src' },
  { dir: 'recommender/src' },
  { dir: 'web-admin/src', generated: 'gql' },
  { dir: 'jobs/src' },
];

type Layer = 'base' | 'module' | 'graphql' | 'composition';
const ORDER: Layer[] = ['base', 'module', 'graphql', 'composition'];

// layers:begin — the folders of each layer; a script that moves the folders rewrites this block.
/**
 * The layers of api/src, lowest first, each as the folders (ending in `/`) and files it holds. A layer may import its
 * own and the layers below it, never one above.
 */
const LAYERS: Record<Layer, string[]> = {
  /** Domain-free: config, logging, errors, ids, time, database helpers, the small Context a service receives. */
  base: ['base/'],
  /** One folder per domain: entities, services, resolvers, loaders, types, migrations to come. */
  module: ['modules/'],
  /** The schema and the request context with every module's loaders. */
  graphql: ['graphql/'],
  /** Process entry points, CLI, seed data, and the lists of modules, entities, migrations and plugins. */
  composition: ['composition/'],
};
/** The layer of a file in none of the entries above (null: such a file is misplaced). */
const ELSEWHERE: Layer | null = null;
// layers:end

function layerOf(file: string): Layer | null {
  for (const layer of ORDER) {
    if (LAYERS[layer].some((entry) => (entry.endsWith('/') ? file.startsWith(entry) : file === entry))) return layer;
  }
  return ELSEWHERE;
}

/** A file name in a layer's first folder, for the check of the check. */
const at = (layer: Layer, name: string) => (LAYERS[layer].find((entry) => entry.endsWith('/')) ?? '') + name;

/** Each import that points up a layer, named by both files and both layers. */
function upwardImports(graph: Map<string, Set<string>>): string[] {
  return [...graph]
    .flatMap(([file, targets]) =>
      [...targets]
        .filter((target) => ORDER.indexOf(layerOf(target)!) > ORDER.indexOf(layerOf(file)!))
        .map((target) => `${file} (${layerOf(file)}) -> ${target} (${layerOf(target)})`),
    )
    .sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** A source folder as a graph: file (relative to the folder) → the files in it that it imports, by type or dynamically. */
function importGraph(source: { dir: string; generated?: string }): Map<string, Set<string>> {
  const src = path.join(ROOT, source.dir);
  const generated = source.generated ? path.join(src, source.generated) + path.sep : null;
  /** The file a relative specifier names, or null for a package, a generated file or anything outside the folder. */
  const resolve = (from: string, specifier: string): string | null => {
    if (!specifier.startsWith('.')) return null;
    const base = path.resolve(path.dirname(from), specifier.replace(/\.js$/, ''));
    if (generated && (base + path.sep).startsWith(generated)) return null;
    const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')];
    const hit = candidates.find((c) => /\.tsx?$/.test(c) && existsSync(c) && statSync(c).isFile());
    if (hit) return hit.startsWith(src + path.sep) ? hit : null;
    // Assets (styles, images) are leaves; anything else that does not resolve is a mistake of this check.
    if (/\.(css|svg|png|json)$/.test(specifier)) return null;
    throw new Error(`${source.dir}/${path.relative(src, from)}: cannot resolve '${specifier}'`);
  };
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(src)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      const target = resolve(file, fileName);
      if (target) targets.add(path.relative(src, target).split(path.sep).join('/'));
    }
    graph.set(path.relative(src, file).split(path.sep).join('/'), targets);
  }
  return graph;
}

/** Tarjan's strongly connected components; a cycle is a component of two or more files, or a file importing itself. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];

  const connect = (v: string) => {
    indices.set(v, index);
    lowlink.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        connect(w);
        lowlink.set(v, Math.min(lowlink.get(v)!, lowlink.get(w)!));
      } else if (onStack.has(w)) {
        lowlink.set(v, Math.min(lowlink.get(v)!, indices.get(w)!));
      }
    }
    if (lowlink.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) connect(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

describe('the checks themselves', () => {
  it('find cycles, type-only ones included', () => {
    const g = new Map<string, Set<string>>([
      ['a.ts', new Set(['b.ts'])],
      ['b.ts', new Set(['c.ts'])],
      ['c.ts', new Set(['a.ts', 'd.ts'])],
      ['d.ts', new Set(['d.ts'])],
      ['e.ts', new Set(['a.ts'])],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });

  it('name each import that points up a layer', () => {
    const [base, base2, member, order] = [at('base', 'a.ts'), at('base', 'b.ts'), at('module', 'members/m.ts'), at('module', 'orders/o.ts')];
    const [context, run, services] = [at('graphql', 'context.ts'), at('composition', 'run.ts'), at('composition', 'services.ts')];
    const g = new Map<string, Set<string>>([
      [base, new Set([base2, member])],
      [member, new Set([base, order, context, services])],
      [context, new Set([member, run])],
      [run, new Set([services, context, member, base])],
    ]);
    expect(upwardImports(g)).toEqual(
      [
        `${base} (base) -> ${member} (module)`,
        `${context} (graphql) -> ${run} (composition)`,
        `${member} (module) -> ${context} (graphql)`,
        `${member} (module) -> ${services} (composition)`,
      ].sort(),
    );
  });
});

describe.each(SOURCES)('imports in $dir', (source) => {
  const graph = importGraph(source);

  it('form no cycle', () => {
    expect(graph.size).toBeGreaterThan(3);
    // A cycle shows here by its files; `npx madge --circular --extensions ts,tsx <dir>` lists the same.
    expect(cycles(graph).map((c) => c.join(' > '))).toEqual([]);
  });
});

describe('layers of api/src', () => {
  const graph = importGraph(SOURCES[0]);

  it('reads the whole of api/src, type-only imports included', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('graphql/context.ts')).toContain('base/context.ts');
    expect(graph.get('modules/orders/order.entity.ts')).toContain('modules/orders/order-line.entity.ts');
    // A folder renamed without the table above would leave its layer empty, or its files in none.
    expect(ORDER.filter((layer) => ![...graph.keys()].some((file) => layerOf(file) === layer))).toEqual([]);
    expect([...graph.keys()].filter((file) => !layerOf(file))).toEqual([]);
  });

  it('import only their own layer and those below: base < module < graphql < composition', () => {
    // Each line names the import to change: the base imports no module, a module neither the GraphQL layer nor the
    // composition, the GraphQL layer not the composition.
    expect(upwardImports(graph)).toEqual([]);
  });
});
