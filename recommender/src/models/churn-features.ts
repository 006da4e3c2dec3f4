import { expectedPurchases, fitBgNbd, probabilityAlive, probabilityNoPurchase, purchaseSummaries } from '../baselines/bgnbd';
import type { Txn } from '../eval/types';
import { DAY_MS } from '../time';

/**
 * Every feature TF-CHURN can use, in groups. `base` is the first version's set; the others add what a logistic
 * regression on RFM cannot see: how regular the customer's own rhythm is and whether it is slowing, the spend and
 * basket trajectory over the last periods, seasonality against the customer's own history a year before, and BG/NBD's
 * P(alive), expected purchase days and P(no purchase) in the horizon, fitted on everyone's history before `at`.
 * (Names are stable: stored weights name their columns, and the API shows them with CHURN_FEATURE_LABELS.)
 */
export const CHURN_FEATURE_GROUPS = {
  base: [
    'log_recency_days', 'log_invoices', 'log_spend', 'log_tenure_days', 'log_mean_gap_days', 'log_gap_std_days',
    'log_overdue_ratio', 'gap_trend', 'log_invoices_30d', 'log_invoices_60d', 'log_invoices_90d', 'log_invoices_180d',
    'log_spend_90d', 'log_mean_basket_value', 'log_mean_basket_lines', 'log_distinct_items', 'one_time_buyer',
    'home_country', 'log_expected_in_horizon', 'recent_vs_previous_horizon',
    'item_affinity_recent', 'item_share_selling_now', 'item_momentum', 'log_invoices_same_window_last_year',
  ],
  rhythm: [
    'gap_cv', 'gap_slope', 'log_recency_over_median_gap', 'log_recency_over_max_gap', 'share_gaps_longer_than_recency',
    'log_purchase_days',
  ],
  trajectory: [
    'log_spend_period_2', 'log_spend_period_3', 'log_spend_period_4', 'spend_slope', 'invoice_slope',
    'basket_lines_trend', 'log_new_items_recent_share',
  ],
  season: ['bought_same_season_last_year', 'season_share_last_year', 'has_year_of_history'],
  profile: ['log_mean_line_quantity', 'log_mean_unit_price', 'log_max_basket_value'],
  bgnbd: ['bgnbd_p_alive', 'bgnbd_log_expected_purchases', 'bgnbd_logit_no_purchase'],
} as const;

export type ChurnFeatureGroup = keyof typeof CHURN_FEATURE_GROUPS;
export type ChurnFeature = (typeof CHURN_FEATURE_GROUPS)[ChurnFeatureGroup][number];

/** Every column churnFeatures computes, in order. */
export const CHURN_FEATURES: readonly ChurnFeature[] = Object.values(CHURN_FEATURE_GROUPS).flat();
export const CF = CHURN_FEATURES.length;

