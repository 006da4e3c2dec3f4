import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import { textProblem } from '../../base/text';
import { MAX_LINE_QUANTITY, MAX_LINE_TOTAL_MINOR, MAX_ORDER_TOTAL_MINOR, MAX_UNIT_PRICE_MINOR, grouped } from '../../base/bounds';
import { UnreadableLine, type SourceRow } from './source';
import { MINUTE_MS } from '../../base/time';

countries.registerLocale(en);

/**
 * The longest text each column may hold, in characters as PostgreSQL counts them: the sizes of the columns they are
 * stored in (api/src/composition/migrations; test/api/import-hostile.test.ts compares them with the entities), which are also the
 * API's input lengths for the same fields.
 */
export const TEXT_LIMITS = {
  /** customer_order.external_order_id and order_return.external_return_id, varchar(100). */
  InvoiceNo: 100,
  /** product.sku and order_line.sku, varchar(64). */
  StockCode: 64,
  /** product.name, varchar(200). */
  Description: 200,
  /** member_identifier.value, varchar(254). */
  CustomerID: 254,
  /** Not stored (it becomes an ISO code); no country's name comes near. */
  Country: 100,
} as const;

/** Invoice dates from this one on (and at most 5 minutes ahead of the clock, as recordOrder allows). */
export const EARLIEST_INVOICE_DATE = new Date(Date.UTC(1970, 0, 1));

