import { existsSync } from 'node:fs';
import path from 'node:path';
import { openCsv, type SourceRecord } from '../../modules/import/source';
import { parseInvoiceDate } from '../../modules/import/rows';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../base/time';

/** `../shared/data` beside the checkout (this file is api/dist/composition/seed/ once built). */
export const ONLINE_RETAIL = path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'data', 'online_retail.csv.gz');

export interface DemoTransactions {
  source: 'online-retail' | 'generated';
  records: AsyncIterable<SourceRecord>;
  /** Added to every date so that the newest order was placed yesterday. */
  shiftMs: number;
}

export interface SliceOptions {
  days: number;
  /** Customers whose id is a multiple of this are kept (about 300 of the last three months' 2,800). */
  customerEvery: number;
  /** One guest invoice in this many is kept. */
  guestEvery: number;
}

const DEFAULT_SLICE: SliceOptions = { days: 91, customerEvery: 9, guestEvery: 12 };

/** Real rows when the Online Retail file is beside the checkout, generated ones otherwise. */
export async function demoTransactions(now = new Date(), file = ONLINE_RETAIL, slice = DEFAULT_SLICE): Promise<DemoTransactions> {
  if (existsSync(file)) return onlineRetailSlice(file, now, slice);
  const generated = generateTransactions(now);
  return { source: 'generated', records: fromArray(generated), shiftMs: 0 };
}

/**
 * The last `days` of the file for about `customers` of its customers (chosen by id, so the same at every start) and
 * some guest invoices, moved so that its newest order was yesterday. One pass: the file is in date order, so a
 * rolling buffer of the chosen rows ends up holding the window.
 */
async function onlineRetailSlice(file: string, now: Date, slice: SliceOptions): Promise<DemoTransactions> {
  const buffer: { t: number; record: SourceRecord }[] = [];
  let newest = 0;
  let read = 0;
  const window = slice.days * DAY_MS;
  for await (const record of (await openCsv(file, new Map())).records) {
    const t = parseInvoiceDate(record.row.InvoiceDate ?? '')?.getTime();
    if (t === undefined) continue;
    if (t > newest) newest = t;
    const customer = (record.row.CustomerID ?? '').trim();
    const isChosen = customer ? Number(customer) % slice.customerEvery === 0 : Number((record.row.InvoiceNo ?? '').replace(/\D/g, '')) % slice.guestEvery === 0;
    if (isChosen) buffer.push({ t, record });
    if (++read % 50_000 === 0) buffer.splice(0, buffer.findIndex((b) => b.t >= newest - window) >>> 0);
  }
  const rows = buffer.filter((b) => b.t >= newest - window);
  const yesterday = now.getTime() - DAY_MS;
  const shiftMs = Math.floor((yesterday - newest) / DAY_MS) * DAY_MS;
  return { source: 'online-retail', records: fromArray(rows.map((r) => r.record)), shiftMs };
}

async function* fromArray(records: SourceRecord[]): AsyncIterable<SourceRecord> {
  yield* records;
}

const CATALOGUE: [string, string, number][] = [
  ['85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', 255],
  ['71053', 'WHITE METAL LANTERN', 339],
  ['84406B', 'CREAM CUPID HEARTS COAT HANGER', 275],
  ['22423', 'REGENCY CAKESTAND 3 TIER', 1275],
  ['85099B', 'JUMBO BAG RED RETROSPOT', 195],
  ['47566', 'PARTY BUNTING', 465],
  ['20725', 'LUNCH BAG RED RETROSPOT', 165],
  ['84879', 'ASSORTED COLOUR BIRD ORNAMENT', 169],
  ['22720', 'SET OF 3 CAKE TINS PANTRY DESIGN', 495],
  ['21212', 'PACK OF 72 RETROSPOT CAKE CASES', 55],
  ['22086', "PAPER CHAIN KIT 50'S CHRISTMAS", 295],
  ['22197', 'SMALL POPCORN HOLDER', 85],
  ['23203', 'JUMBO BAG VINTAGE DOILY', 208],
  ['22457', 'NATURAL SLATE HEART CHALKBOARD', 295],
  ['22386', 'JUMBO BAG PINK POLKADOT', 195],
  ['21931', 'JUMBO STORAGE BAG SUKI', 195],
  ['22411', 'JUMBO SHOPPER VINTAGE RED PAISLEY', 195],
  ['20727', 'LUNCH BAG BLACK SKULL', 165],
  ['22960', 'JAM MAKING SET WITH JARS', 425],
  ['23298', 'SPOTTY BUNTING', 495],
  ['22469', 'HEART OF WICKER SMALL', 165],
  ['22666', 'RECIPE BOX PANTRY YELLOW DESIGN', 295],
  ['21034', 'REX CASH+CARRY JUMBO SHOPPER', 95],
  ['22993', 'SET OF 4 PANTRY JELLY MOULDS', 125],
  ['22699', 'ROSES REGENCY TEACUP AND SAUCER', 295],
  ['POST', 'POSTAGE', 1800],
];
const COUNTRIES = ['United Kingdom', 'United Kingdom', 'United Kingdom', 'United Kingdom', 'France', 'Germany', 'EIRE', 'Netherlands', 'Spain', 'Belgium'];

