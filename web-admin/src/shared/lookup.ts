/**
 * `record[key]` when the record itself holds that key, else undefined. A key from the address or the API may be
 * "constructor" or "toString", which a plain `record[key]` (or `key in record`) finds on Object.prototype.
 */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
