/**
 * Each churn score the worker writes keeps the score the member was served before it (a new version: the active
 * version's; a version scored again: its own earlier run), which the rising-risk segment attribute reads.
 */
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { ModelStore } from '../../recommender/src/training/store';
import type { ChurnOutput } from '../../recommender/src/training/pipeline';

const h = useHarness();
const b = build(h);
let store: ModelStore;

beforeAll(() => {
  store = new ModelStore(h.config.DATABASE_URL);
});
afterAll(() => store.close());

const BANDS = { medium: 0.3, high: 0.6 };
const serving = (population: string[], scores: number[]) => ({ population, scores: Float64Array.from(scores), drivers: population.map(() => []) });

async function version(status: string, scoredAt: string | null): Promise<string> {
  const [row] = await h.sql<{ id: string }>(
    `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at, scored_at)
     values (gen_random_uuid(), 'CHURN', ?, 'TEST', '{}', '{}', '{}', 90, now(), '2026-11-01T00:00:00Z', ?) returning id`,
    [status, scoredAt],
  );
  return row.id;
}

const rows = async (versionId: string) =>
  (
    await h.sql<{ member_id: string; score: number; previous_score: number | null; previous_scored_at: string | null }>(
      `select member_id, score, previous_score, previous_scored_at from member_churn_score where model_version_id = ? order by score`,
      [versionId],
    )
  ).map((r) => ({ ...r, previous_scored_at: r.previous_scored_at === null ? null : new Date(r.previous_scored_at) }));

it('a new version keeps the active version’s scores as previous, a re-scoring its own; the segment finds whose risk rose', async () => {
  const [steady, rising, newcomer] = [await b.member().save(), await b.member().save(), await b.member().save()];
  const active = await version('ACTIVE', '2026-11-20T06:00:00Z');
  await h.sql(
    `insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, 0.25, 'LOW', '[]'), (?, ?, 0.5, 'MEDIUM', '[]')`,
    [active, steady.id, active, rising.id],
  );

  // A new version, trained while the first one is served.
  const candidate = await version('TRAINING', null);
  await store.writeChurnScores(candidate, { serving: serving([steady.id, rising.id, newcomer.id], [0.25, 0.75, 0.5]) } as unknown as ChurnOutput, BANDS);
  expect(await rows(candidate)).toEqual([
    { member_id: steady.id, score: 0.25, previous_score: 0.25, previous_scored_at: new Date('2026-11-20T06:00:00Z') },
    { member_id: newcomer.id, score: 0.5, previous_score: null, previous_scored_at: null },
    { member_id: rising.id, score: 0.75, previous_score: 0.5, previous_scored_at: new Date('2026-11-20T06:00:00Z') },
  ]);
  // The served version's own scores are untouched.
  expect((await rows(active)).map((r) => r.previous_score)).toEqual([null, null]);

  // Promoted, then scored again: each score keeps the one it replaced (the version was never batch-scored, so its
  // scores date from the end of its training).
  await h.sql(`update model_version set status = case when id = ? then 'ACTIVE' else 'RETIRED' end where id in (?, ?)`, [candidate, candidate, active]);
  await store.replaceChurnScores(candidate, serving([steady.id, rising.id, newcomer.id], [0.25, 0.875, 0.375]), BANDS);
  expect(await rows(candidate)).toEqual([
    { member_id: steady.id, score: 0.25, previous_score: 0.25, previous_scored_at: new Date('2026-11-01T00:00:00Z') },
    { member_id: newcomer.id, score: 0.375, previous_score: 0.5, previous_scored_at: new Date('2026-11-01T00:00:00Z') },
    { member_id: rising.id, score: 0.875, previous_score: 0.75, previous_scored_at: new Date('2026-11-01T00:00:00Z') },
  ]);

  const risen = await h.app.services.segments.membersOf(h.em(), { rule: { attribute: 'churnScoreChange', op: 'gt', value: 0 } }, new Date());
  expect(risen).toEqual([rising.id]);
  const fallen = await h.app.services.segments.membersOf(h.em(), { rule: { attribute: 'churnScoreChange', op: 'lte', value: -0.125 } }, new Date());
  expect(fallen).toEqual([newcomer.id]);
});
