import { describeErrors, graphql, isMissingField } from './lib/api.mjs';
import { runLoad } from './lib/load.mjs';
import { settledCount, withClient } from './lib/postgres.mjs';
import { createBaseEarningRule, enrolMembers, startStack } from './lib/stack.mjs';

export const name = 'ingest';
export const title = 'Order ingestion (recordOrder)';
export const unit = 'orders/s';

const MEMBERS = 1_000;
const SKUS = 500;

/** A constant document (persisted-operation style): only the variables change between requests. */
const RECORD_ORDER = 'mutation RecordOrder($input: RecordOrderInput!) { recordOrder(input: $input) { id pointsEarned } }';

const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

function orderInput(memberIds, externalOrderId) {
  const lines = Array.from({ length: 3 }, () => {
    const n = randomInt(1, SKUS);
    return {
      sku: `SKU-${n}`,
      name: `Product ${n}`,
      category: `Cat ${n % 20}`,
      quantity: randomInt(1, 3),
      unitPriceMinor: randomInt(199, 4999),
      discountMinor: 0,
    };
  });
  return {
    externalOrderId,
    member: { id: memberIds[Math.floor(Math.random() * memberIds.length)] },
    placedAt: new Date().toISOString(),
    currency: 'GBP',
    lines,
    orderDiscountMinor: 0,
    totalMinor: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0),
  };
}

/** Members enrolled, a base earning rule if the API has one, then N clients recording orders for random members. */
export async function run({ clients, durationSeconds, warmupSeconds }) {
  const stack = await startStack({ clients });
  try {
    let counter = 0;
    const nextInput = (memberIds) => orderInput(memberIds, `${process.pid}-${counter++}`);
    // Fail fast, before seeding, when this build has no recordOrder (validation runs before anything is written).
    const early = await graphql(stack.api.url, { query: RECORD_ORDER, variables: {}, apiKey: stack.apiKey });
    if (isMissingField(early, 'recordOrder')) {
      throw new Error('this build of the API has no recordOrder mutation yet (try --only enrol)');
    }

    process.stdout.write(`  seed: enrolling ${MEMBERS} members…\n`);
    const memberIds = await enrolMembers(stack, MEMBERS);
    const earningRule = await createBaseEarningRule(stack);
    process.stdout.write(`  seed: base earning rule ${earningRule}\n`);

    const probe = await graphql(stack.api.url, { query: RECORD_ORDER, variables: { input: nextInput(memberIds) }, apiKey: stack.apiKey });
    if (probe.errors) throw new Error(`a single recordOrder fails, so there is nothing to measure: ${describeErrors(probe)}`);

    const load = await withClient(stack.db.url, (db) =>
      runLoad({
        label: name,
        url: stack.api.url,
        headers: { 'x-api-key': stack.apiKey },
        buildBody: () => JSON.stringify({ query: RECORD_ORDER, variables: { input: nextInput(memberIds) } }),
        clients,
        warmupSeconds,
        durationSeconds,
        countRows: () => settledCount(db, 'customer_order'),
      }),
    );
    const ledger = await withClient(stack.db.url, async (db) => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM customer_order)::int AS orders,
                (SELECT count(*) FROM ledger_entry)::int AS ledger_rows,
                (SELECT coalesce(sum(points_earned), 0) FROM customer_order)::bigint AS points`,
      );
      return rows[0];
    });
    return {
      load,
      details: {
        membersSeeded: MEMBERS,
        earningRule,
        probePointsEarned: probe.data.recordOrder.pointsEarned,
        ordersInDatabase: ledger.orders,
        ledgerRowsPerOrder: ledger.orders ? ledger.ledger_rows / ledger.orders : 0,
        meanPointsPerOrder: ledger.orders ? Number(ledger.points) / ledger.orders : 0,
      },
    };
  } finally {
    await stack.stop();
  }
}
