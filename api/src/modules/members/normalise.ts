import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** Emails compare case-insensitively in practice; we store one canonical form. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Returns the E.164 form, or null when the number is not a valid phone number. */
export function normalisePhone(raw: string, defaultRegion: string): string | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultRegion as CountryCode);
  return parsed && parsed.isValid() ? parsed.number : null;
}

/** Channel customer ids are opaque codes; only surrounding whitespace is noise. */
export function normaliseChannelCustomerId(raw: string): string {
  return raw.trim();
}
