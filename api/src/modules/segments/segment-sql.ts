import {
  type AttributeName,
  type CheckedRule,
  type ConditionValue,
  type Operator,
  type Scalar,
  type SegmentCondition,
  type SegmentRule,
} from './segment-grammar';
import { DAY_MS } from '../../base/time';
import { VALUE_AT_RISK_SQL } from '../models/value-at-risk';
import type { SegmentAttributeDefinition, SegmentSqlParams } from './segment-attributes';
import { ValueType } from './segment-grammar';

/**
 * A WHERE predicate over `member m` and the per-member aggregates joined to it, with its bound values. Every value of
 * the rule is a `?` placeholder in `where`; the SQL text is assembled only from the constants in this file, chosen by
 * whitelisted attribute and operator names. Run it as `${with} select … from ${from} where ${where}` with the params
 * `[...withParams, ...fromParams, ...params]`.
 *
 * Set-based: every per-member value a rule reads (orders in a window, last purchase, tier, balance, churn score,
 * latest feedback) comes from one row per member, left-joined to `member m` on the member id (hash joins), rather than
 * from a subquery evaluated once per member. Order figures come from the per-member order history the orders module
 * keeps in step with customer_order (Migration20261209100000_order_history): one row per member, whatever the number of
 * orders or windows. Many-valued attributes stay `m.id in (…)`, hashed once per statement; categoriesBought still reads
 * the order lines (the history has no products).
 */
export interface CompiledRule {
  /** `with …` clause to put before the statement, or ''. */
  with: string;
  withParams: unknown[];
  /**
   * `member m` and the left joins the rule reads; bound values of the evaluation time and windows only. When the rule
   * requires an order in a window and reads no column only the member row has, `m` is the member's order stats row
   * instead (id, country and status included), and only the window's stats rows are read.
   */
  from: string;
  fromParams: unknown[];
  /** Includes the population (ACTIVE members unless the rule has a status condition; never MERGED records). */
  where: string;
  params: unknown[];
}


class Binder {
  readonly params: unknown[] = [];

  constructor(readonly asOf: Date) {}

  one(value: unknown, cast: string): string {
    this.params.push(value);
    return `?::${cast}`;
  }

  list(values: readonly unknown[], cast: string): string {
    return `array[${values.map((v) => this.one(v, cast)).join(', ')}]`;
  }

  at(): string {
    return this.one(this.asOf.toISOString(), 'timestamptz');
  }

  /**
   * T - `days` days, as a scalar subquery: PostgreSQL computes it once per statement. Written inline, timestamptz minus
   * an interval (stable, so never folded into a constant) was worked out again for every row it was compared with:
   * three times per member in a window condition, a tenth of a segment preview at a million members. (Not where the
   * planner should see the value: it estimates rows from a stable expression, not from a subquery's result.)
   */
  windowStart(days: number): string {
    return `(select ${this.estimableWindowStart(days)})`;
  }

  /** T - `days` days written inline, for a filter whose rows the planner must estimate from the value. */
  estimableWindowStart(days: number): string {
    return `(${this.at()} - make_interval(days => ${this.one(days, 'int')}))`;
  }
}

type Cast = 'bigint' | 'real' | 'numeric' | 'text';

/** A single value per member (null when the member has none: then no comparison matches). */
interface ScalarSource {
  kind: 'scalar';
  cast: Cast;
  expr: (b: Binder, c: SegmentCondition, j: Joins) => string;
}

/** Rows (member_id, v) of every member: the member's values of a many-valued attribute, or its one value. */
interface SetSource {
  kind: 'set';
  cast: Cast;
  rows: (b: Binder, c: SegmentCondition) => string;
}

interface DateSource {
  kind: 'date';
  column: string;
}

const ACTIVE_CHURN = `member_churn_score c join model_version v on v.id = c.model_version_id and v.kind = 'CHURN' and v.status = 'ACTIVE'`;
const ACTIVE_VALUE = `member_value_score s join model_version v on v.id = s.model_version_id and v.kind = 'VALUE' and v.status = 'ACTIVE'`;

/**
 * The per-member relations a rule reads, each left-joined to `member m` at most once and unique on member_id.
 * `jo` is the member's order history, with the orders and net spend of each window and the last order before the
 * evaluation time.
 */
const ALIAS = { tier: 'jt', balance: 'jb', churn: 'jc', nps: 'jnps', csat: 'jcsat', value: 'jv' } as const;
type JoinName = keyof typeof ALIAS;

