// Who may do what: login throttling (class 2), forged and stale tokens and keys, every guarded operation called by
// every caller that should be refused, CSRF, and the demo key's journey through the storefront operations.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { repoRoot } from '../lib/api.mjs';
import { Caller, codeOf, pooled, summarise } from './http.mjs';
import { argumentsFor, namedSamples, operationFor, rootFields } from './schema.mjs';
import { ALL_SCOPES, login, scopeName, strongPassword, uid } from './setup.mjs';

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const decode = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const sign = (header, payload, secret, alg = 'sha256') => {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`;
};

/** Parallel wrong passwords for one account: no more than LOGIN_MAX_FAILURES may be checked. */
export async function loginThrottle(w, cls, opts) {
  const { api } = w;
  const limit = opts.loginMaxFailures;
  const scenarios = [
    { name: '40 wrong passwords at once from one address', attempts: 40, rotateXff: false, bound: limit },
    { name: '150 wrong passwords at once from one address', attempts: 150, rotateXff: false, bound: limit },
    // X-Forwarded-For is only believed behind a trusted proxy (TRUST_PROXY, off by default): one address, same bound.
    { name: '60 wrong passwords at once, a new X-Forwarded-For on each', attempts: 60, rotateXff: true, bound: opts.trustProxy ? opts.loginMaxFailuresPerEmail : limit },
  ];
  for (const s of scenarios) {
    const victim = await w.makeAdmin('ANALYST', `victim-${uid()}`);
    const answers = await Promise.all(
      [...Array(s.attempts).keys()].map((i) =>
        login(api, cls, victim.email, `wrong-${i}-${strongPassword()}`, s.rotateXff ? { 'x-forwarded-for': `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}` } : {}),
      ),
    );
    const checked = answers.filter((r) => codeOf(r) === 'UNAUTHENTICATED').length;
    const throttled = answers.filter((r) => codeOf(r) === 'RATE_LIMITED');
    const other = answers.length - checked - throttled.length;
    cls.note(`${s.name}: ${checked} passwords checked, ${throttled.length} RATE_LIMITED${other ? `, ${other} other` : ''}`);
    cls.expect(checked <= s.bound, `${s.name}: ${checked} passwords were checked (at most ${s.bound} may be)`);
    cls.expect(other === 0, `${s.name}: ${other} answers were neither UNAUTHENTICATED nor RATE_LIMITED: ${[...new Set(answers.filter((r) => !['UNAUTHENTICATED', 'RATE_LIMITED'].includes(codeOf(r))).map(summarise))].join(' | ')}`);
    if (throttled.length) {
      const t = throttled[0];
      cls.expect(Number(t.headers.get('retry-after')) > 0 && t.errors[0].extensions?.retryAfter > 0, `${s.name}: a RATE_LIMITED login carries no Retry-After / extensions.retryAfter`);
      cls.expect(t.status === 429, `${s.name}: RATE_LIMITED login answered HTTP ${t.status}, not 429`);
    }
    if (!s.rotateXff || !opts.trustProxy) {
      // Locked out: the right password and the same email spelt differently are refused too.
      const right = await login(api, cls, victim.email, victim.password);
      cls.expect(codeOf(right) === 'RATE_LIMITED', `${s.name}: after the burst the right password answered ${right.data?.login ? 'a session' : summarise(right)}, not RATE_LIMITED`);
      for (const spelling of [victim.email.toUpperCase(), ` ${victim.email} `]) {
        const res = await login(api, cls, spelling, 'still-wrong-password');
        cls.expect(codeOf(res) === 'RATE_LIMITED', `${s.name}: the email spelt ${JSON.stringify(spelling)} was not locked out (${summarise(res)})`);
      }
    }
  }
  // Another account from the same address is not locked out by someone else's failures.
  const bystander = await login(api, cls, w.admins.marketer.email, w.admins.marketer.password);
  cls.expect(bystander.data?.login?.token, `another account from the same address could not log in: ${summarise(bystander)}`);
}

/** Tokens and keys that must never authenticate. `prod` (optional) is the production-mode API, whose secret we set. */
export async function forgedCredentials(w, cls, prod) {
  const ME = '{ me { id role } }';
  const tries = [];
  const real = w.rootToken;
  const claims = decode(real);
  const analystClaims = decode(w.admins.analyst.token);
  const tamper = (token, payload) => `${token.split('.')[0]}.${b64(payload)}.${token.split('.')[2]}`;

  tries.push(['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`]);
  tries.push(['alg None', `${b64({ alg: 'None' })}.${b64(claims)}.`]);
  tries.push(['alg NONE with the old signature', `${b64({ alg: 'NONE' })}.${b64(claims)}.${real.split('.')[2]}`]);
  tries.push(['analyst token with role ADMIN, old signature', tamper(w.admins.analyst.token, { ...analystClaims, role: 'ADMIN' })]);
  tries.push(['analyst token naming the admin (sub), old signature', tamper(w.admins.analyst.token, { ...analystClaims, sub: claims.sub })]);
  tries.push(['token with a later exp, old signature', tamper(real, { ...claims, exp: claims.exp + 86_400 })]);
  tries.push(['HS256 with a guessed secret', sign({ alg: 'HS256', typ: 'JWT' }, claims, 'secret')]);
  tries.push(['HS256 with an empty secret', sign({ alg: 'HS256' }, claims, '')]);
  tries.push(['HS512 with a guessed secret', sign({ alg: 'HS512' }, claims, 'change-me', 'sha512')]);
  tries.push(['header with kid path traversal', sign({ alg: 'HS256', kid: '../../../../dev/null' }, claims, '')]);
  tries.push(['signature stripped', real.split('.').slice(0, 2).join('.')]);
  tries.push(['garbage', 'not.a.token']);
  tries.push(['a 16 KB token', 'a'.repeat(16_384)]);
  tries.push(['empty bearer', '']);
  for (const [what, token] of tries) {
    const res = await w.api.request(cls, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ME }),
      label: `me with ${what}`,
      // Node refuses headers over 16 KB itself (HTTP 431, no body) before the API sees them.
      expectJson: token.length < 16_000,
    });
    const refused = codeOf(res) === 'UNAUTHENTICATED' || res.status === 431;
    cls.expect(refused && !res.data?.me, `${what}: answered ${res.data?.me ? `as ${res.data.me.role} ${res.data.me.id}` : `HTTP ${res.status} ${summarise(res)}`}, not UNAUTHENTICATED`);
  }

  // A logged-out session's token, on this instance.
  const temp = await login(w.api, cls, w.admins.marketer.email, w.admins.marketer.password);
  const tempToken = temp.data?.login?.token;
  if (tempToken) {
    await w.api.gql(cls, Caller.token('MARKETER', tempToken), 'mutation { logout }', undefined, { label: 'logout' });
    const after = await w.api.gql(cls, Caller.token('MARKETER', tempToken), ME, undefined, { label: 'me after logout' });
    cls.expect(codeOf(after) === 'UNAUTHENTICATED', `a logged-out token still works: ${after.data?.me ? 'me answered' : summarise(after)}`);
  }

  // Keys: random, revoked, rotated without grace.
  const keyQuery = '{ rewards { id } }';
  const fake = `lk_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`;
  const r1 = await w.api.gql(cls, Caller.key('fake', fake), keyQuery, undefined, { label: 'rewards with a made-up key' });
  cls.expect(codeOf(r1) === 'UNAUTHENTICATED', `a made-up API key answered ${summarise(r1) || 'data'}`);
  const doomed = await w.makeKey(['MEMBERS_READ'], `attack doomed ${uid()}`);
  await w.api.gql(cls, w.root, 'mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { id revokedAt } }', { i: { id: doomed.id } }, { label: 'revokeApiKey' });
  const r2 = await w.api.gql(cls, doomed.caller, keyQuery, undefined, { label: 'rewards with a revoked key' });
  cls.expect(codeOf(r2) === 'UNAUTHENTICATED', `a revoked API key answered ${summarise(r2) || 'data'}`);
  const r3 = await w.api.gql(cls, Caller.anonymous(), keyQuery, undefined, { label: 'rewards with the key in Authorization', headers: { authorization: `Bearer ${fake}` } });
  cls.expect(codeOf(r3) === 'UNAUTHENTICATED', `a made-up key as a bearer token answered ${summarise(r3) || 'data'}`);
  const r4 = await w.api.gql(cls, Caller.anonymous(), ME, undefined, { label: 'me with a bad token and a good key', headers: { authorization: 'Bearer x.y.z', 'x-api-key': w.keys.allRaw[0].key } });
  cls.expect(!r4.data?.me, `a forged token next to a valid key answered me`);

  if (!prod) {
    cls.note('no production-mode instance: tokens signed with the real secret (expired, wrong issuer, changed role) not tried');
    return;
  }
  // With the secret we gave the production instance: expired, wrong audience or issuer, role changed, session of another.
  const prodLogin = await login(prod.api, cls, w.admins.analyst.email, w.admins.analyst.password);
  const prodToken = prodLogin.data?.login?.token;
  if (!prodToken) {
    cls.fail(`production instance: the analyst could not log in: ${summarise(prodLogin)}`);
    return;
  }
  const p = decode(prodToken);
  const now = Math.floor(Date.now() / 1000);
  const forged = [
    ['expired (real secret)', { ...p, iat: now - 7200, exp: now - 3600 }, 'UNAUTHENTICATED'],
    ['wrong audience (real secret)', { ...p, aud: 'someone-else' }, 'UNAUTHENTICATED'],
    ['wrong issuer (real secret)', { ...p, iss: 'evil' }, 'UNAUTHENTICATED'],
    ['unknown session id (real secret)', { ...p, jti: randomUUID() }, 'UNAUTHENTICATED'],
    ['the analyst session naming the admin (real secret)', { ...p, sub: claims.sub }, 'UNAUTHENTICATED'],
  ];
  for (const [what, payload, expected] of forged) {
    const res = await prod.api.gql(cls, Caller.token('forged', sign({ alg: 'HS256' }, payload, prod.jwtSecret)), ME, undefined, { label: `production: me with ${what}` });
    cls.expect(codeOf(res) === expected, `production: ${what} answered ${res.data?.me ? `as ${res.data.me.role}` : summarise(res)}, not ${expected}`);
  }
  const promoted = Caller.token('forged', sign({ alg: 'HS256' }, { ...p, role: 'ADMIN' }, prod.jwtSecret));
  const users = await prod.api.gql(cls, promoted, '{ adminUsers { id } }', undefined, { label: 'production: adminUsers with role ADMIN in an analyst token' });
  cls.expect(codeOf(users) === 'FORBIDDEN' || codeOf(users) === 'UNAUTHENTICATED', `production: an analyst token re-signed with role ADMIN read adminUsers (${summarise(users) || 'data'})`);
  const devSecret = /DEV_JWT_SECRET = '([^']+)'/.exec(readFileSync(path.join(repoRoot, 'api', 'src', 'base', 'config.ts'), 'utf8'))?.[1];
  if (devSecret) {
    const res = await prod.api.gql(cls, Caller.token('forged', sign({ alg: 'HS256' }, claims, devSecret)), ME, undefined, { label: 'production: me signed with the development secret' });
    cls.expect(codeOf(res) === 'UNAUTHENTICATED', `production: a token signed with the published development secret answered ${res.data?.me ? 'me' : summarise(res)}`);
  }
}

