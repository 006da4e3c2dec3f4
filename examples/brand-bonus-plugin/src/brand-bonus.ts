import type { EarningRuleKindDefinition } from '@loyalty/api/extension-api';

/** The arguments a BRAND_BONUS rule stores (earning_rule.params), as the platform has validated them. */
export interface BrandBonusParams {
  brand: string;
  extraPercent: number;
  /** ALWAYS (unset), or BIRTHDAY_WEEK: only on orders placed in the member's birthday week. */
  when?: 'ALWAYS' | 'BIRTHDAY_WEEK';
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
    { name: 'when', label: 'When', type: 'enum', options: ['ALWAYS', 'BIRTHDAY_WEEK'], description: "BIRTHDAY_WEEK: only from three days before the member's birthday to three days after" },
  ],
  extraPoints({ params, lines, lineBase, placedAt, member, timeZone }) {
    if (params.when === 'BIRTHDAY_WEEK' && !inBirthdayWeek(placedAt, member.birthday, timeZone)) return 0;
    const base = lines.reduce((sum, line, i) => (line.brand !== null && sameBrand(line.brand, params.brand) ? sum + lineBase[i] : sum), 0);
    return Math.floor((base * params.extraPercent) / 100);
  },
};

const DAY_MS = 86_400_000;

/**
 * Whether `at` falls in the seven days from three days before the member's birthday to three days after, counted in
 * the programme's time zone; a 29 February birthday is kept on 28 February in other years. No birthday: never.
 */
export function inBirthdayWeek(at: Date, birthday: string | null, timeZone: string): boolean {
  const born = birthday ? /^\d{4}-(\d{2})-(\d{2})$/.exec(birthday) : null;
  if (!born) return false;
  // The order's calendar day where the programme is, as a UTC midnight.
  const local = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
  const [y, m, d] = local.split('-').map(Number);
  const day = Date.UTC(y, m - 1, d);
  const [month, date] = [Number(born[1]), Number(born[2])];
  // The birthday in the year before, the year of and the year after the order: a week can span New Year.
  return [y - 1, y, y + 1].some((year) => {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const birthdayThen = Date.UTC(year, month - 1, month === 2 && date === 29 && !leap ? 28 : date);
    return Math.abs(day - birthdayThen) <= 3 * DAY_MS;
  });
}
