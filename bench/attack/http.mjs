// The attacker's HTTP client. Every answer is counted in its class and checked for what must never happen whatever
// was sent: an HTTP 5xx, INTERNAL_SERVER_ERROR, a code missing from schema/error-codes.json, an error without a code,
// or an error message that quotes SQL, a database error or a stack frame.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/api.mjs';

/** The documented codes (schema/error-codes.json, generated from the API's code). */
export const KNOWN_CODES = new Set(Object.keys(JSON.parse(readFileSync(path.join(repoRoot, 'schema', 'error-codes.json'), 'utf8'))));

/** What a message must not contain: SQL, PostgreSQL's own error texts, file paths with line numbers (stacks). */
const LEAKS = [
  [/\bselect\b[\s\S]{0,200}\bfrom\s+"?\w|\binsert\s+into\b|\bupdate\s+"?\w+"?\s+set\b|\bdelete\s+from\b/i, 'SQL'],
  [/\b(violates|duplicate key|out of range for type|invalid byte sequence|syntax error at or near|relation "|column "|deadlock detected|could not serialize)\b/i, 'a database error'],
  [/\bat [\w.<>$]+ \(?[^)\s]*\.(?:js|ts|mjs):\d+/, 'a stack frame'],
  [/\/(?:work|home|usr|app)\/[\w./-]+\.(?:js|ts)/, 'a file path'],
];

export const REQUEST_TIMEOUT_MS = 45_000;

export class Api {
  /**
   * @param baseUrl  http://host:port of the API
   * @param options.isProduction  the instance runs with NODE_ENV=production: no stacktrace may leave it either
   */
  constructor(baseUrl, { isProduction = false } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.isProduction = isProduction;
  }

  /**
   * One HTTP request to the API, counted in `cls`. `label` names it in evidence. Returns
   * `{ status, headers, text, body, errors, codes, data, ms }`; a network failure or timeout is status 0.
   */
  async request(cls, { method = 'POST', path: urlPath = '/graphql', headers = {}, body, label = urlPath, expectJson = true, timeoutMs = REQUEST_TIMEOUT_MS }) {
    const started = Date.now();
    let res;
    try {
      res = await fetch(`${this.baseUrl}${urlPath}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const reason = err?.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : `${err?.cause?.code ?? err?.name}: ${err?.message}`;
      cls.count(0, ['NO_ANSWER']);
      cls.fail(`${label}: ${reason}`);
      return { status: 0, headers: new Headers(), text: '', body: null, errors: [], codes: ['NO_ANSWER'], data: null, ms: Date.now() - started };
    }
    const text = await res.text();
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: checked below
    }
    const errors = Array.isArray(parsed?.errors) ? parsed.errors : [];
    const codes = errors.map((e) => e?.extensions?.code ?? 'NO_CODE');
    cls.count(res.status, codes);
    const result = { status: res.status, headers: res.headers, text, body: parsed, errors, codes, data: parsed?.data ?? null, ms: Date.now() - started };
    this.#checkAlways(cls, label, result, expectJson);
    return result;
  }

  #checkAlways(cls, label, res, expectJson) {
    const isInternal = res.errors.some((e) => e?.extensions?.code === 'INTERNAL_SERVER_ERROR');
    if (res.status >= 500 && !isInternal) cls.fail(`${label}: HTTP ${res.status} ${summarise(res)}`);
    if (expectJson && res.body === null) cls.fail(`${label}: HTTP ${res.status} answer is not JSON: ${JSON.stringify(res.text.slice(0, 120))}`);
    for (const e of res.errors) {
      const code = e?.extensions?.code;
      if (code === 'INTERNAL_SERVER_ERROR') cls.fail(`${label}: INTERNAL_SERVER_ERROR (HTTP ${res.status}, path ${JSON.stringify(e.path ?? null)})`, { requestId: e.extensions.requestId });
      else if (!code) cls.fail(`${label}: error without extensions.code: ${JSON.stringify(String(e?.message).slice(0, 160))}`);
      else if (!KNOWN_CODES.has(code)) cls.fail(`${label}: undocumented code ${code}: ${JSON.stringify(String(e?.message).slice(0, 160))}`);
      const message = String(e?.message ?? '');
      const leaks = LEAKS.filter(([pattern]) => pattern.test(message)).map(([, what]) => what);
      if (leaks.length) cls.fail(`${label}: ${code ?? 'error'} message quotes ${leaks.join(' and ')}: ${JSON.stringify(message.slice(0, 200))}`);
      if (this.isProduction && e?.extensions?.stacktrace) cls.fail(`${label}: production answer carries a stacktrace`);
    }
  }

  /** A GraphQL POST as `caller` (see Caller). */
  gql(cls, caller, query, variables, { label, headers = {}, operationName } = {}) {
    const body = JSON.stringify({ query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) });
    return this.request(cls, {
      headers: { 'content-type': 'application/json', ...(caller?.headers() ?? {}), ...headers },
      body,
      label: label ?? operationLabel(query),
    });
  }
}

/** Someone calling the API: an admin token, an API key, or nobody. A pool spreads requests over several identities. */
export class Caller {
  constructor(name, headerSets) {
    this.name = name;
    this.headerSets = headerSets;
    this.next = 0;
  }

  static token(name, token) {
    return new Caller(name, [{ authorization: `Bearer ${token}` }]);
  }

  static key(name, key) {
    return new Caller(name, [{ 'x-api-key': key }]);
  }

  static pool(name, callers) {
    return new Caller(name, callers.flatMap((c) => c.headerSets));
  }

  static anonymous() {
    return new Caller('anonymous', [{}]);
  }

  headers() {
    const h = this.headerSets[this.next % this.headerSets.length];
    this.next++;
    return h;
  }
}

/** `mutation { recordOrder` → `recordOrder`: enough to tell requests apart in evidence. */
export function operationLabel(query) {
  const m = /\{\s*(?:\.\.\.\s*on\s+\w+\s*\{\s*)?(?:\w+\s*:\s*)?(\w+)/.exec(query);
  return m ? m[1] : 'operation';
}

export function summarise(res) {
  if (res.errors?.length) return res.errors.map((e) => `${e.extensions?.code ?? 'NO_CODE'}: ${String(e.message).slice(0, 120)}`).join('; ');
  return res.text?.slice(0, 120) ?? '';
}

/** The first error's code, or null when the answer has none. */
export const codeOf = (res) => res.errors?.[0]?.extensions?.code ?? null;

/** Fails the class unless the answer has data for `field` and no error; returns that data. */
export function must(cls, res, field, what) {
  const value = res.data?.[field];
  if (res.errors?.length || value == null) {
    throw new Error(`setup step "${what}" failed: HTTP ${res.status} ${summarise(res)}`);
  }
  return value;
}

/** Starts `count` calls `gapMs` apart without waiting for the earlier ones, then waits for all of them. */
export async function staggered(count, gapMs, fn) {
  const calls = [];
  for (let i = 0; i < count; i++) {
    calls.push(fn(i));
    if (gapMs > 0 && i < count - 1) await new Promise((r) => setTimeout(r, gapMs));
  }
  return Promise.all(calls);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pooled(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
