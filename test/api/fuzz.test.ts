import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import Queue from 'bull';
import fc from 'fast-check';
import {
  GraphQLObjectType,
  buildSchema,
  getNamedType,
  isLeafType,
  parse,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { useHarness, type Auth, type GqlResult } from '../support/harness';
import { build } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { QUEUES } from '../../jobs/src/payloads';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { abbreviate, hasEdgeRefusedText, maxLengths, probes, valueArb, type Pools } from '../support/fuzz-values';
import { minimalOperation, namespacedOperations, rootOperations, sample, within, type RootOperation } from '../support/schema-ops';
import { sqlInErrors } from '../support/error-leaks';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { composePlugins } from '../../api/src/composition/plugin';

/**
 * Sends every query and mutation (and the fields under `analytics`) thousands of invalid and hostile inputs in all, as
 * an ADMIN and as an API key with every scope, and tries every argument, at every depth, with each hostile class of its
 * scalar (control characters, lone surrogates, over-long strings, integer extremes): no INTERNAL_SERVER_ERROR, no
 * HTTP 5xx, only documented codes, no SQL in any message (the API runs in development mode, where leaks would show),
 * and a consistent ledger afterwards.
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> npx jest api/fuzz.test.ts -t '<operation>'.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** Random inputs per operation and caller, beside the systematic probes; raise it for a longer hunt (FUZZ_RUNS=2000). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 24);
const BATCH = 8;
/** Under the API's 1 MB body limit, with room for the query text. */
const MAX_BODY = 900_000;

const root = path.resolve(__dirname, '..', '..');
const documentedCodes = new Set(Object.keys(JSON.parse(readFileSync(path.join(root, 'schema/error-codes.json'), 'utf8'))));
/** Read from the committed SDL so the test list is known before the API starts; coercion uses the real scalars. */
const sdl = buildSchema(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
/** Destructive ones last, so the others still find live members and keys. */
const LAST = ['Mutation.mergeMembers', 'Mutation.eraseMember', 'Mutation.revokeApiKey', 'Mutation.rotateApiKey', 'Mutation.logout', 'Mutation.changePassword', 'Mutation.revokeAdminSessions'];
/** The only mutations that may answer UNAUTHENTICATED to a signed-in caller; anywhere else it means the fuzz lost its session. */
const MAY_UNAUTHENTICATE = new Set(['Mutation.login', 'Mutation.logout', 'Mutation.changePassword', 'Mutation.revokeAdminSessions']);
/** Queries with arguments first (they change nothing), then mutations, destructive ones last. */
const operations = [
  ...rootOperations(sdl).filter((op) => op.kind === 'query' && op.field.args.length > 0),
  ...namespacedOperations(sdl),
  ...rootOperations(sdl)
    .filter((op) => op.kind === 'mutation')
    .sort((a, b) => LAST.indexOf(a.name) - LAST.indexOf(b.name)),
];

const prefix = `test-fuzz-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
// Thousands of requests from one admin and one key: the per-caller rate limits would answer most of them.
// Development mode: an unexpected error's message would carry the database's words there if anywhere.
const h = useHarness({
  NODE_ENV: 'development',
  QUEUE_PREFIX: prefix,
  RATE_LIMIT_ADMIN_REQUESTS: '0',
  RATE_LIMIT_API_KEY_REQUESTS: '0',
  LOGIN_MAX_FAILURES: '100',
  LOGIN_MAX_FAILURES_PER_IP: '1000000',
}, { plugins: DISTRIBUTION_PLUGINS }); // the committed SDL is the distribution's: its plugins' mutations are fuzzed too
const b = build(h);

let schema: GraphQLSchema;
let pools: Pools;
let callers: Array<[string, Auth]>;
let sent = 0;
let adminToken = '';
let adminLogin: { email: string; password: string };
let lengths: Map<string, number>;

interface Failure {
  caller: string;
  /** The probe's place and class, for a systematic input. */
  probe?: string;
  query: string;
  variables: unknown;
  status: number;
  errors: unknown;
}

/** Scalar fields of the returned type, so that storing and reading back hostile values is exercised too. */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return '';
  if (!(type instanceof GraphQLObjectType)) return '{ __typename }';
  const leaves = Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !('ofType' in a.type) || a.defaultValue !== undefined))
    .map((f) => f.name);
  return `{ __typename ${leaves.join(' ')} }`;
}

/** The deepest selection reachable through object fields without required arguments, up to `depth` levels. */
function deepSelection(type: unknown, depth: number): { text: string; levels: number } {
  if (depth === 0 || !(type instanceof GraphQLObjectType)) return { text: '', levels: 0 };
  let best = { text: '', levels: 0 };
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined)) continue;
    const inner = getNamedType(f.type);
    if (!(inner instanceof GraphQLObjectType)) continue;
    const below = deepSelection(inner, depth - 1);
    if (below.levels + 1 > best.levels) best = { text: `${f.name} { __typename ${below.text} }`, levels: below.levels + 1 };
    if (best.levels === depth) break;
  }
  return best;
}

function documentFor(op: RootOperation, aliases: string[]) {
  const field = op.field;
  const defs = aliases.flatMap((alias) => field.args.map((a) => `$${alias}_${a.name}: ${a.type.toString()}`));
  const calls = aliases.map((alias) => {
    const args = field.args.map((a) => `${a.name}: $${alias}_${a.name}`).join(', ');
    return `${alias}: ${field.name}${args ? `(${args})` : ''} ${selectionOf(field)}`;
  });
  return `${op.kind} Fuzz${defs.length ? `(${defs.join(', ')})` : ''} { ${within(op, calls.join(' '))} }`;
}

/** True when GraphQL variable coercion accepts these arguments, so they reach the resolver. */
function coerces(op: RootOperation, args: Record<string, unknown>): boolean {
  const doc = parse(documentFor(op, ['a']));
  const defs = (doc.definitions[0] as OperationDefinitionNode).variableDefinitions ?? [];
  const inputs = Object.fromEntries(Object.entries(args).map(([k, v]) => [`a_${k}`, v]));
  return !('errors' in getVariableValues(schema, defs, inputs));
}

/**
 * What is wrong with an answer: HTTP 5xx, INTERNAL_SERVER_ERROR, a code not in schema/error-codes.json, SQL in a
 * message, UNAUTHENTICATED where the session should hold; and for input the edge must refuse (a control character or
 * lone surrogate anywhere), anything but HTTP 400 with BAD_USER_INPUT naming where (`at`, when known), unless the body
 * was too large to be read (413 PAYLOAD_TOO_LARGE, for a body that is).
 */
function problemsIn(op: RootOperation, res: GqlResult<unknown>, variables: unknown, edgeRefused: { at?: string[] } | null): boolean {
  if (res.status >= 500) return true;
  // A body over GRAPHQL_MAX_BODY_BYTES is refused unread, whatever it holds (the query text is a few KB at most).
  if (res.status === 413) return !(Buffer.byteLength(JSON.stringify(variables)) > h.config.GRAPHQL_MAX_BODY_BYTES - 65_536 && res.errors?.every((e) => e.extensions?.code === 'PAYLOAD_TOO_LARGE'));
  if (sqlInErrors(res.errors, variables).length) return true;
  if (edgeRefused) {
    // Below the root, a path starts with the fields down to the argument: `analytics.m0.input.from`.
    const below = op.via ? new RegExp(`^${op.via.join('\\.')}\\.\\w+\\.`) : null;
    const paths = (res.errors ?? [])
      .flatMap((e) => (e.extensions?.fields ?? []) as Array<{ path: string }>)
      .map((f) => (below ? f.path.replace(below, '') : f.path));
    const named = (edgeRefused.at ?? []).every((at) => paths.some((p) => p === at || p.startsWith(`${at}.`)));
    if (res.status !== 400 || !named || res.errors?.some((e) => e.extensions?.code !== 'BAD_USER_INPUT')) return true;
  }
  return (res.errors ?? []).some(
    (e) =>
      e.extensions?.code === 'INTERNAL_SERVER_ERROR' ||
      !documentedCodes.has(e.extensions?.code) ||
      (e.extensions?.code === 'UNAUTHENTICATED' && !MAY_UNAUTHENTICATE.has(op.name)),
  );
}

interface Input {
  args: Record<string, unknown>;
  /** For a systematic probe: where its hostile value is, and what it is. */
  probe?: { path: string; label: string };
}

/**
 * Sends inputs together as aliases of one operation where one input cannot spoil the rest: those the edge refuses
 * (all of the request is refused) in batches of their own, the other coercible ones in batches, each that does not
 * coerce on its own.
 */
async function send(op: RootOperation, caller: string, auth: Auth, inputs: Input[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  const refusal = (batch: Input[]) =>
    batch.every((i) => hasEdgeRefusedText(i.args)) ? { at: batch.flatMap((i) => (i.probe ? [i.probe.path] : [])) } : null;
  const failure = (query: string, variables: unknown, res: GqlResult<unknown>, input?: Input): Failure => ({
    caller,
    ...(input?.probe ? { probe: `${input.probe.path}: ${input.probe.label}` } : {}),
    query,
    variables,
    status: res.status,
    errors: res.errors,
  });
  const one = async (input: Input) => {
    const variables = Object.fromEntries(Object.entries(input.args).map(([k, v]) => [`a_${k}`, v]));
    const query = documentFor(op, ['a']);
    const res = await h.gql(auth, query, variables);
    sent++;
    if (problemsIn(op, res, variables, refusal([input]))) failures.push(failure(query, variables, res, input));
  };
  const batched = async (batch: Input[]) => {
    const aliases = batch.map((_, i) => `m${i}`);
    const variables = Object.fromEntries(batch.flatMap((input, i) => Object.entries(input.args).map(([k, v]) => [`${aliases[i]}_${k}`, v])));
    const res = await h.gql(auth, documentFor(op, aliases), variables);
    sent += batch.length;
    // A batch with a problem is replayed one input at a time, so the report names the input.
    if (problemsIn(op, res, variables, refusal(batch))) for (const input of batch) await one(input);
  };
  const refused = inputs.filter((i) => hasEdgeRefusedText(i.args));
  const coercible = inputs.filter((i) => !refused.includes(i) && coerces(op, i.args));
  await Promise.all(inputs.filter((i) => !refused.includes(i) && !coercible.includes(i)).map(one));
  for (const group of [refused, coercible]) {
    let batch: Input[] = [];
    let size = 0;
    for (const input of group) {
      const bytes = JSON.stringify(input.args).length;
      if (batch.length === BATCH || size + bytes > MAX_BODY) {
        await batched(batch);
        [batch, size] = [[], 0];
      }
      batch.push(input);
      size += bytes;
    }
    if (batch.length) await batched(batch);
  }
  return failures;
}

/** The failures, with how to reproduce them; `details` is null for the systematic probes, which need only the seed. */
function report(op: RootOperation, details: { counterexamplePath: string | null; failed: boolean; errorInstance: unknown } | null, failures: Failure[]): string {
  const file = path.join(root, 'test-output', `fuzz-${op.name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ seed: SEED, path: details?.counterexamplePath ?? null, failures }, null, 2));
  const shown = failures.slice(0, 3).map(
    (f) =>
      `as ${f.caller}${f.probe ? `, probing ${f.probe}` : ''}: HTTP ${f.status}\n  ${f.query}\n  variables: ${JSON.stringify(abbreviate(f.variables))}\n  errors: ${JSON.stringify(abbreviate(f.errors))}`,
  );
  const where = details ? `random inputs, seed ${SEED}, path "${details.counterexamplePath}"` : `systematic probes, seed ${SEED}`;
  return (
    `${op.name} failed the fuzz (${where}; ${failures.length} bad responses).\n` +
    (failures.length || !details?.failed ? '' : `The property threw: ${String(details.errorInstance)}\n`) +
    `Reproduce: FUZZ_SEED=${SEED} npx jest api/fuzz.test.ts -t '${op.name} '. Full inputs in ${file}.\n\n${shown.join('\n\n')}`
  );
}

