import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import type { SourceRow } from './source';

countries.registerLocale(en);

/** Why a row was not imported; the summary counts rows by these. */
export const RejectReason = {
  EMPTY_INVOICE: 'empty invoice number',
  ADJUSTMENT: 'accounting adjustment (A invoice)',
  EMPTY_STOCK_CODE: 'empty stock code',
  BAD_QUANTITY: 'quantity is not a whole number',
  ZERO_QUANTITY: 'zero quantity',
  NEGATIVE_QUANTITY: 'negative quantity outside a return',
  POSITIVE_RETURN: 'positive quantity on a return',
  BAD_DATE: 'invoice date is not YYYY-MM-DD HH:MM[:SS]',
  FUTURE_DATE: 'invoice date is in the future',
  BAD_PRICE: 'unit price is not a decimal number',
  NEGATIVE_PRICE: 'negative unit price',
  TOO_LARGE: 'amount too large',
  SPLIT_INVOICE: 'invoice lines not contiguous (invoice already written)',
  ERASED_MEMBER: 'customer is an erased member',
  UNMATCHED_RETURN: 'return not matched to an earlier order',
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

export type RowResult = { ok: true; value: ParsedLine } | { ok: false; reason: RejectReason };

const MAX_MINOR = 2 ** 31 - 1;
const DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal string in major units → whole minor units, exactly (no binary floating point). Prices with more than
 * two decimals (e.g. 0.001) are rounded half-up to a whole penny per unit.
 */
export function toMinorUnits(text: string): number | null {
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const [, sign, whole, frac = '', exp = '0'] = m;
  // value = digits × 10^(exponent − fraction length); minor units = value × 100.
  const digits = BigInt(`${whole}${frac}` || '0');
  const shift = Number(exp) - frac.length + 2;
  let minor: bigint;
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
    const t = Date.UTC(y, mo - 1, d, h, mi, s);
    const back = new Date(t);
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

/** Checks one row; `shiftMs` moves its date (the demo seed makes old data look recent). */
export function parseRow(line: number, row: SourceRow, now: number, shiftMs = 0): RowResult {
  const invoice = (row.InvoiceNo ?? '').trim();
  if (!invoice) return { ok: false, reason: RejectReason.EMPTY_INVOICE };
  if (/^A\d/i.test(invoice)) return { ok: false, reason: RejectReason.ADJUSTMENT };
  const isReturn = /^C\d/i.test(invoice);
  const sku = (row.StockCode ?? '').trim();
  if (!sku) return { ok: false, reason: RejectReason.EMPTY_STOCK_CODE };

  const qtyText = (row.Quantity ?? '').trim();
  if (!INTEGER.test(qtyText)) return { ok: false, reason: RejectReason.BAD_QUANTITY };
  const quantity = Number(qtyText);
  if (quantity === 0) return { ok: false, reason: RejectReason.ZERO_QUANTITY };
  if (quantity < 0 && !isReturn) return { ok: false, reason: RejectReason.NEGATIVE_QUANTITY };
  if (quantity > 0 && isReturn) return { ok: false, reason: RejectReason.POSITIVE_RETURN };

  const date = parseInvoiceDate(row.InvoiceDate ?? '');
  if (!date) return { ok: false, reason: RejectReason.BAD_DATE };
  const placedAt = shiftMs ? new Date(date.getTime() + shiftMs) : date;
  if (placedAt.getTime() > now + 5 * 60_000) return { ok: false, reason: RejectReason.FUTURE_DATE };

  const unitPriceMinor = toMinorUnits((row.UnitPrice ?? '').trim());
  if (unitPriceMinor === null || !Number.isFinite(unitPriceMinor)) return { ok: false, reason: RejectReason.BAD_PRICE };
  if (unitPriceMinor < 0) return { ok: false, reason: RejectReason.NEGATIVE_PRICE };
  if (unitPriceMinor * Math.abs(quantity) > MAX_MINOR) return { ok: false, reason: RejectReason.TOO_LARGE };

  const customer = (row.CustomerID ?? '').trim();
  return {
    ok: true,
    value: {
      line,
      invoice,
      isReturn,
      sku: sku.slice(0, 64),
      name: ((row.Description ?? '').trim() || sku).slice(0, 200),
      quantity: Math.abs(quantity),
      unitPriceMinor,
      placedAt,
      customerId: customer ? customer.replace(/\.0+$/, '') : null,
      country: countryCode(row.Country),
    },
  };
}
