import { ATTRIBUTES, OPERATORS, ValueType, type AttributeLookup, type AttributeSpec, type Operator } from './segment-grammar';

/**
 * Placeholders for the values of one condition, to build a plugin attribute's SQL with. Each call binds its value and
 * returns a `?` with a cast; call them where the placeholder goes in the text (a template literal does), since values
 * are bound in text order. A plugin never sees the values themselves, so none can be spliced into the SQL.
 */
export interface SegmentSqlParams {
  /** The evaluation time (`?::timestamptz`): count only what happened before it. */
  asOf(): string;
  /** The start of the condition's window, `asOf - windowDays` (attributes with `needsWindowDays`). */
  windowStart(): string;
  /** The condition's `qualifier` as `?::text` (attributes with a `qualifier`). */
  qualifier(): string;
}

/** A segment attribute a plugin adds; its conditions are checked like the core's and compiled with `rows`. */
export interface SegmentAttributeDefinition {
  /** camelCase, unique across the core's and every plugin's attributes (`activityCount`). */
  name: string;
  description: string;
  /** DATE and codes looked up in tables are the core's only. */
  type: ValueType.INTEGER | ValueType.NUMBER | ValueType.ENUM | ValueType.CODE;
  /** A member has a set of values (operators contains / any / all); default one value. */
  isMany?: boolean;
  /** One value: eq, neq, in, gt, gte, lt, lte, between. Many: contains, any, all. */
  operators: readonly Operator[];
  /** ENUM: the allowed values. */
  values?: readonly string[];
  /** CODE: the form values must take, and how to say it in an error. */
  pattern?: RegExp;
  patternHint?: string;
  /** INTEGER and NUMBER: the allowed range. */
  min?: number;
  max?: number;
  /** The condition needs `windowDays` (1 to 3660); `windowStart()` binds it. */
  needsWindowDays?: boolean;
  /** The condition must name what the attribute is of (an activity type, a challenge code); `qualifier()` binds it. */
  qualifier?: { description: string; pattern: RegExp; patternHint: string };
  /**
   * `select member_id, v from …`: every member's value (one row per member at most when one-valued) as of the
   * evaluation time. Built from constant SQL and the placeholders `p` hands out, never from values.
   */
  rows(p: SegmentSqlParams): string;
  /** One-valued: the value of a member without a row (0 for a count); without it such a member matches nothing. */
  missingValue?: number | string;
}

const NAME = /^[a-z][A-Za-z0-9]{1,47}$/;
const ONE_OPS: readonly Operator[] = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'between'];
const MANY_OPS: readonly Operator[] = ['contains', 'any', 'all'];
const PLUGIN_TYPES = [ValueType.INTEGER, ValueType.NUMBER, ValueType.ENUM, ValueType.CODE];

/**
 * The attributes segment rules may name in one app: the core's whitelist (segment-grammar.ts, with its SQL in
 * segment-sql.ts) and those plugins register. previewSegment, saved segments, campaigns and segmentGrammar all read it.
 */
export class SegmentAttributes implements AttributeLookup {
  private readonly specs = new Map<string, AttributeSpec>(Object.entries(ATTRIBUTES));
  private readonly plugins = new Map<string, SegmentAttributeDefinition>();

  register(def: SegmentAttributeDefinition, owner: string): void {
    const name = def?.name;
    const bad = (why: string) => new Error(`segment attribute ${JSON.stringify(name)} of ${owner}: ${why}`);
    if (typeof name !== 'string' || !NAME.test(name)) throw bad('the name must be camelCase letters and digits, 2 to 48 long');
    if (this.specs.has(name)) throw bad('the name is taken');
    if (typeof def.description !== 'string' || !def.description.trim()) throw bad('needs a description');
    if (!PLUGIN_TYPES.includes(def.type)) throw bad(`type must be one of ${PLUGIN_TYPES.join(', ')}`);
    const allowed = def.isMany ? MANY_OPS : ONE_OPS;
    if (!Array.isArray(def.operators) || def.operators.length === 0 || def.operators.some((op) => !allowed.includes(op) || !OPERATORS.includes(op))) {
      throw bad(`operators must be some of ${allowed.join(', ')}`);
    }
    if (def.type === ValueType.ENUM && (!Array.isArray(def.values) || def.values.length === 0 || def.values.some((v) => typeof v !== 'string'))) {
      throw bad('an ENUM attribute lists its values');
    }
    if (def.pattern !== undefined && !(def.pattern instanceof RegExp)) throw bad('pattern must be a RegExp');
    if (def.min !== undefined && def.max !== undefined && !(def.min <= def.max)) throw bad('min must not be above max');
    if (def.qualifier && (!(def.qualifier.pattern instanceof RegExp) || typeof def.qualifier.patternHint !== 'string')) {
      throw bad('a qualifier needs a pattern (RegExp) and a patternHint');
    }
    if (typeof def.rows !== 'function') throw bad('rows must be a function returning SQL');
    if (def.isMany && def.missingValue !== undefined) throw bad('missingValue applies to one-valued attributes');
    this.specs.set(name, {
      description: def.description,
      type: def.type,
      cardinality: def.isMany ? 'many' : 'one',
      operators: [...def.operators],
      ...(def.values ? { values: [...def.values] } : {}),
      ...(def.pattern ? { pattern: def.pattern, patternHint: def.patternHint ?? `text of the form ${def.pattern.source}` } : {}),
      ...(def.min !== undefined ? { min: def.min } : {}),
      ...(def.max !== undefined ? { max: def.max } : {}),
      ...(def.needsWindowDays ? { needsWindow: true } : {}),
      ...(def.qualifier ? { qualifier: def.qualifier } : {}),
    });
    this.plugins.set(name, def);
  }

  spec(name: string): AttributeSpec | undefined {
    return this.specs.get(name);
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  /** A plugin's definition (its SQL); undefined for the core's attributes. */
  plugin(name: string): SegmentAttributeDefinition | undefined {
    return this.plugins.get(name);
  }
}
