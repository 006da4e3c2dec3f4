// The read-path ceiling: a minimal Node HTTP server with a pg pool, no framework, running the SQL the API runs for
// the same answer. Started as a child process by bench/hotpaths.mjs (env BARE_DATABASE_URL, BARE_PORT, BARE_POOL).
import http from 'node:http';
import pg from 'pg';
import { apiSql, positional } from './sql.mjs';

const { RECOMMENDATIONS_SQL, preview, preparedMemberCardById } = await apiSql();
const pool = new pg.Pool({ connectionString: process.env.BARE_DATABASE_URL, max: Number(process.env.BARE_POOL || 12) });

const recommendations = positional(RECOMMENDATIONS_SQL, [['00000000-0000-0000-0000-000000000000'], false]).text;

const handlers = {
  /** member(id) with balance, next expiry and tier: the API's card statement, prepared under the API's name. */
  async '/lookup'({ id }) {
    const { rows } = await pool.query(preparedMemberCardById(id));
    const row = rows[0];
    return row ? { id: row.id, country: row.country, points: { available: row.card_available, pending: row.card_pending }, tier: row.card_tier?.code ?? null } : null;
  },
  /** As the API answers `member(id) { recommendations }`: the member's card, its recommendation statement, then the products. */
  async '/recommendations'({ id, first }) {
    const card = await pool.query(preparedMemberCardById(id));
    if (!card.rows[0]) return null;
    const { rows } = await pool.query(recommendations, [id, false]);
    const picks = rows.slice(0, first);
    const products = await pool.query('select id, sku, name from product where id = any($1::uuid[])', [picks.map((r) => r.product_id)]);
    const byId = new Map(products.rows.map((p) => [p.id, p]));
    return picks.map((r) => ({ rank: r.rank, sku: byId.get(r.product_id)?.sku, reason: r.reason }));
  },
  /** The API's compiled segment statement (count and a sample of 20). */
  async '/preview'({ rule, asOf }) {
    const q = preview(rule, asOf);
    const { rows } = await pool.query(q.text, q.values);
    return { count: rows[0]?.total ?? 0, sample: rows.map((r) => r.id) };
  },
};

const server = http.createServer((req, res) => {
  const handler = handlers[req.url];
  if (req.method !== 'POST' || !handler) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    handler(JSON.parse(body)).then(
      (data) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data }));
      },
      (err) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: err.message }] }));
      },
    );
  });
});
server.listen(Number(process.env.BARE_PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
