import type { FieldProblem } from '../../base/errors';
import type { Logger } from '../../base/logger';
import { SalesChannelKind } from '../../base/enums';
import { isCurrency } from '../../base/currency';
import { MAX_EARN_MULTIPLIER_PERCENT, MAX_POINTS_PER_ORDER, MAX_RULE_POINTS } from '../../base/bounds';

/** One argument of an earning-rule kind, as the API validates it and the admin app's rule form shows it. */
export interface RuleParamSpec {
  /** A plugin kind's argument is `input.params.<name>`; a built-in kind's is the input field `input.<name>`. */
  name: string;
  label: string;
  /**
   * string: non-blank text of at most `maxLength` characters; integer and percent: whole numbers from `min` to `max`
   * (percent: 200 doubles); date: an ISO 8601 date-time, stored as given; enum: one of `options`.
   */
  type: 'string' | 'integer' | 'percent' | 'date' | 'enum';
  required?: boolean;
  min?: number;
  max?: number;
  /** string: most characters (200 when unset). */
  maxLength?: number;
  options?: readonly string[];
  description?: string;
}

/** One order line as the earning engine sees it. */
export interface EarningLine {
  sku: string;
  category: string | null;
  /** The product's brand, from the catalogue. */
  brand: string | null;
  /** After line and order discounts. */
  netMinor: number;
}

/** What a rule kind's `extraPoints` sees of the order it is applied to. */
export interface RuleKindInput<P> {
  /** The rule's params, as validated when the rule was written. */
  params: P;
  lines: readonly EarningLine[];
  /** Base points of each line (same index as `lines`): what the base rate gave it. */
  lineBase: readonly number[];
  placedAt: Date;
  currency: string;
  channelKind: SalesChannelKind;
  /** What the rule may know of the member the order is credited to. */
  member: RuleKindMember;
  /** The programme's time zone (IANA), for rules that count in local days ("the member's birthday week"). */
  timeZone: string;
}

/** The member an order is credited to, as a rule kind sees them when the order is credited. */
export interface RuleKindMember {
  /** The member's birthday as they gave it, `YYYY-MM-DD`; null when not given. */
  birthday: string | null;
}

/** A problem with one param: `param` names it (the API reports it at `input.params.<param>`). */
export interface ParamProblem {
  param: string;
  message: string;
}

/** An earning-rule kind a plugin adds: validated arguments, and the extra points it gives an order. */
export interface EarningRuleKindDefinition<P = Record<string, unknown>> {
  /** UPPER_SNAKE, unique across core and plugins; a value of the GraphQL enum EarningRuleKind. */
  kind: string;
  label: string;
  description: string;
  params: RuleParamSpec[];
  /** Checks across params, run once each param passed its own spec. */
  check?(params: P): ParamProblem[];
  /**
   * Points the rule adds to an order: a whole number from 0 up (docs/guides/extending.md, "Earning-rule kinds"). Called once per
   * order per live rule of the kind, synchronously, after the built-in multipliers and before tier and plan multipliers.
   * Must be pure: the same order gives the same points whether it is recorded, claimed or imported.
   */
  extraPoints(input: RuleKindInput<P>): number;
}

/** A kind as the registry lists it: the built-in ones keep their arguments in the rule's own columns. */
export interface RuleKindEntry {
  kind: string;
  label: string;
  description: string;
  params: readonly RuleParamSpec[];
  isBuiltIn: boolean;
}

/** The input fields of a rule that hold a built-in kind's arguments; a plugin kind leaves them unset. */
export const BUILT_IN_PARAM_FIELDS = ['currency', 'points', 'perMinor', 'multiplierPercent', 'fixedPoints', 'category', 'sku', 'channelKind', 'capPoints'] as const;

type RuleFields = { kind: string; params?: unknown; startsAt?: Date | null; endsAt?: Date | null } & { [F in (typeof BUILT_IN_PARAM_FIELDS)[number]]?: unknown };

const multiplier: RuleParamSpec = {
  name: 'multiplierPercent',
  label: 'Multiplier %',
  type: 'percent',
  min: 0,
  max: MAX_EARN_MULTIPLIER_PERCENT,
  description: '200 doubles the base points of what it applies to',
};
const channels = Object.values(SalesChannelKind).filter((k) => k !== SalesChannelKind.ADMIN);
const cap: RuleParamSpec = { name: 'capPoints', label: 'Cap (points)', type: 'integer', required: true, min: 0, max: MAX_POINTS_PER_ORDER };

interface BuiltInKind extends RuleKindEntry {
  /** Checks across fields, with paths from the input (`input.points`). */
  check?(input: RuleFields): FieldProblem[];
}

