import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck } from '../support/orders';
import { readRows, runImport as runImportOn } from '../support/imports';
import { openRejects } from '../../api/src/modules/import/rejects';
import { ImportInputError, type SourceRecord } from '../../api/src/modules/import/source';
import { toMinorUnits } from '../../api/src/modules/import/rows';
import { DEMO_SLICE, readDemoHistory, rowsBefore, rowsFrom } from '../../api/src/composition/seed/demo-transactions';

const h = useHarness();
const b = build(h);
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'import');
const fixture = (name: string) => path.join(FIXTURES, name);
const tmp = mkdtempSync(path.join(tmpdir(), 'import-test-'));
let channels = 0;

const runImport = (file: string | SourceRecord[], options: Parameters<typeof runImportOn>[2] = {}) => runImportOn(h, file, options);



/** Per customer id of a channel: points and tier, as members see them. */
async function pointsByCustomer(channelId: string) {
  const rows = await h.sql<{ customer: string; available: number; pending: number; lifetime: number; tier: string | null }>(
    `select i.value as customer, b.available::int as available, b.pending::int as pending, b.lifetime::int as lifetime, t.code as tier
     from member_identifier i join member_balance b on b.member_id = i.member_id
     left join member_tier mt on mt.member_id = i.member_id left join tier t on t.id = mt.tier_id
     where i.type = 'CHANNEL_CUSTOMER_ID' and i.scope = ? order by 1`,
    [channelId],
  );
  return Object.fromEntries(rows.map((r) => [r.customer, { available: r.available, pending: r.pending, lifetime: r.lifetime, tier: r.tier }]));
}

async function ordersOf(channelId: string) {
  return h.sql<{ ext: string; member: boolean; total: number; returned: number; status: string; earned: number; clawed: number; lines: number }>(
    `select o.external_order_id as ext, o.member_id is not null as member, o.total_minor as total, o.returned_minor as returned, o.status,
       o.points_earned as earned, o.points_clawed_back as clawed, (select count(*)::int from order_line l where l.order_id = o.id) as lines
     from customer_order o where o.channel_id = ? order by o.external_order_id`,
    [channelId],
  );
}

async function returnsOf(channelId: string) {
  return h.sql<{ ret: string; ext: string; value: number; clawed: number; lines: { lineNo: number; quantity: number }[] }>(
    `select r.external_return_id as ret, o.external_order_id as ext, r.value_minor as value, r.points_clawed_back as clawed, r.lines
     from order_return r join customer_order o on o.id = r.order_id where o.channel_id = ? order by r.external_return_id, o.placed_at desc`,
    [channelId],
  );
}

beforeAll(async () => {
  await b.baseRate(1, 100);
  await b.rule({ name: 'Double points at weekends', kind: 'BONUS', multiplierPercent: 200, daysOfWeek: [0, 6] });
  await b.rule({ name: 'At most 120 points a day', kind: 'DAILY_CAP', capPoints: 120 });
  const ctx = b.ctx();
  await h.app.services.tiers.upsert(ctx, { code: 'GREEN', name: 'Green', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
  await h.app.services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: 100, earnMultiplierPercent: 150, benefitFlags: [] });
});

