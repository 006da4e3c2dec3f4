import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromAST,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { FieldProblem } from '../base/errors';
import { isUuid, OPAQUE_ID_ARGUMENTS } from '../base/ids';
import { textProblem as sharedTextProblem, textProblemMessages } from '../base/text';

export { OPAQUE_ID_ARGUMENTS };

/** One field an operation selects, wherever a fragment put it. */
export interface SelectedField {
  /** Response keys (aliases as written) from the root: `['member', 'orders']`. */
  path: string[];
  node: FieldNode;
  /** The schema's field; undefined for meta fields (`__typename`, `__type`) and below them. */
  definition?: GraphQLField<unknown, unknown>;
}

const fieldsByOperation = new WeakMap<OperationDefinitionNode, SelectedField[]>();

/**
 * Every field an operation selects, at any depth, through inline fragments and fragment spreads nested in each other.
 * Each named fragment is walked once, at its first spread: its fields and arguments are the same wherever it is
 * spread, so a document that spreads fragments exponentially often costs no more. Remembered per parsed document
 * (Apollo reuses those), as the walk does not depend on variables.
 */
export function selectedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SelectedField[] {
  const known = fieldsByOperation.get(operation);
  if (known) return known;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const spread = new Set<string>();
  const found: SelectedField[] = [];
  // An explicit stack: inline fragments may nest as deep as the token limit allows.
  const stack: Array<{ set: SelectionSetNode; type: GraphQLNamedType | undefined; path: string[] }> = [
    { set: operation.selectionSet, type: schema.getRootType(operation.operation) ?? undefined, path: [] },
  ];
  while (stack.length) {
    const { set, type, path } = stack.pop()!;
    for (const selection of [...set.selections].reverse()) {
      if (selection.kind === Kind.FIELD) {
        const definition = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
        const fieldPath = [...path, (selection.alias ?? selection.name).value];
        found.push({ path: fieldPath, node: selection, definition });
        if (selection.selectionSet) stack.push({ set: selection.selectionSet, type: definition && getNamedType(definition.type), path: fieldPath });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const narrowed = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        stack.push({ set: selection.selectionSet, type: narrowed ?? undefined, path });
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || spread.has(fragment.name.value)) continue;
        spread.add(fragment.name.value);
        stack.push({ set: fragment.selectionSet, type: schema.getType(fragment.typeCondition.name.value) ?? undefined, path });
      }
    }
  }
  fieldsByOperation.set(operation, found);
  return found;
}

/** How many root fields the operation runs: distinct response keys at the top, fragments included. */
export function rootFieldCount(fields: SelectedField[]): number {
  return new Set(fields.filter((f) => f.path.length === 1).map((f) => f.path[0])).size;
}

/** Why PostgreSQL (text, jsonb) and most consumers could not take this string as it is; null when they can. */
export function textProblem(text: string): string | null {
  const problem = sharedTextProblem(text);
  return problem && textProblemMessages[problem];
}

/** A path built as the walk goes down, written out only for a problem (deep JSON would make it quadratic otherwise). */
type Path = { readonly up: Path | undefined; readonly key: string | number };
const written = (path: Path | undefined): string => {
  const keys: Array<string | number> = [];
  for (let p = path; p; p = p.up) keys.push(p.key);
  return keys.reverse().join('.');
};

/** Enough to show the caller what to fix, bounded however many strings are bad. */
const MAX_PROBLEMS = 20;

/**
 * Every string an argument carries, however it is given: literals, variables, nested input objects, lists, and JSON
 * scalar values and keys. Each variable is walked once, at its first use, so a large one used many times costs once.
 */
function textProblems(
  value: ValueNode,
  at: Path,
  variables: Record<string, unknown>,
  walkedVariables: Set<string>,
  problems: FieldProblem[],
): void {
  type Item = { node: ValueNode; path: Path } | { json: unknown; path: Path };
  const stack: Item[] = [{ node: value, path: at }];
  const check = (text: string, path: Path, isKey = false) => {
    const problem = textProblem(text);
    if (problem) problems.push({ path: written(path), message: isKey ? `keys ${problem}` : problem });
  };
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const item = stack.pop()!;
    if ('json' in item) {
      const { json, path } = item;
      if (typeof json === 'string') check(json, path);
      else if (Array.isArray(json)) for (let i = json.length - 1; i >= 0; i--) stack.push({ json: json[i], path: { up: path, key: i } });
      else if (json !== null && typeof json === 'object') {
        for (const [key, inner] of Object.entries(json).reverse()) {
          check(key, path, true);
          stack.push({ json: inner, path: { up: path, key } });
        }
      }
      continue;
    }
    const { node, path } = item;
    if (node.kind === Kind.STRING) check(node.value, path);
    else if (node.kind === Kind.LIST) for (let i = node.values.length - 1; i >= 0; i--) stack.push({ node: node.values[i], path: { up: path, key: i } });
    else if (node.kind === Kind.OBJECT) for (const field of [...node.fields].reverse()) stack.push({ node: field.value, path: { up: path, key: field.name.value } });
    else if (node.kind === Kind.VARIABLE && !walkedVariables.has(node.name.value)) {
      walkedVariables.add(node.name.value);
      stack.push({ json: variables[node.name.value], path });
    }
  }
}

/**
 * What is wrong with the operation's arguments, on every field it selects: a string with a control character or an
 * unpaired surrogate, and an ID argument that is not a UUID (PostgreSQL would refuse both with a driver error). A root
 * field's argument is named by its own path (`id`, `input.lines.1.sku`), a deeper field's by the fields down to it
 * (`member.orders.after`).
 */
export function argumentProblems(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  given: Record<string, unknown>,
): FieldProblem[] {
  // Defaults stand in for variables left out, as they will at execution.
  const variables = { ...given };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (definition.defaultValue && !(name in variables)) variables[name] = valueFromASTUntyped(definition.defaultValue);
  }
  const problems: FieldProblem[] = [];
  const walkedVariables = new Set<string>();
  for (const field of selectedFields(schema, document, operation)) {
    if (problems.length >= MAX_PROBLEMS) break;
    const fieldPath: Path | undefined = field.path.length > 1 ? field.path.reduce<Path | undefined>((up, key) => ({ up, key }), undefined) : undefined;
    const opaque = (field.definition?.extensions?.[OPAQUE_ID_ARGUMENTS] as string[] | undefined) ?? [];
    for (const argument of field.node.arguments ?? []) {
      const path: Path = { up: fieldPath, key: argument.name.value };
      textProblems(argument.value, path, variables, walkedVariables, problems);
      const definition = field.definition?.args.find((a) => a.name === argument.name.value);
      if (!definition || getNamedType(definition.type).name !== 'ID' || opaque.includes(definition.name)) continue;
      // Undefined when the value does not coerce: execution reports that itself.
      const value: unknown = valueFromAST(argument.value, definition.type, variables);
      const ids = Array.isArray(value) ? value : [value];
      // A number is a valid ID to GraphQL, which turns it into a string, but never a UUID.
      if (ids.some((id) => typeof id === 'number' || (typeof id === 'string' && !isUuid(id)))) problems.push({ path: written(path), message: 'must be an id' });
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}
