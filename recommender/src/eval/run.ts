import { formatDate, type TxnSource } from '../data/txn-source';
import { readClean } from './clean';
import { churnTask, evaluateChurnModel, evaluateRecsModel, evaluateValueModel, valueTask, type ChurnMetrics, type RecsMetrics, type View } from './evaluate';
import { pairedBootstrap, reliability, rocAuc, type PairedDifference, type Reliability } from './metrics';
import type { RegistryEntry } from './registry';
import { recsSplit } from './split';
import type { HasParams } from './types';
import { normalisedGini, topDecileCapture, type ValueCalibrationBin, type ValueMetrics } from './value-metrics';

export type Task = 'recs' | 'churn' | 'clv' | 'all';

export interface RecsRow extends RecsMetrics {
  name: string;
  kind: 'baseline' | 'model';
  trainSeconds: number;
  params?: Record<string, unknown>;
}

export interface ChurnRow extends Omit<ChurnMetrics, 'brier' | 'calibration'> {
  name: string;
  kind: 'baseline' | 'model';
  brier?: number;
  calibration?: Reliability;
  /**
   * Against the reference baseline (RFM-LOGISTIC, when both ran and give probabilities): this model's ROC-AUC and ECE
   * less the baseline's, each with a 95% paired bootstrap interval over the same customers.
   */
  versusReference?: { baseline: string; rocAuc: PairedDifference; ece: PairedDifference };
  trainSeconds: number;
  params?: Record<string, unknown>;
}

/** The churn baseline issue 19's targets are set against; other probabilistic models are compared with it. */
const REFERENCE_CHURN_BASELINE = 'RFM-LOGISTIC';

export interface ValueRow extends Omit<ValueMetrics, 'calibration'> {
  name: string;
  kind: 'baseline' | 'model';
  trainSeconds: number;
  /** Ten equal-count bins of the prediction, lowest first: mean predicted and mean actual spend. */
  calibration: ValueCalibrationBin[];
  /** A model's normalised Gini and top-decile capture less each baseline's, with 95% paired bootstrap intervals. */
  versusBaselines?: Record<string, { gini: PairedDifference; topDecileCapture: PairedDifference }>;
  params?: Record<string, unknown>;
}

/** The JSON of EVAL-PROTOCOL.md ("Output"). */
export interface EvalReport {
  dataset: {
    file: string;
    cutoff: string;
    horizonDays: number;
    rows: number;
    keptRows: number;
    customers: number;
    items: number | null;
    testUsers?: { all: number; new: number };
    /** Mean |GT| over test users, and mean |GT_new| over the users of view new. */
    meanGroundTruth?: { all: number; new: number };
  };
  recs?: Record<View, RecsRow[]>;
  churn?: ChurnRow[];
  clv?: ValueRow[];
  /** Models that threw, with the message; absent when none did. */
  failures?: { name: string; task: 'recs' | 'churn' | 'clv'; error: string }[];
}

export interface RunOptions {
  source: TxnSource;
  cutoff: number;
  horizonDays: number;
  task: Task;
  models: RegistryEntry[];
  log?: (message: string) => void;
}

