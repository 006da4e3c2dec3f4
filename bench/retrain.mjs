import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Queue from 'bull';
import { apiEnv, freePort, repoRoot, runCli } from './lib/api.mjs';
import { onCleanup } from './lib/cleanup.mjs';
import { createDatabase, withClient } from './lib/postgres.mjs';
import { machine } from './lib/report.mjs';
import { DEFAULT_FILE, PROGRAMME, importOnce } from './import.mjs';

export const name = 'retrain';
export const title = 'Full retrain of the three models by the real worker on the imported Online Retail file';
/** Prints its own table: phase timings of one run, not a request rate under load. */
export const standalone = true;

const KINDS = [
  { kind: 'RECOMMENDER', queue: 'recommender.train-recommender' },
  { kind: 'CHURN', queue: 'recommender.train-churn' },
  { kind: 'VALUE', queue: 'recommender.train-value' },
];

/** The worker's resident memory now and at its peak (VmRSS, VmHWM of /proc/<pid>/status), in MB; null off Linux. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');

/**
 * Imports the file (IMPORT_FILE, default ../shared/data/online_retail.csv.gz beside the checkout) into a scratch
 * database, starts the real worker (recommender/dist/main.js) on it with its own queue prefix, queues a training
 * job for each model kind and then a churn scoring job, and times every phase from the jobs' progress reports.
 */
