/**
 * Each churn score the worker writes carries the member's score history forward: the newest score at least four weeks
 * old (previous, what a rising risk is measured against) and the oldest younger one (pending, which takes over once it
 * is four weeks old), from whatever version the member is served now. Times are set in the rows themselves.
 */
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { CHURN_TREND_DAYS, ModelStore } from '../../recommender/src/training/store';
import type { ChurnOutput } from '../../recommender/src/training/pipeline';

const h = useHarness();
const b = build(h);
let store: ModelStore;

beforeAll(() => {
  store = new ModelStore(h.config.DATABASE_URL);
});
afterAll(() => store.close());

const DAY = 86_400_000;
const BANDS = { medium: 0.3, high: 0.6 };
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);
const serving = (population: string[], scores: number[]) => ({ population, scores: Float64Array.from(scores), drivers: population.map(() => []) });

async function version(status: string, finishedAt: Date, scoredAt: Date | null): Promise<string> {
  const [row] = await h.sql<{ id: string }>(
    `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, scored_at)
     values (gen_random_uuid(), 'CHURN', ?, 'TEST', '{}', '{}', '{}', 90, now(), ?, ?) returning id`,
    [status, finishedAt, scoredAt],
  );
  return row.id;
}

type History = { score: number; previous: number | null; previousAt: number | null; pending: number | null; pendingAt: number | null };
async function history(versionId: string, memberId: string): Promise<History> {
  const [r] = await h.sql<any>(
    `select score, previous_score, previous_scored_at, pending_score, pending_scored_at from member_churn_score where model_version_id = ? and member_id = ?`,
    [versionId, memberId],
  );
  const time = (t: string | null) => (t === null ? null : new Date(t).getTime());
  return { score: r.score, previous: r.previous_score, previousAt: time(r.previous_scored_at), pending: r.pending_score, pendingAt: time(r.pending_scored_at) };
}

