import type { FieldProblem } from '../../base/errors';
import { SalesChannelKind } from '../../base/enums';
import { RfmSegment } from '../analytics/analytics.types';
import { ChurnBand } from '../models/churn-band';
import { ValueBand } from '../models/value-band';
import { ConsentMedium } from '../members/member-consent.entity';
import { MemberStatus } from '../members/member.entity';
import { NpsCategory } from '../feedback/feedback.entity';
import { MAX_MEMBER_POINTS, MAX_PREDICTED_VALUE_MINOR } from '../../base/bounds';

/**
 * The segment rule grammar (docs/concepts/segments.md). A rule is a tree of plain JSON objects:
 *   { and: [rule, …] } | { or: [rule, …] } | { not: rule } | { attribute, op, value, windowDays? }
 * Attribute and operator names are keys of the whitelists below; values are checked against the attribute's type and
 * only ever reach SQL as bound parameters (segment-sql.ts).
 */
export type SegmentRule =
  | { and: SegmentRule[] }
  | { or: SegmentRule[] }
  | { not: SegmentRule }
  | SegmentCondition;

export interface SegmentCondition {
  /** A core attribute (AttributeName) or one a plugin registered. */
  attribute: string;
  op: Operator;
  value: ConditionValue;
  windowDays?: number;
  /** What the attribute is of, for attributes that take one (activity type, challenge code). */
  qualifier?: string;
}

export type Scalar = string | number;
export type ConditionValue = Scalar | Scalar[];

export const MAX_DEPTH = 8;
export const MAX_NODES = 100;
export const MAX_LIST = 100;
export const MAX_WINDOW_DAYS = 3660;
const MAX_TEXT = 100;
const INT_LIMIT = 2_147_483_647;
const MONEY_LIMIT = Number.MAX_SAFE_INTEGER;

/** How values of an attribute look and compare. */
export enum ValueType {
  /** A whole number; compared with the numeric operators. */
  INTEGER = 'INTEGER',
  /** A decimal number. */
  NUMBER = 'NUMBER',
  /** One of a closed list of values (`values`). */
  ENUM = 'ENUM',
  /** A code that must exist (tier, plan) or a free code (country, category). */
  CODE = 'CODE',
  /** A calendar day `YYYY-MM-DD` (UTC). */
  DATE = 'DATE',
}

export const OPERATORS = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'between', 'contains', 'any', 'all'] as const;
export type Operator = (typeof OPERATORS)[number];

/** What shape `value` takes for each operator. */
export const OPERATOR_ARITY: Record<Operator, 'one' | 'list' | 'range'> = {
  eq: 'one',
  neq: 'one',
  gt: 'one',
  gte: 'one',
  lt: 'one',
  lte: 'one',
  contains: 'one',
  in: 'list',
  any: 'list',
  all: 'list',
  between: 'range',
};

const NUMERIC_OPS: readonly Operator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'];
const CHOICE_OPS: readonly Operator[] = ['eq', 'neq', 'in'];
const SET_OPS: readonly Operator[] = ['contains', 'any', 'all'];

/** A many-valued attribute (the member has a set of them) or a single value. */
export type Cardinality = 'one' | 'many';

export interface AttributeSpec {
  description: string;
  type: ValueType;
  cardinality: Cardinality;
  operators: readonly Operator[];
  /** ENUM: the allowed values. */
  values?: readonly string[];
  /** CODE: the allowed form; `lookup` codes must also exist in the database. */
  pattern?: RegExp;
  patternHint?: string;
  lookup?: 'tier' | 'plan';
  min?: number;
  max?: number;
  /** Purchase aggregates over the last `windowDays` days before the evaluation time. */
  needsWindow?: boolean;
  /** The condition must say what the attribute is of (`qualifier`), a code of this form. */
  qualifier?: { description: string; pattern: RegExp; patternHint: string };
}

const CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

/**
 * The attribute whitelist. Adding an attribute is one entry here plus its SQL in segment-sql.ts
 * (as `npsScore`, `npsCategory` and `csatScore` were added).
 */