class Joins {
  /**
   * Driven by the stats when `statsWindowDays` is set: the rule requires an order in that window, so every match has a
   * stats row whose last order is in it, and the stats row (which carries the member's id, country and status) stands
   * in for `member m`.
   */
  constructor(readonly statsWindowDays: number | null = null) {}

  get fromStats(): boolean {
    return this.statsWindowDays !== null;
  }

  private get stats(): string {
    return this.fromStats ? 'm' : 'jo';
  }

  readonly windows: number[] = [];
  lastOrder = false;
  lastEver = false;
  readonly used = new Set<JoinName>();
  /** Plugin attributes' rows, one left join per attribute, qualifier and window. */
  private readonly plugins = new Map<string, { alias: string; rows: (b: Binder) => string }>();

  /** The alias of a plugin attribute's rows for condition `c`, joined once per (attribute, qualifier, window). */
  plugin(def: SegmentAttributeDefinition, c: SegmentCondition): string {
    const key = JSON.stringify([c.attribute, c.qualifier ?? null, c.windowDays ?? null]);
    let join = this.plugins.get(key);
    if (!join) {
      join = { alias: `jp${this.plugins.size}`, rows: (b) => def.rows(sqlParams(b, c)) };
      this.plugins.set(key, join);
    }
    return join.alias;
  }

  /** Column names of the count and net spend of orders in the last `days` days, and of that count capped at 8. */
  window(days: number): { n: string; net: string; capped: string } {
    let i = this.windows.indexOf(days);
    if (i < 0) i = this.windows.push(days) - 1;
    return { n: `${this.stats}.n${i}`, net: `${this.stats}.net${i}`, capped: `${this.stats}.c${i}` };
  }

  /** The member's last order time, whatever the evaluation time (null without orders). */
  lastOrderEver(): string {
    this.lastEver = true;
    return `${this.stats}.last_ever`;
  }

  lastOrderAt(): string {
    this.lastOrder = true;
    return `${this.stats}.last_at`;
  }

  /** The alias of a per-member relation, joined once. */
  use(name: JoinName): string {
    this.used.add(name);
    return ALIAS[name];
  }

