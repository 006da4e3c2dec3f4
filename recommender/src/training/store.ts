import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ModelKind } from '@loyalty/jobs';
import { MINOR_PER_UNIT } from '../data/pg-source';
import { DAY_MS } from '../time';
import type { ChurnOutput, GateDecision, RecsOutput } from './pipeline';
import type { ValueOutput } from './value-output';

const BATCH_USERS = 500;
/** The API's MAX_PREDICTED_VALUE_MINOR (member_value_score.amount_minor's check): sums over every member stay exact. */
export const MAX_PREDICTED_VALUE_MINOR = 1_000_000_000;

export interface Bands {
  medium: number;
  high: number;
}

/**
 * Churn scores are served as probabilities (banded, multiplied into value at risk): a model plugin's NaN or raw score
 * is refused, naming the first customer it was given for (`when`: the history's cutoff, for recomputed scores).
 */
export function checkChurnProbabilities(population: readonly string[], scores: ArrayLike<number>, when?: Date): void {
  for (let i = 0; i < scores.length; i++) {
    if (!(scores[i] >= 0 && scores[i] <= 1)) {
      throw new Error(`churn scores must be probabilities in [0, 1]; customer ${population[i]} got ${scores[i]}${when ? ` as of ${when.toISOString()}` : ''}`);
    }
  }
}

export function bandOf(score: number, bands: Bands): 'LOW' | 'MEDIUM' | 'HIGH' {
  return score >= bands.high ? 'HIGH' : score >= bands.medium ? 'MEDIUM' : 'LOW';
}

/** Quantiles of a VALUE version's predictions from which members are MEDIUM and HIGH (VALUE_BAND_*_QUANTILE). */
export interface ValueBandQuantiles {
  medium: number;
  high: number;
}

/** What a VALUE version stores about its scores (model_version.value_scoring, served as ModelVersion.valueScoring). */
export interface ValueScoring {
  currency: string;
  mediumQuantile: number;
  highQuantile: number;
  mediumFromMinor: number;
  highFromMinor: number;
  members: number;
}

/** A version an attempt of a training job finished (ACTIVE, REJECTED or since RETIRED), as the job answered with it. */
export interface FinishedVersion {
  id: string;
  status: string;
  algorithm: string;
  gateReason: string;
  metrics: Record<string, unknown>;
  baselineMetrics: Record<string, unknown>;
}

/** A predicted amount in currency units as the stored minor units: rounded and kept within the column's bounds. */
export function toValueMinor(amount: number): number {
  if (!Number.isFinite(amount)) throw new Error(`the value model predicted a non-finite amount (${amount})`);
  return Math.min(MAX_PREDICTED_VALUE_MINOR, Math.max(0, Math.round(amount * MINOR_PER_UNIT)));
}

/**
 * Band thresholds at quantiles of the amounts: the amount at rank floor(q·n) of the ascending list (nearest rank), so
 * about a share q of the members lie below it. Ties at a threshold all go up a band. A threshold is at least 1 minor
 * unit: a member predicted to spend nothing is LOW however many share that prediction.
 */
export function valueThresholds(amountsMinor: readonly number[], q: ValueBandQuantiles): { mediumFromMinor: number; highFromMinor: number } {
  const sorted = Float64Array.from(amountsMinor).sort();
  const at = (share: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] : 0);
  return { mediumFromMinor: Math.max(1, at(q.medium)), highFromMinor: Math.max(1, at(q.high)) };
}

export function valueBandOf(amountMinor: number, t: { mediumFromMinor: number; highFromMinor: number }): 'LOW' | 'MEDIUM' | 'HIGH' {
  return amountMinor >= t.highFromMinor ? 'HIGH' : amountMinor >= t.mediumFromMinor ? 'MEDIUM' : 'LOW';
}

/**
 * The worker's side of the model registry (tables owned by the API's migrations). Scores are written per version in
 * batches, each its own transaction; a version is served only once `finish` flips it to ACTIVE, in one transaction
 * that retires the previous one, so readers switch from one complete set to the other.
 */
export class ModelStore {
  private readonly pool: pg.Pool;

