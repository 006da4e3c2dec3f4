import { ownValue } from '../shared/lookup';

/**
 * Readable names of the customer-value model's features (recommender/src/models/value-features.ts and
 * churn-features.ts), for the drivers the member 360 shows. A feature not listed here is shown humanised.
 */
const LABELS: Record<string, string> = {
  log_recency_days: 'Days since the last purchase',
  log_invoices: 'Orders',
  log_spend: 'Total spend',
  log_tenure_days: 'Days since the first purchase',
  log_mean_gap_days: 'Average days between orders',
  log_gap_std_days: 'Spread of days between orders',
  log_overdue_ratio: 'Overdue against the usual gap',
  gap_trend: 'Gaps between orders lengthening',
  log_invoices_30d: 'Orders in the last 30 days',
  log_invoices_60d: 'Orders in the last 60 days',
  log_invoices_90d: 'Orders in the last 90 days',
  log_invoices_180d: 'Orders in the last 180 days',
  log_spend_90d: 'Spend in the last 90 days',
  log_spend_last_horizon: 'Spend in the period just past, as long as the forecast',
  log_mean_basket_value: 'Average basket value',
  log_mean_basket_lines: 'Average lines per basket',
  log_distinct_items: 'Different products bought',
  one_time_buyer: 'Bought only once',
  home_country: 'Lives in the home country',
  log_expected_in_horizon: 'Orders expected in the horizon at the usual pace',
  recent_vs_previous_horizon: 'Recent activity against the period before',
  item_affinity_recent: 'Buys what sells now',
  item_share_selling_now: 'Share of their products still selling',
  item_momentum: 'Momentum of their products',
  log_invoices_same_window_last_year: 'Orders in the same weeks last year',
  spend_trend: 'Spend trend over the last six months',
  log_spend_last_vs_rest: 'Latest month against the months before',
  log_max_day_spend: 'Largest spend in one day',
  log_mean_unit_price: 'Average unit price',
  log_mean_line_quantity: 'Average quantity per line',
  log_return_lines: 'Lines returned',
  log_return_value: 'Value returned',
  return_share: 'Share of spend returned',
  log_bgnbd_purchases: 'Purchases expected (BG/NBD)',
  p_alive: 'Chance still active (BG/NBD)',
  log_gg_spend_per_day: 'Expected spend per purchase day (Gamma-Gamma)',
  log_bgnbd_gg_value: 'Expected value (BG/NBD × Gamma-Gamma)',
};

/** `log_spend_period_2` → "Spend 30–60 days ago"; `mix_group_3` → "Product group 3 in the mix". */
export function valueDriverLabel(feature: string): string {
  const known = ownValue(LABELS, feature);
  if (known) return known;
  const period = /^log_spend_period_(\d+)$/.exec(feature);
  if (period) {
    const k = Number(period[1]);
    return `Spend ${30 * (k - 1)}–${30 * k} days ago`;
  }
  const mix = /^mix_group_(\d+)$/.exec(feature);
  if (mix) return `Product group ${mix[1]} in the mix`;
  const words = feature.replace(/^log_/, '').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Log-scaled features carry log(1 + x), shown as x, the figure the label names; the one log ratio is shown as a ratio. */
export function valueDriverFigure(feature: string, value: number): number {
  if (feature === 'log_spend_last_vs_rest') return Math.exp(value);
  return feature.startsWith('log_') ? Math.expm1(value) : value;
}
