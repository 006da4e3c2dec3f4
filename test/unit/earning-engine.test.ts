import { computeEarning, type RuleData, type EarningInput } from '../../api/src/modules/earning/engine';
import { EarningRuleKind } from '../../api/src/modules/earning/earning-rule.entity';
import { SalesChannelKind } from '../../api/src/base/enums';
import { EarningRuleKinds } from '../../api/src/modules/earning/rule-kinds';

let n = 0;
function rule(kind: EarningRuleKind, fields: Partial<RuleData> = {}): RuleData {
  return {
    id: `r${++n}`, version: 1, name: `${kind} ${n}`, kind, priority: 0, currency: null, points: null, perMinor: null,
    multiplierPercent: null, fixedPoints: null, category: null, sku: null, channelKind: null, startsAt: null, endsAt: null,
    daysOfWeek: null, capPoints: null, ...fields,
  };
}
const base = rule(EarningRuleKind.BASE_RATE, { currency: 'GBP', points: 1, perMinor: 100 });
// Saturday 2026-11-28, 12:00 UTC.
const saturday = new Date('2026-11-28T12:00:00Z');

function input(overrides: Partial<EarningInput> = {}): EarningInput {
  return {
    currency: 'GBP', channelKind: SalesChannelKind.WEB, placedAt: saturday, earnedSameDay: 0, benefits: [],
    lines: [{ sku: 'BEANS', category: 'Coffee', brand: 'Roastery', netMinor: 1099 }, { sku: 'MUG', category: 'Kitchen', brand: null, netMinor: 500 }],
    rules: [base], ...overrides,
  };
}