describe('import: returns', () => {
  it('matches a C invoice to the newest earlier orders with that SKU and claws back their points in proportion', async () => {
    const { summary, rejects } = await runImport(fixture('returns.csv'));
    const orders = await ordersOf(summary.channelId);
    // 500001: 4 × £2.50 + 2 × £10 = £30 → 30 points; 500002: £5 → 5 points (both on weekdays, Green tier).
    // C500003 returns 3 mugs: both of 500002 (5 points back), then 1 of 500001's four (£2.50 of £30: 2.5 → 2 points back).
    expect(orders).toEqual([
      { ext: '500001', member: true, total: 3000, returned: 250, status: 'PARTIALLY_RETURNED', earned: 30, clawed: 2, lines: 2 },
      { ext: '500002', member: true, total: 500, returned: 500, status: 'RETURNED', earned: 5, clawed: 5, lines: 1 },
      { ext: '500005', member: false, total: 1750, returned: 0, status: 'COMPLETED', earned: 0, clawed: 0, lines: 2 },
    ]);
    expect(await returnsOf(summary.channelId)).toEqual([
      { ret: 'C500003', ext: '500002', value: 500, clawed: 5, lines: [expect.objectContaining({ lineNo: 1, quantity: 2, valueMinor: 500 })] },
      { ret: 'C500003', ext: '500001', value: 250, clawed: 2, lines: [expect.objectContaining({ lineNo: 1, quantity: 1, valueMinor: 250 })] },
    ]);
    expect(await pointsByCustomer(summary.channelId)).toEqual({ '10001': { available: 0, pending: 28, lifetime: 28, tier: null } });
    expect(summary).toMatchObject({ orders: 3, guestOrders: 1, returns: 2, returnInvoices: 1, unmatchedReturnUnits: 1, membersCreated: 1, pointsEarned: 35, pointsClawedBack: 7 });
    // The bowl was never bought: reported, not dropped.
    expect(rejects.map((r) => [r.line, r.reason, r.detail])).toEqual([[6, 'return not matched to an earlier order', '1 of 1 unmatched']]);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('stores rows without a customer id as guest orders that earn nothing', async () => {
    const { summary } = await runImport(fixture('returns.csv'));
    const [guest] = await h.sql(
      `select member_id, points_earned, total_minor, points_breakdown from customer_order where channel_id = ? and external_order_id = '500005'`,
      [summary.channelId],
    );
    expect(guest).toEqual({ member_id: null, points_earned: 0, total_minor: 1750, points_breakdown: [] });
    const [ledger] = await h.sql(`select count(*)::int as n from ledger_entry where source_id in (select id from customer_order where channel_id = ? and member_id is null)`, [
      summary.channelId,
    ]);
    expect(ledger.n).toBe(0);
  });
});

describe('import: malformed rows', () => {
  it('writes each malformed row to the rejects file with its line number and reason, and counts them by reason', async () => {
    const rejectsPath = path.join(tmp, 'malformed.rejects.csv');
    const file = openRejects(rejectsPath);
    const { summary } = await runImport(fixture('malformed.csv'), { onReject: (r) => file.write(r) });
    await file.close();
    const rows = await readRows(rejectsPath);
    expect(rows.map((r) => [r.line, r.reason, r.InvoiceNo])).toEqual([
      ['3', 'invoice date is not YYYY-MM-DD HH:MM[:SS]', '510002'],
      ['4', 'quantity is not a whole number', '510003'],
      ['5', 'empty stock code', '510004'],
      ['6', 'negative unit price', '510005'],
      ['7', 'negative quantity outside a return', '510006'],
      ['8', 'accounting adjustment (A invoice)', 'A510007'],
      ['9', 'unit price is not a decimal number', '510008'],
      ['10', 'invoice date is not YYYY-MM-DD HH:MM[:SS]', '510009'],
    ]);
    expect(summary.rejects).toEqual({
      'invoice date is not YYYY-MM-DD HH:MM[:SS]': 2,
      'quantity is not a whole number': 1,
      'empty stock code': 1,
      'negative unit price': 1,
      'negative quantity outside a return': 1,
      'accounting adjustment (A invoice)': 1,
      'unit price is not a decimal number': 1,
    });
    expect(summary).toMatchObject({ rowsRead: 11, orders: 2, linesImported: 3 });
  });

  it('converts prices to whole pence exactly, rounding sub-penny unit prices half up', async () => {
    const { summary } = await runImport(fixture('malformed.csv'));
    const lines = await h.sql(
      `select l.sku, l.quantity, l.unit_price_minor, l.total_minor from order_line l join customer_order o on o.id = l.order_id
       where o.channel_id = ? and o.external_order_id = '510010' order by l.line_no`,
      [summary.channelId],
    );
    expect(lines).toEqual([
      { sku: 'TINY', quantity: 1000, unit_price_minor: 0, total_minor: 0 },
      { sku: 'HALF', quantity: 10, unit_price_minor: 13, total_minor: 130 },
    ]);
    expect(['2.55', '0.29', '1.005', '16.95', '8.1', '3', '1e-3', '2.675', '-0.5'].map(toMinorUnits)).toEqual([255, 29, 101, 1695, 810, 300, 0, 268, -50]);
  });
});

describe('import: column mapping and compressed input', () => {
  it('maps renamed columns with --map and reads the countries as ISO codes', async () => {
    const { summary } = await runImport(fixture('renamed.csv'), { map: 'Invoice=InvoiceNo,Price=UnitPrice,Customer ID=CustomerID' });
    expect(summary).toMatchObject({ orders: 2, membersCreated: 2, rejects: {} });
    expect((await ordersOf(summary.channelId)).map((o) => [o.ext, o.total])).toEqual([
      ['520001', 1950],
      ['520002', 375],
    ]);
    const countries = await h.sql(
      `select i.value, m.country, m.enrolled_at from member m join member_identifier i on i.member_id = m.id where i.scope = ? order by 1`,
      [summary.channelId],
    );
    expect(countries.map((c) => ({ ...c, enrolled_at: new Date(c.enrolled_at) }))).toEqual([
      { value: '30001', country: 'DE', enrolled_at: new Date('2026-10-01T10:00:00Z') },
      { value: '30002', country: 'IE', enrolled_at: new Date('2026-10-02T10:00:00Z') },
    ]);
  });

  it('refuses a file without a required column in one line naming it', async () => {
    await expect(runImport(fixture('renamed.csv'), { map: 'Invoice=InvoiceNo,Customer ID=CustomerID' })).rejects.toThrow(ImportInputError);
    await expect(runImport(fixture('renamed.csv'))).rejects.toThrow(/^missing required column "InvoiceNo", "UnitPrice", "CustomerID" \(the file has: Invoice,/);
  });

  it('reads a gzipped file the same as the plain one', async () => {
    const gz = path.join(tmp, 'history.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('history.csv'))));
    const plain = await runImport(fixture('history.csv'));
    const zipped = await runImport(gz);
    expect(zipped.summary).toMatchObject({ rowsRead: 15, orders: 10, returns: 4, pointsEarned: plain.summary.pointsEarned });
    expect(await pointsByCustomer(zipped.summary.channelId)).toEqual(await pointsByCustomer(plain.summary.channelId));
  });
});

describe('import: restart', () => {
  it('completes an import interrupted between batches exactly, and a re-run adds nothing', async () => {
    const whole = await runImport(fixture('history.csv'), { batchInvoices: 2 });

    const channelName = `Interrupted shop ${++channels}`;
    const abort = new AbortController();
    const first = await runImport(fixture('history.csv'), {
      channelName,
      batchInvoices: 2,
      signal: abort.signal,
      onBatch: ({ batches }) => batches === 3 && abort.abort(),
    });
    expect(first.summary).toMatchObject({ isComplete: false, orders: 5 });
    const second = await runImport(fixture('history.csv'), { channelName, batchInvoices: 2 });
    expect(second.summary).toMatchObject({ isComplete: true, invoicesSkipped: 6 });
    const third = await runImport(fixture('history.csv'), { channelName, batchInvoices: 5 });
    expect(third.summary).toMatchObject({ orders: 0, returns: 0, membersCreated: 0, invoicesSkipped: 13 });

    const channelId = first.summary.channelId;
    expect(await ordersOf(channelId)).toEqual(await ordersOf(whole.summary.channelId));
    expect((await returnsOf(channelId)).map(({ ret, ext, value, clawed }) => ({ ret, ext, value, clawed }))).toEqual(
      (await returnsOf(whole.summary.channelId)).map(({ ret, ext, value, clawed }) => ({ ret, ext, value, clawed })),
    );
    expect(await pointsByCustomer(channelId)).toEqual(await pointsByCustomer(whole.summary.channelId));
    const [members] = await h.sql(`select count(*)::int as n from member_identifier where scope = ?`, [channelId]);
    expect(members.n).toBe(3);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('reports the unmatched units of a partly matched return again on a re-run, which skips the return itself', async () => {
    const row = (invoice: string, sku: string, quantity: number, at: string) => ({
      InvoiceNo: invoice, StockCode: sku, Description: sku, Quantity: String(quantity), InvoiceDate: at, UnitPrice: '2.50', CustomerID: '10901', Country: 'United Kingdom',
    });
    // 4 mugs bought; the return takes back 5 mugs (4 match), a never-bought bowl, then 2 more mugs (none left).
    const rows: SourceRecord[] = [
      row('700001', 'MUG', 4, '2026-10-01 10:00:00'),
      row('C700002', 'MUG', -5, '2026-10-03 09:00:00'),
      row('C700002', 'BOWL', -1, '2026-10-03 09:00:00'),
      row('C700002', 'MUG', -2, '2026-10-03 09:00:00'),
    ].map((r, i) => ({ line: i + 2, row: r }));
    const expected = [
      [3, 'return not matched to an earlier order', '1 of 5 unmatched'],
      [4, 'return not matched to an earlier order', '1 of 1 unmatched'],
      [5, 'return not matched to an earlier order', '2 of 2 unmatched'],
    ];
    const channelName = `Re-run shop ${++channels}`;
    const first = await runImport(rows, { channelName });
    expect(first.summary).toMatchObject({ returns: 1, returnInvoices: 1, unmatchedReturnUnits: 4 });
    expect(first.rejects.map((r) => [r.line, r.reason, r.detail])).toEqual(expected);
    const again = await runImport(rows, { channelName });
    expect(again.summary).toMatchObject({ orders: 0, returns: 0, invoicesSkipped: 2, unmatchedReturnUnits: 4 });
    expect(again.rejects.map((r) => [r.line, r.reason, r.detail])).toEqual(expected);
    expect(again.summary.rejects).toEqual(first.summary.rejects);
  });
});

/**
 * Imports history.csv, then records the same invoices through recordOrder/recordReturn (returns matched as the importer
 * matched them) for fresh members, and compares each member's points and tier, and each order's points.
 */
async function expectSameAsApi() {
  const imported = await runImport(fixture('history.csv'), { batchInvoices: 4 });
  const { auth } = await b.apiKey();
  const rows = await readRows(fixture('history.csv'));
  const invoices = new Map<string, Record<string, string>[]>();
  for (const r of rows) invoices.set(r.InvoiceNo, [...(invoices.get(r.InvoiceNo) ?? []), r]);

  const members = new Map<string, string>();
  const apiOrders = new Map<string, string>();
  const matched = await returnsOf(imported.summary.channelId);
  for (const [invoice, lines] of invoices) {
    const customer = lines[0].CustomerID;
    if (customer && !members.has(customer)) members.set(customer, (await b.member().save()).id);
    if (invoice.startsWith('C')) {
      // The importer chose which orders this return belongs to; the API is told the same.
      for (const m of matched.filter((x) => x.ret === invoice)) {
        const res = await h.gql(auth, RECORD_RETURN, {
          input: { orderId: apiOrders.get(m.ext), externalReturnId: invoice, lines: m.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.quantity })) },
        });
        expect(res.errors).toBeUndefined();
        expect(res.data.recordReturn.pointsClawedBack).toBe(m.clawed);
      }
      continue;
    }
    const input = {
      externalOrderId: invoice,
      ...(customer ? { member: { id: members.get(customer) } } : {}),
      placedAt: `${lines[0].InvoiceDate.replace(' ', 'T')}Z`,
      currency: 'GBP',
      lines: lines.map((l) => ({ sku: l.StockCode, name: l.Description, quantity: Number(l.Quantity), unitPriceMinor: toMinorUnits(l.UnitPrice), discountMinor: 0 })),
      orderDiscountMinor: 0,
      totalMinor: lines.reduce((s, l) => s + Number(l.Quantity) * toMinorUnits(l.UnitPrice)!, 0),
    };
    const res = await h.gql(auth, RECORD_ORDER, { input });
    expect(res.errors).toBeUndefined();
    apiOrders.set(invoice, res.data.recordOrder.id);
  }

  const viaApi = await h.sql<{ id: string; available: number; pending: number; lifetime: number; tier: string | null }>(
    `select b.member_id as id, b.available::int as available, b.pending::int as pending, b.lifetime::int as lifetime, t.code as tier from member_balance b
     left join member_tier mt on mt.member_id = b.member_id left join tier t on t.id = mt.tier_id where b.member_id in (?)`,
    [[...members.values()]],
  );
  const expected = Object.fromEntries(
    [...members].map(([customer, id]) => {
      const { available, pending, lifetime, tier } = viaApi.find((v) => v.id === id)!;
      return [customer, { available, pending, lifetime, tier }];
    }),
  );
  const got = await pointsByCustomer(imported.summary.channelId);
  expect(got).toEqual(expected);
  // The fixture exercises the tier multiplier, the weekend bonus, the daily cap and clawbacks.
  expect(got['40003'].tier).toBe('GOLD');
  const apiEarned = await h.sql(`select external_order_id as ext, points_earned as earned from customer_order where id in (?) order by 1`, [[...apiOrders.values()]]);
  const importEarned = (await ordersOf(imported.summary.channelId)).map((o) => ({ ext: o.ext, earned: o.earned }));
  expect(importEarned).toEqual(apiEarned);
  expect(importEarned.find((o) => o.ext === '600007')!.earned).toBeLessThan(75);
}

describe('import: same rules as the API', () => {
  it('gives each member the points that recordOrder and recordReturn give for the same orders in the same order', async () => {
    await expectSameAsApi();
  });

  it('does so with tiers on spend as well', async () => {
    const ctx = b.ctx();
    await b.settings({ tierMetric: 'SPEND_MINOR' });
    await h.app.services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: 10_000, earnMultiplierPercent: 150, benefitFlags: [] });
    try {
      await expectSameAsApi();
    } finally {
      await b.settings({ tierMetric: 'POINTS_EARNED' });
      await h.app.services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: 100, earnMultiplierPercent: 150, benefitFlags: [] });
    }
  });
});