it(`measures a change against a score at least ${CHURN_TREND_DAYS} days old, across versions, and rolls the history forward`, async () => {
  const [member, newcomer] = [await b.member().save(), await b.member().save()];
  const lastMonth = daysAgo(40);
  const active = await version('ACTIVE', daysAgo(50), lastMonth);
  await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.25, 'LOW', '[]')`, [active, member.id]);

  // A new version trained today, while the old one is served: the old score is old enough to compare with.
  const trainedAt = daysAgo(0.01);
  const candidate = await version('TRAINING', trainedAt, null);
  await store.writeChurnScores(candidate, { serving: serving([member.id, newcomer.id], [0.5, 0.75]) } as unknown as ChurnOutput, BANDS);
  expect(await history(candidate, member.id)).toEqual({ score: 0.5, previous: 0.25, previousAt: lastMonth.getTime(), pending: null, pendingAt: null });
  expect(await history(candidate, newcomer.id)).toEqual({ score: 0.75, previous: null, previousAt: null, pending: null, pendingAt: null });
  expect(await history(active, member.id)).toEqual({ score: 0.25, previous: null, previousAt: null, pending: null, pendingAt: null });

  // Promoted and scored again a few hours later: today's score is too young to compare with, so it waits as pending.
  await h.sql(`update model_version set status = case when id = ? then 'ACTIVE' else 'RETIRED' end where id in (?, ?)`, [candidate, candidate, active]);
  await store.replaceChurnScores(candidate, serving([member.id, newcomer.id], [0.625, 0.5]), BANDS);
  expect(await history(candidate, member.id)).toEqual({ score: 0.625, previous: 0.25, previousAt: lastMonth.getTime(), pending: 0.5, pendingAt: trainedAt.getTime() });
  expect(await history(candidate, newcomer.id)).toEqual({ score: 0.5, previous: null, previousAt: null, pending: 0.75, pendingAt: trainedAt.getTime() });

  // Scored again: the pending score stays (the oldest young one), whatever the last run said.
  await store.replaceChurnScores(candidate, serving([member.id, newcomer.id], [0.75, 0.5]), BANDS);
  const [{ scored_at: secondRun }] = await h.sql<{ scored_at: string }>(`select scored_at from model_version where id = ?`, [candidate]);
  expect(await history(candidate, member.id)).toMatchObject({ score: 0.75, previous: 0.25, pending: 0.5, pendingAt: trainedAt.getTime() });

  const rising = (value: number) => h.app.services.segments.membersOf(h.em(), { rule: { attribute: 'churnScoreChange', op: 'gte', value } }, new Date());
  expect(await rising(0.5)).toEqual([member.id]); // 0.75 against 0.25 last month; the newcomer has nothing to compare with
  expect(await rising(0.51)).toEqual([]);

  // Four weeks on (the pending score's time moved back instead): it becomes the previous score, and the last run's
  // score the pending one.
  const monthAgo = daysAgo(CHURN_TREND_DAYS + 1);
  await h.sql(`update member_churn_score set pending_scored_at = ? where model_version_id = ?`, [monthAgo, candidate]);
  await store.replaceChurnScores(candidate, serving([member.id, newcomer.id], [0.875, 0.25]), BANDS);
  expect(await history(candidate, member.id)).toEqual({
    score: 0.875, previous: 0.5, previousAt: monthAgo.getTime(), pending: 0.75, pendingAt: new Date(secondRun).getTime(),
  });
  expect(await history(candidate, newcomer.id)).toMatchObject({ score: 0.25, previous: 0.75, pending: 0.5 });
  const fallen = await h.app.services.segments.membersOf(h.em(), { rule: { attribute: 'churnScoreChange', op: 'lte', value: -0.5 } }, new Date());
  expect(fallen).toEqual([newcomer.id]);
});

it('compares a member with no score four weeks old with the version’s score of them a month ago, and only such a member', async () => {
  const [kept, recomputed, newcomer] = [await b.member().save(), await b.member().save(), await b.member().save()];
  await h.sql(`update model_version set status = 'RETIRED' where kind = 'CHURN' and status = 'ACTIVE'`);
  const [lastMonth, lastWeek, scoredAt] = [daysAgo(35), daysAgo(7), daysAgo(3)];
  const active = await version('ACTIVE', daysAgo(50), scoredAt);
  // kept has a score five weeks old; recomputed only scores of the last week (its current one and a pending one).
  await h.sql(
    `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at, pending_score, pending_scored_at)
     values (?, ?, 0.25, 'LOW', '[]', 0.375, ?, null, null), (?, ?, 0.125, 'LOW', '[]', null, null, 0.0625, ?)`,
    [active, kept.id, lastMonth, active, recomputed.id, lastWeek],
  );
  const candidate = await version('TRAINING', daysAgo(0.01), null);
  const population = [kept.id, recomputed.id, newcomer.id];
  expect((await store.withoutPreviousChurnScore(candidate, 'active', population)).sort()).toEqual([recomputed.id, newcomer.id].sort());
  // Re-scoring a version reads its own rows: the candidate has none yet.
  expect((await store.withoutPreviousChurnScore(candidate, 'own', population)).sort()).toEqual([...population].sort());

  // Scores recomputed as of a history less than four weeks old are not a previous score: refused, nothing written.
  const tooYoung = { asOf: daysAgo(CHURN_TREND_DAYS - 1), population, scores: Float64Array.from([0.5, 0.5, 0.5]) };
  await expect(store.writeChurnScores(candidate, { serving: serving(population, [0.5, 0.75, 0.625]) } as unknown as ChurnOutput, BANDS, tooYoung)).rejects.toThrow(/younger than 28 days/);
  const notProbability = { asOf: daysAgo(CHURN_TREND_DAYS + 1), population, scores: Float64Array.from([0.5, NaN, 0.5]) };
  await expect(store.writeChurnScores(candidate, { serving: serving(population, [0.5, 0.75, 0.625]) } as unknown as ChurnOutput, BANDS, notProbability)).rejects.toThrow(/probabilities/);
  expect(await h.sql(`select 1 from member_churn_score where model_version_id = ?`, [candidate])).toHaveLength(0);

  const asOf = daysAgo(CHURN_TREND_DAYS + 0.5);
  const earlier = { asOf, population, scores: Float64Array.from([0.875, 0.375, 0.5]) };
  await store.writeChurnScores(candidate, { serving: serving(population, [0.5, 0.75, 0.625]) } as unknown as ChurnOutput, BANDS, earlier);
  // A score kept four weeks wins over a recomputed one; the others take theirs, dated as of the history it describes.
  expect(await history(candidate, kept.id)).toEqual({ score: 0.5, previous: 0.375, previousAt: lastMonth.getTime(), pending: 0.25, pendingAt: scoredAt.getTime() });
  expect(await history(candidate, recomputed.id)).toEqual({ score: 0.75, previous: 0.375, previousAt: asOf.getTime(), pending: 0.0625, pendingAt: lastWeek.getTime() });
  expect(await history(candidate, newcomer.id)).toEqual({ score: 0.625, previous: 0.5, previousAt: asOf.getTime(), pending: null, pendingAt: null });
  // Now every member has a score to compare with: nothing left to recompute on the next scoring of the candidate.
  expect(await store.withoutPreviousChurnScore(candidate, 'own', population)).toEqual([]);
});
