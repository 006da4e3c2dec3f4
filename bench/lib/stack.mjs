import { randomBytes } from 'node:crypto';
import { apiEnv, describeErrors, freePort, graphql, isMissingField, runCli, startApi } from './api.mjs';
import { createDatabase } from './postgres.mjs';

/**
 * A fresh database at the latest migration, the real API in production mode on a free port, and a channel API key.
 * `stop()` stops the API and drops the database (both are also registered for clean-up on failure or Ctrl-C).
 */
export async function startStack({ clients }) {
  const db = await createDatabase(`loyalty_bench_${process.pid}`);
  const env = apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: clients + 2 });
  process.stdout.write(`  setup: database ${db.name}, migrating…\n`);
  await runCli('migrate', [], env);
  process.stdout.write('  setup: starting the API…\n');
  const api = await startApi(env);
  const out = await runCli(
    'create-api-key',
    ['--channel', 'Bench POS', '--kind', 'STORE', '--scopes', 'members:read,members:write,orders:write'],
    env,
  );
  const apiKey = out.match(/^key:\s+(lk_\S+)/m)?.[1];
  if (!apiKey) throw new Error(`create-api-key printed no key:\n${out}`);
  return {
    db,
    env,
    api,
    apiKey,
    stop: async () => {
      await api.stop();
      await db.drop();
    },
  };
}

const ENROL = 'mutation Enrol($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }';

/** Enrols `count` members through GraphQL, a few at a time; returns their ids. */
export async function enrolMembers(stack, count, { concurrency = 8, prefix = 'bench' } = {}) {
  const ids = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const body = await graphql(stack.api.url, {
        query: ENROL,
        variables: { i: { email: `${prefix}${n}@example.com` } },
        apiKey: stack.apiKey,
      });
      if (body.errors) throw new Error(`enrolMember failed: ${describeErrors(body)}`);
      ids[n] = body.data.enrolMember.id;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** Creates an ADMIN with the API's CLI and logs in; returns a bearer token. */
export async function adminToken(stack) {
  const email = 'bench@example.com';
  const password = randomBytes(18).toString('base64url'); // 24 characters
  await runCli('create-admin', ['--email', email, `--password=${password}`, '--role', 'ADMIN'], stack.env);
  const body = await graphql(stack.api.url, {
    query: 'mutation Login($i: LoginInput!) { login(input: $i) { token } }',
    variables: { i: { email, password } },
  });
  if (body.errors) throw new Error(`login failed: ${describeErrors(body)}`);
  return body.data.login.token;
}

/**
 * One point per whole pound, so each order also writes a ledger row and a balance update. Returns 'created', or
 * 'unavailable' when this build of the API has no `createEarningRule` yet (orders then earn 0 points).
 */
export async function createBaseEarningRule(stack) {
  const token = await adminToken(stack);
  const body = await graphql(stack.api.url, {
    // Inline literal, a one-off call: no need to know the input type's name.
    query: 'mutation { createEarningRule(input: { name: "Bench base rate", kind: BASE_RATE, currency: "GBP", points: 1, perMinor: 100 }) { id } }',
    token,
  });
  if (isMissingField(body, 'createEarningRule')) return 'unavailable';
  if (body.errors) throw new Error(`createEarningRule failed: ${describeErrors(body)}`);
  return 'created';
}
