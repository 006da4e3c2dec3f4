import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, orderInput } from '../support/orders';
import { PgTxnSource } from '../../recommender/src/data/pg-source';
import { readClean } from '../../recommender/src/eval/clean';
import type { Txn } from '../../recommender/src/eval/types';

const h = useHarness();
const b = build(h);

async function collect(source: PgTxnSource): Promise<Txn[]> {
  const rows: Txn[] = [];
  for await (const t of source.rows()) rows.push(t);
  return rows;
}

describe('PostgreSQL purchase history', () => {
  it('streams order lines as Txn rows in time order, net of returns, and cleaning drops guests and returned lines', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().inCountry('FR').save();
    const first = await h.gql(auth, RECORD_ORDER, {
      input: orderInput(m.id, [{ sku: 'mug-1', quantity: 2, unitPriceMinor: 450 }, { sku: 'TEA-2', quantity: 1, unitPriceMinor: 1200 }], {
        placedAt: '2026-01-10T09:30:00.000Z',
      }),
    });
    expect(first.errors).toBeUndefined();
    const second = await h.gql(auth, RECORD_ORDER, {
      input: orderInput(m.id, [{ sku: 'TEA-2', quantity: 3, unitPriceMinor: 1200 }, { sku: 'CUP-3', quantity: 1, unitPriceMinor: 300 }], {
        placedAt: '2026-02-01T12:00:00.000Z',
      }),
    });
    const guest = await h.gql(auth, RECORD_ORDER, { input: orderInput(null, [{ sku: 'MUG-1' }], { placedAt: '2026-01-05T08:00:00.000Z' }) });
    expect(guest.errors).toBeUndefined();
    // CUP-3 is returned in full, TEA-2 in part.
    const ret = await h.gql(auth, RECORD_RETURN, {
      input: { orderId: second.data.recordOrder.id, externalReturnId: 'R1', lines: [{ lineNo: 1, quantity: 1 }, { lineNo: 2, quantity: 1 }] },
    });
    expect(ret.errors).toBeUndefined();

    const source = new PgTxnSource(h.config.DATABASE_URL, 2); // batches of two: several cursor reads
    const rows = await collect(source);
    expect(rows.map((t) => [t.customerId === m.id ? 'member' : t.customerId, t.stockCode, t.quantity, t.unitPrice, t.time])).toEqual([
      ['', 'MUG-1', 1, 10, Date.UTC(2026, 0, 5, 8)],
      ['member', 'MUG-1', 2, 4.5, Date.UTC(2026, 0, 10, 9, 30)],
      ['member', 'TEA-2', 1, 12, Date.UTC(2026, 0, 10, 9, 30)],
      ['member', 'TEA-2', 2, 12, Date.UTC(2026, 1, 1, 12)],
      ['member', 'CUP-3', 0, 3, Date.UTC(2026, 1, 1, 12)],
    ]);
    expect(rows[1]).toMatchObject({ invoice: first.data.recordOrder.id, country: 'FR', description: expect.any(String) });
    expect(source.label).not.toMatch(/@/);

    const clean = await readClean(source);
    expect(clean.rawRows).toBe(5);
    expect(clean.rows.map((t) => t.stockCode)).toEqual(['MUG-1', 'TEA-2', 'TEA-2']);
  });
});
