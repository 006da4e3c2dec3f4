import path from 'node:path';
import { parseArgs } from 'node:util';
import { isCurrency } from '../../base/currency';
import { SalesChannelKind } from '../../base/enums';
import { createLogger } from '../../base/logger';
import { TransactionImporter, type ImportSummary } from '../../modules/import/importer';
import { createProgress } from '../../modules/import/progress';
import { openRejects } from '../../modules/import/rejects';
import { ImportInputError, openCsv, parseColumnMap } from '../../modules/import/source';
import { runCli } from './run';

const USAGE = `usage: npm run import -- --file <path.csv[.gz]> [--map 'Invoice=InvoiceNo,Price=UnitPrice,Customer ID=CustomerID']
         [--channel "Online shop"] [--channel-kind WEB] [--currency GBP] [--rejects <path>] [--batch 500]`;

/**
 * `npm run import`: a transactions file into products, members and orders on one sales channel (the programme's).
 * Restartable: a re-run skips what is stored. Ctrl-C stops after the batch in flight. Prints the summary as JSON.
 */
runCli('import', async ({ orm, services, config }) => {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      map: { type: 'string' },
      channel: { type: 'string', default: 'Online shop' },
      'channel-kind': { type: 'string', default: SalesChannelKind.WEB },
      currency: { type: 'string', default: 'GBP' },
      rejects: { type: 'string' },
      batch: { type: 'string', default: '500' },
      programme: { type: 'string' },
    },
  });
  if (!values.file) throw new ImportInputError(`--file is required\n${USAGE}`);
  const kind = values['channel-kind'] as SalesChannelKind;
  if (!Object.values(SalesChannelKind).includes(kind) || kind === SalesChannelKind.ADMIN) {
    throw new ImportInputError(`--channel-kind must be one of ${Object.values(SalesChannelKind).filter((k) => k !== 'ADMIN').join(', ')}`);
  }
  const currency = values.currency!.trim().toUpperCase();
  if (!isCurrency(currency)) throw new ImportInputError(`--currency: "${values.currency}" is not an ISO 4217 currency code such as GBP`);
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new ImportInputError('--batch must be a whole number ≥ 1');
  if (values.programme) console.error('import: the platform has one programme; --programme is ignored (use --channel to name where the orders come from)');

  const log = createLogger(config.LOG_LEVEL === 'silent' ? 'silent' : 'info', 'import');
  const map = parseColumnMap(values.map);
  const source = await openCsv(values.file, map);
  const rejectsPath = values.rejects ?? `${path.basename(values.file).replace(/\.gz$/, '').replace(/\.csv$/, '')}.rejects.csv`;
  const rejects = openRejects(rejectsPath);
  const isTTY = process.stderr.isTTY === true;
  const progress = createProgress(isTTY, source.totalBytes, log);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());

  let rows = 0;
  const timer = setInterval(() => progress.update(rows, source.bytesRead()), 200);
  const counted = (async function* () {
    for await (const r of source.records) {
      rows++;
      yield r;
    }
  })();
  let summary: ImportSummary;
  try {
    // The file is read twice: a scan for invoices whose lines are apart, then the import (with progress).
    const rows = async (pass: 'scan' | 'import') => (pass === 'scan' ? (await openCsv(values.file!, map)).records : counted);
    summary = await new TransactionImporter(orm.em, services, log).run(rows, {
      channelName: values.channel!,
      channelKind: kind,
      currency,
      batchInvoices: batch,
      onReject: (r) => rejects.write(r),
      signal: abort.signal,
    });
  } finally {
    clearInterval(timer);
    progress.update(rows, source.bytesRead());
    progress.stop();
    await rejects.close();
  }
  log.info({ ...summary, rejectsFile: rejectsPath }, summary.isComplete ? 'import.finished' : 'import.interrupted');
  if (isTTY) {
    const lines = [
      `${summary.isComplete ? 'Imported' : 'Interrupted (run again to finish)'}: ${summary.rowsRead.toLocaleString('en-GB')} rows in ${summary.seconds} s (${summary.rowsPerSecond.toLocaleString('en-GB')} rows/s)`,
      `  orders ${summary.orders} (guest ${summary.guestOrders}), returns ${summary.returns} from ${summary.returnInvoices} return invoices, members created ${summary.membersCreated}`,
      `  points earned ${summary.pointsEarned}, clawed back ${summary.pointsClawedBack}; invoices already imported ${summary.invoicesSkipped}; unmatched return units ${summary.unmatchedReturnUnits}`,
      `  rejects (${rejectsPath}): ${Object.entries(summary.rejects).map(([k, v]) => `${k} ${v}`).join('; ') || 'none'}`,
    ];
    console.error(lines.join('\n'));
  }
  console.log(JSON.stringify(summary));
  if (!summary.isComplete) process.exitCode = 130;
});