export const ATTRIBUTES = {
  tier: {
    description: "The member's current tier code; gt/gte/lt/lte compare tier thresholds (gte SILVER: Silver and above).",
    type: ValueType.CODE,
    cardinality: 'one',
    operators: [...CHOICE_OPS, 'gt', 'gte', 'lt', 'lte'],
    pattern: CODE,
    patternHint: 'a tier code such as GOLD',
    lookup: 'tier',
  },
  // Balances are bigint, within ±MAX_MEMBER_POINTS (base/bounds.ts).
  pointsBalance: { description: 'Available (spendable) points now.', type: ValueType.INTEGER, cardinality: 'one', operators: NUMERIC_OPS, min: -MAX_MEMBER_POINTS, max: MAX_MEMBER_POINTS },
  lifetimePoints: { description: 'Points earned over the membership, net of returns.', type: ValueType.INTEGER, cardinality: 'one', operators: NUMERIC_OPS, min: -MAX_MEMBER_POINTS, max: MAX_MEMBER_POINTS },
  daysSinceLastPurchase: {
    description: 'Whole days since the latest order; members who never ordered do not match.',
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 0,
    max: 100_000,
  },
  purchaseCount: {
    description: 'Orders placed in the last `windowDays` days.',
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 0,
    max: INT_LIMIT,
    needsWindow: true,
  },
  monetaryMinor: {
    description: 'Order totals minus returns (minor units) of orders placed in the last `windowDays` days.',
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: -MONEY_LIMIT,
    max: MONEY_LIMIT,
    needsWindow: true,
  },
  rfmSegment: {
    description: 'RFM segment as of the evaluation time; members who never ordered have none and do not match.',
    type: ValueType.ENUM,
    cardinality: 'one',
    operators: CHOICE_OPS,
    values: Object.values(RfmSegment),
  },
  channelsUsed: {
    description: 'Kinds of sales channel the member has ordered through.',
    type: ValueType.ENUM,
    cardinality: 'many',
    operators: SET_OPS,
    values: Object.values(SalesChannelKind),
  },
  country: {
    description: 'ISO 3166-1 alpha-2 country code; members without one do not match.',
    type: ValueType.CODE,
    cardinality: 'one',
    operators: CHOICE_OPS,
    pattern: /^[A-Z]{2}$/,
    patternHint: 'an ISO 3166-1 alpha-2 code such as GB',
  },
  consents: {
    description: 'Media the member has granted consent for.',
    type: ValueType.ENUM,
    cardinality: 'many',
    operators: SET_OPS,
    values: Object.values(ConsentMedium),
  },
  categoriesBought: {
    description: 'Product categories of anything the member has ordered (exact category names).',
    type: ValueType.CODE,
    cardinality: 'many',
    operators: SET_OPS,
  },
  churnBand: {
    description: "The active churn model's band; unscored members do not match.",
    type: ValueType.ENUM,
    cardinality: 'one',
    operators: CHOICE_OPS,
    values: Object.values(ChurnBand),
  },
  churnScore: {
    description: "The active churn model's score (0 to 1); unscored members do not match.",
    type: ValueType.NUMBER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 0,
    max: 1,
  },
  churnScoreChange: {
    description:
      "How far the member's churn score moved over about a month: the active churn model's score less the member's previous score (the one the member's risk card shows it rose or fell from): their score from at least 28 days before or, for a member without one that old, the model's score of them on their history as it stood 28 days before. From -1 to 1; positive means a rising risk. Members without both scores do not match.",
    type: ValueType.NUMBER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: -1,
    max: 1,
  },
  valueBand: {
    description: "The active customer-value model's band (quantiles of its predictions); unscored members do not match.",
    type: ValueType.ENUM,
    cardinality: 'one',
    operators: CHOICE_OPS,
    values: Object.values(ValueBand),
  },
  valueAtRisk: {
    description:
      "Predicted value × churn probability (minor units, rounded down), from the active value and churn models; members either model has not scored do not match.",
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 0,
    max: MAX_PREDICTED_VALUE_MINOR,
  },
  membershipPlan: {
    description: 'Codes of the paid plans the member has running (started, not ended, not cancelled).',
    type: ValueType.CODE,
    cardinality: 'many',
    operators: SET_OPS,
    pattern: CODE,
    patternHint: 'a plan code such as PLUS',
    lookup: 'plan',
  },
  npsScore: {
    description: "The member's latest NPS answer (0 to 10) before the evaluation time; members who never answered do not match.",
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 0,
    max: 10,
  },
  npsCategory: {
    description: "Category of the member's latest NPS answer: PROMOTER (9-10), PASSIVE (7-8) or DETRACTOR (0-6).",
    type: ValueType.ENUM,
    cardinality: 'one',
    operators: CHOICE_OPS,
    values: Object.values(NpsCategory),
  },
  csatScore: {
    description: "The member's latest CSAT answer (1 to 5) before the evaluation time; members who never answered do not match.",
    type: ValueType.INTEGER,
    cardinality: 'one',
    operators: NUMERIC_OPS,
    min: 1,
    max: 5,
  },
  enrolledAt: { description: 'Day of enrolment (UTC).', type: ValueType.DATE, cardinality: 'one', operators: NUMERIC_OPS },
  status: {
    description: 'ACTIVE or ERASED. Without a status condition anywhere in the rule, only ACTIVE members are considered.',
    type: ValueType.ENUM,
    cardinality: 'one',
    operators: CHOICE_OPS,
    values: [MemberStatus.ACTIVE, MemberStatus.ERASED],
  },
} satisfies Record<string, AttributeSpec>;

