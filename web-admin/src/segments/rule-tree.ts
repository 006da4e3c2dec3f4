import type { SegmentGrammarQuery } from '../gql/graphql';

/**
 * The rule builder's editable tree and its conversion to and from the API's rule JSON (docs/concepts/segments.md):
 *   { and: [rule, …] } | { or: [rule, …] } | { not: rule } | { attribute, op, value, windowDays?, qualifier? }
 * Values are kept as the text the admin typed until `toRule` converts them by the attribute's value type.
 */

export type AttributeInfo = SegmentGrammarQuery['segmentGrammar']['attributes'][number];

export interface GroupNode {
  kind: 'group';
  id: string;
  combinator: 'and' | 'or';
  isNegated: boolean;
  children: RuleNode[];
}

export interface ConditionNode {
  kind: 'condition';
  id: string;
  isNegated: boolean;
  attribute: string;
  op: string;
  /** One value, or the low end of `between`. */
  value: string;
  /** The high end of `between`. */
  valueTo: string;
  /** `in`, `any`, `all`: the chosen values. */
  values: string[];
  windowDays: string;
  /** What the attribute is of (an activity type), for attributes with a `qualifier`. */
  qualifier: string;
}

export type RuleNode = GroupNode | ConditionNode;

/** What shape `value` takes per operator, as the API's grammar says (`segmentGrammar.operators`). */
export type ValueShape = 'one' | 'list' | 'range';
export type OperatorShapes = ReadonlyMap<string, ValueShape>;

export function operatorShapes(operators: readonly { name: string; valueShape: string }[]): OperatorShapes {
  return new Map(operators.map((o) => [o.name, o.valueShape.toLowerCase() as ValueShape]));
}

export const operatorLabels: Record<string, string> = {
  eq: 'is',
  neq: 'is not',
  gt: 'is more than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  between: 'is between',
  in: 'is one of',
  contains: 'includes',
  any: 'includes any of',
  all: 'includes all of',
};

export const defaultWindowDays = '90';

let lastId = 0;
const nextId = () => `n${++lastId}`;

export function newGroup(combinator: 'and' | 'or' = 'and', children: RuleNode[] = []): GroupNode {
  return { kind: 'group', id: nextId(), combinator, isNegated: false, children };
}

export function newCondition(attribute: AttributeInfo): ConditionNode {
  const op = attribute.operators[0];
  return {
    kind: 'condition',
    id: nextId(),
    isNegated: false,
    attribute: attribute.name,
    op,
    value: attribute.values?.[0] ?? '',
    valueTo: '',
    values: [],
    windowDays: attribute.needsWindowDays ? defaultWindowDays : '',
    qualifier: '',
  };
}

/** The condition moved to another attribute: keeps the operator when the new attribute allows it. */
export function withAttribute(node: ConditionNode, attribute: AttributeInfo): ConditionNode {
  const fresh = newCondition(attribute);
  return { ...fresh, id: node.id, isNegated: node.isNegated, op: attribute.operators.includes(node.op) ? node.op : fresh.op };
}

/** The rule JSON for the API, and where each node sits in it (`input.rule.and.1`), to place the API's field errors. */
export interface Compiled {
  rule: unknown;
  /** Node id → its path in the rule. */
  paths: Map<string, string>;
  /** Node ids whose values are still incomplete; the API is not asked until there are none. */
  incomplete: Set<string>;
}

