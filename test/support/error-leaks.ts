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

/** Every string in a JSON value, keys included; without recursion, since fuzzed inputs nest deeper than the stack. */
function stringsIn(value: unknown): Set<string> {
  const out = new Set<string>();
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === 'string') out.add(v);
    else if (Array.isArray(v)) for (const item of v) pending.push(item);
    else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        out.add(k);
        pending.push(inner);
      }
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
