import type { Job } from 'bull';
import type { Logger } from 'pino';
import { PgTxnSource } from '../data/pg-source';
import { readClean, type CleanHistory } from '../eval/clean';
import { TRAIN_QUEUE, readPayload, type ModelKind } from '@loyalty/jobs';
import { initBackend } from '../tf/backend';
import { REGISTRY, scoringModel } from '../eval/registry';
import { earlierChurnScoresOrNone } from '../training/churn-trend';
import { baselineEntries, decideGate, dominantBaseline, gateChecksFor, rescores, runPipeline, type Progress } from '../training/pipeline';
import type { Bands, FinishedVersion, ModelStore, ValueBandQuantiles } from '../training/store';
import type { ServedModels } from '../model-plugins';
import { DAY_MS } from '../time';

export interface TrainResult {
  modelVersionId: string;
  status: 'ACTIVE' | 'REJECTED' | 'RETIRED';
  gateReason: string;
  metrics: Record<string, unknown>;
  /** When the model was kept out and a baseline was trained to be served in its place: that version. */
  fallback?: { modelVersionId: string; algorithm: string; status: TrainResult['status']; gateReason: string };
}

/**
 * Kinds whose best baseline is served when the model is kept out and no learned version is served: their scores are
 * read member by member (segments, the dashboard, member 360), and a well-known baseline that passes the gate is
 * more use to a marketer than nothing.
 */
const FALLBACK_KINDS: ReadonlySet<ModelKind> = new Set(['CHURN', 'VALUE']);

/** The protocol's 90 days, or a quarter of a shorter history (at least a week), so young programmes can train. */
export function defaultHorizonDays(rows: readonly { time: number }[]): number {
  if (rows.length === 0) return 90;
  let first = Infinity;
  let last = -Infinity;
  for (const r of rows) (first = Math.min(first, r.time)), (last = Math.max(last, r.time));
  return Math.max(7, Math.min(90, Math.floor((last - first) / DAY_MS / 4)));
}

/**
 * `recommender.train-recommender`, `recommender.train-churn` and `recommender.train-value`: reads the purchase history from PostgreSQL, trains one model, evaluates it and the baselines on
 * the latest `horizonDays`, writes its scores under a new TRAINING version, then lets the promotion gate decide
 * whether it replaces the active version. A retried attempt (after a failure or a stalled worker) starts afresh and
 * marks what the dead attempt wrote as FAILED; nothing is served until `finish` flips the version in one transaction.
 *
 * A churn or value model kept out while no learned version of its kind is served (none yet, or a baseline served in
 * the same way before) is followed by its fallback: the baseline that beats every other baseline on each gate metric
 * is trained on the same history as a version of its own (job id `<job>.fallback`), which the gate compares with the
 * other baselines and the active version like any other.
 */
