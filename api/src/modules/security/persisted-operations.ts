import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';

/** sha256 (hex) of an operation's canonical text → that text. */
export type PersistedOperations = ReadonlyMap<string, string>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * One printing of an operation however it was written: standard formatting, definitions sorted (operations, then
 * fragments, by name) and `__typename` selections dropped, since client caches add those on their own.
 */
export function canonicalOperation(document: DocumentNode): string {
  const withoutTypename = visit(document, {
    Field: (node) => (node.name.value === '__typename' && !node.alias ? null : undefined),
  });
  const rank = (d: DefinitionNode) => (d.kind === Kind.OPERATION_DEFINITION ? 0 : 1);
  const nameOf = (d: DefinitionNode) => ('name' in d && d.name ? d.name.value : '');
  const definitions = [...withoutTypename.definitions].sort((a, b) => rank(a) - rank(b) || nameOf(a).localeCompare(nameOf(b)));
  return print({ ...withoutTypename, definitions });
}

export function operationHash(text: string): string {
  return sha256(canonicalOperation(parse(text)));
}

/** Each operation in the documents, with the fragments it uses, as its own entry. */
export function buildManifest(sources: string[]): Record<string, string> {
  const definitions = sources.flatMap((s) => parse(s).definitions);
  const fragments = new Map(
    definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const entries = definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => {
      const used = new Map<string, FragmentDefinitionNode>();
      const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
        visit(node, {
          FragmentSpread: (spread) => {
            const fragment = fragments.get(spread.name.value);
            if (!fragment) throw new Error(`Unknown fragment ${spread.name.value} in ${operation.name?.value ?? 'an operation'}`);
            if (!used.has(fragment.name.value)) {
              used.set(fragment.name.value, fragment);
              collect(fragment);
            }
          },
        });
      collect(operation);
      const text = canonicalOperation({ kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] });
      return [sha256(text), text] as const;
    });
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** The .graphql files of a directory, in name order. */
export function readOperationSources(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

export function loadPersistedOperations(file: string): PersistedOperations {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const operations = new Map<string, string>();
  for (const [hash, text] of Object.entries(manifest)) {
    if (typeof text !== 'string' || operationHash(text) !== hash) {
      throw new Error(`${file}: entry ${hash} is not the sha256 of its operation's canonical text`);
    }
    operations.set(hash, text);
  }
  return operations;
}

export type PersistedLookup =
  | { ok: true; query: string }
  | { ok: false; reason: string };

/**
 * Accepts either the operation text or Apollo's persisted-query extension
 * (`extensions.persistedQuery.sha256Hash`, the manifest key); anything not on the list is refused.
 */
export function resolvePersistedOperation(operations: PersistedOperations, body: unknown): PersistedLookup {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'Send one operation as a JSON object' };
  const { query, extensions } = body as { query?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
  const givenHash = extensions?.persistedQuery?.sha256Hash;
  let hash: string;
  if (typeof query === 'string' && query.length > 0) {
    try {
      hash = operationHash(query);
    } catch {
      return { ok: false, reason: 'The operation is not on the allow-list' };
    }
    if (typeof givenHash === 'string' && givenHash !== hash) return { ok: false, reason: 'sha256Hash does not match the operation' };
  } else if (typeof givenHash === 'string') {
    hash = givenHash;
  } else {
    return { ok: false, reason: 'Send an allow-listed operation or its sha256Hash' };
  }
  const text = operations.get(hash);
  if (!text) return { ok: false, reason: 'The operation is not on the allow-list' };
  // The client's own text differs at most by __typename and order, which its cache may rely on.
  return { ok: true, query: typeof query === 'string' && query.length > 0 ? query : text };
}
