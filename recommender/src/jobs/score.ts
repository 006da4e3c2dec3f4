import type { Job } from 'bull';
import type { Logger } from 'pino';
import { PgTxnSource } from '../data/pg-source';
import { readClean } from '../eval/clean';
import { REGISTRY, scoringModel } from '../eval/registry';
import { QUEUES, readPayload } from '@loyalty/jobs';
import type { ServedModels } from '../model-plugins';
import { initBackend } from '../tf/backend';
import { earlierChurnScoresOrNone } from '../training/churn-trend';
import { DRIVERS_KEPT, rescores, valueServing, windowOf } from '../training/pipeline';
import { readPReturnByAmount } from '../training/p-return';
import type { Bands, ModelStore, ValueBandQuantiles } from '../training/store';

/** The model a version's artefact names when it names none: versions stored before artefacts named their algorithm. */
const BUILT_IN = { CHURN: 'TF-CHURN', VALUE: 'TF-VALUE' } as const;

export interface ScoreResult {
  modelVersionId: string | null;
  /** Members whose scores were written; 0 when there was nothing to score. */
  scored: number;
  /** Why nothing was scored, when nothing was. */
  skipped?: string;
}

/**
 * `recommender.score`: re-scores every member with a trained churn or customer-value version's stored weights on the
 * history as it is now (features as of the day after the latest purchase), then swaps the version's scores in one
 * transaction (for VALUE, with band thresholds drawn again from the new predictions). The version's model, built-in or
 * a model plugin's, scores through its `scoreStored` (RescoresChurn, RescoresValue); a model without it, or one this
 * worker has not loaded, is skipped with the reason. A failed or retried attempt leaves the previous scores in place,
 * since nothing is committed until the end.
 */
export function handleScore(deps: { databaseUrl: string; store: ModelStore; bands: Bands; valueBands: ValueBandQuantiles; log: Logger; /** The built-in models unless given. */ models?: ServedModels }) {
  const registry = deps.models?.registry ?? REGISTRY;
  return async (job: Job<unknown>): Promise<ScoreResult> => {
    const payload = readPayload(QUEUES.score, job.data, [1]);
    const log = deps.log.child({ jobId: job.id, kind: payload.kind });
    const started = performance.now();
    const skip = (modelVersionId: string | null, skipped: string): ScoreResult => {
      log.info({ skipped }, 'score.skipped');
      return { modelVersionId, scored: 0, skipped };
    };
    await job.progress({ phase: 'loading', percent: 0 }).catch(() => undefined);
    const version = await deps.store.scorable(payload.kind, payload.modelVersionId);
    if (!version) return skip(null, payload.modelVersionId ? `no trained ${payload.kind} version ${payload.modelVersionId}` : `no active ${payload.kind} version`);
    const artefact = version.artefact ? (JSON.parse(version.artefact.toString('utf8')) as { algorithm?: string; weights?: unknown; pReturnByAmount?: unknown }) : null;
    const algorithm = artefact?.algorithm ?? BUILT_IN[payload.kind];
    const model = scoringModel(registry, payload.kind, algorithm);
    if (!model) return skip(version.id, `${payload.kind} version ${version.id} is ${algorithm}, which this worker has not loaded (LOYALTY_MODEL_PLUGINS)`);
    if (!rescores(model)) return skip(version.id, `${payload.kind} version ${version.id} is ${algorithm}, which is scored when it is trained, not from stored weights`);
    const weights = artefact?.weights;
    if (weights === undefined || weights === null) throw new Error(`model version ${version.id} has no stored weights to score with; retrain the ${payload.kind.toLowerCase()} model`);
    const pReturnFit = readPReturnByAmount(artefact?.pReturnByAmount);

    await initBackend();
    const history = await readClean(new PgTxnSource(deps.databaseUrl));
    const population = [...new Set(history.rows.map((r) => r.customerId))].sort();
    const { servingCutoff } = windowOf(history.rows, version.horizonDays);
    const kept = <D>(drivers: D[][] | undefined) => population.map((_, i) => drivers?.[i]?.slice(0, DRIVERS_KEPT) ?? []);
    await job.progress({ phase: 'scoring', percent: 40, modelVersionId: version.id }).catch(() => undefined);
    let scored: number;
    if (payload.kind === 'VALUE') {
      const out = await model.scoreStored(weights, history.rows, population, servingCutoff, version.horizonDays, { returns: history.returns });
      checkLength(algorithm, out.predictions, population.length);
      await job.progress({ phase: 'writing', percent: 70, modelVersionId: version.id }).catch(() => undefined);
      const scoring = await deps.store.replaceValueScores(version.id, valueServing(population, out, kept(out.drivers), pReturnFit), deps.valueBands);
      scored = scoring.members;
    } else {
      const out = await model.scoreStored(weights, history.rows, population, servingCutoff, version.horizonDays);
      checkLength(algorithm, out.scores, population.length);
      // Members with no score four weeks old are compared with this version's score of them a month ago.
      const missing = await deps.store.withoutPreviousChurnScore(version.id, 'own', population);
      const earlier = await earlierChurnScoresOrNone(log, model, weights, history.rows, missing, servingCutoff, version.horizonDays);
      await job.progress({ phase: 'writing', percent: 70, modelVersionId: version.id }).catch(() => undefined);
      scored = await deps.store.replaceChurnScores(version.id, { population, scores: out.scores, drivers: kept(out.drivers) }, deps.bands, earlier);
    }
    await job.progress({ phase: 'done', percent: 100, modelVersionId: version.id }).catch(() => undefined);
    log.info({ modelVersionId: version.id, algorithm, scored, seconds: Math.round((performance.now() - started) / 1000) }, 'score.finished');
    return { modelVersionId: version.id, scored };
  };
}

/** A plugin's scorer answering for another population would write scores to the wrong members: refuse it. */
function checkLength(algorithm: string, scores: ArrayLike<number>, expected: number) {
  if (scores?.length !== expected) throw new Error(`${algorithm}.scoreStored returned ${scores?.length ?? 'no'} scores for ${expected} members`);
}