  constructor(private readonly connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 2 });
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** Runs `work` in one transaction on one connection: committed when it returns, rolled back when it throws. */
  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The version an earlier attempt of this job already finished, if any. Bull hands a job out again when its lock
   * lapsed (a long synchronous training step can starve the lock renewal), even though that attempt completed.
   */
  async finishedAttempt(kind: ModelKind, jobId: string): Promise<FinishedVersion | null> {
    // Job ids are unique per queue only (Bull counters, repeatable jobs), and each kind has its own queue.
    const res = await this.pool.query<{ id: string; status: string; algorithm: string; gate_reason: string | null; metrics: Record<string, unknown>; baseline_metrics: Record<string, unknown> }>(
      `select id, status, algorithm, gate_reason, metrics, baseline_metrics from model_version
       where kind = $2 and job_id like $1 and status not in ('TRAINING', 'FAILED') order by created_at limit 1`,
      [`${jobId}:%`, kind],
    );
    const row = res.rows[0];
    return row
      ? { id: row.id, status: row.status, algorithm: row.algorithm, gateReason: row.gate_reason ?? '', metrics: row.metrics, baselineMetrics: row.baseline_metrics }
      : null;
  }

  /** A retried job first marks what its dead attempts left behind, so nothing half-written can be activated. */
  async failLeftovers(kind: ModelKind, jobId: string): Promise<number> {
    const res = await this.pool.query(
      `update model_version set status = 'FAILED', finished_at = now(), failure_reason = 'the worker stopped before this attempt finished'
       where kind = $2 and job_id like $1 and status = 'TRAINING'`,
      [`${jobId}:%`, kind],
    );
    return res.rowCount ?? 0;
  }

  async start(kind: ModelKind, jobId: string, attempt: number, backend: string, horizonDays: number): Promise<string> {
    const res = await this.pool.query<{ id: string }>(
      `insert into model_version (id, kind, status, algorithm, job_id, params, metrics, baseline_metrics, backend, horizon_days, created_at)
       values (gen_random_uuid(), $1, 'TRAINING', 'pending', $2, '{}', '{}', '{}', $3, $4, now()) returning id`,
      [kind, `${jobId}:${attempt}`, backend, horizonDays],
    );
    return res.rows[0].id;
  }

  async fail(versionId: string, reason: string): Promise<void> {
    await this.pool.query(`update model_version set status = 'FAILED', finished_at = now(), failure_reason = $2 where id = $1 and status = 'TRAINING'`, [
      versionId,
      reason.slice(0, 1000),
    ]);
  }

  async activeMetrics(kind: ModelKind): Promise<{ id: string; algorithm: string; metrics: Record<string, unknown> } | null> {
    const res = await this.pool.query(`select id, algorithm, metrics from model_version where kind = $1 and status = 'ACTIVE'`, [kind]);
    return res.rows[0] ?? null;
  }

  /**
   * Names this database for what is kept about it elsewhere (Redis job ids), 12 hex digits: its cluster's system
   * identifier and its oid, however it is addressed, and never those of a database wiped and created again. Where
   * pg_control_system() is not granted (some managed servers), the host, port and name DATABASE_URL reaches it at.
   */
  async databaseKey(): Promise<string> {
    let identity: string;
    try {
      const res = await this.pool.query<{ identity: string }>(
        `select (select system_identifier from pg_control_system())::text || '/' || oid::text as identity
         from pg_database where datname = current_database()`,
      );
      identity = res.rows[0].identity;
    } catch (err) {
      if ((err as { code?: string }).code !== '42501') throw err; // insufficient_privilege
      const url = new URL(this.connectionString);
      identity = `${url.hostname}:${url.port || 5432}${url.pathname}`;
    }
    return createHash('sha256').update(identity).digest('hex').slice(0, 12);
  }

  async hasVersion(kind: ModelKind): Promise<boolean> {
    const res = await this.pool.query(`select 1 from model_version where kind = $1 and status <> 'FAILED' limit 1`, [kind]);
    return (res.rowCount ?? 0) > 0;
  }

  async productIds(): Promise<Map<string, string>> {
    const res = await this.pool.query<{ id: string; code: string }>(`select id, upper(trim(sku)) as code from product order by created_at, id`);
    const out = new Map<string, string>();
    for (const r of res.rows) if (!out.has(r.code)) out.set(r.code, r.id);
    return out;
  }

  async memberIds(): Promise<Set<string>> {
    const res = await this.pool.query<{ id: string }>(`select id from member where status <> 'ERASED'`);
    return new Set(res.rows.map((r) => r.id));
  }

  async writeRecommendations(versionId: string, out: RecsOutput, onBatch?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    const { train, top, popular, similar } = out.serving;
    const products = await this.productIds();
    const members = await this.memberIds();
    const productOf = (item: number) => products.get(train.items[item]);
    const nameOf = (item: number) => train.itemDescription[item] ?? train.items[item];

    for (let start = 0; start < train.users.length; start += BATCH_USERS) {
      const cols = { member: [] as string[], rank: [] as number[], product: [] as string[], score: [] as number[], reason: [] as string[], because: [] as (string | null)[], repeat: [] as boolean[] };
      for (let u = start; u < Math.min(start + BATCH_USERS, train.users.length); u++) {
        if (!members.has(train.users[u])) continue;
        const t = top[u];
        let rank = 0;
        t.items.forEach((item, r) => {
          const product = productOf(item);
          if (!product) return;
          const because = t.because[r] >= 0 ? t.because[r] : -1;
          cols.member.push(train.users[u]);
          cols.rank.push(++rank);
          cols.product.push(product);
          cols.score.push(t.scores[r]);
          cols.reason.push(
            (t.isRepeat[r] ? 'You have bought this before' : because >= 0 ? `Similar to ${nameOf(because)}, which you bought` : 'Customers like you buy this').slice(0, 200),
          );
          cols.because.push(because >= 0 ? productOf(because) ?? null : null);
          cols.repeat.push(t.isRepeat[r] === 1);
        });
      }
      if (cols.member.length) {
        await this.pool.query(
          `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, because_product_id, is_repeat)
           select $1, * from unnest($2::uuid[], $3::int2[], $4::uuid[], $5::real[], $6::text[], $7::uuid[], $8::bool[])`,
          [versionId, cols.member, cols.rank, cols.product, cols.score, cols.reason, cols.because, cols.repeat],
        );
      }
      await onBatch?.(Math.min(start + BATCH_USERS, train.users.length), train.users.length);
    }

    const pop = { country: [] as string[], rank: [] as number[], product: [] as string[], score: [] as number[] };
    for (const [country, list] of popular) {
      let rank = 0;
      list.items.forEach((item, r) => {
        const product = productOf(item);
        if (!product) return;
        pop.country.push(country);
        pop.rank.push(++rank);
        pop.product.push(product);
        pop.score.push(list.scores[r]);
      });
    }
    await this.pool.query(
      `insert into popular_product (model_version_id, country, rank, product_id, score)
       select $1, * from unnest($2::text[], $3::int2[], $4::uuid[], $5::real[])`,
      [versionId, pop.country, pop.rank, pop.product, pop.score],
    );

    if (similar) {
      for (let start = 0; start < similar.length; start += 1000) {
        const cols = { product: [] as string[], rank: [] as number[], similar: [] as string[], score: [] as number[] };
        for (let i = start; i < Math.min(start + 1000, similar.length); i++) {
          const product = productOf(i);
          if (!product) continue;
          let rank = 0;
          similar[i].items.forEach((j, r) => {
            const other = productOf(j);
            if (!other) return;
            cols.product.push(product);
            cols.rank.push(++rank);
            cols.similar.push(other);
            cols.score.push(similar[i].scores[r]);
          });
        }
        await this.pool.query(
          `insert into product_similarity (model_version_id, product_id, rank, similar_product_id, score)
           select $1, * from unnest($2::uuid[], $3::int2[], $4::uuid[], $5::real[])`,
          [versionId, cols.product, cols.rank, cols.similar, cols.score],
        );
      }
    }
  }

  /** A trained (not failed, not in training) version of the kind, the active one unless `id` names another. */
  async scorable(kind: ModelKind, id?: string): Promise<{ id: string; status: string; horizonDays: number; artefact: Buffer | null } | null> {
    const res = await this.pool.query(
      `select id, status, horizon_days as "horizonDays", artefact from model_version where kind = $1 and ${id ? 'id = $2' : `status = 'ACTIVE'`} and status in ('ACTIVE', 'REJECTED', 'RETIRED')`,
      id ? [kind, id] : [kind],
    );
    return res.rows[0] ?? null;
  }

  /**
   * Batch scoring: replaces a version's churn scores with new ones in one transaction (inserted in batches), so
   * readers see the old set until the commit and the whole new set after it. `earlier` fills in the previous score of
   * members whose history has none old enough (earlierChurnScores).
   */
  async replaceChurnScores(versionId: string, serving: ChurnOutput['serving'], bands: Bands, earlier?: EarlierChurnScores): Promise<number> {
    const members = await this.memberIds();
    return this.inTransaction(async (client) => {
      await client.query(`select 1 from model_version where id = $1 for update`, [versionId]);
      // What each member was served before this run: the version's own earlier scores.
      await carryChurnHistory(client, CARRIED_FROM.own, [versionId], earlier);
      await client.query(`delete from member_churn_score where model_version_id = $1`, [versionId]);
      const written = await insertChurnScores(client, versionId, serving, bands, members);
      await client.query(`update model_version set scored_at = now() where id = $1`, [versionId]);
      return written;
    });
  }

  /**
   * A new CHURN version's scores, in one transaction; each carries the history of the score the member is served now
   * (the active version's), so a promotion does not restart the measure of whose risk is rising. `earlier` as for
   * replaceChurnScores.
   */
  async writeChurnScores(versionId: string, out: ChurnOutput, bands: Bands, earlier?: EarlierChurnScores): Promise<void> {
    const members = await this.memberIds();
    await this.inTransaction(async (client) => {
      await carryChurnHistory(client, CARRIED_FROM.active, [versionId], earlier);
      await insertChurnScores(client, versionId, out.serving, bands, members);
    });
  }

  /**
   * Of `population`, the members whose churn score history holds no score at least CHURN_TREND_DAYS old, read from
   * where the scores about to be written for `versionId` carry it from (the version itself when `from` is 'own', the
   * active version for a new one): those a rising risk cannot yet be measured for.
   */
  async withoutPreviousChurnScore(versionId: string, from: keyof typeof CARRIED_FROM, population: string[]): Promise<string[]> {
    const res = await this.pool.query<{ m: string }>(
      `select m from unnest($2::uuid[]) as m where not exists (
         select 1 from member_churn_score c join model_version v on v.id = c.model_version_id
         where c.member_id = m and ${CARRIED_FROM[from]}
           and least(case when c.previous_score is not null then c.previous_scored_at end,
                     case when c.pending_score is not null then c.pending_scored_at end,
                     coalesce(v.scored_at, v.finished_at)) <= ${TREND_CUTOFF})`,
      [versionId, population],
    );
    return res.rows.map((r) => r.m);
  }

  /**
   * A VALUE version's scores: amounts turned into minor units of the programme currency (bounded), banded at quantiles
   * of this version's own predictions, 2,000 a statement; then the thresholds and currency on the version.
   */
  async writeValueScores(versionId: string, out: ValueOutput, quantiles: ValueBandQuantiles): Promise<ValueScoring> {
    return insertValueScores(this.pool, versionId, out.serving, quantiles, await this.memberIds());
  }

  /**
   * Batch scoring of a VALUE version: replaces its scores, and the band thresholds drawn from them, in one transaction.
   */
  async replaceValueScores(versionId: string, serving: ValueOutput['serving'], quantiles: ValueBandQuantiles): Promise<ValueScoring> {
    const members = await this.memberIds();
    return this.inTransaction(async (client) => {
      await client.query(`select 1 from model_version where id = $1 for update`, [versionId]);
      await client.query(`delete from member_value_score where model_version_id = $1`, [versionId]);
      const scoring = await insertValueScores(client, versionId, serving, quantiles, members);
      await client.query(`update model_version set scored_at = now() where id = $1`, [versionId]);
      return scoring;
    });
  }

  /** Records the run and the gate's decision; a promoted version replaces the active one atomically. */
  async finish(
    versionId: string,
    out: RecsOutput | ChurnOutput | ValueOutput,
    gate: GateDecision,
    durationMs: number,
    artefact: Buffer | null,
  ): Promise<'ACTIVE' | 'REJECTED'> {
    return this.inTransaction(async (client) => {
      const status = gate.isPromoted ? 'ACTIVE' : 'REJECTED';
      if (gate.isPromoted) {
        // The API's activateModelVersion takes the same lock: a promotion and an admin's activation of one kind take turns,
        // each seeing the other's active version (without it, the second to commit broke the one-active-version index).
        await client.query(`select pg_advisory_xact_lock(hashtext($1))`, [`model.activate:${out.kind}`]);
        await client.query(`update model_version set status = 'RETIRED' where kind = $1 and status = 'ACTIVE'`, [out.kind]);
      }
      const res = await client.query(
        `update model_version set status = $2, algorithm = $3, params = $4, data_from = $5, cutoff = $6, data_to = $7, train_rows = $8,
           metrics = $9, baseline_metrics = $10, duration_ms = $11, artefact = $12, is_promoted = $13, gate_reason = $14, finished_at = now(), scored_at = now(),
           activated_at = case when $13 then now() end, activated_by = case when $13 then 'gate' end
         where id = $1 and status = 'TRAINING'`,
        [
          versionId,
          status,
          out.algorithm,
          JSON.stringify(out.params),
          new Date(out.window.dataFrom),
          new Date(out.window.cutoff),
          new Date(out.window.dataTo),
          out.trainRows,
          JSON.stringify(out.metrics),
          JSON.stringify(out.baselineMetrics),
          Math.round(durationMs),
          artefact,
          gate.isPromoted,
          gate.reason.slice(0, 500),
        ],
      );
      // Another attempt may have marked this one FAILED (its worker was thought dead): then nothing changes.
      if (res.rowCount !== 1) throw new Error(`model version ${versionId} is no longer being trained`);
      return status;
    });
  }
}

