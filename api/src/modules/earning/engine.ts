import { SalesChannelKind } from '../../base/enums';
import { EarningRuleKind } from './earning-rule.entity';
import type { PointsBreakdownItem } from './earning.types';
import { MAX_POINTS_PER_ORDER } from '../../base/bounds';
import { coreRuleKinds, type EarningLine, type EarningRuleKinds, type RuleKindMember } from './rule-kinds';

export type { EarningLine } from './rule-kinds';

/** What the engine needs of a rule; entities satisfy it. */
export interface RuleData {
  id: string;
  version: number;
  name: string;
  /** An EarningRuleKind, or a plugin's kind (modules/earning/rule-kinds.ts). */
  kind: EarningRuleKind | string;
  priority: number;
  currency: string | null;
  points: number | null;
  perMinor: number | null;
  multiplierPercent: number | null;
  fixedPoints: number | null;
  category: string | null;
  sku: string | null;
  channelKind: SalesChannelKind | null;
  startsAt: Date | null;
  endsAt: Date | null;
  daysOfWeek: number[] | null;
  capPoints: number | null;
  /** A plugin kind's arguments; null for the built-in kinds. */
  params?: Record<string, unknown> | null;
}

export interface BenefitMultiplier {
  kind: 'TIER' | 'PLAN';
  label: string;
  percent: number;
}

export interface EarningInput {
  currency: string;
  channelKind: SalesChannelKind;
  placedAt: Date;
  lines: EarningLine[];
  rules: RuleData[];
  benefits: BenefitMultiplier[];
  /** Points the member already earned from orders on the order's UTC day. */
  earnedSameDay: number;
  /** The kinds in force (plugins' included); the built-in ones when unset. */
  kinds?: EarningRuleKinds;
  /** The member, for plugin kinds (RuleKindInput.member); unknown when unset. */
  member?: RuleKindMember;
  /** The programme's time zone, for plugin kinds; UTC when unset. */
  timeZone?: string;
}

export interface Earning {
  points: number;
  breakdown: PointsBreakdownItem[];
}

/** The breakdown line that cuts an order's points to MAX_POINTS_PER_ORDER (campaign bonuses included). */
export const ORDER_LIMIT_KIND = 'ORDER_LIMIT';

/** Extra points for a multiplier: 200% of base is base + 100%. Rounded toward zero, so a 50% rule takes half away. */
const extraFor = (base: number, percent: number) => Math.trunc((base * (percent - 100)) / 100);

function isLive(rule: RuleData, at: Date): boolean {
  if (rule.startsAt && at < rule.startsAt) return false;
  if (rule.endsAt && at >= rule.endsAt) return false;
  if (rule.daysOfWeek?.length && !rule.daysOfWeek.includes(at.getUTCDay())) return false;
  return true;
}

/** Lines a targeted rule applies to; a rule with no target applies to every line. */
function matchingLines(rule: RuleData, lines: EarningLine[], base: number[]): number {
  return lines.reduce((sum, line, i) => {
    const fits = (!rule.category || rule.category === line.category) && (!rule.sku || rule.sku === line.sku);
    return fits ? sum + base[i] : sum;
  }, 0);
}

/**
 * The points an order earns, and which rule gave which. Pure: the same input always gives the same points.
 * Order: base rate per line → category, product, channel multipliers and bonuses (each adds to the base,
 * they do not compound) → plugin kinds' extra points (each rule one line, in the order the kinds were registered, then
 * by priority; tier and plan multipliers do not apply to them) → tier and plan multipliers (of the base) → fixed
 * bonuses → order cap → daily cap → the platform's MAX_POINTS_PER_ORDER (an ORDER_LIMIT line), so that the points fit
 * the order's, lot's and ledger row's columns.
 */
export function computeEarning(input: EarningInput): Earning {
  const kinds = input.kinds ?? coreRuleKinds;
  const rules = input.rules
    .filter((r) => isLive(r, input.placedAt))
    .sort((a, b) => kinds.order(a.kind) - kinds.order(b.kind) || b.priority - a.priority);
  const breakdown: PointsBreakdownItem[] = [];
  const item = (rule: RuleData | null, kind: string, label: string, points: number) => {
    if (points !== 0) breakdown.push({ kind, label, ruleId: rule?.id ?? null, ruleVersion: rule?.version ?? null, points });
  };

  const baseRule = rules.find((r) => r.kind === EarningRuleKind.BASE_RATE && r.currency === input.currency);
  const lineBase = input.lines.map((l) =>
    baseRule && baseRule.perMinor ? Math.floor((Math.max(l.netMinor, 0) * (baseRule.points ?? 0)) / baseRule.perMinor) : 0,
  );
  const base = lineBase.reduce((a, b) => a + b, 0);
  if (baseRule) item(baseRule, baseRule.kind, baseRule.name, base);

  for (const rule of rules) {
    if (rule.multiplierPercent === null) continue;
    const applies =
      rule.kind === EarningRuleKind.CATEGORY_MULTIPLIER ||
      rule.kind === EarningRuleKind.PRODUCT_MULTIPLIER ||
      (rule.kind === EarningRuleKind.CHANNEL_MULTIPLIER && rule.channelKind === input.channelKind) ||
      (rule.kind === EarningRuleKind.BONUS && (!rule.channelKind || rule.channelKind === input.channelKind));
    if (applies) item(rule, rule.kind, rule.name, extraFor(matchingLines(rule, input.lines, lineBase), rule.multiplierPercent));
  }
  for (const rule of rules) {
    if (kinds.isPluginKind(rule.kind) || !kinds.has(rule.kind)) {
      const order = {
        lines: input.lines,
        lineBase,
        placedAt: input.placedAt,
        currency: input.currency,
        channelKind: input.channelKind,
        member: input.member ?? { birthday: null },
        timeZone: input.timeZone ?? 'UTC',
      };
      item(rule, rule.kind, rule.name, kinds.pluginPoints({ ...rule, params: rule.params ?? null }, order));
    }
  }
  for (const b of input.benefits) item(null, b.kind, b.label, extraFor(base, b.percent));
  for (const rule of rules) {
    if (rule.kind !== EarningRuleKind.BONUS || !rule.fixedPoints) continue;
    if (rule.channelKind && rule.channelKind !== input.channelKind) continue;
    if ((rule.category || rule.sku) && matchingLines(rule, input.lines, input.lines.map(() => 1)) === 0) continue;
    item(rule, rule.kind, rule.name, rule.fixedPoints);
  }

  let total = Math.max(0, breakdown.reduce((a, b) => a + b.points, 0));
  if (total === 0 && breakdown.length) item(null, 'FLOOR', 'No negative points', -breakdown.reduce((a, b) => a + b.points, 0));
  for (const rule of rules) {
    if (rule.capPoints === null) continue;
    const allowed =
      rule.kind === EarningRuleKind.ORDER_CAP ? rule.capPoints : rule.kind === EarningRuleKind.DAILY_CAP ? Math.max(0, rule.capPoints - input.earnedSameDay) : Infinity;
    if (total > allowed) {
      item(rule, rule.kind, rule.name, allowed - total);
      total = allowed;
    }
  }
  if (total > MAX_POINTS_PER_ORDER) {
    item(null, ORDER_LIMIT_KIND, 'Most points an order can earn', MAX_POINTS_PER_ORDER - total);
    total = MAX_POINTS_PER_ORDER;
  }
  return { points: total, breakdown };
}
