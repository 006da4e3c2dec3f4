import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { useHarness } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { readRows, runImport as runImportOn } from '../support/imports';
import { ledgerCheck } from '../support/orders';
import { RejectReason, TEXT_LIMITS } from '../../api/src/modules/import/rows';
import { MAX_LINE_BYTES, type SourceRecord } from '../../api/src/modules/import/source';
import { MAX_ORDER_LINES } from '../../api/src/base/bounds';
import { Order } from '../../api/src/modules/orders/order.entity';
import { OrderReturn } from '../../api/src/modules/orders/order-return.entity';
import { OrderLine } from '../../api/src/modules/orders/order-line.entity';
import { Product } from '../../api/src/modules/catalog/product.entity';
import { MemberIdentifier } from '../../api/src/modules/members/member-identifier.entity';

const h = useHarness();
const b = build(h);
const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'import-hostile-'));
const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'import', name);
let channels = 0;

const runImport = (file: string | SourceRecord[], options: Parameters<typeof runImportOn>[2] = {}) => runImportOn(h, file, options);

/** `npm run import` itself (api/dist, built by the test setup) on the worker's database. */
async function importCommand(file: string, args: string[]) {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'api/dist/composition/cli/import.js'), '--file', file, ...args], {
    env: { ...process.env, DATABASE_URL: h.config.DATABASE_URL, REDIS_URL: h.config.REDIS_URL, NODE_ENV: 'test', LOG_LEVEL: 'warn' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}


async function channelId(name: string): Promise<string> {
  const [row] = await h.sql<{ id: string }>(`select id from sales_channel where name = ?`, [name]);
  return row.id;
}

/** Everything an import wrote on a channel, comparable across channels. */
async function importedOn(channel: string) {
  const orders = await h.sql(
    `select o.external_order_id as ext, i.value as customer, o.placed_at, o.total_minor as total, o.returned_minor as returned, o.status,
       o.points_earned as earned, o.points_clawed_back as clawed,
       (select json_agg(json_build_array(l.line_no, l.sku, l.quantity, l.unit_price_minor, l.returned_quantity) order by l.line_no)
        from order_line l where l.order_id = o.id) as lines
     from customer_order o left join member_identifier i on i.member_id = o.member_id and i.scope = o.channel_id::text
     where o.channel_id = ? order by o.external_order_id`,
    [channel],
  );
  const returns = await h.sql(
    `select r.external_return_id as ret, o.external_order_id as ext, r.value_minor as value, r.points_clawed_back as clawed, r.lines
     from order_return r join customer_order o on o.id = r.order_id where o.channel_id = ? order by 1, 2`,
    [channel],
  );
  const members = await h.sql<{ customer: string; available: unknown; pending: unknown; lifetime: unknown; tier: string | null; ledger: number }>(
    `select i.value as customer, b.available, b.pending, b.lifetime, t.code as tier,
       (select count(*)::int from ledger_entry e where e.member_id = i.member_id) as ledger
     from member_identifier i join member_balance b on b.member_id = i.member_id
     left join member_tier mt on mt.member_id = i.member_id left join tier t on t.id = mt.tier_id
     where i.type = 'CHANNEL_CUSTOMER_ID' and i.scope = ? order by 1`,
    [channel],
  );
  return {
    orders: orders.map((o) => ({ ...o, placed_at: new Date(o.placed_at).toISOString() })),
    returns,
    members: members.map((m) => ({ ...m, available: Number(m.available), pending: Number(m.pending), lifetime: Number(m.lifetime) })),
  };
}

const byLine = (rejects: { line?: number | string; reason?: string; detail?: string }[]) =>
  rejects.map((r) => [Number(r.line), r.reason, r.detail ?? '']).sort((x, y) => (x[0] as number) - (y[0] as number));

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const row = (...fields: (string | number)[]) => fields.join(',');

/**
 * A file with a row of every hostile kind, each next to good rows, and invoices whose lines are apart. Returns the
 * file and the reason expected for each rejected line (line 1 is the header).
 */
function hostileFile(): { file: string; expected: [number, string, string][] } {
  const lines: (string | Buffer)[] = [HEADER];
  const expected: [number, string, string][] = [];
  const add = (line: string | Buffer, reason?: string, detail = '') => {
    lines.push(line);
    if (reason) expected.push([lines.length, reason, detail]);
  };
  const ok = (inv: string, sku: string, qty: number, price: string, customer: string, at = '2026-10-01 10:00:00') =>
    add(row(inv, sku, `Item ${sku}`, qty, at, price, customer, 'United Kingdom'));

  // 740001 has lines apart, with hostile rows of its own invoice number between them.
  ok('740001', 'MUG', 2, '2.50', '90001');
  add(row('740001', 'PLATE', 'Dinner\u0000plate', 1, '2026-10-01 10:00:00', '10.00', '90001', 'United Kingdom'), RejectReason.CONTROL_CHARACTER, 'Description');
  ok('740002', 'MUG', 1, '2.50', '90002', '2026-10-01 11:00:00');
  add(Buffer.concat([Buffer.from('740002,BOWL,Bowl ', 'utf8'), Buffer.from([0xc3, 0x28]), Buffer.from(',1,2026-10-01 11:00:00,4.00,90002,France')]), RejectReason.BAD_TEXT, 'Description');
  // A surrogate encoded on its own (CESU-8) is not UTF-8 either.
  add(Buffer.concat([Buffer.from('740002,BOWL,Bowl ', 'utf8'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(',1,2026-10-01 11:00:00,4.00,90002,France')]), RejectReason.BAD_TEXT, 'Description');
  add(row('7'.repeat(150), 'MUG', 'Mug', 1, '2026-10-01 12:00:00', '2.50', '90003', 'France'), RejectReason.INVOICE_TOO_LONG);
  add(row('740003', 'MUG', 'Mug', 1, '2026-10-01 12:00:00', '2.50', '9'.repeat(300), 'France'), RejectReason.CUSTOMER_TOO_LONG);
  add(row('740003', 'S'.repeat(65), 'Mug', 1, '2026-10-01 12:00:00', '2.50', '90003', 'France'), RejectReason.STOCK_CODE_TOO_LONG);
  add(row('740003', 'MUG', 'd'.repeat(201), 1, '2026-10-01 12:00:00', '2.50', '90003', 'France'), RejectReason.DESCRIPTION_TOO_LONG);
  // 200 characters, 400 UTF-16 units: fits varchar(200).
  add(row('740003', 'ROCKET', '🚀'.repeat(200), 1, '2026-10-01 12:00:00', '3.00', '90003', 'France'));
  add(row('740003', 'MUG', 'Mug', 1, '2026-10-01 12:00:00', '2.50', '90003', 'C'.repeat(101)), RejectReason.COUNTRY_TOO_LONG);
  add(row('740003', 'GOLD', 'Gold bar', 2, '2026-10-01 12:00:00', '20000000.00', '90003', 'France'), RejectReason.PRICE_TOO_LARGE);
  add(row('740003', 'GOLD', 'Gold bar', 3, '2026-10-01 12:00:00', '5000000.00', '90003', 'France'), RejectReason.TOO_LARGE);
  add(row('740003', 'MUG', 'Mug', 10_001, '2026-10-01 12:00:00', '0.01', '90003', 'France'), RejectReason.QUANTITY_TOO_LARGE);
  add(row('740003', 'MUG', 'Mug', '99999999999999999999999', '2026-10-01 12:00:00', '0.01', '90003', 'France'), RejectReason.QUANTITY_TOO_LARGE);
  add(row('740003', 'MUG', 'Mug', 1, '2026-10-01 12:00:00', '1e999999', '90003', 'France'), RejectReason.BAD_PRICE);
  add(row('740003', 'MUG', 'Mug', 1, '2026-10-01 12:00:00', '1e400', '90003', 'France'), RejectReason.PRICE_TOO_LARGE);
  add(row('740003', 'MUG', 'Mug', 1, '0001-01-01 00:00:00', '2.50', '90003', 'France'), RejectReason.EARLY_DATE);
  add(row('740003', 'MUG', 'Mug', 1, '9999-12-31 23:59:59', '2.50', '90003', 'France'), RejectReason.FUTURE_DATE);
  add(row('740003', 'MUG', 'Mug', 1, '2026-02-30 10:00:00', '2.50', '90003', 'France'), RejectReason.BAD_DATE);
  ok('740003', 'MUG', 3, '2.50', '90003', '2026-10-01 12:00:00');
  add(row('740003', 'PLATE', 'Plate', 1, '2026-10-01 12:00:00', '10.00', '90004', 'France'), RejectReason.OTHER_CUSTOMER);
  // Two lines within the bounds whose sum is not.
  add(row('740004', 'GOLD', 'Gold bar', 1, '2026-10-01 13:00:00', '6000000.00', '90004', 'France'), RejectReason.INVOICE_TOO_LARGE, 'total 1200000000');
  add(row('740004', 'GOLD', 'Gold bar', 1, '2026-10-01 13:00:00', '6000000.00', '90004', 'France'), RejectReason.INVOICE_TOO_LARGE, 'total 1200000000');
  // Broken CSV: an unclosed quote, a quoted field over two lines, a line too long to read; the next lines are read as usual.
  add('740005,MUG,"Mug,1,2026-10-01 14:00:00,2.50,90005,France', RejectReason.BAD_CSV);
  add('740005,MUG,"Mug on', RejectReason.BAD_CSV);
  add('two lines",1,2026-10-01 14:00:00,2.50,90005,France', RejectReason.BAD_CSV);
  add(row('740005', 'MUG', 'x'.repeat(MAX_LINE_BYTES), 1, '2026-10-01 14:00:00', '2.50', '90005', 'France'), RejectReason.LINE_TOO_LONG);
  ok('740005', 'MUG', 1, '2.50', '90005', '2026-10-01 14:00:00');
  // The rest of 740001 and 740002, after other invoices.
  ok('740001', 'LANTERN', 1, '3.39', '90001');
  ok('740002', 'PLATE', 2, '10.00', '90002', '2026-10-01 11:00:00');
  ok('740001', 'CANDLE', 4, '1.25', '90001');
  // A guest invoice of more lines than the API takes in one request: history is imported as it was (wholesale invoices
  // of the real file run to 1,100 lines); only its total is bounded.
  for (let i = 0; i <= MAX_ORDER_LINES; i++) add(row('740006', `SKU${i}`, 'Thing', 1, '2026-10-02 09:00:00', '1.00', '', 'France'));
  ok('740001', 'BOWL', 1, '4.00', '90001');
  // A return of units of 740001, its lines apart too: it is matched once its last line is read, 740001 being complete.
  add(row('C740007', 'MUG', 'Mug', -1, '2026-10-03 09:00:00', '2.50', '90001', 'United Kingdom'));
  ok('740008', 'MUG', 50, '2.50', '90001', '2026-10-04 10:00:00');
  add(row('C740007', 'CANDLE', 'Candle', -2, '2026-10-03 09:00:00', '1.25', '90001', 'United Kingdom'));

  const file = path.join(tmp, `hostile-${++channels}.csv`);
  writeFileSync(file, Buffer.concat(lines.map((l) => Buffer.concat([typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\n')]))));
  return { file, expected };
}

beforeAll(async () => {
  await b.baseRate(1, 100);
  await b.rule({ name: 'Double points at weekends', kind: 'BONUS', multiplierPercent: 200, daysOfWeek: [0, 6] });
  const ctx = b.ctx();
  await h.app.services.tiers.upsert(ctx, { code: 'GREEN', name: 'Green', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
  await h.app.services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: 100, earnMultiplierPercent: 150, benefitFlags: [] });
});

describe('import: hostile rows are rejected and the import goes on', () => {
  it('rejects each row the columns or the API would refuse, with its reason, before writing, and imports the rest', async () => {
    const { file, expected } = hostileFile();
    const { summary, rejects } = await runImport(file, { batchInvoices: 2 });
    expect(byLine(rejects)).toEqual(expected);
    expect(summary).toMatchObject({ isComplete: true, orders: 6, guestOrders: 1, returns: 1, returnInvoices: 1, unmatchedReturnUnits: 0 });
    const { orders } = await importedOn(summary.channelId);
    expect(orders.map((o) => [o.ext, o.customer, o.lines.map((l: unknown[]) => l[1])])).toEqual([
      ['740001', '90001', ['MUG', 'LANTERN', 'CANDLE', 'BOWL']],
      ['740002', '90002', ['MUG', 'PLATE']],
      ['740003', '90003', ['ROCKET', 'MUG']],
      ['740005', '90005', ['MUG']],
      ['740006', null, Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => `SKU${i}`)],
      ['740008', '90001', ['MUG']],
    ]);
    const [rocket] = await h.sql(`select name from product where sku = 'ROCKET'`);
    expect(rocket.name).toBe('🚀'.repeat(200));
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('checks text in rows given in memory too: control characters and lone surrogates, as the API does', async () => {
    const good = { InvoiceNo: '750001', StockCode: 'MUG', Description: 'Mug', Quantity: '1', InvoiceDate: '2026-10-01 10:00:00', UnitPrice: '2.50', CustomerID: '95001', Country: 'France' };
    const records: SourceRecord[] = [
      { line: 2, row: good },
      { line: 3, row: { ...good, StockCode: 'BOWL', Description: 'Bowl \ud800' } },
      { line: 4, row: { ...good, StockCode: 'CUP', CustomerID: '95001\udc00' } },
      { line: 5, row: { ...good, StockCode: 'BELL', Description: 'Bell \u0007' } },
      { line: 6, row: { ...good, StockCode: 'ESC', Country: 'Fr\u001bance' } },
      // What the API accepts in text: tab, newline, carriage return, and characters beyond the BMP.
      { line: 7, row: { ...good, StockCode: 'TAB', Description: 'Tab\tand\nnewline' } },
      { line: 8, row: { ...good, StockCode: 'PLATE', Description: 'Plate 🍽' } },
    ];
    const { summary, rejects } = await runImport(records);
    expect(byLine(rejects)).toEqual([
      [3, RejectReason.BAD_TEXT, 'Description'],
      [4, RejectReason.BAD_TEXT, 'CustomerID'],
      [5, RejectReason.CONTROL_CHARACTER, 'Description'],
      [6, RejectReason.CONTROL_CHARACTER, 'Country'],
    ]);
    expect(summary).toMatchObject({ orders: 1, linesImported: 3 });
    const [tab] = await h.sql(`select name from product where sku = 'TAB'`);
    expect(tab.name).toBe('Tab\tand\nnewline');
  });

  it('validates text against the sizes of the columns it is stored in', () => {
    const length = (entity: { name: string }, property: string) => h.orm.getMetadata().find(entity.name)!.properties[property].length;
    expect(TEXT_LIMITS).toMatchObject({
      InvoiceNo: length(Order, 'externalOrderId'),
      StockCode: length(Product, 'sku'),
      Description: length(Product, 'name'),
      CustomerID: length(MemberIdentifier, 'value'),
    });
    expect(TEXT_LIMITS.InvoiceNo).toBe(length(OrderReturn, 'externalReturnId'));
    expect(TEXT_LIMITS.StockCode).toBe(length(OrderLine, 'sku'));
  });
});

describe('import: a batch that fails to write for an unforeseen reason', () => {
  // Stand-ins for what the importer cannot foresee: a check of the database that refuses one SKU, and one that
  // refuses an order total that its lines reach only together.
  beforeAll(async () => {
    await h.sql(`alter table order_line add constraint test_no_poison check (sku <> 'POISON')`);
    await h.sql(`alter table customer_order add constraint test_no_big_order check (total_minor < 100000)`);
  });
  afterAll(async () => {
    await h.sql(`alter table order_line drop constraint test_no_poison`);
    await h.sql(`alter table customer_order drop constraint test_no_big_order`);
  });

  it('is written again invoice by invoice and line by line, rejecting only what cannot be written, with a message without SQL or values', async () => {
    const file = path.join(tmp, 'poison.csv');
    writeFileSync(
      file,
      [
        HEADER,
        row('760001', 'MUG', 'Mug', 2, '2026-10-01 10:00:00', '2.50', '96001', 'France'),
        row('760002', 'MUG', 'Mug', 1, '2026-10-01 11:00:00', '2.50', '96002', 'France'),
        row('760002', 'POISON', 'Poison', 1, '2026-10-01 11:00:00', '3.00', '96002', 'France'),
        row('760002', 'PLATE', 'Plate', 1, '2026-10-01 11:00:00', '10.00', '96002', 'France'),
        row('760003', 'SOFA', 'Sofa', 1, '2026-10-01 12:00:00', '600.00', '96003', 'France'),
        row('760003', 'TABLE', 'Table', 1, '2026-10-01 12:00:00', '600.00', '96003', 'France'),
        row('760004', 'POISON', 'Poison', 1, '2026-10-01 13:00:00', '3.00', '96004', 'France'),
        row('760005', 'BOWL', 'Bowl', 1, '2026-10-01 14:00:00', '4.00', '96001', 'France'),
      ].join('\n'),
    );
    const check = 'a check of the database refused it (SQLSTATE 23514)';
    const expected = [
      [4, RejectReason.WRITE_FAILED, check],
      [6, RejectReason.WRITE_FAILED, check],
      [7, RejectReason.WRITE_FAILED, check],
      [8, RejectReason.WRITE_FAILED, check],
    ];
    const channelName = `Poisoned shop ${++channels}`;
    const first = await runImport(file, { channelName, batchInvoices: 500 });
    expect(byLine(first.rejects)).toEqual(expected);
    for (const r of first.rejects) expect(r.detail).not.toMatch(/insert|select|POISON|96002|600/i);
    expect(first.summary).toMatchObject({ isComplete: true, orders: 3, linesImported: 4, membersCreated: 2 });
    const { orders } = await importedOn(first.summary.channelId);
    expect(orders.map((o) => [o.ext, o.lines.map((l: unknown[]) => l[1])])).toEqual([
      ['760001', ['MUG']],
      ['760002', ['MUG', 'PLATE']],
      ['760005', ['BOWL']],
    ]);

    // A re-run tries the invoices not stored again, rejects their rows again, and adds nothing (760002 is stored
    // without its bad line, which is not reported twice).
    const again = await runImport(file, { channelName, batchInvoices: 1 });
    expect(byLine(again.rejects)).toEqual(expected.slice(1));
    expect(again.summary).toMatchObject({ isComplete: true, orders: 0, linesImported: 0, invoicesSkipped: 3 });
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it("rejects the rows of an invoice that the API's own rules refuse to credit, with the refusal's code, and goes on", async () => {
    const channelName = `Full member shop ${++channels}`;
    const first = path.join(tmp, 'first.csv');
    writeFileSync(first, [HEADER, row('770001', 'MUG', 'Mug', 1, '2026-10-01 10:00:00', '2.50', '97001', 'France')].join('\n'));
    await runImport(first, { channelName });
    const [member] = await h.sql<{ member_id: string; lifetime: string }>(
      `select b.member_id, b.lifetime::text as lifetime from member_balance b join member_identifier i on i.member_id = b.member_id where i.value = '97001'`,
    );
    // A member at the per-member points limit: one more point is refused (CONFLICT POINTS_LIMIT_REACHED).
    await h.sql(`update member_balance set lifetime = 1000000000000000 where member_id = ?`, [member.member_id]);
    try {
      const second = path.join(tmp, 'second.csv');
      writeFileSync(
        second,
        [
          HEADER,
          row('770002', 'MUG', 'Mug', 4, '2026-10-02 10:00:00', '2.50', '97001', 'France'),
          row('770003', 'MUG', 'Mug', 2, '2026-10-02 11:00:00', '2.50', '97002', 'France'),
        ].join('\n'),
      );
      const { summary, rejects } = await runImport(second, { channelName });
      expect(byLine(rejects)).toEqual([[2, RejectReason.WRITE_FAILED, 'refused: CONFLICT POINTS_LIMIT_REACHED']]);
      expect(summary).toMatchObject({ isComplete: true, orders: 1, membersCreated: 1 });
    } finally {
      await h.sql(`update member_balance set lifetime = ?::bigint where member_id = ?`, [member.lifetime, member.member_id]);
    }
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});

describe('import: the result does not depend on --batch', () => {
  it("makes one order of an invoice's lines wherever they are in the file", async () => {
    for (const batchInvoices of [1, 500]) {
      const { summary, rejects } = await runImport(fixture('apart.csv'), { batchInvoices });
      expect(rejects).toEqual([]);
      const { orders, returns } = await importedOn(summary.channelId);
      expect(orders.map((o) => [o.ext, o.lines.map((l: unknown[]) => l[1])])).toEqual([
        ['730001', ['MUG', 'PLATE', 'BOWL', 'LANTERN', 'CANDLE']],
        ['730002', ['MUG', 'PLATE']],
        ['730003', ['CANDLE']],
        ['730005', ['MUG']],
        ['730006', ['PLATE', 'BOWL']],
      ]);
      expect(returns.map((r) => [r.ret, r.ext, r.value])).toEqual([['C730004', '730001', 900]]);
    }
  });

  it('imports the same orders, lines, points and rejects with npm run import --batch 1, 7 and 500', async () => {
    const { file, expected } = hostileFile();
    const results = [];
    for (const batch of [1, 7, 500]) {
      const channel = `Batch ${batch} shop ${++channels}`;
      const rejectsFile = path.join(tmp, `batch-${batch}.rejects.csv`);
      const summary = await importCommand(file, ['--batch', String(batch), '--channel', channel, '--rejects', rejectsFile]);
      expect(summary).toMatchObject({ isComplete: true, orders: 6 });
      expect(byLine(await readRows(rejectsFile))).toEqual(expected);
      results.push(await importedOn(await channelId(channel)));
    }
    expect(results[0].orders.find((o) => o.ext === '740001').lines).toHaveLength(4);
    expect(results[0].members.length).toBe(4);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('completes a run stopped between batches exactly, and a second run adds nothing', async () => {
    const { file, expected } = hostileFile();
    const whole = await runImport(file, { batchInvoices: 500 });

    const channelName = `Stopped shop ${++channels}`;
    const abort = new AbortController();
    const first = await runImport(file, { channelName, batchInvoices: 2, signal: abort.signal, onBatch: ({ batches }) => batches === 1 && abort.abort() });
    expect(first.summary).toMatchObject({ isComplete: false, orders: 2 });
    const second = await runImport(file, { channelName, batchInvoices: 7 });
    expect(second.summary).toMatchObject({ isComplete: true, orders: 4, invoicesSkipped: 2 });
    expect(byLine(second.rejects)).toEqual(expected);
    const third = await runImport(file, { channelName, batchInvoices: 1 });
    expect(third.summary).toMatchObject({ isComplete: true, orders: 0, returns: 0, membersCreated: 0, invoicesSkipped: 7 });
    expect(byLine(third.rejects)).toEqual(expected);

    expect(await importedOn(first.summary.channelId)).toEqual(await importedOn(whole.summary.channelId));
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });
});
