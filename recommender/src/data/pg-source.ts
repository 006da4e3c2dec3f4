import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Txn } from '../eval/types';
import type { TxnSource } from './txn-source';

/**
 * Net quantity: a line returned in full comes out with quantity 0 and is dropped by cleaning, as a cancellation is in a
 * file. placed_at is read as UTC wall-clock time; money is turned from minor units into units.
 */
export const ORDER_LINES_SQL = `
  SELECT o.id::text AS invoice,
         l.sku,
         p.name AS description,
         l.quantity - l.returned_quantity AS quantity,
         (extract(epoch FROM o.placed_at) * 1000)::float8 AS time_ms,
         l.unit_price_minor,
         coalesce(o.member_id::text, '') AS customer_id,
         m.country
    FROM customer_order o
    JOIN order_line l ON l.order_id = o.id
    LEFT JOIN product p ON p.id = l.product_id
    LEFT JOIN member m ON m.id = o.member_id
   ORDER BY o.placed_at, o.id, l.line_no`;

/** Minor units per currency unit as the history reads them (two-decimal currencies); the worker stores predicted values back with it. */
export const MINOR_PER_UNIT = 100;

interface OrderLineRow {
  invoice: string;
  sku: string;
  description: string | null;
  quantity: number;
  time_ms: number;
  unit_price_minor: number;
  customer_id: string;
  country: string | null;
}

/** The platform's orders, streamed with a server-side cursor so that memory stays flat whatever the history. */
export class PgTxnSource implements TxnSource {
  constructor(
    private readonly connectionString: string,
    private readonly batchSize = 5000,
  ) {}

  get label(): string {
    const url = new URL(this.connectionString);
    return `postgresql://${url.host}${url.pathname}`;
  }

  hasProducts(): boolean {
    return true;
  }

  async *rows(): AsyncIterable<Txn> {
    const client = new pg.Client({ connectionString: this.connectionString });
    await client.connect();
    try {
      const cursor = client.query(new Cursor<OrderLineRow>(ORDER_LINES_SQL));
      try {
        for (;;) {
          const batch = await cursor.read(this.batchSize);
          if (batch.length === 0) break;
          for (const r of batch) {
            yield {
              invoice: r.invoice,
              stockCode: r.sku.trim().toUpperCase(),
              description: r.description,
              quantity: r.quantity,
              time: r.time_ms,
              unitPrice: r.unit_price_minor / MINOR_PER_UNIT,
              customerId: r.customer_id,
              country: r.country,
            };
          }
        }
      } finally {
        await cursor.close();
      }
    } finally {
      await client.end();
    }
  }
}