export async function run() {
  const file = process.env.IMPORT_FILE || DEFAULT_FILE;
  if (!existsSync(file)) {
    console.log(`  skipped: ${file} does not exist (set IMPORT_FILE to a transactions file in the canonical layout).\n`);
    return { skipped: true };
  }
  if (!existsSync(path.join(repoRoot, 'recommender', 'dist', 'main.js'))) throw new Error('recommender/dist is missing: run `npm run build:server`');
  const db = await createDatabase(`loyalty_retrain_bench_${process.pid}`);
  const prefix = `bench-retrain-${process.pid}`;
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const queues = Object.fromEntries([...KINDS.map((k) => k.queue), 'recommender.score'].map((q) => [q, new Queue(q, redisUrl, { prefix })]));
  let worker;
  try {
    const env = apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: 4 });
    process.stdout.write(`  setup: database ${db.name}, migrating…\n`);
    await runCli('migrate', [], env);
    await withClient(db.url, (c) => c.query(PROGRAMME));
    process.stdout.write(`  importing ${file}…\n`);
    const imported = await importOnce(file, env);
    process.stdout.write(`  imported ${imported.orders} orders in ${imported.seconds} s; starting the worker…\n`);

    const logs = [];
    worker = spawn(process.execPath, [path.join(repoRoot, 'recommender', 'dist', 'main.js')], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, MODEL_RETRAIN_CRON: 'off', MODEL_SCORE_CRON: 'off', MODEL_BOOTSTRAP: 'false', LOG_LEVEL: 'info', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const stopWorker = onCleanup('stop the worker', () => worker.exitCode === null && worker.kill('SIGKILL'));
    let buffered = '';
    worker.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        try {
          logs.push(JSON.parse(line));
        } catch {
          /* not a log line */
        }
      }
    });

    const runs = [];
    const startedAll = Date.now();
    const loadBefore = load();
    for (const { kind, queue } of KINDS) {
      const job = await queues[queue].add({ v: 1, kind, requestedAt: new Date().toISOString(), requestedBy: 'bench' }, { attempts: 1 });
      // The peak so far after each job: VmHWM only grows, so each figure is the worker's peak up to that job's end.
      runs.push({ kind, ...(await follow(queues[queue], job.id, kind)), memory: memoryOf(worker.pid), load: load() });
    }
    const scoreJob = await queues['recommender.score'].add({ v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'bench' }, { attempts: 1 });
    const scoring = await follow(queues['recommender.score'], scoreJob.id, 'SCORE');
    const totalSeconds = (Date.now() - startedAll) / 1000;
    const loadAfter = load();
    stopWorker();

    const versions = await withClient(db.url, async (c) => (await c.query(`select kind, status, algorithm, backend, duration_ms, metrics, baseline_metrics, gate_reason, train_rows from model_version order by created_at`)).rows);
    const backend = logs.find((l) => l.msg === 'tf.backend');
    const n = (v) => Number(v).toLocaleString('en-GB');
    const phases = (r) => r.phases.map((p) => `${p.phase} ${p.seconds.toFixed(0)}`).join(', ');
    const rows = [
      ['file / orders imported', `${path.basename(file)} / ${n(imported.orders)} orders in ${imported.seconds} s`],
      ['TensorFlow.js backend', `${backend?.backend ?? 'unknown'}${backend?.skipped?.length ? ` (skipped: ${backend.skipped.map((s) => s.backend).join(', ')})` : ''}`],
      ...runs.map((r) => [
        `${r.kind} (${r.state})`,
        `${r.seconds.toFixed(0)} s: ${phases(r)}${r.memory ? `; worker RSS ${r.memory.rssMb.toFixed(0)} MB, peak so far ${r.memory.peakMb.toFixed(0)} MB` : ''}; load ${r.load}`,
      ]),
      ['churn batch scoring', `${scoring.seconds.toFixed(0)} s (${n(scoring.result?.scored ?? 0)} members): ${phases(scoring)}`],
      ['three retrains + scoring', `${totalSeconds.toFixed(0)} s wall time (target: the retrains within 600 s on 2 cores)`],
      ...versions.map((v) => [`${v.kind} version`, `${v.status}: ${summary(v)}; ${v.gate_reason ?? ''}`]),
      ['load average before / after', `${loadBefore} / ${loadAfter}`],
      ['node / CPUs', `${process.version} / ${machine().cpuCount} × ${machine().cpuModel}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(['', title, '─'.repeat(60), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '  Note: the CPU cores are shared with PostgreSQL and anything else running.', ''].join('\n'));
    const failed = runs.filter((r) => r.state !== 'completed');
    if (failed.length || scoring.state !== 'completed') throw new Error(`jobs did not complete: ${[...failed, scoring].map((r) => `${r.kind}: ${r.failedReason}`).join('; ')}`);
    return { unit: 's', seconds: totalSeconds, file, imported, runs, scoring, versions: versions.map(({ metrics, baseline_metrics, ...v }) => ({ ...v, metrics, baselineMetrics: baseline_metrics })), backend, loadBefore, loadAfter, ...machine() };
  } finally {
    if (worker?.exitCode === null) worker.kill('SIGKILL');
    for (const q of Object.values(queues)) await q.obliterate({ force: true }).catch(() => undefined), await q.close();
    await db.drop();
  }
}

/** Polls a job until it finishes, recording when each reported phase began. */
async function follow(queue, id, kind) {
  const started = Date.now();
  const seen = [];
  for (;;) {
    const job = await queue.getJob(id);
    const state = await job.getState();
    const phase = typeof job.progress() === 'object' ? job.progress().phase : null;
    if (phase && seen.at(-1)?.phase !== phase) {
      seen.push({ phase, at: Date.now() });
      process.stdout.write(`  ${kind}: ${phase} at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
    if (state === 'completed' || state === 'failed') {
      const end = job.finishedOn ?? Date.now();
      const phases = seen.map((p, i) => ({ phase: p.phase, seconds: ((seen[i + 1]?.at ?? end) - p.at) / 1000 })).filter((p) => p.phase !== 'done');
      return { state, seconds: (end - (job.processedOn ?? started)) / 1000, waitedSeconds: ((job.processedOn ?? started) - started) / 1000, phases, result: job.returnvalue, failedReason: job.failedReason ?? null };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function summary(v) {
  const f = (x) => (typeof x === 'number' ? x.toFixed(4) : '–');
  if (v.kind === 'VALUE') {
    const best = (key) => Object.entries(v.baseline_metrics ?? {}).sort((a, b) => (b[1]?.[key] ?? -Infinity) - (a[1]?.[key] ?? -Infinity))[0];
    const [gName, g] = best('gini') ?? ['–', {}];
    return `Gini ${f(v.metrics.gini)} (best baseline ${gName} ${f(g.gini)}), top-decile capture ${f(v.metrics.topDecileCapture)}, MAE ${f(v.metrics.mae)}`;
  }
  return v.kind === 'RECOMMENDER'
    ? `NDCG@10 all ${f(v.metrics.all?.['ndcg@10'])}, new ${f(v.metrics.new?.['ndcg@10'])}`
    : `ROC-AUC ${f(v.metrics.rocAuc)}, Brier ${f(v.metrics.brier)}`;
}