/**
 * How old a churn score must be to be the one a member's risk change is measured against (`previous_score`): four
 * weeks, so the change shows how the member's risk moved over about a month (4 to 8 weeks with scoring every few
 * hours), not between two runs a few hours apart or two model versions trained on the same data.
 */
export const CHURN_TREND_DAYS = 28;

/** Where the scores about to be written carry a member's score history from: the version's own rows, or the active version's. */
const CARRIED_FROM = {
  own: `c.model_version_id = $1`,
  active: `v.kind = 'CHURN' and v.status = 'ACTIVE' and c.model_version_id <> $1`,
} as const;

const TREND_CUTOFF = `now() - make_interval(days => ${CHURN_TREND_DAYS})`;

/**
 * A version's churn scores recomputed on the history as it stood CHURN_TREND_DAYS (or a little more) before, for
 * members with no score that old: what the member's risk is compared with until the scores kept reach four weeks.
 */
export interface EarlierChurnScores {
  /** The history's cutoff the scores were computed as of: stored as their previous_scored_at. */
  asOf: Date;
  population: string[];
  scores: Float64Array;
}

/**
 * For each member `where` picks (over `member_churn_score c join model_version v`: the scores the member is served
 * now), the scores carried into the scores about to be written, in a table that lives until the transaction ends. Of
 * the row's previous, pending and current score (the current one computed when its version was last scored), the newest
 * one at least CHURN_TREND_DAYS old becomes the previous score and the oldest younger one the pending score, which
 * takes over once it is old enough. A member with no score that old takes its `earlier` score as the previous one.
 */
