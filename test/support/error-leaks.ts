/**
 * Words of SQL and of PostgreSQL's own messages. An error that carries one tells the caller about the database (and,
 * with the statement, the values of other parameters): no response may.
 */
const SQL_FRAGMENTS = [
  /\bselect\s/i,
  /\binsert\s+into\b/i,
  /\bupdate\s+\S+\s+set\b/i,
  /\bdelete\s+from\b/i,
  /\$\d/,
  /\bviolates\b/i,
  /invalid byte sequence/i,
  /unicode escape sequence/i,
  /invalid input syntax/i,
  /syntax error at/i,
  /out of range for type/i,
  /numeric field overflow/i,
  /null value in column/i,
];

/** Every string in a JSON value, keys included. */
function stringsIn(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      stringsIn(v, out);
    }
  }
  return out;
}

/**
 * The SQL fragments found in a response's errors, leaving out the caller's own values: coercion errors quote what was
 * sent (`got invalid value "1; select pg_sleep(5)"`), which tells the caller nothing new.
 */
export function sqlInErrors(errors: unknown, sent: unknown): string[] {
  let text = JSON.stringify(errors ?? []);
  const values = [...stringsIn(sent)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const s of values) {
    for (const form of [JSON.stringify(s).slice(1, -1), JSON.stringify(JSON.stringify(s)).slice(1, -1)]) text = text.split(form).join('');
  }
  return SQL_FRAGMENTS.filter((re) => re.test(text)).map(String);
}