describe('computeEarning', () => {
  it('gives base points per line, rounding each line down', () => {
    expect(computeEarning(input())).toEqual({ points: 15, breakdown: [expect.objectContaining({ kind: 'BASE_RATE', points: 15 })] });
  });

  it('earns nothing in a currency without a base rate', () => {
    expect(computeEarning(input({ currency: 'EUR' })).points).toBe(0);
  });

  it('adds category, product and channel multipliers to the base without compounding them', () => {
    const out = computeEarning(input({
      rules: [
        base,
        rule(EarningRuleKind.CATEGORY_MULTIPLIER, { category: 'Coffee', multiplierPercent: 200 }),
        rule(EarningRuleKind.PRODUCT_MULTIPLIER, { sku: 'BEANS', multiplierPercent: 150 }),
        rule(EarningRuleKind.CHANNEL_MULTIPLIER, { channelKind: SalesChannelKind.WEB, multiplierPercent: 110 }),
        rule(EarningRuleKind.CHANNEL_MULTIPLIER, { channelKind: SalesChannelKind.STORE, multiplierPercent: 300 }),
      ],
    }));
    // base 10 + 5, coffee +10, beans +5, web +1 (10% of 15)
    expect(out.breakdown.map((b) => [b.kind, b.points])).toEqual([
      ['BASE_RATE', 15], ['CATEGORY_MULTIPLIER', 10], ['PRODUCT_MULTIPLIER', 5], ['CHANNEL_MULTIPLIER', 1],
    ]);
    expect(out.points).toBe(31);
  });

  it('applies a weekend bonus only inside its window and on its days', () => {
    const weekend = rule(EarningRuleKind.BONUS, { multiplierPercent: 200, daysOfWeek: [0, 6], startsAt: new Date('2026-11-01'), endsAt: new Date('2026-12-01') });
    expect(computeEarning(input({ rules: [base, weekend] })).points).toBe(30);
    expect(computeEarning(input({ rules: [base, weekend], placedAt: new Date('2026-11-27T12:00:00Z') })).points).toBe(15);
    expect(computeEarning(input({ rules: [base, weekend], placedAt: new Date('2026-12-05T12:00:00Z') })).points).toBe(15);
  });

  it('adds tier and plan multipliers to the base, and fixed bonuses per order', () => {
    const out = computeEarning(input({
      benefits: [{ kind: 'TIER', label: 'Gold tier', percent: 150 }, { kind: 'PLAN', label: 'Plus plan', percent: 200 }],
      rules: [base, rule(EarningRuleKind.BONUS, { fixedPoints: 50, channelKind: SalesChannelKind.WEB })],
    }));
    expect(out.breakdown.map((b) => [b.kind, b.points])).toEqual([['BASE_RATE', 15], ['TIER', 7], ['PLAN', 15], ['BONUS', 50]]);
    expect(out.points).toBe(87);
  });

  it('caps an order, then the day, and says so in the breakdown', () => {
    const rules = [base, rule(EarningRuleKind.BONUS, { fixedPoints: 100 }), rule(EarningRuleKind.ORDER_CAP, { capPoints: 80 }), rule(EarningRuleKind.DAILY_CAP, { capPoints: 120 })];
    const fresh = computeEarning(input({ rules }));
    expect(fresh.points).toBe(80);
    expect(fresh.breakdown.at(-1)).toMatchObject({ kind: 'ORDER_CAP', points: -35 });
    const late = computeEarning(input({ rules, earnedSameDay: 100 }));
    expect(late.points).toBe(20);
    expect(late.breakdown.at(-1)).toMatchObject({ kind: 'DAILY_CAP', points: -60 });
    expect(computeEarning(input({ rules, earnedSameDay: 500 })).points).toBe(0);
  });

  it('never goes below zero, and the breakdown always adds up to the points', () => {
    const out = computeEarning(input({ rules: [base, rule(EarningRuleKind.CHANNEL_MULTIPLIER, { channelKind: SalesChannelKind.WEB, multiplierPercent: 0 })] }));
    expect(out.points).toBe(0);
    expect(out.breakdown.reduce((s, b) => s + b.points, 0)).toBe(0);
  });

  it("adds a plugin kind's points after the multipliers, outside the tier and plan multipliers and inside the caps", () => {
    const kinds = new EarningRuleKinds([
      {
        kind: 'PER_BRANDED_LINE',
        label: 'Per branded line',
        description: '',
        params: [{ name: 'points', label: 'Points', type: 'integer', required: true, min: 1, max: 100 }],
        extraPoints: ({ params, lines }) => lines.filter((l) => l.brand).length * (params.points as number),
      },
    ]);
    const plugin = rule('PER_BRANDED_LINE' as EarningRuleKind, { params: { points: 4 } });
    const out = computeEarning(input({
      kinds,
      benefits: [{ kind: 'TIER', label: 'Gold tier', percent: 200 }],
      rules: [base, plugin, rule(EarningRuleKind.CATEGORY_MULTIPLIER, { category: 'Coffee', multiplierPercent: 200 })],
    }));
    expect(out.breakdown.map((b) => [b.kind, b.points])).toEqual([['BASE_RATE', 15], ['CATEGORY_MULTIPLIER', 10], ['PER_BRANDED_LINE', 4], ['TIER', 15]]);
    expect(out.breakdown[2]).toMatchObject({ label: plugin.name, ruleId: plugin.id, ruleVersion: 1 });
    const capped = computeEarning(input({ kinds, rules: [base, plugin, rule(EarningRuleKind.ORDER_CAP, { capPoints: 16 })] }));
    expect(capped.breakdown.map((b) => [b.kind, b.points])).toEqual([['BASE_RATE', 15], ['PER_BRANDED_LINE', 4], ['ORDER_CAP', -3]]);
  });

  it('skips a rule of a kind it does not know, as when its plugin was removed', () => {
    const out = computeEarning(input({ rules: [base, rule('GONE' as EarningRuleKind, { params: {} })] }));
    expect(out).toEqual({ points: 15, breakdown: [expect.objectContaining({ kind: 'BASE_RATE', points: 15 })] });
  });
});
