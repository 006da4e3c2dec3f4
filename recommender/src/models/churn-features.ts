import type { Txn } from '../eval/types';
import { DAY_MS } from '../time';

export const CHURN_FEATURES = [
  'log_recency_days', 'log_invoices', 'log_spend', 'log_tenure_days', 'log_mean_gap_days', 'log_gap_std_days',
  'log_overdue_ratio', 'gap_trend', 'log_invoices_30d', 'log_invoices_60d', 'log_invoices_90d', 'log_invoices_180d',
  'log_spend_90d', 'log_mean_basket_value', 'log_mean_basket_lines', 'log_distinct_items', 'one_time_buyer',
  'home_country', 'log_expected_in_horizon', 'recent_vs_previous_horizon',
  'item_affinity_recent', 'item_share_selling_now', 'item_momentum', 'log_invoices_same_window_last_year',
] as const;
export const CF = CHURN_FEATURES.length;

interface Invoice {
  time: number;
  spend: number;
  lines: number;
}

/**
 * One feature row per customer as of `at`, from rows strictly before it (row-major [customers × CF]).
 * Customers with no row before `at` get null in `present`. `homeCountry` is the most common country overall.
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
    if (!inv) invoices[k].set(r.invoice, (inv = { time: r.time, spend: 0, lines: 0 }));
    inv.time = Math.min(inv.time, r.time);
    inv.spend += r.quantity * r.unitPrice;
    inv.lines++;
    if (r.stockCode !== null) items[k].add(r.stockCode);
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
    const f = [
      Math.log1p(recency), Math.log1p(n), Math.log1p(spend), Math.log1p(tenure), Math.log1p(meanGap), Math.log1p(gapStd),
      Math.log1p(n > 1 ? recency / (meanGap + 1) : recency / (tenure + 1)),
      n > 2 ? Math.log((lastGap + 1) / (meanGap + 1)) : 0,
      Math.log1p(within(30)), Math.log1p(within(60)), Math.log1p(within(90)), Math.log1p(within(180)),
      Math.log1p(spend90), Math.log1p(spend / n), Math.log1p(list.reduce((s, v) => s + v.lines, 0) / n), Math.log1p(items[k].size),
      n === 1 ? 1 : 0, homeCountry !== null && country[k] === homeCountry ? 1 : 0,
      Math.log1p((h * n) / Math.max(tenure, h)), Math.log((recent + 1) / (previous + 1)),
      ...itemSeason(items[k]),
      Math.log1p(list.filter((v) => days(v.time) <= 365 && days(v.time) > 365 - h).length),
    ];
    x.set(f, k * CF);
  });
  return { x, present };
}

export function mostCommonCountry(rows: Txn[]): string | null {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.country) counts.set(r.country, (counts.get(r.country) ?? 0) + 1);
  let best: string | null = null;
  for (const [c, n] of counts) if (best === null || n > counts.get(best)!) best = c;
  return best;
}
