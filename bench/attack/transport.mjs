// The request itself as the weapon: aliased root fields against the rate limit (class 4), huge and compressed
// bodies, deep, wide and cyclic documents, batched JSON arrays, and what production mode must hide.
import { gzipSync, deflateSync } from 'node:zlib';
import { Caller, codeOf, summarise } from './http.mjs';
import { uid } from './setup.mjs';

const remaining = (res) => Number(res.headers.get('ratelimit-remaining'));

/** Many aliased root fields in one request must cost as many requests of the caller's budget (or be refused). */
export async function aliasBudget(w, cls) {
  const { api } = w;
  const member = await w.enrol(cls);
  const probe = '{ rewards { id } }';
  for (const n of [40, 250]) {
    const key = await w.makeKey(['ORDERS_WRITE', 'MEMBERS_READ'], `attack aliases ${n} ${uid()}`);
    const first = await api.gql(cls, key.caller, probe, undefined, { label: 'one root field (budget probe)' });
    const before = remaining(first);
    const fields = [...Array(n).keys()].map((i) => `o${i}: recordOrder(input: { externalOrderId: "atk-alias-${uid()}-${i}", currency: "GBP", placedAt: "${new Date(Date.now() - 3_600_000).toISOString()}", totalMinor: 100, lines: [{ sku: "ATK-SKU", quantity: 1, unitPriceMinor: 100 }], member: { id: "${member.id}" } }) { id }`);
    const res = await api.gql(cls, key.caller, `mutation { ${fields.join('\n')} }`, undefined, { label: `${n} aliased recordOrder` });
    const executed = res.data ? Object.values(res.data).filter(Boolean).length : 0;
    const after = await api.gql(cls, key.caller, probe, undefined, { label: 'one root field (budget probe)' });
    const spent = before - remaining(after) - 1;
    if (codeOf(res) === 'TOO_MANY_ROOT_FIELDS') {
      cls.note(`${n} aliased recordOrder: refused, TOO_MANY_ROOT_FIELDS (limit ${res.errors[0].extensions?.limit}); budget spent ${spent}`);
      cls.expect(executed === 0, `${n} aliased recordOrder: refused but ${executed} orders ran`);
    } else {
      cls.note(`${n} aliased recordOrder: ${res.errors.length ? `${codeOf(res)}, ` : ''}${executed} ran; budget spent ${spent}`);
      cls.expect(spent >= executed, `${n} aliased recordOrder in one request ran ${executed} orders and spent ${spent} units of the rate-limit budget`);
    }
  }
  // Spend a whole budget with the widest request allowed; no more root fields may run than the budget holds.
  const key = await w.makeKey(['MEMBERS_READ'], `attack exhaust ${uid()}`);
  const first = await api.gql(cls, key.caller, probe, undefined, { label: 'one root field (budget probe)' });
  const budget = Number(first.headers.get('ratelimit-limit'));
  if (!budget) {
    cls.warn('no RateLimit-Limit header: budget exhaustion not tried');
    return;
  }
  let width = 20;
  const wide = (k) => `{ ${[...Array(k).keys()].map((i) => `a${i}: rewards { id }`).join(' ')} }`;
  const trial = await api.gql(cls, key.caller, wide(width), undefined, { label: `${width} aliased rewards` });
  if (codeOf(trial) === 'TOO_MANY_ROOT_FIELDS') width = trial.errors[0].extensions?.limit ?? 10;
  let ran = 1 + (trial.data ? width : 0);
  let limited = false;
  for (let i = 0; i < Math.ceil(budget / width) + 20 && !limited; i++) {
    const batch = await Promise.all([0, 1, 2, 3].map(() => api.gql(cls, key.caller, wide(width), undefined, { label: `${width} aliased rewards (exhausting the budget)` })));
    for (const r of batch) {
      if (r.status === 429) limited = true;
      else if (r.data) ran += Object.keys(r.data).length;
    }
  }
  cls.expect(limited, `a budget of ${budget} requests per window was never exhausted by ${ran} root fields`);
  cls.expect(ran <= budget + 4 * width, `${ran} root fields ran within one window on a budget of ${budget}`);
  cls.note(`budget ${budget}: ${ran} root fields ran (${width} per request) before HTTP 429`);
}