/** The core kinds, in evaluation order (modules/earning/engine.ts): their arguments are the rule's columns. */
const BUILT_IN_KINDS: BuiltInKind[] = [
  {
    kind: 'BASE_RATE',
    label: 'Base rate',
    description: 'Points per amount spent on each line, in one currency.',
    isBuiltIn: true,
    params: [
      { name: 'points', label: 'Points', type: 'integer', required: true, min: 1, max: MAX_RULE_POINTS, description: 'Points per “per minor” units' },
      { name: 'perMinor', label: 'Per minor units', type: 'integer', required: true, min: 1, max: 1_000_000_000, description: 'e.g. 100 = per £1' },
      { name: 'currency', label: 'Currency', type: 'string', required: true, maxLength: 3, description: 'ISO 4217, e.g. GBP' },
    ],
    check: (input) => {
      const p: FieldProblem[] = [];
      if (typeof input.currency === 'string' && !isCurrency(input.currency)) p.push({ path: 'input.currency', message: 'is not an ISO 4217 currency' });
      // At most a point per minor unit: a maximal order's base then stays within MAX_ORDER_TOTAL_MINOR points, and
      // every multiplier line of the engine is exact (docs/reference/input-bounds.md).
      if (typeof input.points === 'number' && typeof input.perMinor === 'number' && input.points > input.perMinor) {
        p.push({ path: 'input.points', message: `must not exceed perMinor (${input.perMinor}): at most one point per minor unit` });
      }
      return p;
    },
  },
  {
    kind: 'CATEGORY_MULTIPLIER',
    label: 'Category multiplier',
    description: 'Lines of a category earn a percentage of their base points.',
    isBuiltIn: true,
    params: [{ name: 'category', label: 'Category', type: 'string', required: true, maxLength: 100 }, { ...multiplier, required: true }],
  },
  {
    kind: 'PRODUCT_MULTIPLIER',
    label: 'Product multiplier',
    description: 'Lines of a SKU earn a percentage of their base points.',
    isBuiltIn: true,
    params: [{ name: 'sku', label: 'SKU', type: 'string', required: true, maxLength: 64 }, { ...multiplier, required: true }],
  },
  {
    kind: 'CHANNEL_MULTIPLIER',
    label: 'Channel multiplier',
    description: 'Orders from a kind of channel earn a percentage of their base points.',
    isBuiltIn: true,
    params: [{ name: 'channelKind', label: 'Channel', type: 'enum', required: true, options: channels }, { ...multiplier, required: true }],
  },
  {
    kind: 'BONUS',
    label: 'Bonus',
    description: 'In a window (and on days of the week, UTC): a multiplier of base points, or fixed points per order; optionally for one channel, category or SKU.',
    isBuiltIn: true,
    params: [
      multiplier,
      { name: 'fixedPoints', label: 'Fixed points', type: 'integer', min: 1, max: MAX_RULE_POINTS, description: 'Per order' },
      { name: 'channelKind', label: 'Channel', type: 'enum', options: channels },
      { name: 'category', label: 'Category', type: 'string', maxLength: 100 },
      { name: 'sku', label: 'SKU', type: 'string', maxLength: 64 },
    ],
    check: (input) =>
      (input.multiplierPercent ?? null) === null && (input.fixedPoints ?? null) === null
        ? [{ path: 'input.multiplierPercent', message: 'or fixedPoints is required for BONUS' }]
        : [],
  },
  { kind: 'ORDER_CAP', label: 'Order cap', description: 'At most this many points per order.', isBuiltIn: true, params: [cap] },
  { kind: 'DAILY_CAP', label: 'Daily cap', description: 'At most this many points per member per UTC day, across orders.', isBuiltIn: true, params: [cap] },
];

/** Thrown at start-up for a plugin kind the registry cannot take; the message names the kind and what is wrong. */
export class RuleKindDefinitionError extends Error {}