async function carryChurnHistory(client: pg.PoolClient, where: string, params: unknown[], earlier?: EarlierChurnScores): Promise<void> {
  const points = `(values (c.previous_score, c.previous_scored_at), (c.pending_score, c.pending_scored_at), (c.score, coalesce(v.scored_at, v.finished_at))) as pt(s, at)`;
  await client.query(
    `create temporary table carried_churn_score on commit drop as
     select c.member_id, prev.s as previous_score, prev.at as previous_scored_at, pend.s as pending_score, pend.at as pending_scored_at
     from member_churn_score c join model_version v on v.id = c.model_version_id
     left join lateral (select pt.s, pt.at from ${points} where pt.at <= ${TREND_CUTOFF} order by pt.at desc limit 1) prev on true
     left join lateral (select pt.s, pt.at from ${points} where pt.at > ${TREND_CUTOFF} order by pt.at limit 1) pend on true
     where ${where}`,
    params,
  );
  await client.query(`alter table carried_churn_score add primary key (member_id)`);
  if (!earlier?.population.length) return;
  if (earlier.scores.length !== earlier.population.length) throw new Error(`${earlier.scores.length} earlier churn scores for ${earlier.population.length} members`);
  checkChurnProbabilities(earlier.population, earlier.scores, earlier.asOf);
  // A recomputed score is only as old as its cutoff: one younger than four weeks would not be a previous score.
  if (earlier.asOf.getTime() > Date.now() - CHURN_TREND_DAYS * DAY_MS) throw new Error(`earlier churn scores as of ${earlier.asOf.toISOString()} are younger than ${CHURN_TREND_DAYS} days`);
  for (let start = 0; start < earlier.population.length; start += 2000) {
    const members = earlier.population.slice(start, start + 2000);
    const scores = Array.from(earlier.scores.subarray(start, start + 2000), Math.fround);
    await client.query(
      `insert into carried_churn_score (member_id, previous_score, previous_scored_at)
       select m, s, $3 from unnest($1::uuid[], $2::real[]) as x(m, s)
       on conflict (member_id) do update set previous_score = excluded.previous_score, previous_scored_at = excluded.previous_scored_at
       where carried_churn_score.previous_score is null`,
      [members, scores, earlier.asOf],
    );
  }
}