  /** `member m left join …` (or the stats rows as `m`, left join …), binding the evaluation time and windows in `b` (in text order). */
  sql(b: Binder): string {
    const parts = this.fromStats ? [] : ['member m'];
    if (this.fromStats || this.windows.length > 0 || this.lastOrder || this.lastEver) {
      // The member's order stats (Migration20261210100000_scale_aggregates): for a member whose last order is before
      // the evaluation time T (all but those of T's last moments when T is now), the orders of [T - W, T) are those of
      // its last (up to) 8 order times `recent_at` at or after T - W, when that is fewer than all 8 or it has no more;
      // its net spend there is its all-time net when its first order is in the window, 0 when its last is before it;
      // its last order is `last_at`. Otherwise the history arrays (orders module, Migration20261209100000_order_history):
      // k = orders placed before T, kN = before the start of window N (width_bucket: how many of the ascending times are
      // at or before the operand), and differences of the running sums there (index 0 reads null), read only for the
      // members that need them.
      const history = (expr: string) => `(select ${expr} from member_order_history h where h.member_id = s.member_id)`;
      const before = (at: string) => `width_bucket(${at} - interval '1 microsecond', h.placed_at)`;
      // k() binds its values afresh at each use (placeholders are positional).
      const net = (k: () => string) => `coalesce(h.total_cum[${k()}] - h.returned_cum[${k()}], 0)`;
      const cols: string[] = [];
      this.windows.forEach((days, i) => {
        const start = () => b.windowStart(days);
        cols.push(
          `case when s.last_at < ${b.at()} and (s.orders <= 8 or s.recent_at[1] < ${start()})
             then cardinality(s.recent_at) - width_bucket(${start()} - interval '1 microsecond', s.recent_at)
             else ${history(`${before(b.at())} - ${before(start())}`)} end as n${i}`,
        );
        // At most 8 (what recent_at holds): all a comparison with a constant below 8 needs, without the arrays.
        cols.push(
          `case when s.last_at < ${b.at()} then cardinality(s.recent_at) - width_bucket(${start()} - interval '1 microsecond', s.recent_at)
             else least(8, ${history(`${before(b.at())} - ${before(start())}`)}) end as c${i}`,
        );
        cols.push(
          `case when s.last_at < ${b.at()} and s.first_at >= ${start()} then s.total_minor - s.returned_minor
             when s.last_at < ${start()} then 0
             else ${history(`${net(() => before(b.at()))} - ${net(() => before(start()))}`)} end as net${i}`,
        );
      });
      if (this.lastOrder) cols.push(`case when s.last_at < ${b.at()} then s.last_at else ${history(`h.placed_at[${before(b.at())}]`)} end as last_at`);
      if (this.lastEver) cols.push('s.last_at as last_ever');
      if (this.statsWindowDays !== null) {
        // The country and status are copied from the member row in the transaction of their change
        // (Migration20261213100000_order_stats_status). The window's rows are planned on their own (OFFSET 0): otherwise
        // the planner charges the history subplans of the CASE columns to every row a scan returns, and for a window
        // holding half the table it chose an index scan over a sequential one, at twice the time.
        const window = `select * from member_order_stats s where s.last_at >= ${b.estimableWindowStart(this.statsWindowDays)} offset 0`;
        parts.push(`(select s.member_id as id, s.country, s.status, ${cols.join(',\n          ')} from (${window}) s) m`);
      } else {
        parts.push(`left join (select s.member_id, ${cols.join(',\n          ')} from member_order_stats s) jo on jo.member_id = m.id`);
      }
    }
    if (this.used.has('tier')) {
      parts.push(`left join (select mt.member_id, t.code, t.threshold from member_tier mt join tier t on t.id = mt.tier_id) jt on jt.member_id = m.id`);
    }
    if (this.used.has('balance')) parts.push('left join member_balance jb on jb.member_id = m.id');
    // One ACTIVE model per kind (model_version_one_active) and one score per member and model: unique on member_id.
    if (this.used.has('churn')) parts.push(`left join (select c.member_id, c.band, c.score, c.previous_score from ${ACTIVE_CHURN}) jc on jc.member_id = m.id`);
    if (this.used.has('value')) parts.push(`left join (select s.member_id, s.band, s.amount_minor from ${ACTIVE_VALUE}) jv on jv.member_id = m.id`);
    for (const kind of ['nps', 'csat'] as const) {
      if (!this.used.has(kind)) continue;
      // The member's latest answer of the kind before the evaluation time.
      parts.push(
        `left join (select distinct on (f.member_id) f.member_id, f.score from feedback f
          where f.kind = '${kind.toUpperCase()}' and f.given_at < ${b.at()} order by f.member_id, f.given_at desc, f.id desc) ${ALIAS[kind]} on ${ALIAS[kind]}.member_id = m.id`,
      );
    }
    for (const { alias, rows } of this.plugins.values()) parts.push(`left join (${rows(b)}) ${alias} on ${alias}.member_id = m.id`);
    return parts.join('\n    ');
  }
}

/** A plugin's placeholders for condition `c`, bound in `b` in the order the plugin writes them. */
function sqlParams(b: Binder, c: SegmentCondition): SegmentSqlParams {
  return {
    asOf: () => b.at(),
    windowStart: () => {
      if (c.windowDays === undefined) throw new Error(`${c.attribute} reads windowStart() but does not declare needsWindowDays`);
      // A plugin filters its own rows by it.
      return b.estimableWindowStart(c.windowDays);
    },
    qualifier: () => {
      if (c.qualifier === undefined) throw new Error(`${c.attribute} reads qualifier() but does not declare a qualifier`);
      return b.one(c.qualifier, 'text');
    },
  };
}

const PLUGIN_CAST: Record<SegmentAttributeDefinition['type'], Cast> = {
  [ValueType.INTEGER]: 'bigint',
  [ValueType.NUMBER]: 'numeric',
  [ValueType.ENUM]: 'text',
  [ValueType.CODE]: 'text',
};

/** A plugin attribute as a source: one-valued ones are left-joined (with their missing value), many-valued read as rows. */
function pluginSource(def: SegmentAttributeDefinition): ScalarSource | SetSource {
  const cast = PLUGIN_CAST[def.type];
  if (def.isMany) return { kind: 'set', cast, rows: (b, c) => def.rows(sqlParams(b, c)) };
  return {
    kind: 'scalar',
    cast,
    expr: (b, c, j) => {
      const value = `${j.plugin(def, c)}.v::${cast}`;
      return def.missingValue === undefined ? value : `coalesce(${value}, ${b.one(def.missingValue, cast)})`;
    },
  };
}