const UPPER_SNAKE = /^[A-Z][A-Z0-9_]{0,63}$/;
const PARAM_NAME = /^[a-z][A-Za-z0-9]{0,63}$/;
const DEFAULT_MAX_LENGTH = 200;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function assertDefinition(def: EarningRuleKindDefinition<any>): void {
  const fail = (why: string) => {
    throw new RuleKindDefinitionError(`earning-rule kind ${JSON.stringify(def?.kind)}: ${why}`);
  };
  if (typeof def?.kind !== 'string' || !UPPER_SNAKE.test(def.kind)) fail('kind must be UPPER_SNAKE (A-Z, 0-9, _), at most 64 characters');
  if (typeof def.label !== 'string' || !def.label.trim()) fail('label is required');
  if (typeof def.description !== 'string') fail('description is required');
  if (typeof def.extraPoints !== 'function') fail('extraPoints(input) is required');
  if (!Array.isArray(def.params)) fail('params must be an array (it may be empty)');
  const names = new Set<string>();
  for (const p of def.params) {
    const at = `param ${JSON.stringify(p?.name)}`;
    if (typeof p?.name !== 'string' || !PARAM_NAME.test(p.name)) fail(`${at}: name must be camelCase letters and digits`);
    if (names.has(p.name)) fail(`${at} is declared twice`);
    names.add(p.name);
    if (typeof p.label !== 'string' || !p.label.trim()) fail(`${at}: label is required`);
    if (!['string', 'integer', 'percent', 'date', 'enum'].includes(p.type)) fail(`${at}: type must be string, integer, percent, date or enum`);
    if (p.type === 'integer' && !(Number.isSafeInteger(p.min) && Number.isSafeInteger(p.max) && p.min! <= p.max!)) {
      fail(`${at}: an integer param needs whole-number min and max, min <= max (points stay bounded)`);
    }
    if (p.type === 'percent' && p.max !== undefined && !(Number.isSafeInteger(p.max) && p.max >= 0)) fail(`${at}: max must be a whole number from 0`);
    if (p.type === 'enum' && !(Array.isArray(p.options) && p.options.length && p.options.every((o) => typeof o === 'string' && o.length))) {
      fail(`${at}: an enum param needs options, a non-empty list of strings`);
    }
    if (p.maxLength !== undefined && !(Number.isSafeInteger(p.maxLength) && p.maxLength > 0)) fail(`${at}: maxLength must be a positive whole number`);
  }
}

/** Why `value` does not fit `spec`; null when it does. */
function paramProblem(spec: RuleParamSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'string': {
      const max = spec.maxLength ?? DEFAULT_MAX_LENGTH;
      if (typeof value !== 'string') return 'must be a string';
      if (!value.trim()) return 'must not be blank';
      return value.length > max ? `must be at most ${max} characters` : null;
    }
    case 'integer':
    case 'percent': {
      const min = spec.min ?? 0;
      const max = spec.max ?? (spec.type === 'percent' ? MAX_EARN_MULTIPLIER_PERCENT : Number.MAX_SAFE_INTEGER);
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be a whole number';
      return value < min || value > max ? `must be from ${min} to ${max}` : null;
    }
    case 'date':
      return typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? null : 'must be an ISO 8601 date-time';
    case 'enum':
      return typeof value === 'string' && spec.options!.includes(value) ? null : `must be one of ${spec.options!.join(', ')}`;
  }
}

/** Why a plugin's extraPoints answer is unusable (the rule then gives nothing), or the points it stands for. */
export function pluginPointsOf(value: unknown): { points: number; isCut: boolean } | { problem: string } {
  if (typeof value !== 'number' || Number.isNaN(value)) return { problem: `returned ${value === null ? 'null' : typeof value}, not a number` };
  if (value < 0) return { problem: `returned ${value}, below 0` };
  // Fractions round down like every other rule; more than an order may earn is cut to that (the ORDER_LIMIT line
  // cuts the total later), so the breakdown's numbers stay exact whatever a plugin returns.
  return value > MAX_POINTS_PER_ORDER ? { points: MAX_POINTS_PER_ORDER, isCut: true } : { points: Math.floor(value), isCut: false };
}

/** What the engine needs to evaluate a plugin rule. */
export interface PluginRule {
  id: string;
  version: number;
  kind: string;
  params: Record<string, unknown> | null;
}

/**
 * Every earning-rule kind: the built-in ones, then each plugin's, in the order the plugins were given. Built once at
 * composition (services.ts); the rule service validates with it, the engine evaluates with it, the schema builds the
 * EarningRuleKind enum from it and the admin app's rule form is drawn from `earningRuleKinds`.
 */
export class EarningRuleKinds {
  private readonly plugins = new Map<string, EarningRuleKindDefinition<any>>();
  private readonly entries: RuleKindEntry[];
  private readonly rank = new Map<string, number>();
  private readonly reportedUnknown = new Set<string>();

  /** Throws RuleKindDefinitionError on a malformed kind, or one whose name is taken (by the core or another plugin). */
  constructor(pluginKinds: readonly EarningRuleKindDefinition<any>[] = [], private readonly log?: Logger) {
    for (const def of pluginKinds) {
      assertDefinition(def);
      if (BUILT_IN_KINDS.some((k) => k.kind === def.kind)) throw new RuleKindDefinitionError(`earning-rule kind "${def.kind}" is a built-in kind`);
      if (this.plugins.has(def.kind)) throw new RuleKindDefinitionError(`earning-rule kind "${def.kind}" is registered twice`);
      this.plugins.set(def.kind, def);
    }
    this.entries = [
      ...BUILT_IN_KINDS.map(({ check: _check, ...entry }) => entry),
      ...[...this.plugins.values()].map((d) => ({ kind: d.kind, label: d.label, description: d.description, params: d.params, isBuiltIn: false })),
    ];
    this.entries.forEach((e, i) => this.rank.set(e.kind, i));
  }

