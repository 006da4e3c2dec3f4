import type { Logger } from 'pino';
import type { RescoresChurn, Txn } from '../eval/types';
import { DAY_MS } from '../time';
import { CHURN_TREND_DAYS, checkChurnProbabilities, type EarlierChurnScores } from './store';

/**
 * Scores from a churn version's stored weights on the history as it stood CHURN_TREND_DAYS before the scores being
 * written (before now, when the history runs up to today), for the `members` that bought before then: the same
 * model's view of each member a month ago, so a rising risk shows from the first training instead of four weeks of
 * kept scores later, and reflects the member's behaviour rather than a change of model. Members who first bought
 * since get none.
 */
export async function earlierChurnScores(
  model: RescoresChurn,
  weights: unknown,
  rows: readonly Txn[],
  members: readonly string[],
  servingCutoff: number,
  horizonDays: number,
  now = Date.now(),
): Promise<EarlierChurnScores> {
  const asOf = Math.min(servingCutoff, now) - CHURN_TREND_DAYS * DAY_MS;
  // Only the rows before the cutoff, as in training: a model plugin need not filter them itself.
  const past = rows.filter((r) => r.time < asOf);
  const boughtBefore = new Set(past.map((r) => r.customerId));
  const population = members.filter((m) => boughtBefore.has(m));
  if (!population.length) return { asOf: new Date(asOf), population, scores: new Float64Array(0) };
  const { scores } = await model.scoreStored(weights, past, population, asOf, horizonDays);
  if (scores?.length !== population.length) throw new Error(`scoreStored returned ${scores?.length ?? 'no'} scores for ${population.length} members as of ${new Date(asOf).toISOString()}`);
  checkChurnProbabilities(population, scores, new Date(asOf));
  return { asOf: new Date(asOf), population, scores };
}

/**
 * earlierChurnScores for a job: they only fill in what a rising risk is measured against, so a model that cannot score
 * the past (a plugin's, say) costs those members their previous score, logged, not the scores being written.
 */
export async function earlierChurnScoresOrNone(log: Logger, ...args: Parameters<typeof earlierChurnScores>): Promise<EarlierChurnScores | undefined> {
  try {
    const earlier = await earlierChurnScores(...args);
    log.info({ asOf: earlier.asOf.toISOString(), members: earlier.population.length }, 'churn.previous_recomputed');
    return earlier;
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'churn.previous_not_recomputed');
    return undefined;
  }
}