/** What the admin app and API show for a driver: one short phrase per feature (a missing one fails typecheck). */
export const CHURN_FEATURE_LABELS: Record<ChurnFeature, string> = {
  log_recency_days: 'Days since last purchase',
  log_invoices: 'Number of orders',
  log_spend: 'Total spend',
  log_tenure_days: 'Days since first purchase',
  log_mean_gap_days: 'Typical days between orders',
  log_gap_std_days: 'Spread of days between orders',
  log_overdue_ratio: 'Days since last purchase / typical gap',
  gap_trend: 'Last gap vs typical gap',
  log_invoices_30d: 'Orders in the last 30 days',
  log_invoices_60d: 'Orders in the last 60 days',
  log_invoices_90d: 'Orders in the last 90 days',
  log_invoices_180d: 'Orders in the last 180 days',
  log_spend_90d: 'Spend in the last 90 days',
  log_mean_basket_value: 'Average order value',
  log_mean_basket_lines: 'Average lines per order',
  log_distinct_items: 'Distinct products bought',
  one_time_buyer: 'Bought only once',
  home_country: 'In the main country',
  log_expected_in_horizon: 'Orders expected in the horizon at their past rate',
  recent_vs_previous_horizon: 'Orders this horizon vs the one before',
  item_affinity_recent: 'Their products bought by others lately',
  item_share_selling_now: 'Share of their products selling now',
  item_momentum: 'Demand trend of their products',
  log_invoices_same_window_last_year: 'Orders in the coming season last year',
  gap_cv: 'Irregularity of days between orders',
  gap_slope: 'Gaps between orders lengthening',
  log_recency_over_median_gap: 'Days since last purchase / median gap',
  log_recency_over_max_gap: 'Days since last purchase / longest gap',
  share_gaps_longer_than_recency: 'Share of past gaps longer than the current one',
  log_purchase_days: 'Days with a purchase',
  log_spend_period_2: 'Spend one horizon earlier',
  log_spend_period_3: 'Spend two horizons earlier',
  log_spend_period_4: 'Spend three horizons earlier',
  spend_slope: 'Spend trend over the last four horizons',
  invoice_slope: 'Order-count trend over the last four horizons',
  basket_lines_trend: 'Basket breadth lately vs usual',
  log_new_items_recent_share: 'Share of new products in recent orders',
  bought_same_season_last_year: 'Bought in the coming season last year',
  season_share_last_year: "Share of last year's orders in the coming season",
  has_year_of_history: 'Customer for over a year',
  log_mean_line_quantity: 'Average quantity per line',
  log_mean_unit_price: 'Average unit price paid',
  log_max_basket_value: 'Largest order value',
  bgnbd_p_alive: 'Probability still active (BG/NBD)',
  bgnbd_log_expected_purchases: 'Purchase days expected in the horizon (BG/NBD)',
  bgnbd_logit_no_purchase: 'Chance of no purchase in the horizon (BG/NBD)',
};

/** The label of a feature, saying the scale its value is on (drivers show the value next to it). */
export function churnFeatureLabel(feature: string): string {
  const label = (CHURN_FEATURE_LABELS as Record<string, string>)[feature];
  if (!label) return feature;
  if (feature.includes('logit_')) return `${label} (log-odds)`;
  if (feature.startsWith('log_') || feature.includes('_log_')) return `${label} (log)`;
  return label;
}

interface Invoice {
  time: number;
  spend: number;
  lines: number;
  units: number;
  items: Set<string>;
}

const YEAR_DAYS = 365;

/** Least-squares slope of ys against 0, 1, 2, … (0 for fewer than two points). */
function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let num = 0, den = 0;
  ys.forEach((v, i) => ((num += (i - mx) * (v - my)), (den += (i - mx) ** 2)));
  return num / den;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One feature row per customer as of `at`, from rows strictly before it (row-major [customers × CF], CHURN_FEATURES
 * order). Customers with no row before `at` get 0 in `present`. `homeCountry` is the most common country overall.
 */
