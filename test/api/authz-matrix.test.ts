import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Queue from 'bull';
import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { useHarness, type Auth, type GqlResult } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { callWithVariables, minimalOperation, minimalSelection, requiredArgs, rootOperations, sample } from '../support/schema-ops';
import { pathSelection, sensitivePaths, valuesAlong, type SensitivePath } from '../support/sensitive-paths';
import { redactedFields } from '../../api/src/modules/auth/field-permissions';
import { definePlugin } from '../../api/src/composition/plugin';

/**
 * Calls every query and mutation, every field with its own permission and a few argument-dependent checks as each
 * kind of caller, then reads each sensitive field through every way into it (query and mutation results alike), and
 * compares the outcomes with the committed matrix (test/api/authz-matrix.csv).
 * `npm run authz:matrix -w test` prints what it observed, to review and paste.
 */
const MATRIX_FILE = path.join(__dirname, 'authz-matrix.csv');
const OBSERVED_FILE = path.resolve(__dirname, '..', '..', 'test-output', 'authz-matrix.observed.csv');

const prefix = `test-authz-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
/** A plugin reward kind with a fulfilment, so that Redemption.fulfilment holds a value the matrix can see redacted. */
const matrixRewards = definePlugin({
  name: 'matrix-rewards',
  rewardKinds: [
    {
      kind: 'MATRIX_VOUCHER',
      label: 'Matrix voucher',
      description: 'A voucher with a fulfilment reference.',
      completion: 'VOUCHER',
      requires: ['sku'],
      fulfil: async ({ redemptionId }) => ({ reference: `ref-${redemptionId}` }),
    },
  ],
});
const h = useHarness({ QUEUE_PREFIX: prefix }, { plugins: [matrixRewards] });
const b = build(h);

type Outcome = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'INTERNAL_SERVER_ERROR';

/** Denials win over anything else in the response; a crash is reported as such so it never passes as allowed. */
function outcomeOf(res: GqlResult<unknown>): Outcome {
  const codes = new Set((res.errors ?? []).map((e) => e.extensions?.code));
  if (codes.has('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.has('FORBIDDEN')) return 'FORBIDDEN';
  if (codes.has('INTERNAL_SERVER_ERROR') || res.status >= 500) return 'INTERNAL_SERVER_ERROR';
  return 'allowed';
}

interface Probe {
  row: string;
  text: string;
  variables: Record<string, unknown>;
}

interface Fixtures {
  memberId: string;
  segmentId: string;
  login: { email: string; password: string };
}

/** How a field-level check is reached: a root field that returns the type, given real records. */
const REACH: Record<string, (f: Fixtures) => { defs: string[]; open: string; close?: string; variables: Record<string, unknown> }> = {
  Member: (f) => ({ defs: ['$rootId: ID!'], open: 'member(id: $rootId)', variables: { rootId: f.memberId } }),
  // The fixture member has one answer; a caller must be allowed member.feedback to reach it.
  Feedback: (f) => ({ defs: ['$rootId: ID!'], open: 'member(id: $rootId) { feedback(first: 1) { edges { node', close: '} } }', variables: { rootId: f.memberId } }),
  Segment: (f) => ({ defs: ['$rootId: ID!'], open: 'segment(id: $rootId)', variables: { rootId: f.segmentId } }),
  Analytics: () => ({ defs: [], open: 'analytics', variables: {} }),
};

/** Checks that depend on an argument's value rather than on the field alone. */
const ARGUMENT_VARIANTS: Array<{ row: string; text: string; variables: (f: Fixtures) => Record<string, unknown> }> = [
  {
    row: 'Query.members(search)',
    text: `query Probe($s: String) { members(first: 1, search: $s) { totalCount } }`,
    variables: () => ({ s: 'ann' }),
  },
  ...['EMAIL', 'PHONE', 'CHANNEL_CUSTOMER_ID'].map((type) => ({
    row: `Query.memberByIdentifier(${type})`,
    text: `query Probe($v: String!) { memberByIdentifier(type: ${type}, value: $v) { id } }`,
    variables: () => ({ v: type === 'EMAIL' ? 'someone@example.com' : type === 'PHONE' ? '+447911123456' : 'C-1' }),
  })),
];

/** Fields with their own `@Authorized`, read from type-graphql's metadata: `Member.email`, `Analytics.kpis`, ... */
function guardedFields(schema: GraphQLSchema): Array<{ type: string; field: string }> {
  const meta = getMetadataStorage();
  const roots = new Set([...meta.queries, ...meta.mutations].map((q) => `${q.target.name}.${q.methodName}`));
  const typeName = (target: Function) => meta.objectTypes.find((o) => o.target === target)?.name;
  const out = new Map<string, { type: string; field: string }>();
  for (const a of meta.authorizedFields) {
    if (roots.has(`${a.target.name}.${a.fieldName}`)) continue;
    const resolver = meta.fieldResolvers.find((r) => r.target === a.target && r.methodName === a.fieldName);
    const owner = resolver?.getObjectType ? typeName(resolver.getObjectType()) : typeName(a.target);
    const name = resolver?.schemaName ?? a.fieldName;
    if (!owner || !(schema.getType(owner) instanceof GraphQLObjectType)) continue;
    out.set(`${owner}.${name}`, { type: owner, field: name });
  }
  return [...out.values()].sort((x, y) => `${x.type}.${x.field}`.localeCompare(`${y.type}.${y.field}`));
}

function probesFor(schema: GraphQLSchema, f: Fixtures, problems: string[]): Probe[] {
  const probes: Probe[] = rootOperations(schema).map((op) => {
    const overrides = op.name === 'Mutation.login' ? { input: f.login } : {};
    return { row: op.name, ...minimalOperation(op, overrides) };
  });
  probes.push(...ARGUMENT_VARIANTS.map((v) => ({ row: v.row, text: v.text, variables: v.variables(f) })));
  for (const { type, field: fieldName } of guardedFields(schema)) {
    const reach = REACH[type];
    if (!reach) {
      problems.push(`${type}.${fieldName} has its own permission but REACH in authz-matrix.test.ts has no way to reach a ${type}: add one`);
      continue;
    }
    const field = (schema.getType(type) as GraphQLObjectType).getFields()[fieldName];
    const args = requiredArgs(field);
    const root = reach(f);
    const { defs, call } = callWithVariables(field, args, 'f_');
    const allDefs = [...root.defs, ...defs];
    probes.push({
      row: `${type}.${fieldName}`,
      text: `query Probe${allDefs.length ? `(${allDefs.join(', ')})` : ''} { ${root.open} { __typename ${call} ${minimalSelection(field)} } ${root.close ?? ''} }`,
      variables: { ...root.variables, ...Object.fromEntries(args.map((a) => [`f_${a.name}`, sample(a.type)])) },
    });
  }
  // logout ends the caller's session, so it goes last: every other probe still runs signed in.
  return [...probes.filter((p) => p.row !== 'Mutation.logout'), ...probes.filter((p) => p.row === 'Mutation.logout')];
}

function parseMatrix(text: string): { callers: string[]; rows: Map<string, string[]> } {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const [header, ...rest] = lines.map((l) => l.split(',').map((c) => c.trim()));
  return { callers: header.slice(1), rows: new Map(rest.map((cells) => [cells[0], cells.slice(1)])) };
}

const toCsv = (callers: string[], observed: Map<string, string[]>) =>
  [['operation', ...callers], ...[...observed].map(([row, cells]) => [row, ...cells])].map((r) => r.join(',')).join('\n') + '\n';

/** Path rows (`Query.member > Member.points`) belong to the sensitive-field test, the others to the operations test. */
const isPathRow = (row: string) => row.includes(' > ');

/** Compares one test's observed rows with the committed matrix; returns what differs. */
function differences(callerNames: string[], observed: Map<string, string[]>, owns: (row: string) => boolean): string[] {
  const problems: string[] = [];
  const committed = parseMatrix(readFileSync(MATRIX_FILE, 'utf8'));
  for (const name of callerNames) {
    if (!committed.callers.includes(name)) problems.push(`add a column for caller ${name} to test/api/authz-matrix.csv`);
  }
  for (const name of committed.callers) {
    if (!callerNames.includes(name)) problems.push(`remove the column for caller ${name}: no such caller any more`);
  }
  for (const [row, cells] of observed) {
    const expected = committed.rows.get(row);
    if (!expected) {
      problems.push(`add a row for ${row} to test/api/authz-matrix.csv (observed: ${[row, ...cells].join(',')})`);
      continue;
    }
    cells.forEach((cell, i) => {
      const want = expected[committed.callers.indexOf(callerNames[i])];
      if (want !== undefined && want !== cell) problems.push(`${row} called by ${callerNames[i]}: the matrix says ${want}, observed ${cell}`);
    });
  }
  for (const row of committed.rows.keys()) {
    if (owns(row) && !observed.has(row)) problems.push(`remove the row for ${row} from test/api/authz-matrix.csv: it is no longer in the schema`);
  }
  return problems;
}

/** Both tests' rows, written out together for `npm run authz:matrix -w test`. */
const allObserved = new Map<string, string[]>();
let observedCallers: string[] = [];

/** One of each kind of caller, new for each test (the operations test ends their sessions with logout). */
async function everyCaller() {
  const admin = await b.admin(AdminRole.ADMIN);
  const callers: Array<[string, Auth]> = [
    ['ADMIN', admin.auth],
    ['MARKETER', (await b.admin(AdminRole.MARKETER)).auth],
    ['ANALYST', (await b.admin(AdminRole.ANALYST)).auth],
  ];
  for (const scope of Object.values(ApiKeyScope)) callers.push([`key:${scope}`, (await b.apiKey([scope])).auth]);
  callers.push(['anonymous', null]);
  return { callers, admin };
}

afterAll(async () => {
  if (allObserved.size) {
    mkdirSync(path.dirname(OBSERVED_FILE), { recursive: true });
    const ordered = new Map([...allObserved].sort(([a], [b]) => Number(isPathRow(a)) - Number(isPathRow(b))));
    writeFileSync(OBSERVED_FILE, toCsv(observedCallers, ordered));
  }
  for (const name of ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value']) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe('authorization matrix', () => {
  it('gives every kind of caller the committed outcome for every operation and guarded field', async () => {
    const schema = await buildGraphQLSchema(null);
    const { callers, admin } = await everyCaller();

    const member = await b.member().withEmail('matrix@example.com').named('Matrix', 'Member').save();
    const segment = await h.app.services.segments.create(b.ctx(), {
      name: 'Matrix segment',
      kind: 'DYNAMIC' as never,
      rule: { attribute: 'pointsBalance', op: 'gte', value: 0 },
    });
    await h.app.services.feedback.record(b.ctx(), { memberId: member.id, kind: 'NPS' as never, score: 9, comment: 'Matrix comment', channelId: (await b.channel()).id });
    const fixtures: Fixtures = { memberId: member.id, segmentId: segment.id, login: { email: admin.email, password: admin.password } };

    const problems: string[] = [];
    const probes = probesFor(schema, fixtures, problems);
    const observed = new Map<string, string[]>();
    for (const probe of probes) {
      const results = await Promise.all(callers.map(([, auth]) => h.gql(auth, probe.text, probe.variables)));
      observed.set(probe.row, results.map(outcomeOf));
    }
    const callerNames = callers.map(([name]) => name);
    observedCallers = callerNames;
    for (const [row, cells] of observed) allObserved.set(row, cells);
    problems.push(...differences(callerNames, observed, (row) => !isPathRow(row)));

    if (problems.length) {
      throw new Error(`${problems.join('\n')}\n\nObserved matrix written to ${OBSERVED_FILE} (npm run authz:matrix -w test prints it).`);
    }
    expect(observed.size).toBeGreaterThan(60);
    // About 1,000 calls: on the shared 2-core machine under load this takes well over the default 30 s.
  }, 180_000);

  it('gives every kind of caller the committed outcome for every way into a sensitive field', async () => {
    const schema = await buildGraphQLSchema(null);
    const { callers } = await everyCaller();
    const sensitive = [...redactedFieldNames(), ...BALANCE_FIELDS];
    expect(sensitive).toContain('Redemption.voucherCode');
    const paths = sensitivePaths(schema, sensitive);
    const setup = await sensitiveFixtures((await b.admin(AdminRole.ADMIN)).auth);

    const problems: string[] = [];
    const observed = new Map<string, string[]>();
    for (const p of paths) {
      const rootName = `${p.root.parent.name}.${p.root.field.name}`;
      const recipe = ROOT_ARGUMENTS[rootName];
      if (!recipe) {
        problems.push(`${p.name}: ROOT_ARGUMENTS in authz-matrix.test.ts has no way to call ${rootName} with real records: add one`);
        continue;
      }
      const cells: string[] = [];
      // One caller at a time: a mutation's records are made afresh for each, so no call changes what another sees.
      for (const [, auth] of callers) {
        const args = await recipe(setup);
        cells.push(pathOutcome(p, await h.gql(auth, pathOperation(p, args), { ...args, ...pathSelection(p, PAGE).variables })));
      }
      observed.set(p.name, cells);
    }
    observedCallers = callers.map(([name]) => name);
    for (const [row, cells] of observed) allObserved.set(row, cells);
    problems.push(...differences(observedCallers, observed, isPathRow));
    if (problems.length) {
      throw new Error(`${problems.join('\n')}\n\nObserved matrix written to ${OBSERVED_FILE} (npm run authz:matrix -w test prints it).`);
    }
    // Every sensitive field is reached through a query and a mutation at least.
    for (const field of sensitive) {
      expect(paths.filter((p) => p.target === field && p.root.parent.name === 'Query').length).toBeGreaterThan(0);
      expect(paths.filter((p) => p.target === field && p.root.parent.name === 'Mutation').length).toBeGreaterThan(0);
    }
  }, 300_000);
});

/**
 * Sensitive fields, read through every query or mutation result that leads to them: the voucher codes (fields declared
 * `@RedactedUnless`, read as null by callers without the permission) and the balance, which a write-only key must not
 * read back through its mutations' results.
 */
const BALANCE_FIELDS = ['Member.points'];
const redactedFieldNames = () =>
  redactedFields.map((f) => `${getMetadataStorage().objectTypes.find((o) => o.target === f.target)?.name}.${f.fieldName}`);

const PAGE = 10;
/** A country no other fixture uses: the segments and campaigns below hold exactly the members made here. */
const COUNTRY = 'IS';

interface SensitiveFixtures {
  admin: Auth;
  /** A member with points to spend and an issued voucher; queries and non-destructive mutations read it. */
  member: { id: string; email: string };
  rewardId: string;
  segmentId: string;
  campaignId: string;
  memberWithVoucher(): Promise<{ id: string; email: string; redemption: { id: string; voucherCode: string } }>;
  segment(): Promise<string>;
  draftCampaign(): Promise<string>;
}

async function ok(res: Promise<GqlResult<any>>) {
  const done = await res;
  if (done.errors) throw new Error(JSON.stringify(done.errors));
  return done.data;
}

async function sensitiveFixtures(admin: Auth): Promise<SensitiveFixtures> {
  let seq = 0;
  const reward = await ok(
    h.gql(admin, `mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }`, {
      i: { code: 'MATRIX-VOUCHER', name: 'Matrix voucher', kind: 'MATRIX_VOUCHER', sku: 'MATRIX', costPoints: 10 },
    }),
  );
  const redeem = async (memberId: string) =>
    (
      await ok(
        h.gql(admin, `mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id voucherCode } }`, {
          i: { memberId, rewardId: reward.upsertReward.id, idempotencyKey: `matrix-${++seq}` },
        }),
      )
    ).redeemReward as { id: string; voucherCode: string };
  const memberWithVoucher = async () => {
    const email = `vault-${++seq}@matrix.example`;
    const m = await b.member().withEmail(email).inCountry(COUNTRY).save();
    await ok(
      h.gql(admin, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
        i: { memberId: m.id, points: 10_000, reason: 'matrix balance', idempotencyKey: `matrix-points-${m.id}` },
      }),
    );
    return { id: m.id, email, redemption: await redeem(m.id) };
  };
  const segment = async () =>
    (
      await h.app.services.segments.create(b.ctx(), {
        name: `Matrix ${COUNTRY} ${++seq}`,
        kind: 'DYNAMIC' as never,
        rule: { attribute: 'country', op: 'eq', value: COUNTRY },
      })
    ).id;
  const member = await memberWithVoucher();
  const segmentId = await segment();
  const draftCampaign = async () =>
    (
      await ok(
        h.gql(admin, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
          i: { name: `Matrix ${++seq}`, segmentId, bonus: { fixedPoints: 1 }, holdoutShare: 0, startsAt: new Date(Date.now() + 86_400_000).toISOString() },
        }),
      )
    ).createCampaign.id as string;
  return { admin, member, rewardId: reward.upsertReward.id, segmentId, campaignId: await draftCampaign(), memberWithVoucher, segment, draftCampaign };
}

/**
 * Real arguments for each root field that leads to a sensitive field. Mutations get records of their own on every call
 * (an erased or merged member, a consumed voucher), so each caller finds the same state.
 */
const ROOT_ARGUMENTS: Record<string, (f: SensitiveFixtures) => Promise<Record<string, unknown>>> = {
  'Query.member': async (f) => ({ id: f.member.id }),
  'Query.memberByIdentifier': async (f) => ({ type: 'EMAIL', value: f.member.email }),
  'Query.members': async () => ({ first: 100 }),
  'Query.segment': async (f) => ({ id: f.segmentId }),
  'Query.segments': async () => ({}),
  'Query.campaign': async (f) => ({ id: f.campaignId }),
  'Query.campaigns': async () => ({ first: PAGE }),
  'Query.voucher': async (f) => ({ code: (await f.memberWithVoucher()).redemption.voucherCode }),
  'Mutation.enrolMember': async () => ({ input: { email: `enrolled-${randomUUID()}@matrix.example`, country: COUNTRY } }),
  'Mutation.updateMember': async (f) => ({ input: { id: f.member.id } }),
  'Mutation.eraseMember': async (f) => ({ input: { id: (await f.memberWithVoucher()).id, reason: 'authorization matrix' } }),
  'Mutation.mergeMembers': async (f) => ({
    input: { survivorId: (await f.memberWithVoucher()).id, absorbedId: (await b.member().inCountry(COUNTRY).save()).id },
  }),
  'Mutation.createSegment': async () => ({
    input: { name: `Matrix new ${randomUUID()}`, kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: COUNTRY } },
  }),
  'Mutation.updateSegment': async (f) => ({ input: { id: f.segmentId } }),
  'Mutation.deleteSegment': async (f) => ({ id: await f.segment() }),
  'Mutation.createCampaign': async (f) => ({
    input: { name: `Matrix new ${randomUUID()}`, segmentId: f.segmentId, bonus: { fixedPoints: 1 }, holdoutShare: 0, startsAt: new Date(Date.now() + 86_400_000).toISOString() },
  }),
  'Mutation.updateCampaign': async (f) => ({ input: { id: await f.draftCampaign() } }),
  'Mutation.launchCampaign': async (f) => ({ id: await f.draftCampaign() }),
  'Mutation.cancelCampaign': async (f) => ({ id: await f.draftCampaign() }),
  'Mutation.redeemReward': async (f) => ({ input: { memberId: f.member.id, rewardId: f.rewardId, idempotencyKey: randomUUID() } }),
  'Mutation.cancelRedemption': async (f) => ({ input: { redemptionId: (await f.memberWithVoucher()).redemption.id } }),
  'Mutation.consumeVoucher': async (f) => ({ input: { voucherCode: (await f.memberWithVoucher()).redemption.voucherCode } }),
};

/** The operation that calls the path's root with the given arguments and walks the path to the sensitive field. */
function pathOperation(p: SensitivePath, args: Record<string, unknown>): string {
  const { selection, defs } = pathSelection(p, PAGE);
  const rootArgs = p.root.field.args.filter((a) => a.name in args);
  const rootDefs = rootArgs.map((a) => `$${a.name}: ${a.type.toString()}`);
  const call = rootArgs.length ? `${p.root.field.name}(${rootArgs.map((a) => `${a.name}: $${a.name}`).join(', ')})` : p.root.field.name;
  const allDefs = [...rootDefs, ...defs];
  const kind = p.root.parent.name === 'Mutation' ? 'mutation' : 'query';
  return `${kind} Probe${allDefs.length ? `(${allDefs.join(', ')})` : ''} { ${call} ${selection} }`;
}

/**
 * `readable`: a value was read; `null`: the field was reached and answered null; `unreached`: the path led to no such
 * object (a member just enrolled has no redemptions); or the denial, or `error:CODE` for anything else, which the matrix
 * should never hold (the arguments above are wrong).
 */
function pathOutcome(p: SensitivePath, res: GqlResult<any>): string {
  const codes = new Set((res.errors ?? []).map((e) => e.extensions?.code));
  if (codes.has('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.has('FORBIDDEN')) return 'FORBIDDEN';
  if (codes.size) return `error:${[...codes].join('+')}`;
  const values = valuesAlong(p, res.data?.[p.root.field.name]);
  if (values.some((v) => v !== null && v !== undefined)) return 'readable';
  return values.length ? 'null' : 'unreached';
}
