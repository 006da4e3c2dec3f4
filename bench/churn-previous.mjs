import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { apiEnv, freePort, repoRoot, runCli } from './lib/api.mjs';
import { createDatabase, withClient } from './lib/postgres.mjs';
import { machine } from './lib/report.mjs';

export const name = 'churnprevious';
export const title = 'Finding the members whose previous churn score must be recomputed, at 1,000,000 scored members';
/** Prints its own table: the query's time per run, not a request rate under load. */
export const standalone = true;

const require = createRequire(import.meta.url);
const SCORED = Number(process.env.CHURN_PREVIOUS_MEMBERS || 1_000_000);
/** Members in the history the scores never reached (joined since the last scoring). */
const UNSCORED = Math.round(SCORED / 50);
const ACTIVE = '00000000-0000-4000-8000-000000000001';
const CANDIDATE = '00000000-0000-4000-8000-000000000002';

/**
 * The query every churn scoring and training runs before recomputing previous scores (ModelStore
 * .withoutPreviousChurnScore): over a scratch database with SCORED members served by an active version, one in twenty
 * without a score four weeks old, and UNSCORED members it never scored. Times the re-scoring's lookup ('own') and a new
 * version's ('active') three times each.
 */
export async function run() {
  const { ModelStore } = require(path.join(repoRoot, 'recommender', 'dist', 'training', 'store.js'));
  const db = await createDatabase(`loyalty_churn_previous_bench_${process.pid}`);
  try {
    process.stdout.write(`  setup: database ${db.name}, migrating and writing ${SCORED.toLocaleString('en')} scores…\n`);
    await runCli('migrate', [], apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: 2 }));
    const population = await withClient(db.url, async (c) => {
      await c.query(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, scored_at)
         values ($1, 'CHURN', 'ACTIVE', 'TF-CHURN', '{}', '{}', '{}', 90, now(), now() - interval '60 days', now() - interval '3 hours'),
                ($2, 'CHURN', 'TRAINING', 'TF-CHURN', '{}', '{}', '{}', 90, now(), null, null)`,
        [ACTIVE, CANDIDATE],
      );
      await c.query(
        `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at)
         select $1, gen_random_uuid(), 0.5, 'MEDIUM', '[]', case when g % 20 = 0 then null else 0.4 end,
                case when g % 20 = 0 then null else now() - interval '40 days' end
         from generate_series(1, $2::int) g`,
        [ACTIVE, SCORED],
      );
      await c.query(`analyze member_churn_score`);
      return (await c.query(`select member_id from member_churn_score`)).rows.map((r) => r.member_id);
    });
    for (let i = 0; i < UNSCORED; i++) population.push(randomUUID());
    const store = new ModelStore(db.url);
    const runs = [];
    try {
      for (let round = 0; round < 3; round++) {
        for (const [from, version] of [['own', ACTIVE], ['active', CANDIDATE]]) {
          const started = performance.now();
          const missing = await store.withoutPreviousChurnScore(version, from, population);
          runs.push({ from, population: population.length, missing: missing.length, ms: Math.round(performance.now() - started) });
        }
      }
    } finally {
      await store.close();
    }
    const expected = SCORED / 20 + UNSCORED;
    const rows = runs.map((r, i) => [`run ${i + 1} (${r.from})`, `${r.ms} ms: ${r.missing.toLocaleString('en')} of ${r.population.toLocaleString('en')} need one`]);
    console.log(['', title, '─'.repeat(60), ...rows.map(([k, v]) => `  ${k.padEnd(14)}  ${v}`), `  node / CPUs     ${process.version} / ${machine().cpuCount} × ${machine().cpuModel}`, ''].join('\n'));
    const wrong = runs.filter((r) => r.missing !== expected);
    if (wrong.length) throw new Error(`expected ${expected} members to need a previous score, got ${wrong.map((r) => r.missing).join(', ')}`);
    return { unit: 'ms', runs, scored: SCORED, unscored: UNSCORED, ...machine() };
  } finally {
    await db.drop();
  }
}
