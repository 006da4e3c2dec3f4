import { AppError, type FieldProblem } from '../../base/errors';
import { isCurrency } from '../../base/currency';
import { MAX_LINE_TOTAL_MINOR, MAX_ORDER_TOTAL_MINOR, grouped } from '../../base/bounds';
import type { RecordOrderInput } from './order.types';
import { MINUTE_MS } from '../../base/time';

export interface PricedLine {
  lineNo: number;
  totalMinor: number;
  netMinor: number;
}

export interface PricedOrder {
  lines: PricedLine[];
  subtotalMinor: number;
  totalMinor: number;
}

/**
 * Recomputes the order's money from its lines: totals and discounts are checked, never trusted, and bounded so that each
 * fits its column (base/bounds.ts): a line's price × quantity, and the sum of the lines after their discounts.
 * The order discount is spread over lines in proportion to their totals (largest remainder), so that
 * a returned line gives back exactly its share.
 */
export function priceOrder(input: RecordOrderInput): PricedOrder {
  const problems: FieldProblem[] = [];
  if (!isCurrency(input.currency)) problems.push({ path: 'input.currency', message: `${input.currency} is not an ISO 4217 currency` });
  const totals = input.lines.map((l, i) => {
    const gross = l.quantity * l.unitPriceMinor;
    if (gross > MAX_LINE_TOTAL_MINOR) {
      problems.push({ path: `input.lines.${i}.quantity`, message: `× unitPriceMinor is ${gross}; a line may come to at most ${grouped(MAX_LINE_TOTAL_MINOR)} minor units` });
    } else if (l.discountMinor > gross) problems.push({ path: `input.lines.${i}.discountMinor`, message: `exceeds the line amount ${gross}` });
    return gross - l.discountMinor;
  });
  const subtotal = totals.reduce((a, b) => a + b, 0);
  if (problems.length === 0 && subtotal > MAX_ORDER_TOTAL_MINOR) {
    problems.push({ path: 'input.lines', message: `come to ${subtotal}; an order may come to at most ${grouped(MAX_ORDER_TOTAL_MINOR)} minor units` });
  }
  if (input.orderDiscountMinor > subtotal) {
    problems.push({ path: 'input.orderDiscountMinor', message: `exceeds the line total ${subtotal}` });
  }
  const total = subtotal - input.orderDiscountMinor;
  if (problems.length === 0 && input.totalMinor !== total) {
    problems.push({ path: 'input.totalMinor', message: `does not match the lines: expected ${total}` });
  }
  if (input.placedAt.getTime() > Date.now() + 5 * MINUTE_MS) problems.push({ path: 'input.placedAt', message: 'is in the future' });
  if (Number.isNaN(input.placedAt.getTime())) problems.push({ path: 'input.placedAt', message: 'is not a date' });
  if (problems.length) throw AppError.badInput(problems);

  const shares = allocate(input.orderDiscountMinor, totals);
  return {
    lines: totals.map((t, i) => ({ lineNo: i + 1, totalMinor: t, netMinor: t - shares[i] })),
    subtotalMinor: subtotal,
    totalMinor: total,
  };
}

/** Splits `amount` over `weights` in proportion, in whole units that add up exactly. */
export function allocate(amount: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (amount === 0 || sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (amount * w) / sum);
  const out = exact.map(Math.floor);
  let left = amount - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    out[i] += 1;
    left -= 1;
  }
  return out;
}
