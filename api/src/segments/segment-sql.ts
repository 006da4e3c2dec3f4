import {
  type AttributeName,
  type CheckedRule,
  type ConditionValue,
  type Operator,
  type Scalar,
  type SegmentCondition,
  type SegmentRule,
} from './segment-grammar';

/**
 * A WHERE predicate over `member m`, with its bound values. Every value of the rule is a `?` placeholder; the SQL text
 * is assembled only from the constants in this file, chosen by whitelisted attribute and operator names.
 */
export interface CompiledRule {
  /** `with …` clause to put before the statement, or ''. */
  with: string;
  withParams: unknown[];
  /** Includes the population (ACTIVE members unless the rule has a status condition; never MERGED records). */
  where: string;
  params: unknown[];
}

const DAY_MS = 86_400_000;

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
}

type Cast = 'bigint' | 'real' | 'text';

/** A single value per member (null when the member has none: then no comparison matches). */
interface ScalarSource {
  kind: 'scalar';
  cast: Cast;
  expr: (b: Binder, c: SegmentCondition) => string;
}

/** Rows (member_id, v) of every member: the member's values of a many-valued attribute, or its one value. */
interface SetSource {
  kind: 'set';
  cast: Cast;
  rows: (b: Binder) => string;
}

interface DateSource {
  kind: 'date';
  column: string;
}

const ACTIVE_CHURN = `member_churn_score c join model_version v on v.id = c.model_version_id and v.kind = 'CHURN' and v.status = 'ACTIVE'`;
const CURRENT_TIER = (col: string) =>
  `coalesce((select t.${col} from member_tier mt join tier t on t.id = mt.tier_id where mt.member_id = m.id), (select t.${col} from tier t where t.threshold = 0))`;

/** The member's latest answer of a kind before the evaluation time. */
const LATEST_SCORE = (b: Binder, kind: 'NPS' | 'CSAT') =>
  `(select f.score from feedback f where f.member_id = m.id and f.kind = '${kind}' and f.given_at < ${b.at()} order by f.given_at desc, f.id desc limit 1)`;

