import {
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';

/**
 * Refuses an operation whose fields nest deeper than `maxDepth` (`{ a { b } }` is 1 deep; `__` fields are not
 * followed). It replaces graphql-depth-limit, which recursed once per fragment spread and per level and so overflowed
 * the stack (a 500) on a fragment cycle, on a long chain of fragments and on an unknown fragment. Here the walk stops
 * one level past the limit, fragments are measured once each in dependency order, and cycles and unknown fragments
 * are left to graphql's own rules, which refuse them.
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context) => {
    const document = context.getDocument();
    const heights = fragmentHeights(document, maxDepth);
    if (!heights) return {};
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      if (height(definition.selectionSet, heights, maxDepth) > maxDepth) {
        const name = definition.name?.value ?? '';
        context.reportError(new GraphQLError(`'${name}' exceeds maximum operation depth of ${maxDepth}`, { nodes: [definition] }));
      }
    }
    return {};
  };
}

/** How many levels of fields a selection set opens below itself, counted up to `cap + 1`. */
function height(set: SelectionSetNode, fragments: Map<string, number>, cap: number, level = 0): number {
  let deepest = level;
  for (const selection of set.selections) {
    if (deepest > cap) break;
    if (selection.kind === Kind.FIELD) {
      if (selection.selectionSet && !selection.name.value.startsWith('__')) {
        deepest = Math.max(deepest, height(selection.selectionSet, fragments, cap, level + 1));
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, height(selection.selectionSet, fragments, cap, level));
    } else {
      deepest = Math.max(deepest, level + (fragments.get(selection.name.value) ?? 0));
    }
  }
  return deepest;
}

/** Each fragment's height, measured after the fragments it spreads; null when the fragments form a cycle. */
function fragmentHeights(document: DocumentNode, cap: number): Map<string, number> | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const spreads = new Map<string, string[]>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const names: string[] = [];
    visit(definition, { FragmentSpread: (node) => void names.push(node.name.value) });
    fragments.set(definition.name.value, definition);
    spreads.set(definition.name.value, names);
  }
  const heights = new Map<string, number>();
  for (const start of fragments.keys()) {
    if (heights.has(start)) continue;
    const onPath = new Set([start]);
    const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const children = spreads.get(top.name)!;
      if (top.next === children.length) {
        stack.pop();
        onPath.delete(top.name);
        heights.set(top.name, height(fragments.get(top.name)!.selectionSet, heights, cap));
        continue;
      }
      const child = children[top.next++];
      if (onPath.has(child)) return null;
      if (heights.has(child) || !fragments.has(child)) continue;
      onPath.add(child);
      stack.push({ name: child, next: 0 });
    }
  }
  return heights;
}

/**
 * The schema has no subscriptions (events reach clients through webhooks), and Apollo would answer one with an internal
 * error at execution: refuse it while validating, as any other operation the schema cannot run.
 */
export const noSubscriptionsRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation === 'subscription') {
      context.reportError(new GraphQLError('This API has no subscriptions: events reach clients through webhooks', { nodes: [node] }));
    }
  },
});