/** Real records for the pools: members with points, rewards, vouchers, orders, plans, keys, segments, webhooks. */
async function buildPools(admin: Auth, channel: Auth): Promise<Pools> {
  const ok = async (query: string, variables: Record<string, unknown>, auth = admin) => {
    const res = await h.gql(auth, query, variables);
    if (res.errors) throw new Error(`fixture failed: ${JSON.stringify(res.errors)}`);
    return res.data as any;
  };
  await b.baseRate();
  const tierCodes = ['FZ_BRONZE', 'FZ_GOLD'];
  for (const [i, code] of tierCodes.entries()) {
    await ok(`mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`, { i: { code, name: code, threshold: i * 500 } });
  }
  await ok(`mutation($i: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $i) { id } }`, {
    i: { code: 'FZ_PLUS', name: 'Plus', currency: 'GBP', durationDays: 365, feeMinor: 1000 },
  });
  const rewards: string[] = [];
  for (const code of ['FZ_R1', 'FZ_R2']) {
    const data = await ok(`mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }`, {
      i: { code, name: code, kind: 'FIXED_DISCOUNT', costPoints: 50, valueMinor: 500, currency: 'GBP', stock: 1000 },
    });
    rewards.push(data.upsertReward.id);
  }
  const members: string[] = [];
  const orders: string[] = [];
  const redemptions: string[] = [];
  const vouchers: string[] = [];
  const memberPlans: string[] = [];
  for (let i = 0; i < 6; i++) {
    const m = await b.member().named('Fuzz', `Member${i}`).save();
    members.push(m.id);
    await ok(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
      i: { memberId: m.id, points: 1000, reason: 'fuzz fixture', idempotencyKey: `fz-fixture-${m.id}` },
    });
    const order = await ok(RECORD_ORDER, { input: orderInput(m.id, [{ quantity: 3 }, { sku: 'SKU-2', quantity: 2 }]) }, channel);
    orders.push(order.recordOrder.id);
    const redeemed = await ok(`mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id voucherCode } }`, {
      i: { memberId: m.id, rewardId: rewards[0], idempotencyKey: `fz-fixture-${m.id}` },
    });
    redemptions.push(redeemed.redeemReward.id);
    vouchers.push(redeemed.redeemReward.voucherCode);
    const plan = await ok(`mutation($i: SubscribeMemberInput!) { subscribeMemberToPlan(input: $i) { id } }`, {
      i: { memberId: m.id, planCode: 'FZ_PLUS' },
    });
    memberPlans.push(plan.subscribeMemberToPlan.id);
  }
  const guest = await ok(RECORD_ORDER, { input: orderInput(null) }, channel);
  orders.push(guest.recordOrder.id);
  const keys = await Promise.all([b.apiKey(), b.apiKey()]);
  const segment = await ok(`mutation($i: CreateSegmentInput!) { createSegment(input: $i) { id } }`, {
    i: { name: 'Fuzz segment', kind: 'DYNAMIC', rule: { attribute: 'pointsBalance', op: 'gte', value: 0 } },
  });
  const webhook = await ok(`mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { webhook { id } } }`, {
    i: { url: 'https://hooks.example.com/fuzz', eventTypes: ['ORDER_RECORDED'] },
  });
  const rules = await ok(`{ earningRules { ruleKey } }`, {});
  return {
    members,
    orders,
    rewards,
    redemptions,
    vouchers,
    memberPlans,
    channels: keys.map((k) => k.channelId),
    apiKeys: keys.map((k) => k.keyId),
    segments: [segment.createSegment.id],
    webhooks: [webhook.registerWebhook.webhook.id],
    ruleKeys: rules.earningRules.map((r: { ruleKey: string }) => r.ruleKey),
    tierCodes,
    planCodes: ['FZ_PLUS'],
    rewardCodes: ['FZ_R1', 'FZ_R2'],
  };
}