/**
 * Inserts churn scores for the members that still exist, 2,000 a statement, each with the member's previous and
 * pending scores from `carried_churn_score` (carryChurnHistory, same transaction). Returns how many were written.
 */
async function insertChurnScores(client: pg.PoolClient, versionId: string, serving: ChurnOutput['serving'], bands: Bands, members: Set<string>): Promise<number> {
  const { population, scores, drivers } = serving;
  checkChurnProbabilities(population, scores);
  let written = 0;
  for (let start = 0; start < population.length; start += 2000) {
    const cols = { member: [] as string[], score: [] as number[], band: [] as string[], drivers: [] as string[] };
    for (let i = start; i < Math.min(start + 2000, population.length); i++) {
      if (!members.has(population[i])) continue;
      cols.member.push(population[i]);
      // The column is real (float4): a score below its range (1e-63 from a confident model) is stored as 0.
      cols.score.push(Math.fround(scores[i]));
      cols.band.push(bandOf(scores[i], bands));
      cols.drivers.push(JSON.stringify(drivers[i]));
    }
    if (cols.member.length) {
      await client.query(
        `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at, pending_score, pending_scored_at)
         select $1, x.m, x.s, x.b, x.d::jsonb, p.previous_score, p.previous_scored_at, p.pending_score, p.pending_scored_at
         from unnest($2::uuid[], $3::real[], $4::text[], $5::text[]) as x(m, s, b, d) left join carried_churn_score p on p.member_id = x.m`,
        [versionId, cols.member, cols.score, cols.band, cols.drivers],
      );
      written += cols.member.length;
    }
  }
  return written;
}