/** Outcome as the authorization matrix names it. */
function outcomeOf(res) {
  const codes = new Set(res.codes);
  if (codes.has('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.has('FORBIDDEN')) return 'FORBIDDEN';
  if (codes.has('INTERNAL_SERVER_ERROR') || res.status >= 500) return 'INTERNAL_SERVER_ERROR';
  return 'allowed';
}

/**
 * Every query and mutation (and Member / Analytics field with its own permission) called by each caller that the
 * published matrix (test/api/authz-matrix.csv) says must be refused, with well-formed arguments.
 */
export async function escalation(w, cls, schema, ids) {
  const lines = readFileSync(path.join(repoRoot, 'test', 'api', 'authz-matrix.csv'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const [header, ...rows] = lines.map((l) => l.split(',').map((c) => c.trim()));
  const callerNames = header.slice(1);
  const callers = {
    MARKETER: w.marketer,
    ANALYST: w.analyst,
    anonymous: Caller.anonymous(),
    ...Object.fromEntries(ALL_SCOPES.map((s) => [`key:${scopeName(s)}`, w.keys[s]])),
  };
  const samples = namedSamples(ids);
  const fields = new Map(rootFields(schema).map((f) => [f.name, f]));
  const memberType = schema.getType('Member');
  const analyticsType = schema.getType('Analytics');
  let calls = 0;
  let skipped = 0;
  const refusedAsExpected = { FORBIDDEN: 0, UNAUTHENTICATED: 0 };
  const jobs = [];
  for (const [row, ...cells] of rows) {
    if (row.includes(' > ') || row.includes('(')) continue;
    const [typeName, fieldName] = row.split('.');
    let query;
    let variables;
    if (typeName === 'Query' || typeName === 'Mutation') {
      const f = fields.get(row);
      if (!f) {
        skipped++;
        continue;
      }
      if (row === 'Mutation.login') continue;
      variables = argumentsFor(f.field, samples);
      query = operationFor(f.kind, f.field, variables);
    } else if ((typeName === 'Member' && memberType?.getFields()[fieldName]) || (typeName === 'Analytics' && analyticsType?.getFields()[fieldName])) {
      const field = (typeName === 'Member' ? memberType : analyticsType).getFields()[fieldName];
      const args = argumentsFor(field, samples);
      const names = Object.keys(args);
      const defs = names.map((n) => `$${n}: ${field.args.find((a) => a.name === n).type}`);
      const call = names.length ? `${fieldName}(${names.map((n) => `${n}: $${n}`).join(', ')})` : fieldName;
      const leaf = /^(String|Int|Float|Boolean|ID|DateTimeISO|LocalDate)!?$/.test(field.type.toString()) || field.type.toString().startsWith('[String');
      const sel = leaf ? '' : '{ __typename }';
      if (typeName === 'Member') {
        query = `query($memberRoot: ID!${defs.length ? `, ${defs.join(', ')}` : ''}) { member(id: $memberRoot) { id ${call} ${sel} } }`;
        variables = { memberRoot: ids.memberId, ...args };
      } else {
        query = `query${defs.length ? `(${defs.join(', ')})` : ''} { analytics { ${call} ${sel} } }`;
        variables = args;
      }
    } else {
      skipped++;
      continue;
    }
    cells.forEach((expected, i) => {
      const callerName = callerNames[i];
      if (expected === 'allowed' || callerName === 'ADMIN' || !callers[callerName]) return;
      jobs.push({ row, callerName, expected, query, variables });
    });
  }
  // Only refused cells are called, so logout and changePassword never end the attack's own sessions.
  await pooled(jobs, 8, async (j) => {
    calls++;
    const res = await w.api.gql(cls, callers[j.callerName], j.query, j.variables, { label: `${j.row} as ${j.callerName}` });
    const got = outcomeOf(res);
    // A Member field is refused with the whole member (either code) for callers who may not read members at all.
    if (got === j.expected || (j.row.startsWith('Member.') && got !== 'allowed')) refusedAsExpected[got] = (refusedAsExpected[got] ?? 0) + 1;
    else cls.fail(`${j.row} as ${j.callerName}: expected ${j.expected}, got ${got === 'allowed' ? `allowed (${res.errors.length ? summarise(res) : 'data'})` : got}`);
  });
  cls.note(`${calls} calls that must be refused (matrix rows × callers); refused as expected: ${JSON.stringify(refusedAsExpected)}${skipped ? `; ${skipped} matrix rows not in this schema or not reachable` : ''}`);
}

/** Cross-site requests a browser can send without a preflight must not run an operation. */
export async function csrf(w, cls) {
  const { api } = w;
  const email = `csrf-${uid()}@attack.test`;
  const mutation = `mutation { enrolMember(input: { email: "${email}" }) { id } }`;
  const key = w.keys.allRaw[0].key;
  const tries = [
    ['GET with a mutation', { method: 'GET', path: `/graphql?query=${encodeURIComponent(mutation)}`, headers: { 'x-api-key': key } }],
    ['GET with a query and no preflight header', { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ rewards { id } }')}`, headers: { authorization: `Bearer ${w.rootToken}` } }],
    ['POST text/plain', { headers: { 'content-type': 'text/plain', 'x-api-key': key }, body: JSON.stringify({ query: mutation }) }],
    ['POST form-urlencoded', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': key }, body: `query=${encodeURIComponent(mutation)}` }],
    ['POST multipart/form-data', { headers: { 'content-type': 'multipart/form-data; boundary=x', 'x-api-key': key }, body: `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: mutation })}\r\n--x--\r\n` }],
    ['POST with no content type', { headers: { 'x-api-key': key }, body: JSON.stringify({ query: mutation }) }],
  ];
  for (const [what, req] of tries) {
    const res = await api.request(cls, { ...req, label: `CSRF: ${what}`, expectJson: false });
    cls.expect(res.status >= 400 && !res.data?.enrolMember && !res.data?.rewards, `CSRF: ${what} answered HTTP ${res.status} ${res.data ? 'with data' : summarise(res)}`);
  }
  const found = await api.gql(cls, w.keys.all, 'query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id } }', { v: email }, { label: 'memberByIdentifier (CSRF check)' });
  cls.expect(found.data && found.data.memberByIdentifier === null, `CSRF: a cross-site request enrolled ${email}`);
  // CORS: a foreign origin gets no Access-Control-Allow-Origin.
  const pre = await api.request(cls, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    label: 'CORS preflight from a foreign origin',
    expectJson: false,
  });
  cls.expect(!pre.headers.get('access-control-allow-origin'), `CORS: a foreign origin was allowed (${pre.headers.get('access-control-allow-origin')})`);
}

/**
 * The demo channel key printed by npm start, through the storefront's own operations
 * (schema/operations/channels/storefront.graphql) and the README's curl examples.
 */
export async function demoKeyJourney(w, cls) {
  const { api, platform } = w;
  if (!platform.demoKey) {
    cls.skip('no demo key (pass --demo-key with --url)');
    return;
  }
  const demo = Caller.key('demo key', platform.demoKey);
  const keys = await api.gql(cls, w.root, '{ apiKeys { name prefix scopes revokedAt channel { name } } }', undefined, { label: 'apiKeys' });
  const mine = keys.data?.apiKeys?.find((k) => !k.revokedAt && (platform.demoKey.startsWith(k.prefix) || platform.demoKey.replace(/^lk_/, '').startsWith(k.prefix)));
  if (mine) {
    cls.note(`demo key (${mine.channel.name}) scopes: ${mine.scopes.join(', ')}`);
    for (const needed of ['ORDERS_READ', 'REWARDS_REDEEM', 'FEEDBACK_WRITE', 'MEMBERS_READ', 'MEMBERS_WRITE', 'ORDERS_WRITE']) {
      cls.expect(mine.scopes.includes(needed), `the demo channel key lacks ${needed}`);
    }
  } else {
    cls.warn('the demo key was not found in apiKeys by its prefix');
  }
  const ops = readFileSync(path.join(repoRoot, 'schema', 'operations', 'channels', 'storefront.graphql'), 'utf8');
  const doc = parse(ops);
  /** The operation with the fragments it spreads (one level deep is all the storefront file uses). */
  const opText = (name) => {
    const d = doc.definitions.find((x) => x.kind === 'OperationDefinition' && x.name?.value === name);
    if (!d) return null;
    const text = ops.slice(d.loc.start, d.loc.end);
    const used = doc.definitions.filter((f) => f.kind === 'FragmentDefinition' && text.includes(`...${f.name.value}`));
    return [text, ...used.map((f) => ops.slice(f.loc.start, f.loc.end))].join('\n');
  };
  const email = `Journey.${uid()}@Example.com`;
  const step = async (name, variables, extraCheck) => {
    const text = opText(name);
    if (!text) {
      cls.warn(`storefront.graphql has no operation ${name}`);
      return null;
    }
    const res = await api.gql(cls, demo, text, variables, { label: `storefront ${name}`, operationName: name });
    const bad = res.errors.filter((e) => !extraCheck?.allowed?.includes(e.extensions?.code));
    cls.expect(bad.length === 0, `storefront ${name} with the demo key: ${summarise({ errors: bad })}`);
    return res.data;
  };
  // The README's own example member; its phone is unique, so a second run on one database enrols without it.
  let enrolled = await step('EnrolMember', { input: { email, phone: '07911 123456', firstName: 'Ann', consents: [{ medium: 'EMAIL', isGranted: true }] } }, { allowed: ['CONFLICT'] });
  if (!enrolled?.enrolMember) enrolled = await step('EnrolMember', { input: { email, firstName: 'Ann', consents: [{ medium: 'EMAIL', isGranted: true }] } });
  const memberId = enrolled?.enrolMember?.id ?? (await w.enrol(cls)).id;
  await step('FindMember', { type: 'EMAIL', value: email.toUpperCase() });
  await step('RecordOrder', { input: w.orderInput(memberId, { unitPriceMinor: 5000 }) });
  await w.givePoints(cls, memberId, 1000);
  await step('Rewards', {});
  const rewards = await api.gql(cls, demo, '{ rewards { id code costPoints } }', undefined, { label: 'rewards (demo key)' });
  const coffee = rewards.data?.rewards?.find((r) => r.costPoints <= 1000 && r.code !== 'GOLD-20');
  if (coffee) await step('RedeemReward', { input: { memberId, rewardId: coffee.id, idempotencyKey: `journey-${uid()}` } });
  await step('MemberAccount', { id: memberId });
  await step('MemberRecommendations', { id: memberId });
  const search = await api.gql(cls, demo, 'query($s: String) { members(first: 10, search: $s) { totalCount edges { cursor node { id email } } pageInfo { hasNextPage endCursor } } }', { s: 'ann' }, { label: 'README: members search (demo key)' });
  cls.expect(!search.errors.length, `README members search with the demo key: ${summarise(search)}`);
  const feedback = await api.gql(cls, demo, 'mutation($i: RecordFeedbackInput!) { recordFeedback(input: $i) { id } }', { i: { memberId, kind: 'NPS', score: 9, comment: 'great' } }, { label: 'recordFeedback (demo key)' });
  cls.expect(!feedback.errors.length, `recordFeedback with the demo key: ${summarise(feedback)}`);
  const curlQuery = await api.gql(cls, demo, '{ members(first: 3) { totalCount edges { node { id email } } } }', undefined, { label: "npm start's printed curl (demo key)" });
  cls.expect(!curlQuery.errors.length, `the curl command npm start prints: ${summarise(curlQuery)}`);
}
