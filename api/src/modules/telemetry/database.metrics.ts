import type { Orm } from '../../base/database';
import type { MetricsRegistry } from './metrics-registry';

/** What knex's connection pool (tarn) tells about itself; MikroORM does not type it. */
interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

/** Connections of each PostgreSQL pool (primary, and the heavy-read pool: on DATABASE_READ_URL when set), read at scrape time. */
export function registerDatabasePoolMetrics(metrics: MetricsRegistry, pools: Record<string, Orm>): void {
  const connections = metrics.gauge({
    name: 'loyalty_db_pool_connections',
    help: 'Connections of a PostgreSQL pool by state: used (checked out), free (idle), pending_acquires (requests waiting for one), pending_creates (being opened).',
    labelNames: ['pool', 'state'],
  });
  const max = metrics.gauge({
    name: 'loyalty_db_pool_max_connections',
    help: 'The most connections the pool opens (DB_POOL_MAX; ANALYTICS_POOL_MAX for the heavy-read pool).',
    labelNames: ['pool'],
  });
  metrics.addProbe({
    name: 'db_pool',
    gauges: [connections, max],
    read: async () => {
      for (const [name, orm] of Object.entries(pools)) {
        const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
        // No pool yet (never connected) or already destroyed (stopping): nothing to report.
        if (!pool) continue;
        connections.set({ pool: name, state: 'used' }, pool.numUsed());
        connections.set({ pool: name, state: 'free' }, pool.numFree());
        connections.set({ pool: name, state: 'pending_acquires' }, pool.numPendingAcquires());
        connections.set({ pool: name, state: 'pending_creates' }, pool.numPendingCreates());
        max.set({ pool: name }, pool.max);
      }
    },
  });
}
