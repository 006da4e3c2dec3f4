import type { Job } from 'bull';
import type { Logger } from 'pino';
import { PgTxnSource } from '../data/pg-source';
import { readClean } from '../eval/clean';
import { TRAIN_QUEUE, readPayload, type ModelKind } from '@loyalty/jobs';
import { initBackend } from '../tf/backend';
import { REGISTRY, scoringModel } from '../eval/registry';
import { earlierChurnScoresOrNone } from '../training/churn-trend';
import { decideGate, rescores, runPipeline, type Progress } from '../training/pipeline';
import type { Bands, ModelStore, ValueBandQuantiles } from '../training/store';
import type { ServedModels } from '../model-plugins';
import { DAY_MS } from '../time';

export interface TrainResult {
  modelVersionId: string;
  status: 'ACTIVE' | 'REJECTED' | 'RETIRED';
  gateReason: string;
  metrics: Record<string, unknown>;
}

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
 */
export function handleTrain(
  kind: ModelKind,
  deps: { databaseUrl: string; store: ModelStore; bands: Bands; valueBands: ValueBandQuantiles; log: Logger; /** The built-in models unless given. */ models?: ServedModels },
) {
  return async (job: Job<unknown>): Promise<TrainResult> => {
    const payload = readPayload(TRAIN_QUEUE[kind], job.data, [1]);
    if (payload.kind !== kind) throw new Error(`a ${payload.kind} payload on the ${TRAIN_QUEUE[kind]} queue`);
    const log = deps.log.child({ jobId: job.id, kind: payload.kind });
    const jobId = String(job.id);
    const started = performance.now();
    const progress = (p: Progress & { modelVersionId?: string }) => job.progress(p).catch(() => undefined);

    // Handed out again after an attempt that finished: answer with that version instead of training a second one.
    const finished = await deps.store.finishedAttempt(payload.kind, jobId);
    if (finished) {
      log.warn({ modelVersionId: finished.id, status: finished.status }, 'train.already_finished');
      await progress({ phase: 'done', percent: 100, modelVersionId: finished.id });
      return { modelVersionId: finished.id, status: finished.status as TrainResult['status'], gateReason: finished.gateReason, metrics: finished.metrics };
    }
    const leftovers = await deps.store.failLeftovers(payload.kind, jobId);
    if (leftovers) log.warn({ leftovers }, 'train.previous_attempt_abandoned');
    const { backend } = await initBackend();
    await progress({ phase: 'loading', percent: 0 });
    const history = await readClean(new PgTxnSource(deps.databaseUrl));
    const horizonDays = payload.horizonDays ?? defaultHorizonDays(history.rows);
    const versionId = await deps.store.start(payload.kind, jobId, job.attemptsMade + 1, backend, horizonDays);
    log.info({ modelVersionId: versionId, backend, attempt: job.attemptsMade + 1, rows: history.rows.length, horizonDays }, 'train.started');

    try {
      await progress({ phase: 'loading', percent: 2, modelVersionId: versionId });
      let lastLog = 0;
      const out = await runPipeline(history.rows, {
        kind: payload.kind,
        horizonDays,
        maxEpochs: payload.maxEpochs,
        modelName: deps.models?.names[kind],
        registry: deps.models?.registry,
        // VALUE reads returns as features; the platform's orders carry them as returned quantities, netted already.
        context: { returns: history.returns },
        onProgress: async (p) => {
          await progress({ ...p, modelVersionId: versionId });
          if (p.loss !== undefined && performance.now() - lastLog > 5000) {
            lastLog = performance.now();
            log.info({ phase: p.phase, epoch: p.epoch, epochs: p.epochs, loss: p.loss }, 'train.progress');
          }
        },
      });

      await progress({ phase: 'writing', percent: 85, modelVersionId: versionId });
      if (out.kind === 'RECOMMENDER') {
        await deps.store.writeRecommendations(versionId, out, (done, total) => progress({ phase: 'writing', percent: 85 + (10 * done) / total, modelVersionId: versionId }));
      } else if (out.kind === 'CHURN') {
        // Members with no score four weeks old are compared with this version's score of them a month ago.
        const model = out.weights === null ? null : scoringModel(deps.models?.registry ?? REGISTRY, 'CHURN', out.algorithm);
        const earlier =
          model && rescores(model)
            ? await earlierChurnScoresOrNone(log, model, out.weights, history.rows, await deps.store.withoutPreviousChurnScore(versionId, 'active', out.serving.population), out.window.servingCutoff, horizonDays)
            : undefined;
        await deps.store.writeChurnScores(versionId, out, deps.bands, earlier);
      } else {
        const scoring = await deps.store.writeValueScores(versionId, out, deps.valueBands);
        log.info({ modelVersionId: versionId, ...scoring }, 'train.value_scored');
      }

      await progress({ phase: 'gate', percent: 96, modelVersionId: versionId });
      const active = await deps.store.activeMetrics(payload.kind);
      const gate = decideGate(out.gateChecks(active?.metrics ?? null));
      const weights = out.kind === 'RECOMMENDER' ? null : out.weights;
      const artefact = Buffer.from(JSON.stringify({ algorithm: out.algorithm, params: out.params, window: out.window, weights }));
      const status = await deps.store.finish(versionId, out, gate, performance.now() - started, artefact);
      await progress({ phase: 'done', percent: 100, modelVersionId: versionId });
      log.info({ modelVersionId: versionId, status, reason: gate.reason, seconds: Math.round((performance.now() - started) / 1000) }, 'train.finished');
      return { modelVersionId: versionId, status, gateReason: gate.reason, metrics: out.metrics as unknown as Record<string, unknown> };
    } catch (err) {
      await deps.store.fail(versionId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
      throw err;
    }
  };
}