export function churnFeatures(rows: Txn[], customers: string[], at: number, horizonDays: number, homeCountry: string | null) {
  const index = new Map(customers.map((c, k) => [c, k]));
  const invoices: Map<string, Invoice>[] = customers.map(() => new Map());
  const items: Set<string>[] = customers.map(() => new Set());
  const country: (string | null)[] = customers.map(() => null);
  // Demand for each product in the last 30 days and in the 60 before: customers whose products are in season now
  // (Christmas lines in autumn, say) tend to come back.
  const recentBuyers = new Map<string, Set<string>>();
  const earlierBuyers = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.time >= at || r.stockCode === null) continue;
    const age = (at - r.time) / DAY_MS;
    const m = age <= 30 ? recentBuyers : age <= 90 ? earlierBuyers : null;
    if (!m) continue;
    let set = m.get(r.stockCode);
    if (!set) m.set(r.stockCode, (set = new Set()));
    set.add(r.customerId);
  }
  for (const r of rows) {
    if (r.time >= at) continue;
    const k = index.get(r.customerId);
    if (k === undefined) continue;
    let inv = invoices[k].get(r.invoice);
    if (!inv) invoices[k].set(r.invoice, (inv = { time: r.time, spend: 0, lines: 0, units: 0, items: new Set() }));
    inv.time = Math.min(inv.time, r.time);
    inv.spend += r.quantity * r.unitPrice;
    inv.lines++;
    inv.units += r.quantity;
    if (r.stockCode !== null) {
      items[k].add(r.stockCode);
      inv.items.add(r.stockCode);
    }
    if (r.country) country[k] = r.country;
  }
  const itemSeason = (own: Set<string>): [number, number, number] => {
    if (!own.size) return [0, 0, 0];
    let affinity = 0, selling = 0, momentum = 0;
    for (const code of own) {
      const now = recentBuyers.get(code)?.size ?? 0;
      const before = (earlierBuyers.get(code)?.size ?? 0) / 2;
      affinity += Math.log1p(now);
      selling += now > 0 ? 1 : 0;
      momentum += Math.log((now + 1) / (before + 1));
    }
    return [affinity / own.size, selling / own.size, momentum / own.size];
  };
  const h = horizonDays;
  const bgnbd = bgnbdFeatures(rows, customers, at, horizonDays);
  const x = new Float32Array(customers.length * CF);
  const present = new Uint8Array(customers.length);
  customers.forEach((_, k) => {
    const list = [...invoices[k].values()].sort((a, b) => a.time - b.time);
    if (!list.length) return;
    present[k] = 1;
    const n = list.length;
    const days = (t: number) => (at - t) / DAY_MS;
    const first = list[0].time, last = list[n - 1].time;
    const recency = days(last), tenure = days(first);
    const gaps: number[] = [];
    for (let q = 1; q < n; q++) gaps.push((list[q].time - list[q - 1].time) / DAY_MS);
    const meanGap = (last - first) / DAY_MS / Math.max(1, n - 1);
    const gapStd = gaps.length > 1 ? Math.sqrt(gaps.reduce((s, g) => s + (g - meanGap) ** 2, 0) / gaps.length) : 0;
    const within = (d: number) => list.filter((v) => days(v.time) <= d).length;
    const spend = list.reduce((s, v) => s + v.spend, 0);
    const spend90 = list.filter((v) => days(v.time) <= 90).reduce((s, v) => s + v.spend, 0);
    const lastGap = gaps.length ? gaps[gaps.length - 1] : 0;
    const recent = within(h), previous = within(2 * h) - recent;
    const lineCount = list.reduce((s, v) => s + v.lines, 0);

    // Rhythm: the customer's own gaps (repeat customers only; one-time buyers are flagged by one_time_buyer).
    const medGap = gaps.length ? median(gaps) : 0;
    const maxGap = gaps.length ? Math.max(...gaps) : 0;
    const purchaseDays = new Set(list.map((v) => Math.floor(v.time / DAY_MS))).size;
    const rhythm = [
      gaps.length > 1 && meanGap > 0 ? gapStd / meanGap : 0,
      // Gaps lengthening: slope of log gap per gap, over the last six gaps.
      gaps.length > 2 ? slope(gaps.slice(-6).map((g) => Math.log1p(g))) : 0,
      gaps.length ? Math.log((recency + 1) / (medGap + 1)) : 0,
      gaps.length ? Math.log((recency + 1) / (maxGap + 1)) : 0,
      gaps.length ? gaps.filter((g) => g > recency).length / gaps.length : 0,
      Math.log1p(purchaseDays),
    ];

    // Trajectory: spend and orders in each of the last four horizon-long periods (period 1 is the latest), trends
    // over the periods the customer was already buying in, so a newcomer's empty early periods are not a rise.
    const periods = 4;
    const periodSpend = new Array<number>(periods).fill(0), periodCount = new Array<number>(periods).fill(0);
    for (const v of list) {
      const p = Math.floor(days(v.time) / h);
      if (p < periods) (periodSpend[p] += v.spend), periodCount[p]++;
    }
    const live = Math.min(periods, Math.floor(tenure / h) + 1);
    const oldestFirst = (a: number[]) => a.slice(0, live).reverse();
    const recentInvoices = list.filter((v) => days(v.time) <= h);
    const meanLines = (vs: Invoice[]) => vs.reduce((s, v) => s + v.items.size, 0) / vs.length;
    const olderItems = new Set<string>();
    for (const v of list) if (days(v.time) > h) for (const i of v.items) olderItems.add(i);
    let recentItems = 0, newRecentItems = 0;
    for (const v of recentInvoices) for (const i of v.items) (recentItems++, olderItems.has(i) || newRecentItems++);
    const trajectory = [
      Math.log1p(Math.max(0, periodSpend[1])), Math.log1p(Math.max(0, periodSpend[2])), Math.log1p(Math.max(0, periodSpend[3])),
      slope(oldestFirst(periodSpend).map((s) => Math.log1p(Math.max(0, s)))),
      slope(oldestFirst(periodCount).map((c) => Math.log1p(c))),
      recentInvoices.length && n > recentInvoices.length ? Math.log((meanLines(recentInvoices) + 1) / (meanLines(list) + 1)) : 0,
      recentItems && olderItems.size ? newRecentItems / recentItems : 0,
    ];

    // Season: the customer's own year before, when there is one: did they buy in the window the horizon covers?
    const lastYear = list.filter((v) => days(v.time) <= YEAR_DAYS);
    const sameSeason = list.filter((v) => days(v.time) <= YEAR_DAYS && days(v.time) > YEAR_DAYS - h).length;
    const season = [sameSeason > 0 ? 1 : 0, lastYear.length ? sameSeason / lastYear.length : 0, tenure >= YEAR_DAYS ? 1 : 0];

    const f = [
      Math.log1p(recency), Math.log1p(n), Math.log1p(spend), Math.log1p(tenure), Math.log1p(meanGap), Math.log1p(gapStd),
      Math.log1p(n > 1 ? recency / (meanGap + 1) : recency / (tenure + 1)),
      n > 2 ? Math.log((lastGap + 1) / (meanGap + 1)) : 0,
      Math.log1p(within(30)), Math.log1p(within(60)), Math.log1p(within(90)), Math.log1p(within(180)),
      Math.log1p(spend90), Math.log1p(spend / n), Math.log1p(list.reduce((s, v) => s + v.lines, 0) / n), Math.log1p(items[k].size),
      n === 1 ? 1 : 0, homeCountry !== null && country[k] === homeCountry ? 1 : 0,
      Math.log1p((h * n) / Math.max(tenure, h)), Math.log((recent + 1) / (previous + 1)),
      ...itemSeason(items[k]),
      Math.log1p(sameSeason),
      ...rhythm,
      ...trajectory,
      ...season,
      // Profile: wholesalers buy many units of cheap lines, often and steadily; one-off gift buyers do not.
      Math.log1p(list.reduce((s, v) => s + v.units, 0) / lineCount), Math.log1p(spend / Math.max(1, list.reduce((s, v) => s + v.units, 0))),
      Math.log1p(Math.max(0, ...list.map((v) => v.spend))),
      ...bgnbd[k],
    ];
    x.set(f, k * CF);
  });
  return { x, present };
}