function paramsOf(model: object): Record<string, unknown> | undefined {
  const fn = (model as Partial<HasParams>).params;
  return typeof fn === 'function' ? fn.call(model) : undefined;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const roundedDifference = (d: PairedDifference): PairedDifference => ({ ...d, difference: round(d.difference), low: round(d.low), high: round(d.high) });

/** Reads, cleans and splits once, then fits and evaluates every selected model on the same data. */
export async function runEvaluation(options: RunOptions): Promise<EvalReport> {
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const history = await readClean(options.source);
  log(`read ${history.rawRows} rows, kept ${history.rows.length} after cleaning (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const report: EvalReport = {
    dataset: {
      file: options.source.label,
      cutoff: formatDate(options.cutoff),
      horizonDays: options.horizonDays,
      rows: history.rawRows,
      keptRows: history.rows.length,
      customers: new Set(history.rows.map((t) => t.customerId)).size,
      items: null,
    },
  };
  const failures: NonNullable<EvalReport['failures']> = [];
  const wantRecs = options.task === 'recs' || options.task === 'all';
  if (wantRecs && !history.hasProducts) {
    if (options.task === 'recs') throw new Error('the file has no StockCode column: only --task churn can run on it');
    log('no StockCode column: recommendations skipped');
  }

  if (wantRecs && history.hasProducts) {
    const split = recsSplit(history.rows, options.cutoff, options.horizonDays);
    report.dataset.items = split.train.items.length;
    log(`recs: ${split.train.users.length} train users, ${split.train.items.length} items, ${split.testUsers.length} test users`);
    const rows: Record<View, RecsRow[]> = { all: [], new: [] };
    for (const entry of options.models) {
      if (entry.task !== 'recs') continue;
      const model = entry.create();
      log(`recs: fitting ${entry.name}`);
      try {
        const { trainSeconds, metrics } = await evaluateRecsModel(model, split);
        const params = paramsOf(model);
        if (params) log(`recs: ${entry.name} params ${JSON.stringify(params)}`);
        for (const view of ['all', 'new'] as const) {
          const m = metrics[view];
          rows[view].push({
            name: entry.name,
            kind: entry.kind,
            'recall@10': round(m['recall@10']),
            'ndcg@10': round(m['ndcg@10']),
            'hitrate@10': round(m['hitrate@10']),
            coverage: round(m.coverage),
            users: m.users,
            trainSeconds: Math.round(trainSeconds * 100) / 100,
            ...(params ? { params } : {}),
          });
        }
        log(`recs: ${entry.name} NDCG@10 all ${metrics.all['ndcg@10'].toFixed(4)}, new ${metrics.new['ndcg@10'].toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
      } catch (err) {
        failures.push({ name: entry.name, task: 'recs', error: err instanceof Error ? err.message : String(err) });
        log(`recs: ${entry.name} failed: ${failures.at(-1)!.error}`);
      }
    }
    const gtNew = split.groundTruth
      .map((gt, t) => {
        const bought = new Set(Array.from(split.trainItems[t], (i) => split.train.items[i]));
        return [...gt].filter((c) => !bought.has(c)).length;
      })
      .filter((size) => size > 0);
    const mean = (xs: number[]) => (xs.length ? Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * 100) / 100 : 0);
    report.dataset.testUsers = { all: split.testUsers.length, new: gtNew.length };
    report.dataset.meanGroundTruth = { all: mean(split.groundTruth.map((g) => g.size)), new: mean(gtNew) };
    report.recs = rows;
  }

  if (options.task === 'churn' || options.task === 'all') {
    const task = churnTask(history.rows, options.cutoff, options.horizonDays);
    log(`churn: population ${task.population.length}`);
    const rows: ChurnRow[] = [];
    const probabilities = new Map<string, ArrayLike<number>>();
    for (const entry of options.models) {
      if (entry.task !== 'churn') continue;
      const model = entry.create();
      try {
        const { trainSeconds, metrics, scores } = await evaluateChurnModel(model, task);
        if (scores) probabilities.set(entry.name, scores);
        const params = paramsOf(model);
        rows.push({
          name: entry.name,
          kind: entry.kind,
          rocAuc: round(metrics.rocAuc),
          prAuc: round(metrics.prAuc),
          ...(metrics.brier === null ? {} : { brier: round(metrics.brier) }),
          ...(metrics.calibration === null ? {} : { calibration: roundCalibration(metrics.calibration) }),
          customers: metrics.customers,
          churnRate: round(metrics.churnRate),
          trainSeconds: Math.round(trainSeconds * 100) / 100,
          ...(params ? { params } : {}),
        });
        log(`churn: ${entry.name} ROC-AUC ${metrics.rocAuc.toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
      } catch (err) {
        failures.push({ name: entry.name, task: 'churn', error: err instanceof Error ? err.message : String(err) });
        log(`churn: ${entry.name} failed: ${failures.at(-1)!.error}`);
      }
    }
    const reference = probabilities.get(REFERENCE_CHURN_BASELINE);
    for (const row of rows) {
      const own = probabilities.get(row.name);
      if (!reference || !own || row.name === REFERENCE_CHURN_BASELINE) continue;
      row.versusReference = {
        baseline: REFERENCE_CHURN_BASELINE,
        rocAuc: roundedDifference(pairedBootstrap(rocAuc, own, reference, task.labels)),
        ece: roundedDifference(pairedBootstrap((p, y) => reliability(p, y).ece, own, reference, task.labels)),
      };
    }
    report.churn = rows;
  }

  if (options.task === 'clv' || options.task === 'all') {
    const task = valueTask(history.rows, options.cutoff, options.horizonDays, { returns: history.returns });
    log(`clv: population ${task.population.length}, mean actual spend ${(task.actual.reduce((s, v) => s + v, 0) / task.actual.length).toFixed(2)}`);
    const rows: ValueRow[] = [];
    const predictions = new Map<string, ArrayLike<number>>();
    for (const entry of options.models) {
      if (entry.task !== 'clv') continue;
      const model = entry.create();
      try {
        const { trainSeconds, metrics, prediction } = await evaluateValueModel(model, task);
        predictions.set(entry.name, prediction.predictions);
        const params = paramsOf(model);
        if (params) log(`clv: ${entry.name} params ${JSON.stringify(params)}`);
        const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
        rows.push({
          name: entry.name,
          kind: entry.kind,
          gini: round(metrics.gini),
          spearman: round(metrics.spearman),
          topDecileCapture: round(metrics.topDecileCapture),
          mae: r4(metrics.mae),
          rmse: r4(metrics.rmse),
          customers: metrics.customers,
          meanActual: r4(metrics.meanActual),
          trainSeconds: Math.round(trainSeconds * 100) / 100,
          calibration: metrics.calibration.map((b) => ({ meanPredicted: r4(b.meanPredicted), meanActual: r4(b.meanActual), count: b.count })),
          ...(params ? { params } : {}),
        });
        log(`clv: ${entry.name} Gini ${metrics.gini.toFixed(4)}, top-decile ${metrics.topDecileCapture.toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
      } catch (err) {
        failures.push({ name: entry.name, task: 'clv', error: err instanceof Error ? err.message : String(err) });
        log(`clv: ${entry.name} failed: ${failures.at(-1)!.error}`);
      }
    }
    // Issue 19's targets: every model beats every baseline on these two; how much of each lead could be sampling.
    const ids = task.population;
    const gini = (p: ArrayLike<number>, actual: ArrayLike<number>) => normalisedGini(actual, p);
    const topDecile = (p: ArrayLike<number>, actual: ArrayLike<number>, picked: Int32Array | null) =>
      topDecileCapture(actual, p, picked ? Array.from(picked, (k) => ids[k]) : ids);
    for (const row of rows) {
      const own = predictions.get(row.name);
      if (row.kind !== 'model' || !own) continue;
      const versus: NonNullable<ValueRow['versusBaselines']> = {};
      for (const baseline of rows.filter((r) => r.kind === 'baseline' && predictions.has(r.name))) {
        const theirs = predictions.get(baseline.name)!;
        versus[baseline.name] = { gini: roundedDifference(pairedBootstrap(gini, own, theirs, task.actual)), topDecileCapture: roundedDifference(pairedBootstrap(topDecile, own, theirs, task.actual)) };
      }
      if (Object.keys(versus).length) row.versusBaselines = versus;
    }
    report.clv = rows;
  }
  if (failures.length) report.failures = failures;
  return report;
}

/** The report as one plain-text table: a row per model and task, '–' where a metric does not apply. */
export function formatReport(report: EvalReport): string {
  const d = report.dataset;
  const lines = [
    `${d.file}: cutoff ${d.cutoff}, horizon ${d.horizonDays} days; ${d.rows} rows, ${d.keptRows} after cleaning, ` +
      `${d.customers} customers${d.items === null ? '' : `, ${d.items} items`}` +
      (d.testUsers ? `; test users ${d.testUsers.all} (all), ${d.testUsers.new} (new)` : '') +
      (d.meanGroundTruth ? `; mean |GT| ${d.meanGroundTruth.all}, |GT_new| ${d.meanGroundTruth.new}` : ''),
    '',
  ];
  const header = ['task', 'name', 'kind', 'NDCG@10', 'Recall@10', 'HitRate@10', 'Coverage', 'users', 'ROC-AUC', 'PR-AUC', 'Brier', 'churn rate', 'train s'];
  const table: string[][] = [header];
  const f = (x: number | undefined, digits = 4) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
  const params = new Map<string, string>();
  const noteParams = (r: { name: string; params?: Record<string, unknown> }) => {
    const shown = Object.entries(r.params ?? {}).filter(([, v]) => typeof v !== 'object');
    if (shown.length) params.set(r.name, shown.map(([k, v]) => `${k} ${v}`).join(', '));
  };
  for (const view of ['all', 'new'] as const) {
    for (const r of report.recs?.[view] ?? []) {
      noteParams(r);
      table.push([`recs ${view}`, r.name, r.kind, f(r['ndcg@10']), f(r['recall@10']), f(r['hitrate@10']), f(r.coverage), String(r.users), '–', '–', '–', '–', f(r.trainSeconds, 1)]);
    }
  }
  for (const r of report.churn ?? []) {
    noteParams(r);
    table.push(['churn', r.name, r.kind, '–', '–', '–', '–', String(r.customers), f(r.rocAuc), f(r.prAuc), f(r.brier), `${(r.churnRate * 100).toFixed(1)}%`, f(r.trainSeconds, 1)]);
  }
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const [i, row] of (table.length > 1 ? table : []).entries()) {
    lines.push(row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
    if (i === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  if (params.size) lines.push('', ...[...params].map(([name, text]) => `${name}: ${text}`));
  const calibrated = (report.churn ?? []).filter((r) => r.calibration);
  if (calibrated.length) {
    lines.push('', 'Calibration (10 equal-width bins; mean predicted vs observed churn rate, expected calibration error):');
    for (const r of calibrated) lines.push(`  ${r.name}: mean p ${f(r.calibration!.meanPredicted, 3)} vs ${f(r.calibration!.observed, 3)}, ECE ${f(r.calibration!.ece, 3)}`);
  }
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${f(Math.abs(x), 3)}`;
  const gap = (d: PairedDifference) => `${signed(d.difference)} (95% interval ${signed(d.low)} to ${signed(d.high)})`;
  const compared = (report.churn ?? []).filter((r) => r.versusReference);
  if (compared.length) {
    lines.push('', `Against ${REFERENCE_CHURN_BASELINE} on the same customers (paired bootstrap, 1,000 resamples; sampling noise at this cutoff only):`);
    for (const r of compared) lines.push(`  ${r.name}: ROC-AUC ${gap(r.versusReference!.rocAuc)}, ECE ${gap(r.versusReference!.ece)}`);
  }
  if (report.clv?.length) {
    const vh = ['clv', 'name', 'kind', 'norm. Gini', 'Spearman', 'top-decile', 'MAE', 'RMSE', 'customers', 'mean actual', 'train s'];
    const vt: string[][] = [vh];
    for (const r of report.clv) {
      noteParams(r);
      vt.push(['clv', r.name, r.kind, f(r.gini), f(r.spearman), f(r.topDecileCapture), f(r.mae, 1), f(r.rmse, 1), String(r.customers), f(r.meanActual, 2), f(r.trainSeconds, 1)]);
    }
    const vw = vh.map((_, c) => Math.max(...vt.map((row) => row[c].length)));
    lines.push('');
    for (const [i, row] of vt.entries()) {
      lines.push(row.map((cell, c) => (c < 3 ? cell.padEnd(vw[c]) : cell.padStart(vw[c]))).join('  ').trimEnd());
      if (i === 0) lines.push(vw.map((w) => '-'.repeat(w)).join('  '));
    }
    if (params.size) lines.push('', ...[...params].filter(([name]) => report.clv!.some((r) => r.name === name)).map(([name, text]) => `${name}: ${text}`));
    lines.push('', 'Decile calibration (10 equal-count bins of the prediction, lowest first; mean predicted / mean actual):');
    for (const r of report.clv) lines.push(`  ${r.name}: ${r.calibration.map((b) => `${b.meanPredicted.toFixed(0)}/${b.meanActual.toFixed(0)}`).join(' ')}`);
    const against = report.clv.filter((r) => r.versusBaselines);
    if (against.length) {
      lines.push('', 'Against each baseline on the same customers (paired bootstrap, 1,000 resamples; sampling noise at this cutoff only):');
      for (const r of against) {
        for (const [baseline, d] of Object.entries(r.versusBaselines!)) lines.push(`  ${r.name} − ${baseline}: Gini ${gap(d.gini)}, top-decile ${gap(d.topDecileCapture)}`);
      }
    }
  }
  for (const fail of report.failures ?? []) lines.push(`FAILED ${fail.task} ${fail.name}: ${fail.error}`);
  return lines.join('\n');
}

function roundCalibration(c: Reliability): Reliability {
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return { meanPredicted: r(c.meanPredicted), observed: r(c.observed), ece: r(c.ece), bins: c.bins.map((b) => ({ ...b, meanPredicted: r(b.meanPredicted), observed: r(b.observed) })) };
}
