import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { apiEnv, freePort, repoRoot, runCli } from './lib/api.mjs';
import { createDatabase, withClient } from './lib/postgres.mjs';
import { machine } from './lib/report.mjs';

export const name = 'import';
export const title = 'Bulk import of the Online Retail file (npm run import)';
/** Prints its own table: one timed run of a command, not a request rate under load. */
export const standalone = true;

const execFileAsync = promisify(execFile);
export const DEFAULT_FILE = path.resolve(repoRoot, '..', 'shared', 'data', 'online_retail.csv.gz');

/** The demo programme's rules, so that every order goes through the earning engine, tiers and the ledger. */
export const PROGRAMME = `
  insert into earning_rule (id, rule_key, version, name, kind, priority, currency, points, per_minor, is_active, created_by, created_at)
  values (gen_random_uuid(), gen_random_uuid(), 1, '1 point per GBP 1', 'BASE_RATE', 0, 'GBP', 1, 100, true, 'bench', now());
  insert into earning_rule (id, rule_key, version, name, kind, priority, multiplier_percent, days_of_week, is_active, created_by, created_at)
  values (gen_random_uuid(), gen_random_uuid(), 1, 'Double points at weekends', 'BONUS', 0, 200, '{0,6}', true, 'bench', now());
  insert into tier (id, code, name, threshold, earn_multiplier_percent, benefit_flags)
  values (gen_random_uuid(), 'GREEN', 'Green', 0, 100, '{}'), (gen_random_uuid(), 'GOLD', 'Gold', 500, 150, '{FREE_DELIVERY}');`;

export async function importOnce(file, env) {
  const rejects = path.join(tmpdir(), `import-bench-${process.pid}.rejects.csv`);
  try {
    const { stdout } = await execFileAsync(process.execPath, [path.join(repoRoot, 'api', 'dist', 'composition', 'cli', 'import.js'), '--file', file, '--rejects', rejects], {
      cwd: repoRoot,
      env,
      timeout: 900_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop());
  } catch (err) {
    throw new Error(`import failed: ${[err.stderr, err.stdout].filter(Boolean).join('\n').trim().slice(-2000) || err.message}`);
  }
}

/**
 * Imports the full file (IMPORT_FILE, default ../shared/data/online_retail.csv.gz beside the checkout) into a fresh
 * database, then again to time the restart path (everything already stored). Skips when the file is absent.
 */
export async function run() {
  const file = process.env.IMPORT_FILE || DEFAULT_FILE;
  if (!existsSync(file)) {
    console.log(`  skipped: ${file} does not exist (set IMPORT_FILE to a transactions file in the canonical layout).\n`);
    return { skipped: true };
  }
  const db = await createDatabase(`loyalty_import_bench_${process.pid}`);
  try {
    const env = apiEnv({ databaseUrl: db.url, port: await freePort(), poolMax: 4 });
    process.stdout.write(`  setup: database ${db.name}, migrating…\n`);
    await runCli('migrate', [], env);
    await withClient(db.url, (c) => c.query(PROGRAMME));
    process.stdout.write(`  importing ${path.relative(process.cwd(), file)}…\n`);
    const first = await importOnce(file, env);
    process.stdout.write('  importing it again (restart path: everything is stored)…\n');
    const again = await importOnce(file, env);
    const check = await withClient(db.url, async (c) => {
      const { rows } = await c.query(`select (select count(*) from customer_order)::int as orders, (select count(*) from order_line)::int as lines,
        (select count(*) from ledger_entry)::int as ledger_rows, (select count(*) from member)::int as members`);
      return rows[0];
    });

    const n = (v) => Number(v).toLocaleString('en-GB');
    const rows = [
      ['rows/s (first import)', `${n(first.rowsPerSecond)}   (${n(first.rowsRead)} rows in ${first.seconds} s)`],
      ['orders / guest / returns', `${n(first.orders)} / ${n(first.guestOrders)} / ${n(first.returns)} (${n(first.unmatchedReturnUnits)} returned units unmatched)`],
      ['members created / points earned', `${n(first.membersCreated)} / ${n(first.pointsEarned)} (clawed back ${n(first.pointsClawedBack)})`],
      ['rejects', Object.entries(first.rejects).map(([k, v]) => `${k}: ${n(v)}`).join('; ') || 'none'],
      ['time per step (ms)', Object.entries(first.phaseMs).map(([k, v]) => `${k} ${n(v)}`).join(', ')],
      ['re-run', `${again.seconds} s, ${n(again.rowsPerSecond)} rows/s; ${n(again.invoicesSkipped)} invoices skipped, ${n(again.orders)} orders added`],
      ['database after both', `${n(check.orders)} orders, ${n(check.lines)} lines, ${n(check.ledger_rows)} ledger rows, ${n(check.members)} members`],
      ['node / CPUs', `${process.version} / ${machine().cpuCount} × ${machine().cpuModel}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(['', title, '─'.repeat(60), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '  Note: the CPU cores are shared with PostgreSQL and anything else running.', ''].join('\n'));
    if (again.orders !== 0 || check.orders !== first.orders) throw new Error('the re-run added orders: the import is not idempotent');
    return { unit: 'rows/s', perSecond: first.rowsPerSecond, file, first, again, database: check, ...machine() };
  } finally {
    await db.drop();
  }
}
