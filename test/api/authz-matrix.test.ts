import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Queue from 'bull';
import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { useHarness, type Auth, type GqlResult } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';
import { callWithVariables, minimalOperation, minimalSelection, requiredArgs, rootOperations, sample } from '../support/schema-ops';

/**
 * Calls every query and mutation, every field with its own permission and a few argument-dependent checks as each
 * kind of caller, and compares the outcome with the committed matrix (test/api/authz-matrix.csv).
 * `npm run authz:matrix -w test` prints what it observed, to review and paste.
 */
const MATRIX_FILE = path.join(__dirname, 'authz-matrix.csv');
const OBSERVED_FILE = path.resolve(__dirname, '..', '..', 'test-output', 'authz-matrix.observed.csv');

const prefix = `test-authz-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ QUEUE_PREFIX: prefix });
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

afterAll(async () => {
  for (const name of ['recommender.train-recommender', 'recommender.train-churn']) {
    const queue = new Queue(name, h.config.REDIS_URL, { prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe('authorization matrix', () => {
  it('gives every kind of caller the committed outcome for every operation and guarded field', async () => {
    const schema = await buildGraphQLSchema(null);
    const admin = await b.admin(AdminRole.ADMIN);
    const callers: Array<[string, Auth]> = [
      ['ADMIN', admin.auth],
      ['MARKETER', (await b.admin(AdminRole.MARKETER)).auth],
      ['ANALYST', (await b.admin(AdminRole.ANALYST)).auth],
    ];
    for (const scope of Object.values(ApiKeyScope)) callers.push([`key:${scope}`, (await b.apiKey([scope])).auth]);
    callers.push(['anonymous', null]);

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
    mkdirSync(path.dirname(OBSERVED_FILE), { recursive: true });
    writeFileSync(OBSERVED_FILE, toCsv(callerNames, observed));

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
      if (!observed.has(row)) problems.push(`remove the row for ${row} from test/api/authz-matrix.csv: it is no longer in the schema`);
    }

    if (problems.length) {
      throw new Error(`${problems.join('\n')}\n\nObserved matrix written to ${OBSERVED_FILE} (npm run authz:matrix -w test prints it).`);
    }
    expect(observed.size).toBeGreaterThan(60);
    // About 1,000 calls: on the shared 2-core machine under load this takes well over the default 30 s.
  }, 180_000);
});