/** A small seeded PRNG: the same rows, with the same invoice numbers, at every start. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stamp = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');

/**
 * 250 customers over the last 90 days in the canonical layout: a few invoices each (regulars more), baskets of
 * giftware, some guest invoices, and returns of part of an earlier invoice. Dates end yesterday.
 */
export function generateTransactions(now: Date, customers = 250): SourceRecord[] {
  const rand = mulberry32(20_101_201);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const end = Math.floor(now.getTime() / DAY_MS) * DAY_MS - DAY_MS;
  type Line = { sku: string; name: string; quantity: number; price: number };
  const invoices: { no: string; at: number; customer: string; country: string; lines: Line[] }[] = [];
  let invoiceNo = 700_000;
  const basket = (): Line[] =>
    Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
      const [sku, name, price] = pick(CATALOGUE);
      return { sku, name, quantity: sku === 'POST' ? 1 : pick([1, 2, 3, 4, 6, 12, 24]), price };
    });
  for (let c = 0; c < customers; c++) {
    const customer = String(20_000 + c);
    const country = pick(COUNTRIES);
    const visits = rand() < 0.2 ? 6 + Math.floor(rand() * 10) : 1 + Math.floor(rand() * 4);
    for (let v = 0; v < visits; v++) {
      const at = end - Math.floor(rand() * 90) * DAY_MS + (8 + Math.floor(rand() * 10)) * HOUR_MS + Math.floor(rand() * 60) * MINUTE_MS;
      invoices.push({ no: String(++invoiceNo), at, customer, country, lines: basket() });
    }
  }
  for (let g = 0; g < customers / 5; g++) {
    invoices.push({ no: String(++invoiceNo), at: end - Math.floor(rand() * 90) * DAY_MS + 12 * HOUR_MS, customer: '', country: 'United Kingdom', lines: basket() });
  }
  invoices.sort((a, b) => a.at - b.at || a.no.localeCompare(b.no));
  const returns = invoices
    .filter((inv) => inv.customer && inv.at < end - DAY_MS && rand() < 0.06)
    .map((inv) => {
      const line = pick(inv.lines);
      return { no: `C${inv.no}`, at: Math.min(inv.at + (1 + Math.floor(rand() * 10)) * DAY_MS, end), customer: inv.customer, country: inv.country, lines: [{ ...line, quantity: -Math.max(1, Math.floor(line.quantity / 2)) }] };
    });
  const all = [...invoices, ...returns].sort((a, b) => a.at - b.at || a.no.localeCompare(b.no));
  const records: SourceRecord[] = [];
  let lineNo = 1;
  for (const inv of all) {
    for (const l of inv.lines) {
      records.push({
        line: ++lineNo,
        row: {
          InvoiceNo: inv.no,
          StockCode: l.sku,
          Description: l.name,
          Quantity: String(l.quantity),
          InvoiceDate: stamp(inv.at),
          UnitPrice: (l.price / 100).toFixed(2),
          CustomerID: inv.customer,
          Country: inv.country,
        },
      });
    }
  }
  return records;
}