export function toRule(root: GroupNode, attributes: AttributeInfo[], shapes: OperatorShapes, basePath = 'input.rule'): Compiled {
  const byName = new Map(attributes.map((a) => [a.name, a]));
  const paths = new Map<string, string>();
  const incomplete = new Set<string>();

  const walk = (node: RuleNode, path: string): unknown => {
    const innerPath = node.isNegated ? `${path}.not` : path;
    paths.set(node.id, innerPath);
    let inner: unknown;
    if (node.kind === 'group') {
      if (node.children.length === 0) incomplete.add(node.id);
      inner = { [node.combinator]: node.children.map((c, i) => walk(c, `${innerPath}.${node.combinator}.${i}`)) };
    } else {
      const attribute = byName.get(node.attribute);
      const value = attribute ? conditionValue(node, attribute, shapes) : undefined;
      if (value === undefined || (attribute?.needsWindowDays && node.windowDays.trim() === '') || (attribute?.qualifier && node.qualifier.trim() === '')) {
        incomplete.add(node.id);
      }
      inner = {
        attribute: node.attribute,
        op: node.op,
        value: value ?? null,
        ...(attribute?.needsWindowDays ? { windowDays: Number(node.windowDays) } : {}),
        ...(attribute?.qualifier ? { qualifier: node.qualifier.trim() } : {}),
      };
    }
    return node.isNegated ? { not: inner } : inner;
  };

  return { rule: walk(root, basePath), paths, incomplete };
}

/** The typed value of a condition, or undefined while a field is empty. */
function conditionValue(node: ConditionNode, attribute: AttributeInfo, shapes: OperatorShapes): unknown {
  const scalar = (text: string): string | number | undefined => {
    const t = text.trim();
    if (t === '') return undefined;
    if (attribute.valueType === 'INTEGER' || attribute.valueType === 'NUMBER') return Number(t);
    // The core's codes (tiers, plans, countries) are upper case; category names and plugins' codes are taken as typed.
    return attribute.valueType === 'CODE' && !attribute.isPlugin && attribute.name !== 'categoriesBought' ? t.toUpperCase() : t;
  };
  switch (shapes.get(node.op)) {
    case 'range': {
      const low = scalar(node.value);
      const high = scalar(node.valueTo);
      return low === undefined || high === undefined ? undefined : [low, high];
    }
    case 'list': {
      const list = node.values.map(scalar).filter((v) => v !== undefined);
      return list.length === 0 ? undefined : list;
    }
    default:
      return scalar(node.value);
  }
}

/** A saved rule as an editable tree; a lone condition at the top becomes a one-condition AND group. */
export function fromRule(rule: unknown, shapes: OperatorShapes): GroupNode {
  const node = parse(rule, false, shapes);
  return node.kind === 'group' ? node : newGroup('and', [node]);
}

function parse(rule: unknown, isNegated: boolean, shapes: OperatorShapes): RuleNode {
  const r = (rule ?? {}) as Record<string, unknown>;
  if ('not' in r) return parse(r.not, !isNegated, shapes);
  if (Array.isArray(r.and) || Array.isArray(r.or)) {
    const combinator = Array.isArray(r.and) ? 'and' : 'or';
    const children = (r[combinator] as unknown[]).map((c) => parse(c, false, shapes));
    return { ...newGroup(combinator, children), isNegated };
  }
  const value = r.value;
  const isList = Array.isArray(value);
  const arity = shapes.get(String(r.op));
  return {
    kind: 'condition',
    id: nextId(),
    isNegated,
    attribute: String(r.attribute ?? ''),
    op: String(r.op ?? ''),
    value: isList ? (arity === 'range' ? String(value[0] ?? '') : '') : String(value ?? ''),
    valueTo: isList && arity === 'range' ? String(value[1] ?? '') : '',
    values: isList && arity !== 'range' ? value.map(String) : [],
    windowDays: r.windowDays == null ? '' : String(r.windowDays),
    qualifier: r.qualifier == null ? '' : String(r.qualifier),
  };
}

/** Replaces the node with `id` anywhere in the tree (or removes it when `next` is null). */
export function updateNode(root: GroupNode, id: string, next: RuleNode | null): GroupNode {
  const visit = (node: RuleNode): RuleNode | null => {
    if (node.id === id) return next;
    if (node.kind !== 'group') return node;
    const children = node.children.map(visit).filter((c): c is RuleNode => c !== null);
    return { ...node, children };
  };
  return (visit(root) as GroupNode | null) ?? newGroup();
}

/** Nesting depth of the tree as the API counts it (a `not` is a level of its own). */
export function depthOf(node: RuleNode): number {
  const own = node.isNegated ? 2 : 1;
  return node.kind === 'group' ? own + Math.max(0, ...node.children.map(depthOf)) : own;
}
