/**
 * The entries of `after` that differ from `before` (compared as JSON, so nested inputs compare by value), over `keys`
 * or every key of `after`; an entry `after` lacks is left out. Edit forms compare the input their values make now with
 * the one they made when the form opened, so a field left alone is never sent over someone else's change.
 */
export function changedEntries<T extends object>(before: T, after: T, keys: readonly (keyof T)[] = Object.keys(after) as (keyof T)[]): Partial<T> {
  const changed: Partial<T> = {};
  for (const key of keys) {
    if (after[key] !== undefined && JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = after[key];
  }
  return changed;
}
