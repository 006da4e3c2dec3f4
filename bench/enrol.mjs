import { describeErrors, graphql } from './lib/api.mjs';
import { runLoad } from './lib/load.mjs';
import { settledCount, withClient } from './lib/postgres.mjs';
import { startStack } from './lib/stack.mjs';

export const name = 'enrol';
export const title = 'Member enrolment (enrolMember)';
export const unit = 'members/s';

const ENROL = 'mutation Enrol($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }';

/** N clients enrolling members with fresh emails: identifier uniqueness checks, member, identifier and audit rows. */
export async function run({ clients, durationSeconds, warmupSeconds }) {
  const stack = await startStack({ clients });
  try {
    let counter = 0;
    const nextVariables = () => ({ i: { email: `load${process.pid}-${counter++}@example.com` } });
    const probe = await graphql(stack.api.url, { query: ENROL, variables: nextVariables(), apiKey: stack.apiKey });
    if (probe.errors) throw new Error(`a single enrolMember fails, so there is nothing to measure: ${describeErrors(probe)}`);

    const load = await withClient(stack.db.url, (db) =>
      runLoad({
        label: name,
        url: stack.api.url,
        headers: { 'x-api-key': stack.apiKey },
        buildBody: () => JSON.stringify({ query: ENROL, variables: nextVariables() }),
        clients,
        warmupSeconds,
        durationSeconds,
        countRows: () => settledCount(db, 'member'),
      }),
    );
    return { load, details: {} };
  } finally {
    await stack.stop();
  }
}