/** Why a row was not imported; the summary counts rows by these. */
export const RejectReason = {
  BAD_CSV: UnreadableLine.BAD_CSV,
  LINE_TOO_LONG: UnreadableLine.TOO_LONG,
  CONTROL_CHARACTER: 'text has a control character',
  BAD_TEXT: 'text is not valid UTF-8',
  EMPTY_INVOICE: 'empty invoice number',
  INVOICE_TOO_LONG: `invoice number longer than ${TEXT_LIMITS.InvoiceNo} characters`,
  ADJUSTMENT: 'accounting adjustment (A invoice)',
  EMPTY_STOCK_CODE: 'empty stock code',
  STOCK_CODE_TOO_LONG: `stock code longer than ${TEXT_LIMITS.StockCode} characters`,
  DESCRIPTION_TOO_LONG: `description longer than ${TEXT_LIMITS.Description} characters`,
  CUSTOMER_TOO_LONG: `customer id longer than ${TEXT_LIMITS.CustomerID} characters`,
  COUNTRY_TOO_LONG: `country longer than ${TEXT_LIMITS.Country} characters`,
  BAD_QUANTITY: 'quantity is not a whole number',
  ZERO_QUANTITY: 'zero quantity',
  NEGATIVE_QUANTITY: 'negative quantity outside a return',
  POSITIVE_RETURN: 'positive quantity on a return',
  QUANTITY_TOO_LARGE: `quantity above ${grouped(MAX_LINE_QUANTITY)}`,
  BAD_DATE: 'invoice date is not YYYY-MM-DD HH:MM[:SS]',
  EARLY_DATE: 'invoice date before 1970',
  FUTURE_DATE: 'invoice date is in the future',
  BAD_PRICE: 'unit price is not a decimal number',
  NEGATIVE_PRICE: 'negative unit price',
  PRICE_TOO_LARGE: `unit price above ${grouped(MAX_UNIT_PRICE_MINOR)} minor units`,
  TOO_LARGE: `line amount (quantity × unit price) above ${grouped(MAX_LINE_TOTAL_MINOR)} minor units`,
  OTHER_CUSTOMER: "customer id differs from its invoice's first line",
  INVOICE_TOO_LARGE: `invoice total above ${grouped(MAX_ORDER_TOTAL_MINOR)} minor units`,
  SPLIT_INVOICE: 'invoice already written (the file changed during the import)',
  ERASED_MEMBER: 'customer is an erased member',
  UNMATCHED_RETURN: 'return not matched to an earlier order',
  WRITE_FAILED: 'row could not be written',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export interface ParsedLine {
  line: number;
  invoice: string;
  isReturn: boolean;
  sku: string;
  name: string;
  /** Positive; a return's units returned. */
  quantity: number;
  unitPriceMinor: number;
  placedAt: Date;
  customerId: string | null;
  country: string | null;
}

export type RowResult = { ok: true; value: ParsedLine } | { ok: false; reason: RejectReason; detail?: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const INTEGER = /^[+-]?\d{1,15}$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;
// What the API refuses in any argument (base/text.ts), and U+FFFD: what the reader makes of bytes that are not UTF-8.
const NOT_UTF8 = '\ufffd';
const CHECKED_COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;

/**
 * A decimal string in major units → whole minor units, exactly (no binary floating point). Prices with more than
 * two decimals (e.g. 0.001) are rounded half-up to a whole penny per unit. Infinity when it is beyond any bound.
 */
export function toMinorUnits(text: string): number | null {
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const [, sign, whole, frac = '', exp = '0'] = m;
  // value = digits × 10^(exponent − fraction length); minor units = value × 100.
  const digitText = `${whole}${frac}`.replace(/^0+/, '');
  if (digitText === '') return 0;
  const shift = Number(exp) - frac.length + 2;
  let minor: bigint;
  // Beyond 10^20 minor units no bound is near; below half a minor unit it rounds to 0: no need to build the number.
  if (digitText.length + shift > 21) return sign === '-' ? -Infinity : Infinity;
  if (digitText.length + shift < 0) return 0;
  const digits = BigInt(digitText);
  if (shift >= 0) minor = digits * 10n ** BigInt(shift);
  else {
    const div = 10n ** BigInt(-shift);
    minor = digits / div + ((digits % div) * 2n >= div ? 1n : 0n);
  }
  const n = Number(minor);
  return sign === '-' ? -n : n;
}

const dateCache = { text: '', value: null as Date | null };

/** `YYYY-MM-DD HH:MM[:SS]`, a wall-clock time without zone, read as UTC. */
export function parseInvoiceDate(text: string): Date | null {
  if (text === dateCache.text) return dateCache.value;
  const m = DATE.exec(text.trim());
  let value: Date | null = null;
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
    // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
    const back = new Date(0);
    back.setUTCFullYear(y, mo - 1, d);
    back.setUTCHours(h, mi, s);
    if (back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 60) value = back;
  }
  dateCache.text = text;
  dateCache.value = value;
  return value;
}

const ALIASES: Record<string, string | null> = {
  EIRE: 'IE',
  RSA: 'ZA',
  USA: 'US',
  'Channel Islands': 'JE',
  'European Community': null,
  Unspecified: null,
};
const countryCache = new Map<string, string | null>();

/** Country name (or code) → ISO 3166-1 alpha-2, or null when it names no single country. */
export function countryCode(name: string | undefined): string | null {
  const key = (name ?? '').trim();
  if (!key) return null;
  let code = countryCache.get(key);
  if (code === undefined) {
    code = key in ALIASES ? ALIASES[key] : key.length === 2 && countries.isValid(key.toUpperCase()) ? key.toUpperCase() : (countries.getAlpha2Code(key, 'en') ?? null);
    countryCache.set(key, code);
  }
  return code;
}

/** More than `limit` characters as PostgreSQL counts them (code points, where a JS length counts UTF-16 units). */
function isLonger(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let n = 0;
  for (const _ of text) if (++n > limit) return true;
  return false;
}

/** The first text problem of the row's canonical fields, if any. */
function unstorableText(row: SourceRow): { reason: RejectReason; detail: string } | null {
  for (const column of CHECKED_COLUMNS) {
    const value = row[column];
    if (value === undefined) continue;
    const problem = textProblem(value);
    if (problem === 'CONTROL_CHARACTER') return { reason: RejectReason.CONTROL_CHARACTER, detail: column };
    if (problem || value.includes(NOT_UTF8)) return { reason: RejectReason.BAD_TEXT, detail: column };
  }
  return null;
}

const reject = (reason: RejectReason, detail?: string): RowResult => ({ ok: false, reason, detail });

/**
 * Checks one row against what its columns and the API accept, before anything is written; `shiftMs` moves its date
 * (the demo seed makes old data look recent).
 */
export function parseRow(line: number, row: SourceRow, now: number, shiftMs = 0): RowResult {
  const text = unstorableText(row);
  if (text) return reject(text.reason, text.detail);

  const invoice = (row.InvoiceNo ?? '').trim();
  if (!invoice) return reject(RejectReason.EMPTY_INVOICE);
  if (isLonger(invoice, TEXT_LIMITS.InvoiceNo)) return reject(RejectReason.INVOICE_TOO_LONG);
  if (/^A\d/i.test(invoice)) return reject(RejectReason.ADJUSTMENT);
  const isReturn = /^C\d/i.test(invoice);
  const sku = (row.StockCode ?? '').trim();
  if (!sku) return reject(RejectReason.EMPTY_STOCK_CODE);
  if (isLonger(sku, TEXT_LIMITS.StockCode)) return reject(RejectReason.STOCK_CODE_TOO_LONG);
  const name = (row.Description ?? '').trim() || sku;
  if (isLonger(name, TEXT_LIMITS.Description)) return reject(RejectReason.DESCRIPTION_TOO_LONG);
  const customer = (row.CustomerID ?? '').trim().replace(/\.0+$/, '');
  if (isLonger(customer, TEXT_LIMITS.CustomerID)) return reject(RejectReason.CUSTOMER_TOO_LONG);
  const countryName = row.Country ?? '';
  if (isLonger(countryName.trim(), TEXT_LIMITS.Country)) return reject(RejectReason.COUNTRY_TOO_LONG);

  const qtyText = (row.Quantity ?? '').trim();
  if (!INTEGER.test(qtyText)) return reject(qtyText.length > 15 && /^[+-]?\d+$/.test(qtyText) ? RejectReason.QUANTITY_TOO_LARGE : RejectReason.BAD_QUANTITY);
  const quantity = Number(qtyText);
  if (quantity === 0) return reject(RejectReason.ZERO_QUANTITY);
  if (quantity < 0 && !isReturn) return reject(RejectReason.NEGATIVE_QUANTITY);
  if (quantity > 0 && isReturn) return reject(RejectReason.POSITIVE_RETURN);
  if (Math.abs(quantity) > MAX_LINE_QUANTITY) return reject(RejectReason.QUANTITY_TOO_LARGE);

  const date = parseInvoiceDate(row.InvoiceDate ?? '');
  if (!date) return reject(RejectReason.BAD_DATE);
  const placedAt = shiftMs ? new Date(date.getTime() + shiftMs) : date;
  if (placedAt.getTime() < EARLIEST_INVOICE_DATE.getTime()) return reject(RejectReason.EARLY_DATE);
  if (placedAt.getTime() > now + 5 * MINUTE_MS) return reject(RejectReason.FUTURE_DATE);

  const unitPriceMinor = toMinorUnits((row.UnitPrice ?? '').trim());
  if (unitPriceMinor === null) return reject(RejectReason.BAD_PRICE);
  if (unitPriceMinor < 0) return reject(RejectReason.NEGATIVE_PRICE);
  if (unitPriceMinor > MAX_UNIT_PRICE_MINOR) return reject(RejectReason.PRICE_TOO_LARGE);
  if (unitPriceMinor * Math.abs(quantity) > MAX_LINE_TOTAL_MINOR) return reject(RejectReason.TOO_LARGE);

  return {
    ok: true,
    value: {
      line,
      invoice,
      isReturn,
      sku,
      name,
      quantity: Math.abs(quantity),
      unitPriceMinor,
      placedAt,
      customerId: customer || null,
      country: countryCode(countryName),
    },
  };
}

/** The invoice a row belongs to, as parseRow reads it ('' for none, or one no invoice can have). */
export function invoiceKey(row: SourceRow): string {
  const invoice = (row.InvoiceNo ?? '').trim();
  return invoice.length > TEXT_LIMITS.InvoiceNo * 2 ? '' : invoice;
}