/**
 * BG/NBD fitted on the purchase days of `customers` before `at`; per customer P(alive), log1p(expected purchase days in
 * the horizon) and the log-odds of no purchase day in it (clipped to ±10). Zeros when the fit fails (too little data).
 */
function bgnbdFeatures(rows: Txn[], customers: string[], at: number, horizonDays: number): number[][] {
  const summaries = purchaseSummaries(rows, at, customers);
  const zeros = () => customers.map(() => [0, 0, 0]);
  const known = summaries.filter((s) => s !== null);
  if (known.length < 10) return zeros();
  try {
    const p = fitBgNbd(known);
    const t = horizonDays / 7;
    const out = summaries.map((s) => {
      if (!s) return [0, 0, 0];
      const none = Math.min(1 - 1e-9, Math.max(1e-9, probabilityNoPurchase(p, t, s.x, s.tx, s.T)));
      return [probabilityAlive(p, s.x, s.tx, s.T), Math.log1p(expectedPurchases(p, t, s.x, s.tx, s.T)), Math.max(-10, Math.min(10, Math.log(none / (1 - none))))];
    });
    return out.every((row) => row.every(Number.isFinite)) ? out : zeros();
  } catch {
    return zeros();
  }
}

export function mostCommonCountry(rows: Txn[]): string | null {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.country) counts.set(r.country, (counts.get(r.country) ?? 0) + 1);
  let best: string | null = null;
  for (const [c, n] of counts) if (best === null || n > counts.get(best)!) best = c;
  return best;
}