  list(): readonly RuleKindEntry[] {
    return this.entries;
  }

  has(kind: string): boolean {
    return this.rank.has(kind);
  }

  isPluginKind(kind: string): boolean {
    return this.plugins.has(kind);
  }

  /** Position in evaluation order: built-in kinds first; a kind no longer registered last. */
  order(kind: string): number {
    return this.rank.get(kind) ?? this.entries.length;
  }

  /**
   * What is wrong with a rule's kind and arguments, with paths from the mutation's input (`input.params.brand`), and the
   * params to store: the given ones as the spec reads them for a plugin kind, null for a built-in one.
   */
  validate(input: RuleFields): { problems: FieldProblem[]; params: Record<string, unknown> | null } {
    const problems: FieldProblem[] = [];
    if (input.startsAt && input.endsAt && input.endsAt <= input.startsAt) problems.push({ path: 'input.endsAt', message: 'must be after startsAt' });
    const builtIn = BUILT_IN_KINDS.find((k) => k.kind === input.kind);
    if (builtIn) {
      if (input.params !== undefined && input.params !== null) {
        problems.push({ path: 'input.params', message: `must be left out for ${input.kind}: its arguments are fields of the input` });
      }
      for (const spec of builtIn.params) {
        if (spec.required && (input[spec.name as keyof RuleFields] ?? null) === null) {
          problems.push({ path: `input.${spec.name}`, message: `is required for ${input.kind}` });
        }
      }
      problems.push(...(builtIn.check?.(input) ?? []));
      return { problems, params: null };
    }
    const def = this.plugins.get(input.kind);
    if (!def) return { problems: [...problems, { path: 'input.kind', message: 'is not a registered earning-rule kind' }], params: null };
    for (const field of BUILT_IN_PARAM_FIELDS) {
      if ((input[field] ?? null) !== null) problems.push({ path: `input.${field}`, message: `must be left out for ${def.kind}: its arguments go in params` });
    }
    const given = input.params ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) return { problems: [...problems, { path: 'input.params', message: 'must be an object' }], params: null };
    const params: Record<string, unknown> = {};
    for (const key of Object.keys(given)) {
      if (!def.params.some((p) => p.name === key)) problems.push({ path: `input.params.${key}`, message: `is not a param of ${def.kind}` });
    }
    for (const spec of def.params) {
      const value = (given as Record<string, unknown>)[spec.name];
      if (value === undefined || value === null) {
        if (spec.required) problems.push({ path: `input.params.${spec.name}`, message: 'is required' });
        continue;
      }
      const problem = paramProblem(spec, value);
      if (problem) problems.push({ path: `input.params.${spec.name}`, message: problem });
      else params[spec.name] = value;
    }
    if (problems.length) return { problems, params: null };
    try {
      for (const p of def.check?.(params) ?? []) problems.push({ path: `input.params.${p.param}`, message: p.message });
    } catch (err) {
      // A plugin's own check failing is its bug, not the caller's: said once, and the rule is refused.
      this.log?.error({ err, kind: def.kind }, 'earning.rule_kind_check_failed');
      problems.push({ path: 'input.params', message: `could not be checked by ${def.kind}` });
    }
    return { problems, params: problems.length ? null : params };
  }

  /**
   * Points a plugin rule adds to an order, or 0 when it gives none: a kind no longer registered, an extraPoints that
   * throws or answers something other than a number from 0 up. Each of those is logged (an unknown kind once per
   * process), and the order is credited without that rule; the ledger never sees the bad value.
   */
  pluginPoints(rule: PluginRule, input: Omit<RuleKindInput<unknown>, 'params'>): number {
    const def = this.plugins.get(rule.kind);
    if (!def) {
      if (!this.reportedUnknown.has(rule.kind)) {
        this.reportedUnknown.add(rule.kind);
        this.log?.warn({ kind: rule.kind, ruleId: rule.id }, 'earning.rule_kind_unknown');
      }
      return 0;
    }
    let answer: unknown;
    try {
      answer = def.extraPoints({ ...input, params: rule.params ?? {} });
    } catch (err) {
      this.log?.error({ err, kind: rule.kind, ruleId: rule.id, ruleVersion: rule.version }, 'earning.rule_kind_failed');
      return 0;
    }
    const result = pluginPointsOf(answer);
    if ('problem' in result) {
      this.log?.error({ kind: rule.kind, ruleId: rule.id, ruleVersion: rule.version, problem: result.problem }, 'earning.rule_kind_failed');
      return 0;
    }
    if (result.isCut) this.log?.warn({ kind: rule.kind, ruleId: rule.id, ruleVersion: rule.version, returned: answer }, 'earning.rule_kind_points_cut');
    return result.points;
  }
}

/** The core kinds alone: for the committed schema and for callers that load no plugins. */
export const coreRuleKinds = new EarningRuleKinds();
