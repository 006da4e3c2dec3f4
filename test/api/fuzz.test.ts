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
import { QUEUES } from '../../recommender/src/payloads';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { abbreviate, valueArb, type Pools } from '../support/fuzz-values';
import { minimalOperation, rootOperations, sample, type RootOperation } from '../support/schema-ops';

/**
 * Sends every mutation thousands of invalid and hostile inputs in all, as an ADMIN and as an API key with every scope:
 * no INTERNAL_SERVER_ERROR, no HTTP 5xx, only documented codes, and a consistent ledger afterwards.
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> npx jest api/fuzz.test.ts -t '<operation>'.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** Inputs per mutation and caller; raise it for a longer hunt (FUZZ_RUNS=2000). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 48);
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
const mutations = rootOperations(sdl)
  .filter((op) => op.kind === 'mutation')
  .sort((a, b) => LAST.indexOf(a.name) - LAST.indexOf(b.name));

const prefix = `test-fuzz-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
// Thousands of requests from one admin and one key: the per-caller rate limits would answer most of them.
const h = useHarness({
  QUEUE_PREFIX: prefix,
  RATE_LIMIT_ADMIN_REQUESTS: '0',
  RATE_LIMIT_API_KEY_REQUESTS: '0',
  LOGIN_MAX_FAILURES: '100',
  LOGIN_MAX_FAILURES_PER_IP: '1000000',
});
const b = build(h);

let schema: GraphQLSchema;
let pools: Pools;
let callers: Array<[string, Auth]>;
let sent = 0;
let adminToken = '';
let adminLogin: { email: string; password: string };

interface Failure {
  caller: string;
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
  return `mutation Fuzz${defs.length ? `(${defs.join(', ')})` : ''} { ${calls.join(' ')} }`;
}

/** True when GraphQL variable coercion accepts these arguments, so they reach the resolver. */
function coerces(op: RootOperation, args: Record<string, unknown>): boolean {
  const doc = parse(documentFor(op, ['a']));
  const defs = (doc.definitions[0] as OperationDefinitionNode).variableDefinitions ?? [];
  const inputs = Object.fromEntries(Object.entries(args).map(([k, v]) => [`a_${k}`, v]));
  return !('errors' in getVariableValues(schema, defs, inputs));
}

function problemsIn(op: RootOperation, res: GqlResult<unknown>): boolean {
  if (res.status >= 500) return true;
  return (res.errors ?? []).some(
    (e) =>
      e.extensions?.code === 'INTERNAL_SERVER_ERROR' ||
      !documentedCodes.has(e.extensions?.code) ||
      (e.extensions?.code === 'UNAUTHENTICATED' && !MAY_UNAUTHENTICATE.has(op.name)),
  );
}

/** Sends coercible inputs together as aliases of one mutation; each refused input on its own. */
async function send(op: RootOperation, caller: string, auth: Auth, inputs: Array<Record<string, unknown>>): Promise<Failure[]> {
  const failures: Failure[] = [];
  const one = async (args: Record<string, unknown>) => {
    const variables = Object.fromEntries(Object.entries(args).map(([k, v]) => [`a_${k}`, v]));
    const query = documentFor(op, ['a']);
    const res = await h.gql(auth, query, variables);
    sent++;
    if (problemsIn(op, res)) failures.push({ caller, query, variables, status: res.status, errors: res.errors });
    return res;
  };
  const coercible = inputs.filter((args) => coerces(op, args));
  await Promise.all(inputs.filter((args) => !coercible.includes(args)).map(one));

  let group: Array<Record<string, unknown>> = [];
  const flush = async () => {
    if (!group.length) return;
    const aliases = group.map((_, i) => `m${i}`);
    const variables = Object.fromEntries(
      group.flatMap((args, i) => Object.entries(args).map(([k, v]) => [`${aliases[i]}_${k}`, v])),
    );
    const batch = group;
    group = [];
    const res = await h.gql(auth, documentFor(op, aliases), variables);
    sent += batch.length;
    // A batch with a problem is replayed one input at a time, so the report names the input.
    if (problemsIn(op, res)) for (const args of batch) await one(args);
  };
  let size = 0;
  for (const args of coercible) {
    const bytes = JSON.stringify(args).length;
    if (size + bytes > MAX_BODY) await flush();
    if (size + bytes > MAX_BODY) size = 0;
    group.push(args);
    size += bytes;
  }
  await flush();
  return failures;
}

function report(op: RootOperation, details: fc.RunDetails<unknown>, failures: Failure[]): string {
  const file = path.join(root, 'test-output', `fuzz-${op.field.name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ seed: details.seed, path: details.counterexamplePath, failures }, null, 2));
  const shown = failures.slice(0, 3).map(
    (f) =>
      `as ${f.caller}: HTTP ${f.status}\n  ${f.query}\n  variables: ${JSON.stringify(abbreviate(f.variables))}\n  errors: ${JSON.stringify(abbreviate(f.errors))}`,
  );
  return (
    `${op.name} failed the fuzz (seed ${details.seed}, path "${details.counterexamplePath}"; ${failures.length} bad responses).\n` +
    (failures.length ? '' : `The property threw: ${String(details.errorInstance)}\n`) +
    `Reproduce: FUZZ_SEED=${details.seed} npx jest api/fuzz.test.ts -t '${op.name}'. Full inputs in ${file}.\n\n${shown.join('\n\n')}`
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
  schema = await buildGraphQLSchema(null);
  const admin = await b.admin();
  adminToken = admin.token;
  adminLogin = { email: admin.email, password: admin.password };
  const key = await b.apiKey();
  callers = [
    ['ADMIN', admin.auth],
    ['API key with every scope', key.auth],
  ];
  pools = await buildPools(admin.auth, key.auth);
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
  process.stdout.write(`fuzz: seed ${SEED}, ${sent} inputs sent to ${mutations.length} mutations\n`);
});

describe('fuzzing every mutation with hostile input', () => {
  it.each(mutations.map((op) => [op.name, op] as const))(
    '%s answers only documented codes, never a 5xx',
    async (_name, sdlOp) => {
      const op = rootOperations(schema).find((o) => o.name === sdlOp.name)!;
      const argsArb = fc.record(
        Object.fromEntries(op.field.args.map((a) => [a.name, valueArb(a.type, `${op.name}`, a.name, pools)])),
      ) as fc.Arbitrary<Record<string, unknown>>;
      for (const [caller, auth] of callers) {
        // A caller refused outright would only ever see FORBIDDEN: fuzz the resolvers, not the auth check.
        const probe = minimalOperation(op);
        const refused = await h.gql(auth, probe.text, probe.variables);
        if (refused.errors?.some((e) => e.extensions.code === 'FORBIDDEN' && e.path?.length === 1)) continue;
        const failures: Failure[] = [];
        const details = await fc.check(
          fc.asyncProperty(fc.array(argsArb, { minLength: BATCH, maxLength: BATCH }), async (inputs) => {
            // What JSON carries: undefined fields dropped, NaN as null.
            const sentInputs = inputs.map((args) => JSON.parse(JSON.stringify(args)) as Record<string, unknown>);
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
});

describe('after the fuzz', () => {
  it('leaves every balance equal to its ledger, as npm run ledger:check proves', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'api/dist/cli/points-jobs.js'), '--check'], {
      env: { ...process.env, DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, NODE_ENV: 'test', LOG_LEVEL: 'warn' },
    });
    const check = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(check).toMatchObject({ isConsistent: true, mismatches: [] });
    expect(check.membersChecked).toBeGreaterThanOrEqual(6);
  });
});