/** Where compileRule finds plugin attributes' definitions (SegmentAttributes). */
export interface PluginAttributeSql {
  plugin(name: string): SegmentAttributeDefinition | undefined;
}
const NO_PLUGINS: PluginAttributeSql = { plugin: () => undefined };

/** The member's current tier (the threshold-0 tier when none is recorded). */
const CURRENT_TIER = (j: Joins, col: 'code' | 'threshold') => `coalesce(${j.use('tier')}.${col}, (select t.${col} from tier t where t.threshold = 0))`;

/** The SQL behind each attribute of the grammar (segment-grammar.ts). */
const SOURCES: Record<AttributeName, ScalarSource | SetSource | DateSource> & Partial<Record<string, ScalarSource | SetSource | DateSource>> = {
  tier: { kind: 'scalar', cast: 'text', expr: (_b, _c, j) => CURRENT_TIER(j, 'code') },
  pointsBalance: { kind: 'scalar', cast: 'bigint', expr: (_b, _c, j) => `coalesce(${j.use('balance')}.available, 0)` },
  lifetimePoints: { kind: 'scalar', cast: 'bigint', expr: (_b, _c, j) => `coalesce(${j.use('balance')}.lifetime, 0)` },
  daysSinceLastPurchase: {
    kind: 'scalar',
    cast: 'bigint',
    expr: (b, _c, j) => `floor(extract(epoch from (${b.at()} - ${j.lastOrderAt()})) / 86400)::bigint`,
  },
  purchaseCount: {
    kind: 'scalar',
    cast: 'bigint',
    // Compared with constants below 8 only, min(count, 8) gives the same answer.
    expr: (_b, c, j) => `coalesce(${[c.value].flat().every((v) => Number(v) < 8) ? j.window(c.windowDays!).capped : j.window(c.windowDays!).n}, 0)`,
  },
  monetaryMinor: { kind: 'scalar', cast: 'bigint', expr: (_b, c, j) => `coalesce(${j.window(c.windowDays!).net}, 0)` },
  rfmSegment: { kind: 'set', cast: 'text', rows: () => `select r.member_id, r.segment as v from rfm r` },
  channelsUsed: {
    kind: 'set',
    cast: 'text',
    // A channel's first order before the evaluation time: the member had ordered through it then.
    rows: (b) => `select c.member_id, c.channel_kind as v from member_channel_order_stats c where c.first_at < ${b.at()}`,
  },
  country: { kind: 'scalar', cast: 'text', expr: () => `m.country` },
  consents: { kind: 'set', cast: 'text', rows: () => `select mc.member_id, mc.medium as v from member_consent mc where mc.is_granted` },
  categoriesBought: {
    kind: 'set',
    cast: 'text',
    rows: (b) =>
      `select o.member_id, p.category as v from product p join order_line l on l.product_id = p.id join customer_order o on o.id = l.order_id
       where o.member_id is not null and o.placed_at < ${b.at()}`,
  },
  churnBand: { kind: 'scalar', cast: 'text', expr: (_b, _c, j) => `${j.use('churn')}.band` },
  churnScore: { kind: 'scalar', cast: 'real', expr: (_b, _c, j) => `${j.use('churn')}.score` },
  // In decimals: each real (float4) score as its 6 significant digits, so 0.7 after 0.6 is a change of exactly 0.1
  // (in float4 arithmetic it would be 0.09999996, and miss "gte 0.1").
  churnScoreChange: { kind: 'scalar', cast: 'numeric', expr: (_b, _c, j) => `(${j.use('churn')}.score::numeric - ${j.use('churn')}.previous_score::numeric)` },
  valueBand: { kind: 'scalar', cast: 'text', expr: (_b, _c, j) => `${j.use('value')}.band` },
  // Null (no match) unless both active models scored the member.
  valueAtRisk: { kind: 'scalar', cast: 'bigint', expr: (_b, _c, j) => VALUE_AT_RISK_SQL(j.use('value'), j.use('churn')) },
  membershipPlan: {
    kind: 'set',
    cast: 'text',
    rows: (b) =>
      `select mp.member_id, p.code as v from member_plan mp join membership_plan p on p.id = mp.plan_id
       where mp.cancelled_at is null and mp.starts_at <= ${b.at()} and mp.ends_at > ${b.at()}`,
  },
  npsScore: { kind: 'scalar', cast: 'bigint', expr: (_b, _c, j) => `${j.use('nps')}.score` },
  npsCategory: {
    kind: 'scalar',
    cast: 'text',
    expr: (_b, _c, j) => {
      const s = `${j.use('nps')}.score`;
      return `case when ${s} is null then null when ${s} >= 9 then 'PROMOTER' when ${s} >= 7 then 'PASSIVE' else 'DETRACTOR' end`;
    },
  },
  csatScore: { kind: 'scalar', cast: 'bigint', expr: (_b, _c, j) => `${j.use('csat')}.score` },
  enrolledAt: { kind: 'date', column: 'm.enrolled_at' },
  status: { kind: 'scalar', cast: 'text', expr: () => `m.status` },
};

