/**
 * `member.ledger` lists changes newest first by when they happened, not by when they were written: a retailer's
 * history imported today (at its own dates) sits below last week's order, and paging with a cursor walks every row
 * once, ties included.
 */
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { runImport } from '../support/imports';
import type { SourceRecord } from '../../api/src/modules/import/source';

const h = useHarness();
const b = build(h);
const CHANNEL = `Ledger order shop ${process.env.JEST_WORKER_ID}`;
const DAY = 86_400_000;
const LEDGER = `query($id: ID!, $first: Int!, $after: String) { member(id: $id) {
  ledger(first: $first, after: $after) { edges { cursor node { id reason createdAt availableDelta pendingDelta } } pageInfo { hasNextPage endCursor } } } }`;

interface Row { id: string; reason: string; createdAt: string }
let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let memberId: string;

const stamp = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
let line = 1;
const invoice = (no: string, daysAgo: number, unitPrice = '30.00'): SourceRecord => ({
  line: ++line,
  row: { InvoiceNo: no, StockCode: 'ORD1', Description: 'Ledger order product', Quantity: '1', InvoiceDate: stamp(new Date(Date.now() - daysAgo * DAY)), UnitPrice: unitPrice, CustomerID: 'LEDGER-ORDER-1', Country: 'United Kingdom' },
});

async function page(first: number, after: string | null = null) {
  const res = await h.gql<{ member: { ledger: { edges: { cursor: string; node: Row }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }>(
    admin.auth, LEDGER, { id: memberId, first, after });
  expect(res.errors).toBeUndefined();
  return res.data!.member.ledger;
}

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
  // Last week's order first; then two older invoices (a year and half a year ago), imported afterwards.
  await runImport(h, [invoice('700001', 7)], { channelName: CHANNEL });
  await runImport(h, [invoice('700002', 365), invoice('700003', 180, '12.00'), invoice('700004', 180, '13.00')], { channelName: CHANNEL });
  [{ member_id: memberId }] = await h.sql(`select member_id from member_identifier where type = 'CHANNEL_CUSTOMER_ID' and value = 'LEDGER-ORDER-1'`);
});

describe('member.ledger', () => {
  it('lists every row newest first by when it happened, whatever order it was written in', async () => {
    const written = await h.sql(`select id, created_at from ledger_entry where member_id = ? order by id`, [memberId]);
    expect(written.length).toBeGreaterThanOrEqual(4);
    // The premise: write order and time order differ (last week's row was written first).
    const newestWritten = new Date(written.at(-1)!.created_at as string | Date);
    expect(newestWritten.getTime()).toBeLessThan(Date.now() - 100 * DAY);

    const all = await page(100);
    expect(all.pageInfo.hasNextPage).toBe(false);
    const rows = all.edges.map((e) => e.node);
    expect(rows.map((r) => r.id).sort()).toEqual(written.map((r) => r.id).sort());
    const times = rows.map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(Date.now() - times[0]).toBeLessThan(8 * DAY);
    expect(Date.now() - times.at(-1)!).toBeGreaterThan(364 * DAY);
  });

  it('pages one row at a time through the same rows in the same order, rows of the same instant included', async () => {
    const whole = (await page(100)).edges.map((e) => e.node.id);
    const [{ n: tied }] = await h.sql(`select count(*)::int - count(distinct created_at)::int as n from ledger_entry where member_id = ?`, [memberId]);
    expect(tied).toBeGreaterThan(0); // two invoices of the same second: the cursor must break the tie by id
    const walked: string[] = [];
    let after: string | null = null;
    for (;;) {
      const p = await page(1, after);
      walked.push(...p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(walked).toEqual(whole);
  });

  it('refuses a cursor it did not issue as BAD_USER_INPUT on after, without answering INTERNAL', async () => {
    const oldStyle = Buffer.from(`c:${memberId}`).toString('base64url');
    const impossible = Buffer.from(`k:2026-02-30T00:00:00.000000Z|${memberId}`).toString('base64url');
    for (const after of [oldStyle, impossible, 'not a cursor']) {
      const res = await h.gql(admin.auth, LEDGER, { id: memberId, first: 5, after });
      const err = expectError(res, 'BAD_USER_INPUT');
      expect(JSON.stringify(err.extensions)).toContain('after');
    }
  });
});
