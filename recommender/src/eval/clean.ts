import type { TxnSource } from '../data/txn-source';
import type { Txn } from './types';

/** Not products: postage, discounts, manual lines, fees, charity, samples, gift vouchers (EVAL-PROTOCOL.md). */
const NON_PRODUCT_CODES = new Set(['POST', 'D', 'M', 'DOT', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'B', 'S', 'C2', 'PADS']);
const NON_PRODUCT_PREFIXES = ['ADJUST', 'TEST', 'GIFT_', 'DCGS'];
/** A C or A followed by a digit; an invoice that merely starts with a letter is a sale. */
const CANCELLATION = /^[CA][0-9]/;

export function isNonProduct(stockCode: string): boolean {
  return NON_PRODUCT_CODES.has(stockCode) || NON_PRODUCT_PREFIXES.some((p) => stockCode.startsWith(p));
}

/** The cleaning rules of EVAL-PROTOCOL.md, on a row whose strings are already trimmed and StockCode upper-cased. */
export function keepRow(t: Txn): boolean {
  if (t.customerId.trim() === '') return false;
  if (CANCELLATION.test(t.invoice.trim().toUpperCase())) return false;
  if (!(t.quantity > 0) || !(t.unitPrice > 0)) return false;
  if (!Number.isFinite(t.time)) return false;
  if (t.stockCode !== null && isNonProduct(t.stockCode.trim().toUpperCase())) return false;
  return true;
}

export interface CleanHistory {
  /** Cleaned rows in source order. */
  rows: Txn[];
  /** Rows read before cleaning. */
  rawRows: number;
  hasProducts: boolean;
  /** Cancellation lines of known customers (dropped by cleaning), for models that use returns as a feature. */
  returns: Txn[];
}

/** A cancellation or adjustment line of a known customer: what cleaning drops as returns. */
export function isReturnLine(t: Txn): boolean {
  return t.customerId.trim() !== '' && CANCELLATION.test(t.invoice.trim().toUpperCase()) && Number.isFinite(t.time) && Number.isFinite(t.quantity * t.unitPrice);
}

export async function readClean(source: TxnSource): Promise<CleanHistory> {
  const rows: Txn[] = [];
  const returns: Txn[] = [];
  let rawRows = 0;
  for await (const t of source.rows()) {
    rawRows++;
    if (keepRow(t)) rows.push(t);
    else if (isReturnLine(t)) returns.push(t);
  }
  return { rows, rawRows, hasProducts: rawRows > 0 ? source.hasProducts() : false, returns };
}