beforeAll(async () => {
  // The live schema with the distribution's plugins, whose operations the committed SDL lists too.
  schema = await buildGraphQLSchema(h.app.services, composePlugins(DISTRIBUTION_PLUGINS).resolvers);
  const admin = await b.admin();
  adminToken = admin.token;
  adminLogin = { email: admin.email, password: admin.password };
  const key = await b.apiKey();
  callers = [
    ['ADMIN', admin.auth],
    ['API key with every scope', key.auth],
  ];
  pools = await buildPools(admin.auth, key.auth);
  lengths = maxLengths();
}, 60_000);

// logout, changePassword and revokeAdminSessions may end the fuzzing admin's session: each test starts a new one.
beforeEach(async () => {
  adminToken = (await h.app.services.adminAuth.login(h.em(), adminLogin)).token;
  callers[0][1] = { token: adminToken };
});

afterAll(async () => {
  for (const name of Object.values(QUEUES)) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  process.stdout.write(`fuzz: seed ${SEED}, ${sent} inputs sent to ${operations.length} operations\n`);
});

/** The live schema's operation for one read from the committed SDL: coercion and field extensions are the API's own. */
const live = (sdlOp: RootOperation) => [...rootOperations(schema), ...namespacedOperations(schema)].find((o) => o.name === sdlOp.name)!;

