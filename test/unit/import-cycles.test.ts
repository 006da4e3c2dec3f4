import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// STYLE.md §4, "Imports point down": no import cycle in api/src, and a base (api/src/shared) that imports no module
// above it. The graph is read with the TypeScript compiler's own pre-processor, so `import type` and `export ... from`
// count as edges, as they do for `madge --circular` (a type-only cycle still ties the files' designs together).

const SRC = path.resolve(__dirname, '../../api/src');

/**
 * Cycles still there, each as its files (relative to api/src). TO BE REMOVED: each is a parent/child entity pair whose
 * child names its parent in a type-only import (`Ref<Member>`, `Ref<Order>`). The list may only shrink: a cycle not
 * listed fails, a listed one that grew fails, and a listed one that is gone fails until its entry is deleted here.
 */
const ALLOWED_CYCLES: string[][] = [
  ['members/member.entity.ts', 'members/member-consent.entity.ts', 'members/member-identifier.entity.ts'],
  ['orders/order.entity.ts', 'orders/order-line.entity.ts'],
];

/**
 * Imports from api/src/shared to a file outside it that are still allowed. TO BE REMOVED, and the list may only
 * shrink (an entry no longer imported fails until it is deleted here).
 */
const ALLOWED_BASE_IMPORTS: string[] = [
  // The domain Context names its caller: `Principal` (and through it the Permission vocabulary) lives in auth/.
  'shared/context.ts -> auth/principal.ts',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The file a relative specifier names, or null for a package (or anything outside api/src). */
function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')];
  const hit = candidates.find((c) => /\.tsx?$/.test(c) && existsSync(c) && statSync(c).isFile());
  if (!hit) throw new Error(`${path.relative(SRC, from)}: cannot resolve '${specifier}'`);
  return hit.startsWith(SRC + path.sep) ? hit : null;
}

/** api/src as a graph: file (relative to api/src) → the files it imports, statically, by type or dynamically. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      const target = resolve(file, fileName);
      if (target) targets.add(path.relative(SRC, target).split(path.sep).join('/'));
    }
    graph.set(path.relative(SRC, file).split(path.sep).join('/'), targets);
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

describe('imports point down (api/src)', () => {
  const graph = importGraph();

  it('reads the whole of api/src', () => {
    expect(graph.size).toBeGreaterThan(150);
    // The pre-processor sees type-only and re-exported imports: these are edges madge counts too.
    expect(graph.get('graphql/context.ts')).toContain('shared/context.ts');
    expect(graph.get('orders/order-line.entity.ts')).toContain('orders/order.entity.ts');
  });

  it('finds cycles, type-only ones included (a check of the check)', () => {
    const g = new Map<string, Set<string>>([
      ['a.ts', new Set(['b.ts'])],
      ['b.ts', new Set(['c.ts'])],
      ['c.ts', new Set(['a.ts', 'd.ts'])],
      ['d.ts', new Set(['d.ts'])],
      ['e.ts', new Set(['a.ts'])],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
  });

  it('has no import cycle but the listed ones, which may only shrink', () => {
    const allowed = ALLOWED_CYCLES.map((c) => [...c].sort());
    const found = cycles(graph);
    const key = (c: string[]) => c.join(' > ');
    // A new cycle, or a listed one that grew, shows here by its files.
    expect(found.filter((c) => !allowed.some((a) => key(a) === key(c))).map(key)).toEqual([]);
    // A listed cycle that is gone: delete its entry from ALLOWED_CYCLES.
    expect(allowed.filter((a) => !found.some((c) => key(c) === key(a))).map(key)).toEqual([]);
  });

  it('keeps the base (api/src/shared) free of any module above it', () => {
    const upward = [...graph]
      .filter(([file]) => file.startsWith('shared/'))
      .flatMap(([file, targets]) => [...targets].filter((t) => !t.startsWith('shared/')).map((t) => `${file} -> ${t}`))
      .sort();
    expect(upward.filter((edge) => !ALLOWED_BASE_IMPORTS.includes(edge))).toEqual([]);
    expect(ALLOWED_BASE_IMPORTS.filter((edge) => !upward.includes(edge))).toEqual([]);
  });
});
