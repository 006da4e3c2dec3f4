import type { EarningRuleKindDefinition } from '@loyalty/api/extension-api';

/** The arguments a BRAND_BONUS rule stores (earning_rule.params), as the platform has validated them. */
export interface BrandBonusParams {
  brand: string;
  extraPercent: number;
}

/** Brands as shops type them: "ACME", "Acme " and "acme" are one brand. */
const sameBrand = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Extra points on the lines of one brand: `extraPercent` of the base points those lines earned (100 doubles them).
 * Rounded down, like every rule; tier and plan multipliers do not apply to it, caps do.
 */
export const brandBonus: EarningRuleKindDefinition<BrandBonusParams> = {
  kind: 'BRAND_BONUS',
  label: 'Brand bonus',
  description: "Extra points on products of one brand, as a percentage of those lines' base points.",
  params: [
    { name: 'brand', label: 'Brand', type: 'string', required: true, maxLength: 100, description: 'As the catalogue names it; any case' },
    { name: 'extraPercent', label: 'Extra %', type: 'percent', required: true, min: 1, max: 1000, description: '100 doubles the base points of those lines' },
  ],
  extraPoints({ params, lines, lineBase }) {
    const base = lines.reduce((sum, line, i) => (line.brand !== null && sameBrand(line.brand, params.brand) ? sum + lineBase[i] : sum), 0);
    return Math.floor((base * params.extraPercent) / 100);
  },
};
