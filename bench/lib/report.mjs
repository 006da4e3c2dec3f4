import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export const SHARED_MACHINE_NOTE =
  'PostgreSQL, the API and the load generator (autocannon) share this machine, so they compete for the same CPU cores; ' +
  'pgbench runs in the same session on the same PostgreSQL server with the same client count, as the ceiling to compare with.';

export function machine() {
  const cpus = os.cpus();
  return { node: process.version, cpuCount: cpus.length, cpuModel: cpus[0]?.model?.trim() ?? 'unknown', platform: `${os.platform()} ${os.release()}` };
}

/** The JSON record of one benchmark run, also the source of the printed table. */
export function buildRecord({ benchmark, options, load, details, pgbench, pgbenchError, postgres, startedAt }) {
  return {
    benchmark: benchmark.name,
    title: benchmark.title,
    startedAt,
    unit: benchmark.unit,
    perSecond: round(load.perSecond, 1),
    rowsCreated: load.rowsCreated,
    measuredSeconds: load.seconds,
    latencyMs: Object.fromEntries(Object.entries(load.latencyMs).map(([k, v]) => [k, v === null ? null : round(v, 2)])),
    responses: {
      total: load.responses,
      successful: load.okResponses,
      non2xx: load.non2xx,
      graphqlErrors: load.graphqlErrors,
      socketErrors: load.socketErrors,
      timeouts: load.timeouts,
      errorBreakdown: load.errorCodes,
      errorSamples: load.errorSamples,
    },
    pgbench: pgbench ?? null,
    pgbenchError: pgbenchError ?? null,
    ratioToPgbench: pgbench ? round(load.perSecond / pgbench.tps, 3) : null,
    clients: options.clients,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    ...machine(),
    postgres,
    details,
    note: SHARED_MACHINE_NOTE,
  };
}

export async function writeRecord(record, stamp) {
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${record.benchmark}-${stamp}.json`);
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

export function printTable(record) {
  const n = (v, digits = 0) =>
    v === null || v === undefined ? '—' : Number(v).toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const ms = (v) => n(v, 2);
  const r = record.responses;
  const rows = [
    [`${record.unit}`, `${n(record.perSecond, 1)}   (${n(record.rowsCreated)} rows created in ${n(record.measuredSeconds, 2)} s)`],
    ['latency p50 / p90 / p99 (ms)', `${ms(record.latencyMs.p50)} / ${ms(record.latencyMs.p90)} / ${ms(record.latencyMs.p99)}`],
    ['latency mean / max (ms)', `${ms(record.latencyMs.mean)} / ${ms(record.latencyMs.max)}`],
    ['responses', `${n(r.total)}, of which successful ${n(r.successful)}`],
    ['errors', `${n(r.non2xx)} non-2xx, ${n(r.graphqlErrors)} with GraphQL errors, ${n(r.socketErrors)} socket errors, ${n(r.timeouts)} timeouts`],
    [
      'pgbench tpcb-like TPS',
      record.pgbench
        ? `${n(record.pgbench.tps, 1)}   (scale ${record.pgbench.scale}, ${record.pgbench.clients} clients, ${record.pgbench.threads} threads, avg ${ms(record.pgbench.latencyAvgMs)} ms)`
        : `— ${record.pgbenchError ?? ''}`,
    ],
    [`ratio ${record.unit} ÷ pgbench TPS`, record.ratioToPgbench === null ? '—' : record.ratioToPgbench.toFixed(3)],
    ['clients / measured / warm-up', `${record.clients} / ${record.durationSeconds} s / ${record.warmupSeconds} s`],
    ['node / CPUs / PostgreSQL', `${record.node} / ${record.cpuCount} × ${record.cpuModel} / ${record.postgres}`],
    ...Object.entries(record.details).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? n(v, 2) : String(v)]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    '',
    `${record.title}`,
    '─'.repeat(Math.max(60, record.title.length)),
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
  const breakdown = Object.entries(r.errorBreakdown);
  if (breakdown.length) {
    lines.push('  error breakdown (first failing responses only):');
    for (const [key, count] of breakdown.sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`    ${n(count).padStart(6)}  ${key}`);
  }
  lines.push(...wrap(`Note: ${record.cpuCount} CPU cores shared. ${record.note}`, 100).map((l) => `  ${l}`));
  console.log(lines.join('\n'));
}

function wrap(text, width) {
  const out = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function round(v, digits) {
  return v === null || v === undefined ? v : Math.round(v * 10 ** digits) / 10 ** digits;
}