export async function hugeBodies(w, cls) {
  const { api } = w;
  const key = w.keys.allRaw[1].key;
  const json = { 'content-type': 'application/json', 'x-api-key': key };
  const big = (bytes) => JSON.stringify({ query: '{ rewards { id } }', variables: { pad: 'x'.repeat(bytes) } });
  const tries = [
    ['2 MB body', { headers: json, body: big(2 * 1024 * 1024) }, 413],
    ['8 MB body', { headers: json, body: big(8 * 1024 * 1024) }, 413],
    ['gzip bomb: 32 KB inflating to 32 MB', { headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync(Buffer.from(big(32 * 1024 * 1024))) }, 413],
    ['deflate body inflating to 4 MB', { headers: { ...json, 'content-encoding': 'deflate' }, body: deflateSync(Buffer.from(big(4 * 1024 * 1024))) }, 413],
    ['unknown content encoding', { headers: { ...json, 'content-encoding': 'br' }, body: 'garbage' }, null],
    ['a body that is not JSON', { headers: json, body: '{"query": "{ rewards { id } }"' }, 400],
    ['JSON null', { headers: json, body: 'null' }, 400],
    ['a JSON string', { headers: json, body: '"{ rewards { id } }"' }, 400],
    ['query is a number', { headers: json, body: '{"query": 42}' }, 400],
    ['variables is a string', { headers: json, body: '{"query": "{ rewards { id } }", "variables": "x"}' }, 400],
  ];
  for (const [what, req, status] of tries) {
    const res = await api.request(cls, { ...req, label: what, timeoutMs: 60_000 });
    if (status) cls.expect(res.status === status, `${what}: HTTP ${res.status} ${summarise(res)} (expected ${status})`);
    else cls.expect(res.status === 0 || (res.status >= 400 && res.status < 500), `${what}: HTTP ${res.status} ${summarise(res)}`);
  }
  // A 900 KB string just under the limit, in an argument: refused by length, not by crashing.
  const near = await api.gql(cls, w.keys.all, 'query($v: String) { members(first: 1, search: $v) { totalCount } }', { v: 'a'.repeat(900_000) }, { label: '900 KB search string' });
  cls.expect(near.status < 500, `a 900 KB argument: HTTP ${near.status}`);
}

