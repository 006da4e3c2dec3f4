const known = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217 codes this runtime knows (from ICU), e.g. GBP, EUR, JPY. */
export function isCurrency(code: string): boolean {
  return known.has(code);
}
