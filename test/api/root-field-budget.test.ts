import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { orderInput } from '../support/orders';
import { MAX_ROOT_FIELDS } from '../../api/src/graphql/plugins';

// One request with 40 to 250 aliased recordOrder fields recorded every order and cost one unit of the caller's budget.
// Each root field now counts as one request, and an operation with more than MAX_ROOT_FIELDS of them runs nothing.
const BUDGET = 100;
const h = useHarness({ RATE_LIMIT_API_KEY_REQUESTS: String(BUDGET), RATE_LIMIT_ADMIN_REQUESTS: String(BUDGET), RATE_LIMIT_WINDOW_SECONDS: '60' });
const b = build(h);

/** `n` aliased recordOrder fields, each with its own order, and the orders' external ids. */
function aliasedOrders(n: number) {
  const inputs = Array.from({ length: n }, () => orderInput(null));
  const defs = inputs.map((_, i) => `$i${i}: RecordOrderInput!`).join(', ');
  const calls = inputs.map((_, i) => `o${i}: recordOrder(input: $i${i}) { id }`).join(' ');
  return {
    query: `mutation Many(${defs}) { ${calls} }`,
    variables: Object.fromEntries(inputs.map((input, i) => [`i${i}`, input])),
    externalIds: inputs.map((i) => i.externalOrderId),
  };
}

async function ordersRecorded(externalIds: string[]): Promise<number> {
  const [row] = await h.sql<{ n: string }>(`select count(*) n from customer_order where external_order_id in (?)`, [externalIds]);
  return Number(row.n);
}

/** A query of `n` root fields that reads nothing, to spend budget without writing. */
const typenames = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename`).join(' ')} }`;

describe('root fields and the request budget', () => {
  it('counts each aliased root mutation as one request: the remaining budget drops by the number of orders recorded', async () => {
    const till = await b.apiKey();
    const batch = aliasedOrders(5);
    const res = await h.gql(till.auth, batch.query, batch.variables);
    expect(res.errors).toBeUndefined();
    expect(await ordersRecorded(batch.externalIds)).toBe(5);
    expect(res.headers['ratelimit-remaining']).toBe(String(BUDGET - 5));
    const next = await h.gql(till.auth, `{ salesChannels { id } }`);
    expect(next.headers['ratelimit-remaining']).toBe(String(BUDGET - 6));
  });

  it('counts root fields that fragments bring in, inline and named, nested in each other', async () => {
    const till = await b.apiKey();
    const [first, second, third] = [orderInput(null), orderInput(null), orderInput(null)];
    const query = `mutation($a: RecordOrderInput!, $b: RecordOrderInput!, $c: RecordOrderInput!) {
      ... on Mutation { a: recordOrder(input: $a) { id } }
      ...Outer
    }
    fragment Outer on Mutation { b: recordOrder(input: $b) { id } ...Inner }
    fragment Inner on Mutation { ... { c: recordOrder(input: $c) { id } } }`;
    const res = await h.gql(till.auth, query, { a: first, b: second, c: third });
    expect(res.errors).toBeUndefined();
    expect(res.headers['ratelimit-remaining']).toBe(String(BUDGET - 3));
  });

  it('counts the root fields of a query too', async () => {
    const admin = await b.admin();
    const res = await h.gql(admin.auth, `{ a: me { id } b: me { id } c: programmeSettings { pendingDays } }`);
    expect(res.errors).toBeUndefined();
    expect(res.headers['ratelimit-remaining']).toBe(String(BUDGET - 3));
  });

  it.each([MAX_ROOT_FIELDS + 1, 40, 250])(
    'refuses %i aliased recordOrder fields with TOO_MANY_ROOT_FIELDS and HTTP 400 before any resolver runs, recording nothing',
    async (n) => {
      const till = await b.apiKey();
      const batch = aliasedOrders(n);
      const res = await h.gql(till.auth, batch.query, batch.variables);
      expect(res.status).toBe(400);
      const error = expectError(res, 'TOO_MANY_ROOT_FIELDS');
      expect(error.extensions).toMatchObject({ rootFields: n, limit: MAX_ROOT_FIELDS });
      expect(res.data).toBeUndefined();
      expect(await ordersRecorded(batch.externalIds)).toBe(0);
      // Only its arrival was counted.
      expect(res.headers['ratelimit-remaining']).toBe(String(BUDGET - 1));
    },
  );

  it('lets exactly MAX_ROOT_FIELDS root fields run', async () => {
    const till = await b.apiKey();
    const batch = aliasedOrders(MAX_ROOT_FIELDS);
    const res = await h.gql(till.auth, batch.query, batch.variables);
    expect(res.errors).toBeUndefined();
    expect(await ordersRecorded(batch.externalIds)).toBe(MAX_ROOT_FIELDS);
  });

  it('answers RATE_LIMITED with HTTP 429 and Retry-After, recording nothing, when the rest of the budget cannot pay for every alias', async () => {
    const till = await b.apiKey();
    // Spend all but 3 units without writing anything.
    for (const n of [20, 20, 20, 20, 17]) expect((await h.gql(till.auth, typenames(n))).errors).toBeUndefined();
    const batch = aliasedOrders(5);
    const res = await h.gql(till.auth, batch.query, batch.variables);
    expect(res.status).toBe(429);
    const error = expectError(res, 'RATE_LIMITED');
    expect(error.extensions.retryAfter).toBeGreaterThan(0);
    expect(res.headers['retry-after']).toBe(String(error.extensions.retryAfter));
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(res.data).toBeUndefined();
    expect(await ordersRecorded(batch.externalIds)).toBe(0);
  });
});
