/**
 * The bulk importer reads each customer's member (and its status) before it takes the members' locks; an erasure or a
 * merge that commits in between must still be seen: the erased member's invoices are rejected ERASED_MEMBER and its
 * closed account stays empty; a member merged away has its new orders written to the survivor. Made deterministic by
 * holding, in a second connection, an uncommitted identifier the importer must insert for a new customer of the same
 * batch (its insert waits on the unique index after the members were read, before they are locked).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { runImport } from '../support/imports';
import { ledgerCheck } from '../support/orders';
import { ERASE, MERGE, sleep } from '../support/races';
import type { SourceRecord } from '../../api/src/modules/import/source';

const h = useHarness();
const b = build(h);
const CHANNEL = `Race import shop ${process.env.JEST_WORKER_ID}`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
});

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
let line = 1;
const row = (invoice: string, customer: string, unitPrice = '25.00'): SourceRecord => ({
  line: ++line,
  row: { InvoiceNo: invoice, StockCode: 'AUDIT1', Description: 'Audit product', Quantity: '1', InvoiceDate: stamp(new Date(Date.now() - 3_600_000)), UnitPrice: unitPrice, CustomerID: customer, Country: 'United Kingdom' },
});

/**
 * Runs `rows` as an import that pauses after reading its members and before locking them (a second connection holds
 * an uncommitted identifier `held` the import must insert), runs `meanwhile`, then lets the import go on.
 */
async function importPausedBeforeLocks(rows: SourceRecord[], held: string, meanwhile: () => Promise<void>) {
  // The channel's scope, from the first row's customer (imported before).
  const [{ scope }] = await h.sql(`select scope from member_identifier where type = 'CHANNEL_CUSTOMER_ID' and value = ?`, [rows[0].row.CustomerID]);
  const client = new Client({ connectionString: h.config.DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('begin');
  const holder = randomUUID();
  await client.query(`insert into member (id, status, enrolment_channel, enrolled_at, updated_at) values ($1, 'ACTIVE', 'WEB', now(), now())`, [holder]);
  await client.query(`insert into member_identifier (id, member_id, type, scope, value, created_at) values ($1, $2, 'CHANNEL_CUSTOMER_ID', $3, $4, now())`, [randomUUID(), holder, scope, held]);
  const imported = runImport(h, rows, { channelName: CHANNEL });
  for (let i = 0; ; i++) {
    const { rows: waiting } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`);
    if (waiting[0].n >= 1) break;
    if (i > 200) throw new Error('the importer never waited');
    await sleep(25);
  }
  await meanwhile();
  await client.query('rollback');
  await client.end();
  return imported;
}

describe('bulk import × eraseMember or mergeMembers of one of the batch’s customers', () => {
  it('an erasure: rejects its invoices ERASED_MEMBER and leaves nothing on the erased member, with a clean ledger check', async () => {
    await runImport(h, [row('900001', 'RACE-C1')], { channelName: CHANNEL });
    const [{ member_id: erasedId }] = await h.sql(`select member_id from member_identifier where type = 'CHANNEL_CUSTOMER_ID' and value = 'RACE-C1'`);
    const ordersBefore = (await h.sql(`select id from customer_order where member_id = ?`, [erasedId])).length;

    // The importer has read RACE-C1's member as ACTIVE; now it is erased (its account closed), and only then locked.
    const imported = importPausedBeforeLocks([row('900002', 'RACE-C1'), row('900003', 'RACE-C2')], 'RACE-C2', async () => {
      const erased = await h.gql(admin.auth, ERASE, { input: { id: erasedId, reason: 'race' } });
      expect(erased.errors).toBeUndefined();
    });
    const { summary, rejects } = await imported;

    const ordersAfter = (await h.sql(`select id from customer_order where member_id = ?`, [erasedId])).length;
    const [account] = await h.sql(`select available::int, pending::int, closed_at is not null as "isClosed",
        (select count(*)::int from point_lot where member_id = ? and state <> 'CLOSED') as "liveLots" from member_balance where member_id = ?`, [erasedId, erasedId]);
    const check = await ledgerCheck(h);
    expect({
      newOrdersOnErasedMember: ordersAfter - ordersBefore,
      account,
      erasedHoldings: check.erasedHoldings,
      rejectedAsErased: rejects.filter((r) => r.reason === 'ERASED_MEMBER' || String(r.reason).includes('erased')).length,
    }).toEqual({
      newOrdersOnErasedMember: 0,
      account: { available: 0, pending: 0, isClosed: true, liveLots: 0 },
      erasedHoldings: [],
      rejectedAsErased: 1,
    });
    expect(summary).toBeDefined();
  });

  it('a merge: writes the absorbed member’s new order, and its points, to the survivor, with a clean ledger check', async () => {
    await runImport(h, [row('900011', 'RACE-M1')], { channelName: CHANNEL });
    const [{ member_id: absorbedId }] = await h.sql(`select member_id from member_identifier where type = 'CHANNEL_CUSTOMER_ID' and value = 'RACE-M1'`);
    const survivor = await b.member().save();
    const imported = importPausedBeforeLocks([row('900012', 'RACE-M1', '40.00'), row('900013', 'RACE-M2')], 'RACE-M2', async () => {
      const merged = await h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId } });
      expect(merged.errors).toBeUndefined();
    });
    const { rejects } = await imported;
    expect(rejects).toEqual([]);
    const [order] = await h.sql(`select member_id, points_earned::int from customer_order where external_order_id = '900012'`);
    expect(order).toEqual({ member_id: survivor.id, points_earned: 40 });
    const [absorbed] = await h.sql(`select available::int, pending::int, (select count(*)::int from point_lot where member_id = ? and state <> 'CLOSED') as "liveLots" from member_balance where member_id = ?`, [absorbedId, absorbedId]);
    expect(absorbed).toEqual({ available: 0, pending: 0, liveLots: 0 });
    const check = await ledgerCheck(h);
    expect({ erasedHoldings: check.erasedHoldings, mergedAwayHoldings: check.mergedAwayHoldings }).toEqual({ erasedHoldings: [], mergedAwayHoldings: [] });
  });
});
