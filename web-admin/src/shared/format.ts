const locale = 'en-GB';
const integer = new Intl.NumberFormat(locale);
const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export const dash = '—';

export function formatInteger(value: number | null | undefined): string {
  return value == null ? dash : integer.format(value);
}

const fixedFormats = new Map<string, Intl.NumberFormat>();

/** Exactly `digits` decimals, so that a column of figures reads alike ("1.00" above "11.72"). */
function fixed(digits: number, style: 'decimal' | 'percent'): Intl.NumberFormat {
  const key = `${style}:${digits}`;
  let format = fixedFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style, minimumFractionDigits: digits, maximumFractionDigits: digits });
    fixedFormats.set(key, format);
  }
  return format;
}

/** Up to two decimals; with `digits`, exactly that many (for a table column). */
export function formatDecimal(value: number | null | undefined, digits?: number): string {
  if (value == null) return dash;
  return (digits == null ? decimal : fixed(digits, 'decimal')).format(value);
}

/** A 0–1 share as a percentage, to one decimal at most; with `digits`, exactly that many (for a table column). */
export function formatPercent(value: number | null | undefined, digits?: number): string {
  if (value == null) return dash;
  return (digits == null ? percent : fixed(digits, 'percent')).format(value);
}

const wholePercent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });

/**
 * A model's probability as a whole percentage. A model is never certain, so what would round to 0% or 100% reads
 * "<1%" or ">99%".
 */
export function formatProbability(value: number | null | undefined): string {
  if (value == null) return dash;
  if (value < 0.005) return '<1%';
  if (value >= 0.995) return '>99%';
  return wholePercent.format(value);
}

/** Signed points, e.g. "+50" or "−20". */
export function formatDelta(value: number): string {
  if (value === 0) return '0';
  return `${value > 0 ? '+' : '−'}${integer.format(Math.abs(value))}`;
}

/** Minor units of `currency` (pence for GBP) as money; falls back to a plain number for an unknown currency. */
export function formatMoney(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor == null) return dash;
  try {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'GBP' });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return decimal.format(minor);
  }
}

/** Money for a chart axis, short enough for ticks side by side: 12000000 GBP → "£120k", 150 GBP → "£1.5". */
export function formatMoneyCompact(minor: number, currency: string | null | undefined): string {
  try {
    const exact = new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'GBP' });
    const digits = exact.resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'GBP', notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 }).format(minor / 10 ** digits);
  } catch {
    return decimal.format(minor);
  }
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return dash;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return dash;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

/** SCREAMING_SNAKE enum values as words: "LOYAL_CUSTOMERS" → "Loyal customers". */
export function humanize(value: string | null | undefined): string {
  if (!value) return dash;
  const words = value.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const timeWithSeconds = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });

/** To the second, for moments a few seconds apart (a key's grace period, a delivery attempt). */
export function formatDateTimeSeconds(iso: string | null | undefined): string {
  if (!iso) return dash;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeWithSeconds.format(date);
}

/** A short form of an id to tell records apart at a glance: the random end of a UUIDv7 (its start is the time). */
export function shortId(id: string): string {
  return `…${id.slice(-8)}`;
}

/** `<input type="datetime-local">` text for a moment (a Date or an ISO instant), in the browser's time zone; '' if invalid. */
export function localDateTimeInput(moment: Date | string): string {
  const date = new Date(moment);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