export function handleTrain(
  kind: ModelKind,
  deps: { databaseUrl: string; store: ModelStore; bands: Bands; valueBands: ValueBandQuantiles; log: Logger; /** The built-in models unless given. */ models?: ServedModels },
) {
  const registry = deps.models?.registry ?? REGISTRY;
  return async (job: Job<unknown>): Promise<TrainResult> => {
    const payload = readPayload(TRAIN_QUEUE[kind], job.data, [1]);
    if (payload.kind !== kind) throw new Error(`a ${payload.kind} payload on the ${TRAIN_QUEUE[kind]} queue`);
    const log = deps.log.child({ jobId: job.id, kind: payload.kind });
    const jobId = String(job.id);
    const progress = (p: Progress & { modelVersionId?: string }) => job.progress(p).catch(() => undefined);
    let history: Promise<CleanHistory> | undefined;
    const readHistory = () => (history ??= readClean(new PgTxnSource(deps.databaseUrl)));

    /** Trains `modelName` as a version of this job (or answers with the one an earlier attempt finished). */
    const trainVersion = async (versionJobId: string, modelName: string | undefined, percent: (p: number) => number, insteadOf?: FinishedVersion): Promise<FinishedVersion> => {
      const vlog = log.child({ versionJobId });
      // Handed out again after an attempt that finished: answer with that version instead of training a second one.
      const finished = await deps.store.finishedAttempt(kind, versionJobId);
      if (finished) {
        vlog.warn({ modelVersionId: finished.id, status: finished.status }, 'train.already_finished');
        return finished;
      }
      const leftovers = await deps.store.failLeftovers(kind, versionJobId);
      if (leftovers) vlog.warn({ leftovers }, 'train.previous_attempt_abandoned');
      const started = performance.now();
      const { backend } = await initBackend();
      await progress({ phase: 'loading', percent: percent(0) });
      const { rows, returns } = await readHistory();
      const horizonDays = payload.horizonDays ?? defaultHorizonDays(rows);
      const versionId = await deps.store.start(kind, versionJobId, job.attemptsMade + 1, backend, horizonDays);
      const report = (p: Progress) => progress({ ...p, percent: percent(p.percent), modelVersionId: versionId });
      vlog.info({ modelVersionId: versionId, backend, attempt: job.attemptsMade + 1, rows: rows.length, horizonDays, model: modelName }, 'train.started');

      try {
        await report({ phase: 'loading', percent: 2 });
        let lastLog = 0;
        const out = await runPipeline(rows, {
          kind,
          horizonDays,
          maxEpochs: payload.maxEpochs,
          modelName,
          registry,
          // VALUE reads returns as features; the platform's orders carry them as returned quantities, netted already.
          context: { returns },
          onProgress: async (p) => {
            await report(p);
            if (p.loss !== undefined && performance.now() - lastLog > 5000) {
              lastLog = performance.now();
              vlog.info({ phase: p.phase, epoch: p.epoch, epochs: p.epochs, loss: p.loss }, 'train.progress');
            }
          },
        });

        await report({ phase: 'writing', percent: 85 });
        if (out.kind === 'RECOMMENDER') {
          await deps.store.writeRecommendations(versionId, out, (done, total) => report({ phase: 'writing', percent: 85 + (10 * done) / total }));
        } else if (out.kind === 'CHURN') {
          // Members with no score four weeks old are compared with this version's score of them a month ago.
          const model = out.weights === null ? null : scoringModel(registry, 'CHURN', out.algorithm);
          const earlier =
            model && rescores(model)
              ? await earlierChurnScoresOrNone(vlog, model, out.weights, rows, await deps.store.withoutPreviousChurnScore(versionId, 'active', out.serving.population), out.window.servingCutoff, horizonDays)
              : undefined;
          await deps.store.writeChurnScores(versionId, out, deps.bands, earlier);
        } else {
          const scoring = await deps.store.writeValueScores(versionId, out, deps.valueBands);
          vlog.info({ modelVersionId: versionId, ...scoring }, 'train.value_scored');
        }

        await report({ phase: 'gate', percent: 96 });
        const active = await deps.store.activeMetrics(kind);
        const gate = decideGate(out.gateChecks(active?.metrics ?? null));
        if (insteadOf) {
          // Said where the Models page shows it: what this baseline stands in for, and why that was kept out.
          out.params = { ...out.params, servedInsteadOf: { algorithm: insteadOf.algorithm, modelVersionId: insteadOf.id } };
          gate.reason = `in place of ${insteadOf.algorithm}, ${insteadOf.gateReason} — ${gate.reason}`;
        }
        const weights = out.kind === 'RECOMMENDER' ? null : out.weights;
        const pReturnByAmount = out.kind === 'VALUE' ? out.pReturnByAmount ?? undefined : undefined;
        const artefact = Buffer.from(JSON.stringify({ algorithm: out.algorithm, params: out.params, window: out.window, weights, pReturnByAmount }));
        const status = await deps.store.finish(versionId, out, gate, performance.now() - started, artefact);
        vlog.info({ modelVersionId: versionId, status, reason: gate.reason, seconds: Math.round((performance.now() - started) / 1000) }, 'train.finished');
        return { id: versionId, status, algorithm: out.algorithm, gateReason: gate.reason, metrics: out.metrics as unknown as Record<string, unknown>, baselineMetrics: out.baselineMetrics };
      } catch (err) {
        await deps.store.fail(versionId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
        throw err;
      }
    };

    /** The baseline to serve in place of a kept-out model, or null (with the reason logged). */
    const fallbackFor = async (keptOut: FinishedVersion): Promise<string | null> => {
      if (!FALLBACK_KINDS.has(kind) || keptOut.status !== 'REJECTED') return null;
      const baselines = baselineEntries(kind, registry).map((e) => e.name);
      if (baselines.includes(keptOut.algorithm)) return null;
      const active = await deps.store.activeMetrics(kind);
      if (active && !baselines.includes(active.algorithm)) return null;
      const best = dominantBaseline(gateChecksFor(kind, keptOut.metrics, keptOut.baselineMetrics, null));
      // The worker serves churn probabilities only: a baseline that ranks without them (RECENCY) has no Brier score.
      const servable = best !== null && (kind !== 'CHURN' || typeof (keptOut.baselineMetrics[best] as { brier?: unknown } | undefined)?.brier === 'number');
      if (!servable) log.info({ keptOut: keptOut.id, best }, 'train.no_fallback');
      return servable ? best : null;
    };

    const trained = await trainVersion(jobId, deps.models?.names[kind], (p) => p);
    const result: TrainResult = { modelVersionId: trained.id, status: trained.status as TrainResult['status'], gateReason: trained.gateReason, metrics: trained.metrics };
    const baseline = await fallbackFor(trained);
    if (baseline) {
      try {
        const fallback = await trainVersion(`${jobId}.fallback`, baseline, (p) => 96 + (3 * p) / 100, trained);
        result.fallback = { modelVersionId: fallback.id, algorithm: fallback.algorithm, status: fallback.status as TrainResult['status'], gateReason: fallback.gateReason };
      } catch (err) {
        // The model's own version is recorded and its verdict stands; the next run tries the fallback again.
        log.error({ err, baseline }, 'train.fallback_failed');
      }
    }
    await progress({ phase: 'done', percent: 100, modelVersionId: trained.id });
    return result;
  };
}
