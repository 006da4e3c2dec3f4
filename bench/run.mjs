#!/usr/bin/env node
// Benchmark entry point (`npm run bench`). See docs/operations/benchmarks.md.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as analytics from './analytics.mjs';
import * as churnPrevious from './churn-previous.mjs';
import * as importFile from './import.mjs';
import * as enrol from './enrol.mjs';
import * as ingest from './ingest.mjs';
import * as retrain from './retrain.mjs';
import * as segments from './segments.mjs';
import * as hotpaths from './hotpaths.mjs';
import * as lockhold from './lockhold.mjs';
import * as scale from './scale.mjs';
import { repoRoot } from './lib/api.mjs';
import { cleanupAll, installSignalHandlers, isAborting } from './lib/cleanup.mjs';
import { runPgbench } from './lib/pgbench.mjs';
import { serverUrl, serverVersion } from './lib/postgres.mjs';
import { buildRecord, printTable, SHARED_MACHINE_NOTE, writeRecord } from './lib/report.mjs';

const BENCHMARKS = [hotpaths, lockhold, ingest, enrol, importFile, analytics, segments, scale, retrain, churnPrevious];

const USAGE = `usage: npm run bench -- [--only ${BENCHMARKS.map((b) => b.name).join('|')}[,…]] [--clients N] [--duration S] [--warmup S] [--skip-pgbench]
  --clients N      concurrent connections, one request in flight each (default 10)
  --duration S     measured seconds per benchmark, and pgbench's run length (default 15)
  --warmup S       seconds of load before measuring, not counted (default 5)
  --skip-pgbench   leave out the pgbench ceiling (and so the ratio)
environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (default redis://127.0.0.1:6379)
  BENCH_API_NODE_ARGS: Node flags for the API process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof)
  analytics: ANALYTICS_DATABASE_URL (default: database analytics_full on that server), ANALYTICS_SYNTHETIC=1 (build and use analytics_synthetic), ANALYTICS_RUNS (default 20)
  segments: SEGMENTS_DATABASE_URL (default: database analytics_full on that server), SEGMENTS_RUNS (default 20)
  hotpaths: HOTPATHS_DATABASE_URL (a database filled by npm run gen; default: a scratch one generated with HOTPATHS_MEMBERS, default 10000),
            HOTPATHS (cases, default lookup,order,redeem,preview,recommendations), HOTPATHS_LEDGER_CHECK=0 (skip the check afterwards),
            HOTPATHS_CPU_PROFILE_DIR (run the API with node --cpu-prof, its profile written there when it stops)
  lockhold: LOCKHOLD_REQUESTS (concurrent redemptions of one member, default 100), LOCKHOLD_ROUNDS (default 5); METRICS_TOKEN if /metrics needs it
  scale: SCALE_SMALL_DATABASE_URL / SCALE_LARGE_DATABASE_URL (default databases loyalty_gen_10k / loyalty_gen_1m, filled by npm run gen;
         skipped when empty), SCALE_LOOKUP_RUNS (300), SCALE_HEAVY_RUNS (5; 0 for lookups only)
  import, retrain: IMPORT_FILE (default ../shared/data/online_retail.csv.gz beside the checkout; skipped when absent)
  churnprevious: CHURN_PREVIOUS_MEMBERS (scored members in its scratch database, default 1000000)`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      clients: { type: 'string', default: '10' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      'skip-pgbench': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (flag, min) => {
    const v = Number(values[flag]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${flag} must be an integer ≥ ${min}\n${USAGE}`);
    return v;
  };
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : BENCHMARKS.map((b) => b.name);
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}\n${USAGE}`);
  return {
    benchmarks: BENCHMARKS.filter((b) => names.includes(b.name)),
    clients: int('clients', 1),
    durationSeconds: int('duration', 1),
    warmupSeconds: int('warmup', 0),
    skipPgbench: values['skip-pgbench'],
  };
}

async function main() {
  const options = parseOptions();
  if (!existsSync(path.join(repoRoot, 'api', 'dist', 'composition', 'main.js'))) {
    throw new Error('api/dist is missing: run `npm run build:server` (npm run bench does it for you)');
  }
  installSignalHandlers();
  const postgres = await serverVersion().catch((err) => {
    throw new Error(`cannot reach PostgreSQL at ${redact(serverUrl)}: ${err.message}`);
  });
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  console.log(
    `Benchmarks: ${options.benchmarks.map((b) => b.name).join(', ')}; ${options.clients} clients, ` +
      `${options.warmupSeconds} s warm-up, ${options.durationSeconds} s measured; PostgreSQL ${postgres} at ${redact(serverUrl)}`,
  );
  console.log(`Note: ${SHARED_MACHINE_NOTE}\n`);

  // One pgbench run per invocation, after the first benchmark (so never while the API is under load).
  let pgbench;
  const ceiling = () => {
    if (options.skipPgbench) return Promise.resolve({ pgbenchError: '(skipped: --skip-pgbench)' });
    pgbench ??= runPgbench({ clients: options.clients, durationSeconds: options.durationSeconds }).then(
      (result) => ({ pgbench: result }),
      (err) => ({ pgbenchError: err.message, failed: true }),
    );
    return pgbench;
  };

  let failed = false;
  for (const benchmark of options.benchmarks) {
    console.log(`▶ ${benchmark.title}`);
    const startedAt = new Date().toISOString();
    try {
      if (benchmark.standalone) {
        // Prints its own table (latency per query); a skip is not a failure.
        const result = await benchmark.run(options);
        if (!result.skipped) console.log(`  written to ${await writeRecord({ benchmark: benchmark.name, title: benchmark.title, startedAt, postgres, ...result }, stamp)}\n`);
        continue;
      }
      const { load, details } = await benchmark.run(options);
      const base = await ceiling();
      if (isAborting()) return waitForSignalExit();
      const record = buildRecord({ benchmark, options, load, details, ...base, postgres, startedAt });
      printTable(record);
      console.log(`  written to ${await writeRecord(record, stamp)}\n`);
      if (base.failed) {
        console.error(`✗ pgbench failed: ${base.pgbenchError}\n`);
        failed = true;
      }
      if (load.rowsCreated <= 0) {
        console.error(`✗ ${benchmark.name}: no request succeeded during the measured run\n`);
        failed = true;
      }
    } catch (err) {
      if (isAborting()) return waitForSignalExit();
      failed = true;
      console.error(`✗ ${benchmark.name} failed: ${err instanceof Error ? err.message : err}\n`);
      await cleanupAll();
    }
  }
  return failed ? 1 : 0;
}

/** After Ctrl-C, failures are just the clean-up at work: print nothing and let the signal handler exit. */
const waitForSignalExit = () => new Promise(() => {});

function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

main()
  .then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  )
  .finally(() => cleanupAll());
