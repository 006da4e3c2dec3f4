import {
  Kind,
  parse,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import type { TypedDocumentNode } from 'urql';

/**
 * Parses one `schema/operations/<domain>.graphql` file (imported with `?raw`) once and lets callers take its
 * named operations. Each operation gets a document of its own, holding only the fragments it uses: urql sends
 * the first operation's name, and Apollo rejects documents with unused fragments.
 */
export function operationsFrom(source: string) {
  const document = parse(source);
  const operations = new Map<string, OperationDefinitionNode>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) {
      operations.set(definition.name.value, definition);
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }

  return function operation<Result, Variables extends Record<string, unknown> = Record<string, never>>(
    name: string,
  ): TypedDocumentNode<Result, Variables> {
    const definition = operations.get(name);
    if (!definition) throw new Error(`Operation ${name} is not defined in its .graphql file`);
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [definition, ...fragmentsUsedBy(definition, fragments)],
    };
    return document as TypedDocumentNode<Result, Variables>;
  };
}

function fragmentsUsedBy(
  root: OperationDefinitionNode | FragmentDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  found = new Map<string, FragmentDefinitionNode>(),
): FragmentDefinitionNode[] {
  visit(root, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      const fragment = fragments.get(name);
      if (!fragment) throw new Error(`Fragment ${name} is not defined in its .graphql file`);
      if (found.has(name)) return;
      found.set(name, fragment);
      fragmentsUsedBy(fragment, fragments, found);
    },
  });
  return [...found.values()];
}