/** The SQL behind each attribute of the grammar (segment-grammar.ts). */
const SOURCES: Record<AttributeName, ScalarSource | SetSource | DateSource> = {
  tier: { kind: 'scalar', cast: 'text', expr: () => CURRENT_TIER('code') },
  pointsBalance: { kind: 'scalar', cast: 'bigint', expr: () => `coalesce((select mb.available from member_balance mb where mb.member_id = m.id), 0)` },
  lifetimePoints: { kind: 'scalar', cast: 'bigint', expr: () => `coalesce((select mb.lifetime from member_balance mb where mb.member_id = m.id), 0)` },
  daysSinceLastPurchase: {
    kind: 'scalar',
    cast: 'bigint',
    expr: (b) => {
      const at = b.at();
      return `(select floor(extract(epoch from (${at} - max(o.placed_at))) / 86400)::bigint from customer_order o where o.member_id = m.id and o.placed_at < ${b.at()})`;
    },
  },
  purchaseCount: {
    kind: 'scalar',
    cast: 'bigint',
    expr: (b, c) => `(select count(*) from customer_order o where o.member_id = m.id and ${inWindow(b, c)})`,
  },
  monetaryMinor: {
    kind: 'scalar',
    cast: 'bigint',
    expr: (b, c) => `(select coalesce(sum(o.total_minor - o.returned_minor), 0) from customer_order o where o.member_id = m.id and ${inWindow(b, c)})`,
  },
  rfmSegment: { kind: 'set', cast: 'text', rows: () => `select r.member_id, r.segment as v from rfm r` },
  channelsUsed: {
    kind: 'set',
    cast: 'text',
    rows: (b) => `select o.member_id, o.channel_kind as v from customer_order o where o.member_id is not null and o.placed_at < ${b.at()}`,
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
  churnBand: { kind: 'scalar', cast: 'text', expr: () => `(select c.band from ${ACTIVE_CHURN} where c.member_id = m.id)` },
  churnScore: { kind: 'scalar', cast: 'real', expr: () => `(select c.score from ${ACTIVE_CHURN} where c.member_id = m.id)` },
  membershipPlan: {
    kind: 'set',
    cast: 'text',
    rows: (b) =>
      `select mp.member_id, p.code as v from member_plan mp join membership_plan p on p.id = mp.plan_id
       where mp.cancelled_at is null and mp.starts_at <= ${b.at()} and mp.ends_at > ${b.at()}`,
  },
  npsScore: { kind: 'scalar', cast: 'bigint', expr: (b) => LATEST_SCORE(b, 'NPS') },
  npsCategory: {
    kind: 'scalar',
    cast: 'text',
    expr: (b) => `(select case when s is null then null when s >= 9 then 'PROMOTER' when s >= 7 then 'PASSIVE' else 'DETRACTOR' end from (select ${LATEST_SCORE(b, 'NPS')} as s) latest)`,
  },
  csatScore: { kind: 'scalar', cast: 'bigint', expr: (b) => LATEST_SCORE(b, 'CSAT') },
  enrolledAt: { kind: 'date', column: 'm.enrolled_at' },
  status: { kind: 'scalar', cast: 'text', expr: () => `m.status` },
};

const COMPARE: Partial<Record<Operator, string>> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function inWindow(b: Binder, c: SegmentCondition): string {
  const at = b.at();
  return `o.placed_at >= ${at} - make_interval(days => ${b.one(c.windowDays, 'int')}) and o.placed_at < ${b.at()}`;
}

function scalarPredicate(b: Binder, source: ScalarSource, c: SegmentCondition): string {
  const value = c.value;
  // Tier order is the order of thresholds.
  if (c.attribute === 'tier' && ['gt', 'gte', 'lt', 'lte'].includes(c.op)) {
    return `${CURRENT_TIER('threshold')} ${COMPARE[c.op]} (select t.threshold from tier t where t.code = ${b.one(value, 'text')})`;
  }
  const expr = source.expr(b, c);
  if (c.op === 'in') return `${expr} = any(${b.list(value as Scalar[], source.cast)})`;
  if (c.op === 'between') {
    const [lo, hi] = value as Scalar[];
    return `${expr} between ${b.one(lo, source.cast)} and ${b.one(hi, source.cast)}`;
  }
  return `${expr} ${COMPARE[c.op]} ${b.one(value, source.cast)}`;
}

function setPredicate(b: Binder, source: SetSource, c: SegmentCondition): string {
  const values = Array.isArray(c.value) ? c.value : [c.value];
  const rows = `(${source.rows(b)}) s`;
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

function compileNode(b: Binder, rule: SegmentRule): string {
  if ('and' in rule) return `(${rule.and.map((r) => compileNode(b, r)).join(' and ')})`;
  if ('or' in rule) return `(${rule.or.map((r) => compileNode(b, r)).join(' or ')})`;
  if ('not' in rule) return `(not ${compileNode(b, rule.not)})`;
  const source = SOURCES[rule.attribute];
  const predicate =
    source.kind === 'scalar'
      ? scalarPredicate(b, source, rule)
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

/** Compiles a rule that passed `checkRule`, evaluated as of `asOf`. */
export function compileRule(checked: CheckedRule, asOf: Date): CompiledRule {
  const withBinder = new Binder(asOf);
  const withSql = usesRfm(checked.rule) ? `with rfm as materialized (select member_id, segment from analytics_rfm(${withBinder.at()}))` : '';
  const b = new Binder(asOf);
  const population = checked.mentionsStatus ? `m.status <> 'MERGED'` : `m.status = 'ACTIVE'`;
  const where = `${population} and ${compileNode(b, checked.rule)}`;
  return { with: withSql, withParams: withBinder.params, where, params: b.params };
}