/** False for a caller refused the whole operation, which would only ever see FORBIDDEN: fuzz the resolvers, not the auth check. */
async function isAllowed(op: RootOperation, auth: Auth): Promise<boolean> {
  const probe = minimalOperation(op);
  const res = await h.gql(auth, probe.text, probe.variables);
  return !res.errors?.some((e) => e.extensions.code === 'FORBIDDEN' && e.path?.length === 1 + (op.via?.length ?? 0));
}

describe('fuzzing every operation with hostile input', () => {
  it.each(operations.filter((op) => op.field.args.length > 0).map((op) => [op.name, op] as const))(
    '%s answers only documented codes, never a 5xx or SQL, to each hostile class in every argument and to random input',
    async (_name, sdlOp) => {
      const op = live(sdlOp);
      const allowed: Array<[string, Auth]> = [];
      for (const [caller, auth] of callers) if (await isAllowed(op, auth)) allowed.push([caller, auth]);

      // Every leaf of every argument with every class of its scalar, once, as the first caller allowed.
      if (allowed.length) {
        const [caller, auth] = allowed[0];
        const inputs = probes(op.field, op.name, pools, lengths, SEED).map(({ path: at, label, args }) => ({
          args: JSON.parse(JSON.stringify(args)) as Record<string, unknown>,
          probe: { path: at, label },
        }));
        const failures = await send(op, caller, auth, inputs);
        if (failures.length) throw new Error(report(op, null, failures));
      }

      const argsArb = fc.record(
        Object.fromEntries(op.field.args.map((a) => [a.name, valueArb(a.type, `${op.name}`, a.name, pools)])),
      ) as fc.Arbitrary<Record<string, unknown>>;
      for (const [caller, auth] of allowed) {
        const failures: Failure[] = [];
        const details = await fc.check(
          fc.asyncProperty(fc.array(argsArb, { minLength: BATCH, maxLength: BATCH }), async (inputs) => {
            // What JSON carries: undefined fields dropped, NaN as null.
            const sentInputs = inputs.map((args) => ({ args: JSON.parse(JSON.stringify(args)) as Record<string, unknown> }));
            const found = await send(op, caller, auth, sentInputs);
            failures.push(...found);
            return found.length === 0;
          }),
          { seed: SEED, numRuns: Math.ceil(RUNS / BATCH), endOnFailure: true },
        );
        if (details.failed) throw new Error(report(op, details, failures));
      }
    },
    120_000,
  );
});