describe('demo seed from a transactions file', () => {
  it('reads the first customers with every row of theirs and the guest invoices, and moves them so the newest order was yesterday', async () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const history = await readDemoHistory(now, fixture('history.csv'), { customers: 2 });
    // Customers 40001 and 40002 (the first two in the file) and the guest invoice 600003; 40003 is left out.
    expect(history.rows.map((r) => r.record.row.InvoiceNo)).toEqual(['600001', '600001', '600002', '600003', '600004', '600004', 'C600005', '600006', '600007', '600008', 'C600009']);
    expect(history.customers).toBe(2);
    // The newest of those rows (the return C600009, 2026-10-07 10:00) moves 53 whole days, to 2026-11-29 10:00.
    expect(history.shiftMs).toBe(53 * 86_400_000);
    expect(history.newestAt.toISOString()).toBe('2026-11-29T10:00:00.000Z');
    const { summary } = await runImport(history.rows.map((r) => r.record), { shiftMs: history.shiftMs });
    const [range] = await h.sql(`select min(placed_at) as oldest, max(placed_at) as newest from customer_order where channel_id = ?`, [summary.channelId]);
    expect([new Date(range.oldest).toISOString(), new Date(range.newest).toISOString()]).toEqual(['2026-11-23T09:00:00.000Z', '2026-11-28T10:00:00.000Z']);
  });

  it('splits the history at a moment after the shift without cutting an invoice in two', async () => {
    const history = await readDemoHistory(new Date('2026-11-30T12:00:00Z'), fixture('history.csv'));
    // 2026-10-05 10:00 moved 50 days is 2026-11-24 10:00: invoice 600006 (both of its rows at that time) starts the second part.
    const at = new Date('2026-11-24T10:00:00Z');
    const invoices = (records: SourceRecord[]) => [...new Set(records.map((r) => r.row.InvoiceNo))];
    expect(invoices(rowsBefore(history, at))).toEqual(['600001', '600002', '600003', '600004', 'C600005']);
    expect(invoices(rowsFrom(history, at))).toEqual(['600006', '600007', '600008', 'C600009', '600010', 'C600011', '600012', '600013']);
  });

  it('reads the slice kept in the repository: a year of real history, nothing outside the checkout', async () => {
    expect(path.relative(path.resolve(__dirname, '..', '..'), DEMO_SLICE)).toBe(path.join('data', 'demo', 'online-retail-slice.csv.gz'));
    const history = await readDemoHistory(new Date('2026-11-30T12:00:00Z'), DEMO_SLICE, { customers: 5 });
    expect(history.customers).toBe(5);
    const days = (history.rows.at(-1)!.at - history.rows[0].at) / 86_400_000;
    expect(days).toBeGreaterThan(365);
  });
});