export type AttributeName = keyof typeof ATTRIBUTES;

/** The attributes a rule may name: `spec` by name, `names` in the order the grammar lists them. */
export interface AttributeLookup {
  spec(name: string): AttributeSpec | undefined;
  names(): string[];
}

const CORE_ATTRIBUTE_MAP = new Map<string, AttributeSpec>(Object.entries(ATTRIBUTES));
export const coreAttributes: AttributeLookup = { spec: (name) => CORE_ATTRIBUTE_MAP.get(name), names: () => [...CORE_ATTRIBUTE_MAP.keys()] };

export function attributeSpec(name: string): AttributeSpec | undefined {
  return CORE_ATTRIBUTE_MAP.get(name);
}

/** A code that must exist in the database, with where it was written. */
export interface CodeReference {
  kind: 'tier' | 'plan';
  code: string;
  path: string;
}

export interface CheckedRule {
  rule: SegmentRule;
  /** Tier and plan codes the rule names, to be checked against the database. */
  references: CodeReference[];
  /** Whether any condition is on `status` (otherwise only ACTIVE members are considered). */
  mentionsStatus: boolean;
}

const LOGICAL_KEYS = ['and', 'or', 'not'] as const;
const CONDITION_KEYS = new Set(['attribute', 'op', 'value', 'windowDays', 'qualifier']);
const MAX_PROBLEMS = 20;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Control characters (NUL above all) cannot be stored or compared as text in PostgreSQL.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks `input` against the grammar without touching the database. Returns the rule rebuilt from validated parts
 * only (unknown keys never survive), or every problem with its path, e.g. `input.rule.and.1.value`.
 */