describe('hostile documents', () => {
  /** Raw HTTP, so malformed bodies reach the server as sent. */
  async function post(body: string, contentType = 'application/json') {
    const res = await h.http().post('/graphql').set('content-type', contentType).set('authorization', `Bearer ${adminToken}`).send(body);
    let json: any = null;
    try {
      json = JSON.parse(res.text);
    } catch {
      // Not JSON: only the status is checked.
    }
    return { status: res.status, codes: (json?.errors ?? []).map((e: any) => e.extensions?.code) as string[] };
  }

  const cases: Array<[string, () => string]> = [
    ['a query nested 20,000 braces deep', () => JSON.stringify({ query: `{ ${'me { '.repeat(20_000)}id${' }'.repeat(20_000)} }` })],
    ['5,000 aliases of one field', () => JSON.stringify({ query: `{ ${Array.from({ length: 5_000 }, (_, i) => `a${i}: __typename`).join(' ')} }` })],
    ['a fragment that spreads itself', () => JSON.stringify({ query: `query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }` })],
    ['a chain of 2,000 fragments', () =>
      JSON.stringify({ query: `{ ...F0 } ${Array.from({ length: 2_000 }, (_, i) => `fragment F${i} on Query { ${i < 1_999 ? `...F${i + 1}` : '__typename'} }`).join(' ')}` })],
    ['a spread of a fragment that does not exist', () => JSON.stringify({ query: '{ ...Missing }' })],
    ['a thousand repeated directives', () => JSON.stringify({ query: `{ me ${'@include(if: true) '.repeat(1_000)}{ id } }` })],
    ['a JSON rule nested 100,000 levels deep', () =>
      `{"query":"query($r: JSON!) { previewSegment(input: { rule: $r }) { count } }","variables":{"r":${'{"not":'.repeat(100_000)}{}${'}'.repeat(100_000)}}}`],
    ['variables that are an array', () => JSON.stringify({ query: '{ me { id } }', variables: [1, 2] })],
    ['a query that is a number', () => JSON.stringify({ query: 42 })],
    ['no query at all', () => JSON.stringify({ variables: {} })],
    ['an unknown operation name', () => JSON.stringify({ query: 'query A { me { id } }', operationName: 'B' })],
    ['two operations and no name', () => JSON.stringify({ query: 'query A { me { id } } query B { me { id } }' })],
    ['a body that is not JSON', () => '{"query": "{ me { id } }"'],
    ['a NUL byte in the query text', () => JSON.stringify({ query: '{ me { id\u0000 } }' })],
    ['a body over the size limit', () => JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(1_100_000) } })],
  ];

  it('refuses every mutation whose selection nests deeper than the limit, before running it', async () => {
    let probed = 0;
    for (const op of rootOperations(schema).filter((o) => o.kind === 'mutation')) {
      const deep = deepSelection(getNamedType(op.field.type), h.config.GRAPHQL_MAX_DEPTH + 5);
      if (deep.levels < h.config.GRAPHQL_MAX_DEPTH) continue;
      const args = op.field.args.filter((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined);
      const defs = args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
      const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      const text = `mutation Deep${defs ? `(${defs})` : ''} { ${op.field.name}${call} { ${deep.text} } }`;
      const res = await h.gql(callers[0][1], text, Object.fromEntries(args.map((a) => [a.name, sample(a.type)])));
      expect({ op: op.name, status: res.status, codes: res.errors?.map((e) => e.extensions.code), data: res.data ?? null }).toEqual({
        op: op.name,
        status: 400,
        codes: ['GRAPHQL_VALIDATION_FAILED'],
        data: null,
      });
      probed++;
    }
    expect(probed).toBeGreaterThanOrEqual(5);
  });

  it.each(cases)('answers %s with a documented code and no 5xx', async (_name, body) => {
    const res = await post(body());
    expect(res.status).toBeLessThan(500);
    for (const code of res.codes) expect(documentedCodes).toContain(code);
    expect(res.codes).not.toContain('INTERNAL_SERVER_ERROR');
  });
});