const COMPARE: Partial<Record<Operator, string>> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function scalarPredicate(b: Binder, j: Joins, source: ScalarSource, c: SegmentCondition): string {
  const value = c.value;
  // Tier order is the order of thresholds.
  if (c.attribute === 'tier' && ['gt', 'gte', 'lt', 'lte'].includes(c.op)) {
    return `${CURRENT_TIER(j, 'threshold')} ${COMPARE[c.op]} (select t.threshold from tier t where t.code = ${b.one(value, 'text')})`;
  }
  const expr = source.expr(b, c, j);
  if (c.op === 'in') return `${expr} = any(${b.list(value as Scalar[], source.cast)})`;
  if (c.op === 'between') {
    const [lo, hi] = value as Scalar[];
    return `${expr} between ${b.one(lo, source.cast)} and ${b.one(hi, source.cast)}`;
  }
  return `${expr} ${COMPARE[c.op]} ${b.one(value, source.cast)}`;
}

function setPredicate(b: Binder, source: SetSource, c: SegmentCondition): string {
  const values = Array.isArray(c.value) ? c.value : [c.value];
  const rows = `(${source.rows(b, c)}) s`;
  if (c.op === 'all') {
    const matches = b.list(values, source.cast);
    return `m.id in (select s.member_id from ${rows} where s.v = any(${matches}) group by s.member_id having count(distinct s.v) = ${b.one(values.length, 'int')})`;
  }
  // contains, any; and eq / neq / in when a single-valued attribute is read as rows (rfmSegment).
  const test =
    c.op === 'neq' ? `s.v <> ${b.one(c.value, source.cast)}` : c.op === 'eq' ? `s.v = ${b.one(c.value, source.cast)}` : `s.v = any(${b.list(values, source.cast)})`;
  return `m.id in (select s.member_id from ${rows} where s.member_id is not null and ${test})`;
}

function dayStart(day: Scalar, plusDays = 0): string {
  const [y, mo, d] = String(day).split('-').map(Number);
  return new Date(Date.UTC(y, mo - 1, d) + plusDays * DAY_MS).toISOString();
}

function datePredicate(b: Binder, source: DateSource, op: Operator, value: ConditionValue): string {
  const col = source.column;
  const from = (day: Scalar, plus = 0) => b.one(dayStart(day, plus), 'timestamptz');
  switch (op) {
    case 'eq':
      return `(${col} >= ${from(value as Scalar)} and ${col} < ${from(value as Scalar, 1)})`;
    case 'neq':
      return `(${col} < ${from(value as Scalar)} or ${col} >= ${from(value as Scalar, 1)})`;
    case 'gt':
      return `${col} >= ${from(value as Scalar, 1)}`;
    case 'gte':
      return `${col} >= ${from(value as Scalar)}`;
    case 'lt':
      return `${col} < ${from(value as Scalar)}`;
    case 'lte':
      return `${col} < ${from(value as Scalar, 1)}`;
    case 'between': {
      const [lo, hi] = value as Scalar[];
      return `(${col} >= ${from(lo)} and ${col} < ${from(hi, 1)})`;
    }
    default:
      throw new Error(`operator ${op} is not defined for dates`);
  }
}

function compileNode(b: Binder, j: Joins, rule: SegmentRule, plugins: PluginAttributeSql): string {
  if ('and' in rule) return `(${rule.and.map((r) => compileNode(b, j, r, plugins)).join(' and ')})`;
  if ('or' in rule) return `(${rule.or.map((r) => compileNode(b, j, r, plugins)).join(' or ')})`;
  if ('not' in rule) return `(not ${compileNode(b, j, rule.not, plugins)})`;
  const plugin = plugins.plugin(rule.attribute);
  const source = plugin ? pluginSource(plugin) : SOURCES[rule.attribute];
  if (!source) throw new Error(`segment attribute ${rule.attribute} is not registered`);
  const predicate =
    source.kind === 'scalar'
      ? scalarPredicate(b, j, source, rule)
      : source.kind === 'set'
        ? setPredicate(b, source, rule)
        : datePredicate(b, source, rule.op, rule.value);
  // A condition on a value the member lacks is false, not unknown, so that `not` is the complement.
  return `coalesce(${predicate}, false)`;
}

