import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FileTxnSource } from '../data/file-source';
import { PgTxnSource } from '../data/pg-source';
import { parseColumnMap, parseCutoff, type TxnSource } from '../data/txn-source';
import { selectModels } from '../eval/registry';
import { loadModelPlugins, registryWith } from '../model-plugins';
import { formatReport, runEvaluation, type Task } from '../eval/run';

const USAGE = `usage: npm run eval -- (--file <transactions.csv[.gz]> | --db <postgresql://…>) --cutoff <YYYY-MM-DD>
         [--horizon-days 90] [--task recs|churn|clv|all] [--map 'TheirName=CanonicalName,...']
         [--models all|baselines|models|NAME,...] [--plugins ./my-models,...] [--out results.json]
--plugins (or LOYALTY_MODEL_PLUGINS) adds model plugins' models and baselines to the registry.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      db: { type: 'string' },
      cutoff: { type: 'string' },
      'horizon-days': { type: 'string', default: '90' },
      task: { type: 'string', default: 'all' },
      map: { type: 'string' },
      models: { type: 'string', default: 'all' },
      plugins: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return void console.log(USAGE);
  if (!values.cutoff || !!values.file === !!values.db) throw new UsageError('give --cutoff and exactly one of --file, --db');
  const horizonDays = Number(values['horizon-days']);
  if (!Number.isInteger(horizonDays) || horizonDays <= 0) throw new UsageError('--horizon-days must be a positive integer');
  const task = values.task as Task;
  if (!['recs', 'churn', 'clv', 'all'].includes(task)) throw new UsageError('--task must be recs, churn, clv or all');
  const source: TxnSource = values.file
    ? new FileTxnSource(values.file, parseColumnMap(values.map))
    : new PgTxnSource(values.db!);
  const registry = registryWith(loadModelPlugins(values.plugins ?? process.env.LOYALTY_MODEL_PLUGINS));
  const models = selectModels(values.models, registry);
  const started = performance.now();
  const report = await runEvaluation({
    source,
    cutoff: parseCutoff(values.cutoff),
    horizonDays,
    task,
    models,
    log: (m) => console.error(`[eval ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`),
  });
  console.log(formatReport(report));
  console.log(`\nwall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (values.out) await writeFile(values.out, JSON.stringify(report, null, 2) + '\n');
  if (report.failures?.length) process.exitCode = 1;
}

class UsageError extends Error {}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `${err.message}\n${USAGE}` : err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
