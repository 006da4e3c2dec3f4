import type { AttributeInfo } from './rule-tree';

/** A rule a marketer often starts from; offered only when the API's grammar has every attribute it names. */
export interface SegmentPreset {
  id: string;
  label: string;
  /** What the rule finds, in the marketer's words. */
  description: string;
  rule: unknown;
}

export const segmentPresets: readonly SegmentPreset[] = [
  {
    id: 'drifting-valuable',
    label: 'Valuable customers drifting away',
    description: 'High predicted value, and a churn risk up at least 10 points over the last month or so',
    rule: {
      and: [
        { attribute: 'valueBand', op: 'eq', value: 'HIGH' },
        { attribute: 'churnScoreChange', op: 'gte', value: 0.1 },
      ],
    },
  },
  {
    id: 'rising-risk',
    label: 'Rising churn risk',
    description: 'A churn risk up at least 10 points over the last month or so (the dashboard links here)',
    rule: { and: [{ attribute: 'churnScoreChange', op: 'gte', value: 0.1 }] },
  },
  {
    id: 'high-risk-high-spend',
    label: 'Big spenders at high churn risk',
    description: 'Spent 500.00 or more (50,000 minor units) over the last year, and in the high churn-risk band',
    rule: {
      and: [
        { attribute: 'monetaryMinor', op: 'gte', value: 50000, windowDays: 365 },
        { attribute: 'churnBand', op: 'eq', value: 'HIGH' },
      ],
    },
  },
  {
    id: 'lapsed',
    label: 'Lapsed buyers',
    description: 'Ordered before, but nothing in the last 90 days',
    rule: {
      and: [
        { attribute: 'daysSinceLastPurchase', op: 'gte', value: 90 },
      ],
    },
  },
];

/** The attribute names of a rule, wherever they sit in it. */
function attributesOf(rule: unknown): string[] {
  if (!rule || typeof rule !== 'object') return [];
  const r = rule as Record<string, unknown>;
  if (typeof r.attribute === 'string') return [r.attribute];
  return [...(Array.isArray(r.and) ? r.and : []), ...(Array.isArray(r.or) ? r.or : []), ...(r.not ? [r.not] : [])].flatMap(attributesOf);
}

/** The presets this API can evaluate: a deployment without a model (or a plugin's attribute) simply lacks some. */
export function availablePresets(attributes: readonly AttributeInfo[]): SegmentPreset[] {
  const known = new Set(attributes.map((a) => a.name));
  return segmentPresets.filter((p) => attributesOf(p.rule).every((name) => known.has(name)));
}

/**
 * The rule a new segment starts from, from the page's address: `?start=<preset id>` (the dashboard's link) or
 * `?rfmSegment=<RfmSegment>` (the RFM page's: members in that RFM segment when the segment is used). Null when the
 * address names neither, or something this API's grammar cannot evaluate.
 */
export function startingRule(params: URLSearchParams, attributes: readonly AttributeInfo[]): unknown {
  const preset = availablePresets(attributes).find((p) => p.id === params.get('start'));
  if (preset) return preset.rule;
  const rfmSegment = params.get('rfmSegment');
  const rfm = attributes.find((a) => a.name === 'rfmSegment');
  if (rfmSegment && rfm?.values?.includes(rfmSegment)) return { and: [{ attribute: 'rfmSegment', op: 'eq', value: rfmSegment }] };
  return null;
}