export async function documentShapes(w, cls) {
  const { api } = w;
  const run = (what, query, expected) =>
    api.gql(cls, w.admin, query, undefined, { label: what }).then((res) => {
      cls.expect(expected.includes(codeOf(res)), `${what}: ${res.errors.length ? summarise(res) : 'ran'} (expected ${expected.join(' or ')})`);
      return res;
    });
  let deep = 'id';
  for (let i = 0; i < 30; i++) deep = `edges { node { ${deep} } }`;
  await run('depth 60 selection', `{ members(first: 1) { ${deep} } }`, ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);
  // The classic introspection amplifier. Introspection is off in production (class C10); here it is a warning.
  let cyclic = 'name';
  for (let i = 0; i < 8; i++) cyclic = `fields { type { name ${cyclic.includes('fields') ? `ofType { ${cyclic} }` : cyclic} } }`;
  const intro = await api.gql(cls, w.admin, `{ __schema { types { ${cyclic} } } }`, undefined, { label: 'cyclic introspection 20+ levels deep' });
  if (!intro.errors.length) cls.warn(`development mode: an introspection query nested past GRAPHQL_MAX_DEPTH ran (${intro.text.length.toLocaleString('en-GB')} bytes); the depth limit does not count introspection fields`);
  await run('two nested pages of 100', '{ members(first: 100) { edges { node { orders(first: 100) { edges { node { lines { sku } } } } } } } }', ['QUERY_TOO_COMPLEX']);
  await run('page of 1,000,000', '{ members(first: 1000000) { totalCount } }', ['QUERY_TOO_COMPLEX', 'BAD_USER_INPUT']);
  await run('negative page size', '{ members(first: -5) { totalCount } }', ['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);
  await run('5,000 aliases of __typename', `{ ${[...Array(5000).keys()].map((i) => `a${i}: __typename`).join(' ')} }`, ['GRAPHQL_PARSE_FAILED', 'TOO_MANY_ROOT_FIELDS', 'QUERY_TOO_COMPLEX']);
  await run('1,000 aliases of ledgerCheck', `{ ${[...Array(1000).keys()].map((i) => `a${i}: ledgerCheck { isConsistent }`).join(' ')} }`, ['GRAPHQL_PARSE_FAILED', 'TOO_MANY_ROOT_FIELDS', 'QUERY_TOO_COMPLEX']);
  await run('fragment cycle', 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }', ['GRAPHQL_VALIDATION_FAILED']);
  await run('1,000 repeated @include', `{ rewards ${'@include(if: true) '.repeat(1000)} { id } }`, ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
  await run('field repeated 3,000 times', `{ rewards { ${'id '.repeat(3000)} } }`, ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX']);
  // Spreads of one fragment merge into one field: harmless if it runs once; it must not run 2,000 times or crash.
  await run('fragment spread 2,000 times', `query { ${'...F '.repeat(2000)} } fragment F on Query { rewards { id } }`, [null, 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX', 'TOO_MANY_ROOT_FIELDS']);
  await run('a 100,000-character name', `{ ${'a'.repeat(100_000)} }`, ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);
  const two = await api.gql(cls, w.admin, 'query A { rewards { id } } query B { tiers { code } }', undefined, { label: 'two operations, none named' });
  cls.expect(codeOf(two) === 'BAD_REQUEST', `two operations and no operationName: ${two.errors.length ? summarise(two) : 'ran'}`);
  const wrong = await api.gql(cls, w.admin, 'query A { rewards { id } }', undefined, { label: 'operationName the document lacks', operationName: 'Nope' });
  cls.expect(codeOf(wrong) === 'BAD_REQUEST', `an operationName the document lacks: ${wrong.errors.length ? summarise(wrong) : 'ran'}`);
  const sub = await api.gql(cls, w.admin, 'subscription { rewards { id } }', undefined, { label: 'a subscription (the schema has none)' });
  cls.expect(sub.errors.length > 0 && sub.status < 500, `a subscription operation answered HTTP ${sub.status} ${summarise(sub)}`);
}

/** A JSON array of operations: refused, or each one counted and authorised on its own. */
export async function batching(w, cls) {
  const { api } = w;
  const emails = [0, 1, 2].map(() => `batch-${uid()}@attack.test`);
  const key = w.keys.allRaw[2].key;
  const body = JSON.stringify(emails.map((e) => ({ query: `mutation { enrolMember(input: { email: "${e}" }) { id } }` })));
  const res = await api.request(cls, { headers: { 'content-type': 'application/json', 'x-api-key': key }, body, label: 'batch of 3 enrolMember' });
  const ran = Array.isArray(res.body) ? res.body.filter((r) => r?.data?.enrolMember).length : 0;
  cls.expect(res.status === 400 && ran === 0, `a JSON array of 3 operations answered HTTP ${res.status}, ${ran} ran`);
  const large = JSON.stringify([...Array(500).keys()].map(() => ({ query: '{ rewards { id } }' })));
  const res2 = await api.request(cls, { headers: { 'content-type': 'application/json', 'x-api-key': key }, body: large, label: 'batch of 500 queries' });
  cls.expect(res2.status === 400, `a JSON array of 500 queries answered HTTP ${res2.status}`);
  const mixed = JSON.stringify([{ query: '{ rewards { id } }' }, { query: '{ adminUsers { email } }' }]);
  const res3 = await api.request(cls, { headers: { 'content-type': 'application/json', 'x-api-key': key }, body: mixed, label: 'batch with an admin-only query' });
  cls.expect(!res3.text.includes('@'), `a batch through an API key read admin emails`);
  const empty = await api.request(cls, { headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '[]', label: 'empty batch' });
  cls.expect(empty.status === 400, `an empty JSON array answered HTTP ${empty.status}`);
  for (const e of emails) {
    const found = await api.gql(cls, w.keys.all, 'query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id } }', { v: e }, { label: 'memberByIdentifier (batch check)' });
    cls.expect(found.data?.memberByIdentifier === null, `a batched enrolMember enrolled ${e}`);
  }
}

/** What only production promises: no introspection, no schema hints, no internals in answers or headers. */
export async function productionMode(w, cls, prod) {
  if (!prod) {
    cls.skip('no production-mode instance (started only when the script starts the platform, or give --production-url)');
    return;
  }
  const admin = await prod.api.gql(cls, Caller.anonymous(), 'mutation($i: LoginInput!) { login(input: $i) { token } }', { i: { email: w.admins.extra[0].email, password: w.admins.extra[0].password } }, { label: 'production: login' });
  const token = admin.data?.login?.token;
  if (!token) {
    cls.error(`could not log in to the production instance: ${summarise(admin)}`);
    return;
  }
  const caller = Caller.token('ADMIN', token);
  const refused = async (what, query, c = caller) => {
    const res = await prod.api.gql(cls, c, query, undefined, { label: `production: ${what}` });
    cls.expect(res.errors.length > 0 && !res.data?.__schema && !res.data?.__type, `production: ${what} answered ${res.data ? JSON.stringify(res.data).slice(0, 100) : summarise(res)}`);
    return res;
  };
  await refused('introspection (__schema)', '{ __schema { queryType { name } types { name } } }');
  await refused('introspection (__type)', '{ __type(name: "Member") { fields { name } } }');
  await refused('introspection without credentials', '{ __schema { types { name } } }', Caller.anonymous());
  await refused('introspection through a fragment', '{ ...F } fragment F on Query { __schema { types { name } } }');
  await refused('introspection through an API key', '{ __schema { types { name } } }', Caller.key('key', w.keys.allRaw[0].key));
  const hint = await prod.api.gql(cls, caller, '{ memberz { id } }', undefined, { label: 'production: a misspelt field' });
  if (/Did you mean/i.test(hint.errors[0]?.message ?? '')) cls.warn(`production answers field suggestions, which reveal the schema: ${JSON.stringify(hint.errors[0].message)}`);
  const typename = await prod.api.gql(cls, caller, '{ __typename }', undefined, { label: 'production: __typename' });
  cls.expect(!typename.errors.length, `production: __typename is refused (${summarise(typename)})`);
  const plain = await prod.api.gql(cls, caller, '{ rewards { id } }', undefined, { label: 'production: a plain query' });
  cls.expect(!plain.headers.get('x-db-queries'), 'production: the x-db-queries header is sent');
  cls.expect(!plain.headers.get('x-powered-by'), `production: x-powered-by is sent (${plain.headers.get('x-powered-by')})`);
  // Hostile input must not bring internals back in production either (checked on every answer).
  const hostile = [
    ['members(search) with NUL', '{ members(first: 1, search: "a\\u0000b") { totalCount } }'],
    ['member with a malformed id in a fragment', '{ ... on Query { member(id: "abc") { id } } }'],
    ['order with a huge id', `{ order(id: "${'9'.repeat(300)}") { id } }`],
    ['GraphQL syntax error', '{ rewards { id '],
  ];
  for (const [what, query] of hostile) await prod.api.gql(cls, caller, query, undefined, { label: `production: ${what}` });
  const page = await prod.api.request(cls, { method: 'GET', path: '/graphql', headers: { accept: 'text/html' }, label: 'production: GET /graphql in a browser', expectJson: false });
  cls.expect(!/EmbeddedSandbox\(|EmbeddedExplorer\(/.test(page.text), 'production: GET /graphql embeds the Apollo Sandbox or Explorer');
  if (/cdn\.apollographql\.com/.test(page.text)) cls.warn("production: GET /graphql serves Apollo's landing page, which loads scripts from Apollo's CDN");
  const health = await prod.api.request(cls, { method: 'GET', path: '/readyz', label: 'production: /readyz', expectJson: false });
  cls.expect(!/postgres:\/\/|redis:\/\//.test(health.text), `production: /readyz shows a connection URL: ${health.text.slice(0, 120)}`);
}
