import { DAY_MS } from '../time';
import type { Txn } from '../eval/types';

export interface CustomerSummary {
  first: number;
  last: number;
  invoices: Set<string>;
  spend: number;
}

/** Per customer, from rows strictly before `at`. */
export function summarise(rows: readonly Txn[], at: number): Map<string, CustomerSummary> {
  const out = new Map<string, CustomerSummary>();
  for (const t of rows) {
    if (t.time >= at) continue;
    let s = out.get(t.customerId);
    if (!s) out.set(t.customerId, (s = { first: t.time, last: t.time, invoices: new Set(), spend: 0 }));
    if (t.time < s.first) s.first = t.time;
    if (t.time > s.last) s.last = t.time;
    s.invoices.add(t.invoice);
    s.spend += t.quantity * t.unitPrice;
  }
  return out;
}

export const RFM_FEATURES = ['log1p_recency_days', 'log1p_invoices', 'log1p_spend', 'log1p_tenure_days', 'log1p_mean_gap_days'] as const;

/** The five RFM-LOGISTIC features of EVAL-PROTOCOL.md at date `at`. */
export function rfmFeatures(s: CustomerSummary, at: number): number[] {
  const invoices = s.invoices.size;
  return [
    Math.log1p((at - s.last) / DAY_MS),
    Math.log1p(invoices),
    Math.log1p(s.spend),
    Math.log1p((at - s.first) / DAY_MS),
    Math.log1p((s.last - s.first) / DAY_MS / Math.max(1, invoices - 1)),
  ];
}