export function checkRule(
  input: unknown,
  basePath: string,
  attributes: AttributeLookup = coreAttributes,
): { ok: true; checked: CheckedRule } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const references: CodeReference[] = [];
  let nodes = 0;
  let mentionsStatus = false;
  const fail = (path: string, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message });
  };

  const walk = (node: unknown, path: string, depth: number): SegmentRule | null => {
    nodes += 1;
    if (nodes > MAX_NODES) {
      if (nodes === MAX_NODES + 1) fail(basePath, `has more than ${MAX_NODES} nodes`);
      return null;
    }
    if (depth > MAX_DEPTH) {
      fail(path, `is nested deeper than ${MAX_DEPTH} levels`);
      return null;
    }
    if (!isPlainObject(node)) {
      fail(path, 'must be an object: { and: [...] }, { or: [...] }, { not: {...} } or { attribute, op, value }');
      return null;
    }
    const keys = Object.keys(node);
    const logical = LOGICAL_KEYS.filter((k) => keys.includes(k));
    if (logical.length > 0) {
      if (keys.length > 1) {
        fail(path, `a logical node has exactly one key (${logical[0]}); found ${keys.join(', ')}`);
        return null;
      }
      const key = logical[0];
      const childPath = `${path}.${key}`;
      if (key === 'not') {
        const child = walk(node.not, childPath, depth + 1);
        return child && { not: child };
      }
      const list = node[key];
      if (!Array.isArray(list) || list.length === 0) {
        fail(childPath, 'must be a non-empty list of rules');
        return null;
      }
      const children = list.map((c, i) => walk(c, `${childPath}.${i}`, depth + 1));
      if (children.some((c) => c === null)) return null;
      return (key === 'and' ? { and: children } : { or: children }) as SegmentRule;
    }
    for (const k of keys) if (!CONDITION_KEYS.has(k)) fail(`${path}.${k}`, 'is not part of the grammar');
    const condition = checkCondition(node, path);
    if (condition?.attribute === 'status') mentionsStatus = true;
    return keys.every((k) => CONDITION_KEYS.has(k)) ? condition : null;
  };

  const checkCondition = (node: Record<string, unknown>, path: string): SegmentCondition | null => {
    const { attribute, op, value, windowDays, qualifier } = node;
    const spec = typeof attribute === 'string' ? attributes.spec(attribute) : undefined;
    if (!spec) {
      fail(`${path}.attribute`, `must be one of ${attributes.names().join(', ')}`);
      return null;
    }
    if (typeof op !== 'string' || !spec.operators.includes(op as Operator)) {
      fail(`${path}.op`, `must be one of ${spec.operators.join(', ')} for ${attribute}`);
      return null;
    }
    let window: number | undefined;
    if (spec.needsWindow) {
      if (!isInt(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) {
        fail(`${path}.windowDays`, `is required for ${attribute}: whole days from 1 to ${MAX_WINDOW_DAYS}`);
        return null;
      }
      window = windowDays;
    } else if (windowDays !== undefined) {
      const windowed = attributes.names().filter((n) => attributes.spec(n)!.needsWindow);
      fail(`${path}.windowDays`, `applies only to ${windowed.join(', ')}`);
      return null;
    }
    let of: string | undefined;
    if (spec.qualifier) {
      if (typeof qualifier !== 'string' || qualifier.length > MAX_TEXT || CONTROL.test(qualifier) || !spec.qualifier.pattern.test(qualifier)) {
        fail(`${path}.qualifier`, `is required for ${attribute}: ${spec.qualifier.patternHint}`);
        return null;
      }
      of = qualifier;
    } else if (qualifier !== undefined) {
      fail(`${path}.qualifier`, `does not apply to ${attribute}`);
      return null;
    }
    const checked = checkValue(spec, attribute as string, op as Operator, value, `${path}.value`);
    if (checked === null) return null;
    return {
      attribute: attribute as string,
      op: op as Operator,
      value: checked,
      ...(window !== undefined ? { windowDays: window } : {}),
      ...(of !== undefined ? { qualifier: of } : {}),
    };
  };

  const checkValue = (spec: AttributeSpec, attribute: string, op: Operator, value: unknown, path: string): ConditionValue | null => {
    const arity = OPERATOR_ARITY[op];
    if (arity === 'one') return checkScalar(spec, attribute, value, path);
    if (!Array.isArray(value)) {
      fail(path, arity === 'range' ? 'must be a list [low, high]' : 'must be a non-empty list');
      return null;
    }
    if (arity === 'range' && value.length !== 2) {
      fail(path, 'must be a list [low, high]');
      return null;
    }
    if (value.length === 0 || value.length > MAX_LIST) {
      fail(path, `must be a list of 1 to ${MAX_LIST} values`);
      return null;
    }
    const items = value.map((v, i) => checkScalar(spec, attribute, v, `${path}.${i}`));
    if (items.some((v) => v === null)) return null;
    const scalars = items as Scalar[];
    if (arity === 'range' && scalars[0] > scalars[1]) {
      fail(path, 'low must not be above high');
      return null;
    }
    return arity === 'range' ? scalars : [...new Set(scalars)];
  };

  const checkScalar = (spec: AttributeSpec, attribute: string, value: unknown, path: string): Scalar | null => {
    switch (spec.type) {
      case ValueType.INTEGER:
      case ValueType.NUMBER: {
        const min = spec.min ?? -Number.MAX_SAFE_INTEGER;
        const max = spec.max ?? Number.MAX_SAFE_INTEGER;
        const ok = spec.type === ValueType.INTEGER ? isInt(value) : typeof value === 'number' && Number.isFinite(value);
        if (!ok || (value as number) < min || (value as number) > max) {
          fail(path, `must be ${spec.type === ValueType.INTEGER ? 'a whole number' : 'a number'} from ${min} to ${max}`);
          return null;
        }
        return value as number;
      }
      case ValueType.DATE: {
        const m = typeof value === 'string' ? DATE.exec(value) : null;
        const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
        if (!m || !date || date.toISOString().slice(0, 10) !== value) {
          fail(path, 'must be a calendar day YYYY-MM-DD');
          return null;
        }
        return value as string;
      }
      case ValueType.ENUM: {
        if (typeof value !== 'string' || !spec.values!.includes(value)) {
          fail(path, `must be one of ${spec.values!.join(', ')}`);
          return null;
        }
        return value;
      }
      case ValueType.CODE: {
        if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT || CONTROL.test(value)) {
          fail(path, `must be a text of 1 to ${MAX_TEXT} characters without control characters`);
          return null;
        }
        if (spec.pattern && !spec.pattern.test(value)) {
          fail(path, `must be ${spec.patternHint}`);
          return null;
        }
        if (spec.lookup) references.push({ kind: spec.lookup, code: value, path });
        return value;
      }
    }
  };

  const rule = walk(input, basePath, 1);
  if (problems.length > 0 || rule === null) {
    return { ok: false, problems: problems.length ? problems : [{ path: basePath, message: 'is not a valid rule' }] };
  }
  return { ok: true, checked: { rule, references, mentionsStatus } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}