function usesRfm(rule: SegmentRule): boolean {
  if ('and' in rule) return rule.and.some(usesRfm);
  if ('or' in rule) return rule.or.some(usesRfm);
  if ('not' in rule) return usesRfm(rule.not);
  return rule.attribute === 'rfmSegment';
}

/**
 * The shortest window W of a purchaseCount condition the whole rule requires (a top-level conjunct) that needs at least
 * one order in it: every match then has its last order at or after T - W, which the stats' index on last_at finds
 * (a redundant conjunct: it changes no answer).
 */
function requiredOrderWindow(rule: SegmentRule): number | null {
  const conjuncts = 'and' in rule ? rule.and : [rule];
  const days = conjuncts.flatMap((c) => {
    if (!('attribute' in c) || c.attribute !== 'purchaseCount' || c.windowDays === undefined) return [];
    const values = [c.value].flat().map(Number);
    const needsOne =
      ((c.op === 'gte' || c.op === 'eq' || c.op === 'between' || c.op === 'in') && values.every((v) => v >= 1)) || (c.op === 'gt' && values[0] >= 0);
    return needsOne ? [c.windowDays] : [];
  });
  return days.length ? Math.min(...days) : null;
}

/** Whether the rule reads a column of the member row that the order stats do not carry (dates: enrolledAt). */
function readsMemberRow(rule: SegmentRule, plugins: PluginAttributeSql): boolean {
  if ('and' in rule) return rule.and.some((r) => readsMemberRow(r, plugins));
  if ('or' in rule) return rule.or.some((r) => readsMemberRow(r, plugins));
  if ('not' in rule) return readsMemberRow(rule.not, plugins);
  return !plugins.plugin(rule.attribute) && SOURCES[rule.attribute]?.kind === 'date';
}

/** Compiles a rule that passed `checkRule` (with the same attributes), evaluated as of `asOf`. */
export function compileRule(checked: CheckedRule, asOf: Date, plugins: PluginAttributeSql = NO_PLUGINS): CompiledRule {
  const withBinder = new Binder(asOf);
  const withSql = usesRfm(checked.rule) ? `with rfm as materialized (select member_id, segment from analytics_rfm(${withBinder.at()}))` : '';
  const b = new Binder(asOf);
  const window = requiredOrderWindow(checked.rule);
  // Only members with an order in the window can match: read the window's stats rows, not a million member rows.
  const joins = new Joins(window !== null && !readsMemberRow(checked.rule, plugins) ? window : null);
  const population = checked.mentionsStatus ? `m.status <> 'MERGED'` : `m.status = 'ACTIVE'`;
  // Otherwise on the stats row joined: the outer join becomes an inner one driven by the stats' rows of the window.
  const recent = window === null || joins.fromStats ? '' : ` and ${joins.lastOrderEver()} >= ${b.estimableWindowStart(window)}`;
  const where = `${population}${recent} and ${compileNode(b, joins, checked.rule, plugins)}`;
  const fromBinder = new Binder(asOf);
  const from = joins.sql(fromBinder);
  return { with: withSql, withParams: withBinder.params, from, fromParams: fromBinder.params, where, params: b.params };
}

/**
 * The preview statement: the matches once (materialised), then their count and the first `sample` ids by id (top-N);
 * the tier code only for the sampled members. Columns id, country, tier_code (null: the threshold-0 tier), total.
 */
export function previewStatement(c: CompiledRule, sample: number): { sql: string; params: unknown[] } {
  return {
    sql: `${c.with ? `${c.with},` : 'with'} matched as materialized (select m.id, m.country from ${c.from} where ${c.where})
      select s.id, s.country, (select t.code from member_tier mt join tier t on t.id = mt.tier_id where mt.member_id = s.id) as tier_code,
        (select count(*) from matched)::int as total
      from (select id, country from matched order by id limit ${Math.trunc(sample)}) s order by s.id`,
    params: [...c.withParams, ...c.fromParams, ...c.params],
  };
}