describe('what the fuzz found, pinned', () => {
  const codes = (res: GqlResult<unknown>) => ({ status: res.status, codes: res.errors?.map((e) => e.extensions.code) });

  it('answers BAD_USER_INPUT on the argument, not a database error, for a webhook or model version id that is not a uuid', async () => {
    const admin: Auth = callers[0][1];
    for (const id of ['1e309', '-1', '9007199254740993']) {
      for (const [query, arg] of [
        [`mutation($id: ID!) { disableWebhook(id: $id) { id } }`, 'id'],
        [`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, 'id'],
        [`query($id: ID!) { webhookDeliveries(webhookId: $id) { id } }`, 'webhookId'],
        [`query($id: ID!) { modelVersion(id: $id) { id } }`, 'id'],
      ] as const) {
        const res = await h.gql(admin, query, { id });
        expect(codes(res)).toEqual({ status: 400, codes: ['BAD_USER_INPUT'] });
        expect(res.errors![0].extensions.fields).toEqual([{ path: arg, message: 'must be an id' }]);
      }
    }
  });

  it('validates activateModelVersion input: the id is a uuid and the reason at most 500 characters', async () => {
    const res = await h.gql(callers[0][1], `mutation($i: ActivateModelVersionInput!) { activateModelVersion(input: $i) { id } }`, {
      i: { id: '1e309', reason: 'x'.repeat(501) },
    });
    expect(codes(res)).toEqual({ status: 200, codes: ['BAD_USER_INPUT'] });
    expect(res.errors![0].extensions.fields.map((f: { path: string }) => f.path).sort()).toEqual(['input.id', 'input.reason']);
  });

  it('names where a variable is wrong in extensions.fields, the variable itself included', async () => {
    const create = `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }`;
    const channelId = pools.channels[0];
    const pathsOf = async (query: string, variables: Record<string, unknown>) => {
      const res = await h.gql(callers[0][1], query, variables);
      expect(codes(res).codes).toEqual(['BAD_USER_INPUT']);
      return res.errors![0].extensions.fields.map((f: { path: string }) => f.path);
    };
    expect(await pathsOf(create, {})).toEqual(['i']);
    expect(await pathsOf(create, { i: null })).toEqual(['i']);
    expect(await pathsOf(create, { i: 5 })).toEqual(['i']);
    expect(await pathsOf(create, { i: { name: 'k', scopes: [] } })).toEqual(['i.channelId']);
    expect(await pathsOf(create, { i: { channelId, name: 'k', scopes: [], bogus: 1 } })).toEqual(['i.bogus']);
    expect(await pathsOf(create, { i: { channelId, name: 'k', scopes: ['NOT_A_SCOPE'] } })).toEqual(['i.scopes[0]']);
    // A hostile value quoting graphql-js's own wording does not move the path.
    expect(await pathsOf(create, { i: { channelId, name: 'k', scopes: ['; Field "x" is not defined by type at "i.y"'] } })).toEqual(['i.scopes[0]']);
    expect(await pathsOf(create, { i: { channelId, name: 'k', scopes: [], 'x at "i.y"': 1 } })).toEqual(['i']);
    expect(await pathsOf(`query($first: Int!) { members(first: $first) { __typename } }`, { first: 2 ** 40 })).toEqual(['first']);
  });

  it('refuses a date in year 0000 (PostgreSQL has none) as BAD_USER_INPUT on its path, not INTERNAL', async () => {
    const rfm = `query($asOf: DateTimeISO!) { analytics { rfm(asOf: $asOf) { scoredMembers } } }`;
    for (const asOf of ['0000-01-02T00:00:00.000Z', '0000-12-31T23:59:59Z']) {
      const res = await h.gql(callers[0][1], rfm, { asOf });
      expect(codes(res)).toEqual({ status: 400, codes: ['BAD_USER_INPUT'] });
      expect(res.errors![0].extensions.fields.map((f: { path: string }) => f.path)).toEqual(['asOf']);
    }
    // The first and last instants the bounds allow are answered.
    for (const asOf of ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const res = await h.gql(callers[0][1], rfm, { asOf });
      expect([asOf, res.errors]).toEqual([asOf, undefined]);
    }
  });

  it('answers BAD_USER_INPUT when more than 50 variable values are wrong', async () => {
    const res = await h.gql(callers[0][1], `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }`, {
      i: { channelId: pools.channels[0], name: 'k', scopes: Array.from({ length: 60 }, () => 'NOT_A_SCOPE') },
    });
    expect(res.status).toBe(400);
    expect(new Set(res.errors?.map((e) => e.extensions.code))).toEqual(new Set(['BAD_USER_INPUT']));
  });

  it('answers QUERY_TOO_COMPLEX with HTTP 400, and an unknown operation name with BAD_REQUEST', async () => {
    const pages = `{ members(first: 100) { edges { node { orders(first: 100) { edges { node { id } } } } } } }`;
    expect(codes(await h.gql(callers[0][1], pages))).toEqual({ status: 400, codes: ['QUERY_TOO_COMPLEX'] });
    const res = await h.http().post('/graphql').set('authorization', `Bearer ${adminToken}`).send({ query: 'query A { me { id } }', operationName: 'B' });
    expect({ status: res.status, codes: res.body.errors.map((e: any) => e.extensions.code) }).toEqual({ status: 400, codes: ['BAD_REQUEST'] });
  });

  it('refuses hostile argument text as BAD_USER_INPUT naming the argument, even in an operation also over the complexity budget (seed 20261207)', async () => {
    const query = `query R($after: String, $first: Int!) { referrals(after: $after, first: $first) { __typename } }`;
    expect(codes(await h.gql(callers[0][1], query, { after: 'abc', first: 2147483646 }))).toEqual({ status: 400, codes: ['QUERY_TOO_COMPLEX'] });
    const res = await h.gql(callers[0][1], query, { after: 'abc\u0000def', first: 2147483646 });
    expect(codes(res)).toEqual({ status: 400, codes: ['BAD_USER_INPUT'] });
    expect(JSON.stringify(res.errors)).toContain('after');
  });
});

describe('sums that overflow', () => {
  const MAX = 2 ** 31 - 1;
  const MIN = -(2 ** 31);
  let unique = 0;
  const line = (unitPriceMinor: number, quantity: number, discountMinor = 0) => ({ sku: `SUM-${++unique % 7}`, name: 'Sum', category: 'General', quantity, unitPriceMinor, discountMinor });
  const order = (memberId: string | null, lines: unknown[], extra: Record<string, unknown> = {}) => ({
    externalOrderId: `fz-sum-${process.env.JEST_WORKER_ID}-${++unique}`,
    ...(memberId ? { member: { id: memberId } } : {}),
    placedAt: new Date().toISOString(),
    currency: 'GBP',
    lines,
    orderDiscountMinor: 0,
    totalMinor: MAX,
    ...extra,
  });
  const failures: string[] = [];
  beforeEach(() => {
    failures.length = 0;
  });

  /** Sends one operation as the API key (orders) or the admin, and notes any answer that breaks the fuzz's rules. */
  async function attempt(what: string, query: string, variables: Record<string, unknown>, auth: Auth = callers[1][1]) {
    const res = await h.gql(auth, query, variables);
    const codes = (res.errors ?? []).map((e) => e.extensions.code as string);
    const sql = sqlInErrors(res.errors, variables);
    if (res.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR') || codes.some((c) => !documentedCodes.has(c)) || sql.length) {
      failures.push(`${what}: HTTP ${res.status} ${codes.join(',')} ${sql.join(',')}\n  variables: ${JSON.stringify(abbreviate(variables))}\n  errors: ${JSON.stringify(abbreviate(res.errors))}`);
    }
    return res;
  }

  const RECORD = `mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id subtotalMinor totalMinor pointsEarned lines { lineNo netMinor } } }`;

  it('records, or refuses with a documented code, orders whose line and order totals pass 2^31 and 2^53', async () => {
    const [member] = pools.members;
    const cases: Array<[string, unknown]> = [
      ['one line of 2^31-1 units at 2^31-1 each', order(member, [line(MAX, MAX)])],
      ['500 lines at 2^31-1 each', order(member, Array.from({ length: 500 }, () => line(MAX, 1)))],
      ['500 lines of 2^31-1 units at 2^31-1 each', order(member, Array.from({ length: 500 }, () => line(MAX, MAX)))],
      ['a line discount of 2^31-1 on a line of 1', order(member, [line(1, 1, MAX)], { totalMinor: MIN + 1 })],
      ['an order discount of 2^31-1', order(member, [line(MAX, 1)], { orderDiscountMinor: MAX, totalMinor: 0 })],
      ['a total of -2^31', order(member, [line(1, 1)], { totalMinor: MIN })],
      // Each within the documented maximum of 1,000,000,000 minor units; together past 2^31 in every sum over them.
      ...[1, 2, 3].map((n): [string, unknown] => [`order ${n} of 3 at the documented maximum`, order(member, [line(500_000_000, 2)], { totalMinor: 1_000_000_000 })]),
      ...[1, 2, 3].map((n): [string, unknown] => [`guest order ${n} of 3 at the documented maximum`, order(null, [line(1_000_000_000, 1)], { totalMinor: 1_000_000_000 })]),
    ];
    const answers = [];
    for (const [what, input] of cases) answers.push(await attempt(`recordOrder with ${what}`, RECORD, { i: input }));
    expect(failures).toEqual([]);
    // Orders within the bounds are taken, so the sums below do pass 2^31.
    expect(answers.slice(-3).map((res) => res.errors ?? null)).toEqual([null, null, null]);
  });

  it('takes or refuses, with a documented code, points past 2^31 on one member, and reads them back', async () => {
    const member = pools.members[1];
    const admin = callers[0][1];
    const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available pending lifetime } }`;
    for (let i = 0; i < 3; i++) {
      await attempt(`adjustPoints +2^31-1, time ${i + 1}`, ADJUST, { i: { memberId: member, points: MAX, reason: 'sum', idempotencyKey: `fz-sum-up-${i}` } }, admin);
    }
    await attempt('adjustPoints -2^31', ADJUST, { i: { memberId: member, points: MIN, reason: 'sum', idempotencyKey: 'fz-sum-down' } }, admin);
    const reward = await attempt(
      'upsertReward costing 2^31-1 points, worth 2^31-1, stock 2^31-1',
      `mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }`,
      { i: { code: 'FZ_SUM', name: 'Sum', kind: 'FIXED_DISCOUNT', costPoints: MAX, valueMinor: MAX, currency: 'GBP', stock: MAX } },
      admin,
    );
    const rewardId = (reward.data as { upsertReward?: { id: string } } | null)?.upsertReward?.id;
    if (rewardId) {
      await attempt('redeemReward of the 2^31-1 reward', `mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id } }`, {
        i: { memberId: member, rewardId, idempotencyKey: 'fz-sum-redeem' },
      }, admin);
    }
    await attempt('the member read back', `query($id: ID!) { member(id: $id) { points { available pending lifetime } ledger(first: 20) { totalCount } } }`, { id: member }, admin);
    expect(failures).toEqual([]);
  });

  it('answers every analytics query, and the member list, over those totals', async () => {
    const admin = callers[0][1];
    const from = new Date(Date.now() - 400 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const analytics = namespacedOperations(schema);
    expect(analytics.length).toBeGreaterThanOrEqual(5);
    for (const op of analytics) {
      const { text, variables } = minimalOperation(op, Object.fromEntries(
        op.field.args.map((a) => [a.name, a.name === 'input' ? { from, to } : a.name === 'asOf' ? to : a.name === 'memberId' ? pools.members[1] : a.name === 'limit' ? 100 : sample(a.type)]),
      ));
      await attempt(op.name, text.replace('{ __typename }', selectionOf(op.field)), variables, admin);
    }
    await attempt('members by points', `{ members(first: 50, orderBy: NEWEST_FIRST) { totalCount edges { node { id points { available lifetime } } } } }`, {}, admin);
    expect(failures).toEqual([]);
  });
});

describe('after the fuzz', () => {
  it('leaves every balance equal to its ledger, as npm run ledger:check proves', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'api/dist/composition/cli/points-jobs.js'), '--check'], {
      env: { ...process.env, DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, NODE_ENV: 'test', LOG_LEVEL: 'warn' },
    });
    const check = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(check).toMatchObject({ isConsistent: true, mismatches: [] });
    expect(check.membersChecked).toBeGreaterThanOrEqual(6);
  });
});