/**
 * Inserts value scores for the members that still exist, 2,000 a statement, banded at quantiles of these amounts, and
 * records the thresholds, quantiles and currency on the version. A non-finite prediction fails the whole write.
 */
async function insertValueScores(
  db: pg.Pool | pg.PoolClient,
  versionId: string,
  serving: ValueOutput['serving'],
  quantiles: ValueBandQuantiles,
  members: Set<string>,
): Promise<ValueScoring> {
  const { population, amounts, pReturn, drivers } = serving;
  const kept: number[] = [];
  for (let i = 0; i < population.length; i++) if (members.has(population[i])) kept.push(i);
  const minor = kept.map((i) => toValueMinor(amounts[i]));
  const thresholds = valueThresholds(minor, quantiles);
  const settings = await db.query<{ currency: string }>(`select point_value_currency as currency from programme_settings where id = 1`);
  for (let start = 0; start < kept.length; start += 2000) {
    const cols = { member: [] as string[], amount: [] as number[], p: [] as number[], band: [] as string[], drivers: [] as string[] };
    for (let k = start; k < Math.min(start + 2000, kept.length); k++) {
      const i = kept[k];
      const p = pReturn[i];
      if (!Number.isFinite(p)) throw new Error(`the value model gave a non-finite P(return) (${p}) for ${population[i]}`);
      cols.member.push(population[i]);
      cols.amount.push(minor[k]);
      cols.p.push(Math.fround(Math.min(1, Math.max(0, p))));
      cols.band.push(valueBandOf(minor[k], thresholds));
      cols.drivers.push(JSON.stringify(drivers[i] ?? []));
    }
    await db.query(
      `insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers)
       select $1, m, a, p, b, d::jsonb from unnest($2::uuid[], $3::int[], $4::real[], $5::text[], $6::text[]) as x(m, a, p, b, d)`,
      [versionId, cols.member, cols.amount, cols.p, cols.band, cols.drivers],
    );
  }
  const scoring: ValueScoring = {
    currency: settings.rows[0]?.currency ?? '',
    mediumQuantile: quantiles.medium,
    highQuantile: quantiles.high,
    ...thresholds,
    members: kept.length,
  };
  await db.query(`update model_version set value_scoring = $2 where id = $1`, [versionId, JSON.stringify(scoring)]);
  return scoring;
}
