import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup.mjs';
import { createDatabase } from './postgres.mjs';

/**
 * The machine's write ceiling in the same run: pgbench's TPC-B-like transaction (3 updates, 1 select, 1 insert)
 * against its own scratch database on the benchmark's PostgreSQL server, with the same client count.
 */
export async function runPgbench({ clients, durationSeconds, scale = 10 }) {
  const db = await createDatabase(`loyalty_pgbench_${process.pid}`);
  try {
    const env = pgEnv(db.url);
    process.stdout.write(`  pgbench: initialising scale ${scale}…\n`);
    await run(['-i', '-q', '-s', String(scale), db.name], env);
    process.stdout.write(`  pgbench: tpcb-like, ${clients} clients, ${durationSeconds} s…\n`);
    const threads = Math.min(2, clients);
    const out = await run(['-b', 'tpcb-like', '-c', String(clients), '-j', String(threads), '-T', String(durationSeconds), db.name], env);
    const tps = out.match(/tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/);
    if (!tps) throw new Error(`could not find tps in pgbench output:\n${out}`);
    const latency = out.match(/latency average = ([\d.]+) ms/);
    const transactions = out.match(/number of transactions actually processed: (\d+)/);
    const failed = out.match(/number of failed transactions: (\d+)/);
    return {
      tps: Number(tps[1]),
      latencyAvgMs: latency ? Number(latency[1]) : null,
      transactions: transactions ? Number(transactions[1]) : null,
      failedTransactions: failed ? Number(failed[1]) : 0,
      scale,
      clients,
      threads,
      seconds: durationSeconds,
    };
  } finally {
    await db.drop();
  }
}

function pgEnv(databaseUrl) {
  const url = new URL(databaseUrl);
  const env = { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username || 'postgres') };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  return env;
}

function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stopEarly = onCleanup(`stop pgbench (pid ${child.pid})`, () => child.exitCode === null && child.kill('SIGTERM'));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', (err) =>
      reject(err.code === 'ENOENT' ? new Error('pgbench is not installed (Debian: apt-get install postgresql-client)') : err),
    );
    child.once('exit', (code) => {
      void stopEarly();
      if (code === 0) resolve(out);
      else reject(new Error(`pgbench ${args.join(' ')} exited with ${code}:\n${out.trim()}`));
    });
  });
}
