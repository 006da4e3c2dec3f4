import type { Job } from 'bull';
import type { Logger } from 'pino';
import { PgTxnSource } from '../data/pg-source';
import { readClean } from '../eval/clean';
import { scoreWithWeights, type ChurnWeights } from '../models/churn-model';
import { scoreValueWithWeights, type ValueWeights } from '../models/value-model';
import { QUEUES, readPayload } from '@loyalty/jobs';
import { initBackend } from '../tf/backend';
import { windowOf } from '../training/pipeline';
import type { Bands, ModelStore, ValueBandQuantiles } from '../training/store';

/** The algorithm whose stored weights each kind's re-scoring reads (models/churn-model.ts, models/value-model.ts). */
const SCORABLE = { CHURN: 'TF-CHURN', VALUE: 'TF-VALUE' } as const;

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
 * transaction (for VALUE, with band thresholds drawn again from the new predictions). A failed or retried attempt
 * leaves the previous scores in place, since nothing is committed until the end.
 */
export function handleScore(deps: { databaseUrl: string; store: ModelStore; bands: Bands; valueBands: ValueBandQuantiles; log: Logger }) {
  return async (job: Job<unknown>): Promise<ScoreResult> => {
    const payload = readPayload(QUEUES.score, job.data, [1]);
    const log = deps.log.child({ jobId: job.id, kind: payload.kind });
    const started = performance.now();
    await job.progress({ phase: 'loading', percent: 0 }).catch(() => undefined);
    const version = await deps.store.scorable(payload.kind, payload.modelVersionId);
    if (!version) {
      const skipped = payload.modelVersionId ? `no trained ${payload.kind} version ${payload.modelVersionId}` : `no active ${payload.kind} version`;
      log.info({ skipped }, 'score.skipped');
      return { modelVersionId: null, scored: 0, skipped };
    }
    const artefact = version.artefact ? (JSON.parse(version.artefact.toString('utf8')) as { algorithm?: string; weights?: unknown }) : null;
    // Only the built-in TensorFlow.js models store weights this job can score with; a model plugin's version is scored
    // when it is trained (nightly, or retrainModel).
    if (artefact?.algorithm && artefact.algorithm !== SCORABLE[payload.kind]) {
      const skipped = `${payload.kind} version ${version.id} is ${artefact.algorithm}, which is scored when it is trained, not from stored weights`;
      log.info({ skipped }, 'score.skipped');
      return { modelVersionId: version.id, scored: 0, skipped };
    }
    const stored = artefact?.weights;
    if (!stored) throw new Error(`model version ${version.id} has no stored weights to score with; retrain the ${payload.kind.toLowerCase()} model`);

    await initBackend();
    const history = await readClean(new PgTxnSource(deps.databaseUrl));
    const population = [...new Set(history.rows.map((r) => r.customerId))].sort();
    await job.progress({ phase: 'scoring', percent: 40, modelVersionId: version.id }).catch(() => undefined);
    let scored: number;
    if (payload.kind === 'VALUE') {
      const weights = stored as ValueWeights;
      const { servingCutoff } = windowOf(history.rows, weights.horizonDays);
      const out = scoreValueWithWeights(weights, history.rows, population, servingCutoff, history.returns);
      await job.progress({ phase: 'writing', percent: 70, modelVersionId: version.id }).catch(() => undefined);
      const scoring = await deps.store.replaceValueScores(version.id, { population, amounts: out.expected, pReturn: out.pReturn, drivers: out.drivers }, deps.valueBands);
      scored = scoring.members;
    } else {
      const weights = stored as ChurnWeights;
      const { servingCutoff } = windowOf(history.rows, weights.horizonDays);
      const { scores, drivers } = scoreWithWeights(weights, history.rows, population, servingCutoff);
      await job.progress({ phase: 'writing', percent: 70, modelVersionId: version.id }).catch(() => undefined);
      scored = await deps.store.replaceChurnScores(version.id, { population, scores, drivers }, deps.bands);
    }
    await job.progress({ phase: 'done', percent: 100, modelVersionId: version.id }).catch(() => undefined);
    log.info({ modelVersionId: version.id, scored, seconds: Math.round((performance.now() - started) / 1000) }, 'score.finished');
    return { modelVersionId: version.id, scored };
  };
}
