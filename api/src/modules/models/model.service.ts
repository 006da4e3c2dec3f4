import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import Queue from 'bull';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { openQueue, RETRY, TRAIN_QUEUE, type TrainPayload } from '@loyalty/jobs';
import type { Config } from '../../base/config';
import type { Context } from '../../base/context';
import { isUuid } from '../../base/ids';
import { AppError } from '../../base/errors';
import { unavailableUnlessRedisAnswers } from '../../base/timeout';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import { Product } from '../catalog/product.entity';
import type { RewardService } from '../rewards/reward.service';
import { ModelKind, ModelVersion, ModelVersionStatus } from './model-version.entity';
import { VALUE_AT_RISK_SQL } from './value-at-risk';
import {
  ChurnBand,
  type ActivateModelVersionInput,
  type ChurnRisk,
  ModelJob,
  ModelJobState,
  type Recommendation,
  type RetrainModelInput,
  type RewardSuggestion,
  type SimilarProduct,
  type PredictedValue,
  type ValueBand,
  type ValueAtRisk,
} from './model.types';

/** Recommendations the worker stores per member; `first` can ask for at most this many. */
export const MAX_RECOMMENDATIONS = 50;
const QUEUE_TIMEOUT_MS = 3000;
const JOB_STATES: Record<string, ModelJobState> = {
  waiting: ModelJobState.WAITING,
  paused: ModelJobState.WAITING,
  active: ModelJobState.ACTIVE,
  delayed: ModelJobState.DELAYED,
  completed: ModelJobState.COMPLETED,
  failed: ModelJobState.FAILED,
};

/**
 * Stored picks of the active recommender for members `in (?)`, else popularity in their country (cold start); the
 * second parameter leaves out what they bought. Popularity comes from the active version, or, while no version is
 * active (the gate kept every one out), from the newest trained one: a storefront always has something to show, and
 * popularity is a baseline, not the model the gate refused. When what they bought is left out, the popular products
 * they have not bought follow (their country's, then everyone's; `fill`): a heavy buyer may have bought every stored
 * pick. Exported for the benchmark's bare baseline, which runs it as is.
 */
export const RECOMMENDATIONS_SQL = `with wanted as (select m.id, coalesce(m.country, '') as country from member m where m.id in (?)),
   opts as (select ?::boolean as exclude_purchased),
   active as (select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'),
   popularity as (
     select v.id from model_version v
     where v.kind = 'RECOMMENDER' and v.status in ('ACTIVE', 'REJECTED', 'RETIRED')
       and exists (select 1 from popular_product x where x.model_version_id = v.id)
     order by (v.status = 'ACTIVE') desc, v.created_at desc limit 1),
   scored as (
     select r.member_id, r.rank, r.score, r.reason, r.is_repeat, false as is_cold_start, r.model_version_id, r.product_id, 0 as pass
     from member_recommendation r join active a on a.id = r.model_version_id
     where r.member_id in (select id from wanted)),
   cold as (
     select w.id as member_id, p.rank, p.score,
            case when p.country = '' then 'Popular with all customers' else 'Popular in ' || p.country end as reason,
            false as is_repeat, true as is_cold_start, p.model_version_id, p.product_id, 0 as pass
     from wanted w join popularity a on true
     join lateral (
       select pp.* from popular_product pp
       where pp.model_version_id = a.id
         and pp.country = (case when exists (select 1 from popular_product x where x.model_version_id = a.id and x.country = w.country) then w.country else '' end)
     ) p on true
     where not exists (select 1 from scored s where s.member_id = w.id)),
   fill as (
     select w.id as member_id, f.rank, f.score,
            case when f.country = '' then 'Popular with all customers, not bought yet' else 'Popular in ' || f.country || ', not bought yet' end as reason,
            false as is_repeat, true as is_cold_start, a.id as model_version_id, f.product_id, 1 as pass
     from wanted w join opts o on o.exclude_purchased join popularity a on true
     join lateral (
       select * from (
         select distinct on (pp.product_id) pp.product_id, pp.country, pp.score, (pp.country <> w.country)::int * 100000 + pp.rank as rank
         from popular_product pp
         where pp.model_version_id = a.id and pp.country in (w.country, '')
           and not exists (select 1 from scored s where s.member_id = w.id and s.product_id = pp.product_id)
           and not exists (select 1 from cold c where c.member_id = w.id and c.product_id = pp.product_id)
           and not exists (select 1 from order_line ol join customer_order co on co.id = ol.order_id where co.member_id = w.id and ol.product_id = pp.product_id)
         order by pp.product_id, (pp.country <> w.country), pp.rank) d
       order by d.rank limit ${MAX_RECOMMENDATIONS}
     ) f on true)
   select x.* from (select * from scored union all select * from cold union all select * from fill) x join opts o on true
   where x.pass = 1 or not (o.exclude_purchased and (x.is_repeat or exists (
     select 1 from order_line ol join customer_order co on co.id = ol.order_id
     where co.member_id = x.member_id and ol.product_id = x.product_id)))
   order by x.member_id, x.pass, x.rank`;

interface RecommendationRow {
  member_id: string;
  rank: number;
  score: number;
  reason: string;
  is_repeat: boolean;
  is_cold_start: boolean;
  model_version_id: string;
  product_id: string;
  pass: number;
}

/**
 * The model registry seen from the API: enqueue training, follow jobs, list versions, activate or roll back by
 * hand, and serve what the active versions scored. The worker (recommender/) trains, scores and applies the gate.
 */
export class ModelService {
  private readonly queues = new Map<ModelKind, Queue.Queue<TrainPayload>>();

  constructor(
    private readonly config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'QUEUE_PREFIX'>,
    private readonly audit: AuditService,
    private readonly rewards: RewardService,
  ) {}

  /** One training queue per kind, opened on first use, so processes that never enqueue (CLIs, the schema emitter) never connect. */
  private trainQueue(kind: ModelKind): Queue.Queue<TrainPayload> {
    let queue = this.queues.get(kind);
    if (!queue) this.queues.set(kind, (queue = openQueue<TrainPayload>(TRAIN_QUEUE[kind], this.config)));
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  /**
   * Drops every version's scores of these members (recommendations, churn, value): an erased member is no longer
   * profiled, and a merged-away one has no history of its own. Runs in the erasure's or merge's transaction; the worker's
   * next scoring leaves erased members out.
   */
  async forgetMembers(em: EntityManager, memberIds: readonly string[]): Promise<void> {
    for (const table of ['member_recommendation', 'member_churn_score', 'member_value_score']) {
      await em.execute(`delete from ${table} where member_id in (?)`, [[...memberIds]]);
    }
  }

  /**
   * A retrain of a kind that is already waiting, running or waiting to retry returns that job rather than queueing a
   * second one. The check and the enqueue hold a PostgreSQL advisory lock per kind, so API replicas asked at the same moment queue
   * one job between them.
   */
  async retrain(ctx: Context, input: RetrainModelInput): Promise<ModelJob> {
    const queue = await this.readyQueue(input.kind);
    return ctx.em.transactional(async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`${TRAIN_QUEUE[input.kind]}:${input.kind}`]);
      const [pending, delayed] = await this.unavailableIfDown(() => Promise.all([queue.getJobs(['waiting', 'active', 'paused']), queue.getDelayed()]));
      // The nightly retrain's next firing waits as a delayed job until 03:00: it is not a retrain under way.
      const retrying = delayed.filter((j) => j && !(j.opts.repeat && j.attemptsMade === 0));
      const same = [...pending, ...retrying].find((j) => j?.data.kind === input.kind);
      if (same) return this.toModelJob(same);

      const payload = {
        v: 1,
        kind: input.kind,
        requestedAt: new Date().toISOString(),
        requestedBy: actorRef(ctx.principal),
        ...(input.horizonDays ? { horizonDays: input.horizonDays } : {}),
        ...(input.maxEpochs ? { maxEpochs: input.maxEpochs } : {}),
      } as TrainPayload;
      // Ids name their kind, so that `modelJob(id)` looks in the right queue first, and never repeat across queues.
      const jobId = `${input.kind.toLowerCase()}-${randomUUID()}`;
      const job = await this.unavailableIfDown(() => queue.add(payload, { jobId, ...RETRY(30_000), removeOnComplete: 100, removeOnFail: 100 }));
      this.audit.record(em, ctx, { action: 'model.retrain_requested', entityType: 'ModelJob', entityId: String(job.id), after: { ...payload } });
      ctx.log.info({ jobId: job.id, kind: input.kind }, 'model.retrain_requested');
      return this.toModelJob(job);
    });
  }

  async jobs(kind: ModelKind | null, first: number): Promise<ModelJob[]> {
    const kinds = kind ? [kind] : Object.values(ModelKind);
    const lists = await Promise.all(
      kinds.map(async (k) => {
        const queue = await this.readyQueue(k);
        return this.unavailableIfDown(() => queue.getJobs(['active', 'waiting', 'delayed', 'paused', 'completed', 'failed'], 0, 200));
      }),
    );
    const mine = lists.flat().filter((j) => j).sort((a, b) => b.timestamp - a.timestamp);
    return Promise.all(mine.slice(0, first).map((j) => this.toModelJob(j)));
  }

  /** Looks in the queue the id names first (`churn-…`), then in the other (scheduled and bootstrap jobs). */
  async job(id: string): Promise<ModelJob | null> {
    const named = (k: ModelKind) => Number(id.startsWith(`${k.toLowerCase()}-`));
    for (const kind of Object.values(ModelKind).sort((a, b) => named(b) - named(a))) {
      const queue = await this.readyQueue(kind);
      const job = await this.unavailableIfDown(() => queue.getJob(id));
      if (job) return this.toModelJob(job);
    }
    return null;
  }

  versions(em: EntityManager, kind: ModelKind | null, first: number): Promise<ModelVersion[]> {
    return em.find(ModelVersion, kind ? { kind } : {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
  }

  async version(em: EntityManager, id: string): Promise<ModelVersion> {
    const version = isUuid(id) ? await em.findOne(ModelVersion, id) : null;
    if (!version) throw AppError.notFound('ModelVersion', id);
    return version;
  }

  /**
   * Serves a trained version by hand (a rollback is activating an earlier one). Only versions whose scores were
   * written completely qualify; the one served before is retired, in the same transaction.
   */
  async activate(ctx: Context, input: ActivateModelVersionInput): Promise<ModelVersion> {
    const reason = input.reason.trim();
    if (!reason) throw AppError.badInput([{ path: 'input.reason', message: 'must not be empty' }]);
    return ctx.em.transactional(async (em) => {
      const version = await em.findOne(ModelVersion, input.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!version) throw AppError.notFound('ModelVersion', input.id);
      if (version.status === ModelVersionStatus.ACTIVE) return version;
      if (version.status !== ModelVersionStatus.REJECTED && version.status !== ModelVersionStatus.RETIRED) {
        throw AppError.conflict('MODEL_NOT_ACTIVATABLE', `A ${version.status} version has no complete scores to serve`, { status: version.status });
      }
      // One activation per kind at a time: waiting on the active row's lock instead, one that retired it leaves this read empty.
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`model.activate:${version.kind}`]);
      const current = await em.findOne(ModelVersion, { kind: version.kind, status: ModelVersionStatus.ACTIVE }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current) {
        current.status = ModelVersionStatus.RETIRED;
        await em.flush(); // the partial unique index allows one ACTIVE per kind
      }
      version.status = ModelVersionStatus.ACTIVE;
      version.activatedAt = new Date();
      version.activatedBy = actorRef(ctx.principal);
      // Beside the gate's own decision and reason, which stay as the gate wrote them.
      version.activationReason = reason.slice(0, 500);
      this.audit.record(em, ctx, {
        action: 'model.activated',
        entityType: 'ModelVersion',
        entityId: version.id,
        before: { activeVersionId: current?.id ?? null },
        after: { activeVersionId: version.id, reason },
      });
      ctx.log.info({ modelVersionId: version.id, kind: version.kind }, 'model.activated');
      return version;
    });
  }

  /**
   * Top recommendations per member from the active recommender; members it never scored get popularity by country.
   * Leaving out what they bought, popular products they have not bought fill the list up to `first`.
   */
  async recommendationsOf(em: EntityManager, memberIds: readonly string[], first: number, excludePurchased: boolean): Promise<Recommendation[][]> {
    const rows = await em.execute<RecommendationRow[]>(
      RECOMMENDATIONS_SQL,
      [memberIds as string[], excludePurchased],
    );
    const products = await em.find(Product, { id: { $in: [...new Set(rows.map((r) => r.product_id))] } });
    const byId = new Map(products.map((p) => [p.id, p]));
    const out = new Map<string, Recommendation[]>(memberIds.map((id) => [id, []]));
    for (const r of rows) {
      const list = out.get(r.member_id)!;
      const product = byId.get(r.product_id);
      if (!product || list.length >= first) continue;
      list.push({
        rank: list.length + 1,
        product,
        score: r.score,
        reason: r.reason,
        isColdStart: r.is_cold_start,
        isRepeat: r.is_repeat,
        modelVersionId: r.model_version_id,
      });
    }
    return memberIds.map((id) => out.get(id)!);
  }

  async churnRiskOf(em: EntityManager, memberIds: readonly string[]): Promise<(ChurnRisk | null)[]> {
    type Row = { member_id: string; score: number; band: ChurnBand; drivers: (Omit<ChurnRisk['drivers'][number], 'label'> & { label?: string })[]; model_version_id: string; horizon_days: number | null };
    const rows = await em.execute<(Row & { previous_score: number | null; previous_scored_at: Date | string | null })[]>(
      `select c.member_id, c.score, c.band, c.drivers, c.model_version_id, v.horizon_days, c.previous_score, c.previous_scored_at
       from member_churn_score c join model_version v on v.id = c.model_version_id and v.kind = 'CHURN' and v.status = 'ACTIVE'
       where c.member_id in (?)`,
      [memberIds as string[]],
    );
    const byMember = new Map(rows.map((r) => [r.member_id, r]));
    return memberIds.map((id) => {
      const r = byMember.get(id);
      if (!r) return null;
      // Drivers are stored as the worker wrote them; scores written before drivers had labels show the feature name.
      const drivers = r.drivers.map((d) => ({ ...d, label: d.label ?? d.feature }));
      return {
        score: r.score, band: r.band, drivers, modelVersionId: r.model_version_id, horizonDays: r.horizon_days ?? 90,
        previousScore: r.previous_score, previousScoredAt: r.previous_scored_at === null ? null : new Date(r.previous_scored_at),
      };
    });
  }

  /** Predicted value of members `ids` from the active VALUE version; null for members it did not score (or with none active). */
  async predictedValueOf(em: EntityManager, memberIds: readonly string[]): Promise<(PredictedValue | null)[]> {
    const rows = await em.execute<{ member_id: string; amount_minor: number; p_return: number; band: ValueBand; drivers: PredictedValue['drivers']; model_version_id: string; horizon_days: number | null; currency: string | null }[]>(
      `select s.member_id, s.amount_minor, s.p_return, s.band, s.drivers, s.model_version_id, v.horizon_days, v.value_scoring->>'currency' as currency
       from member_value_score s join model_version v on v.id = s.model_version_id and v.kind = 'VALUE' and v.status = 'ACTIVE'
       where s.member_id in (?)`,
      [memberIds as string[]],
    );
    const byMember = new Map(rows.map((r) => [r.member_id, r]));
    return memberIds.map((id) => {
      const r = byMember.get(id);
      if (!r) return null;
      return { amount: r.amount_minor, currency: r.currency ?? '', band: r.band, pReturn: r.p_return, drivers: r.drivers, modelVersionId: r.model_version_id, horizonDays: r.horizon_days ?? 90 };
    });
  }

  /**
   * Value at risk per churn band: each ACTIVE member scored by both the active VALUE and the active CHURN version counts
   * floor(predicted value × churn probability). Null while either kind has no active version.
   */
  async valueAtRisk(em: EntityManager): Promise<ValueAtRisk | null> {
    const active = await em.execute<{ kind: string; id: string; currency: string | null }[]>(
      `select kind, id, value_scoring->>'currency' as currency from model_version where kind in ('VALUE', 'CHURN') and status = 'ACTIVE'`,
    );
    const value = active.find((v) => v.kind === 'VALUE');
    const churn = active.find((v) => v.kind === 'CHURN');
    if (!value || !churn) return null;
    const rows = await em.execute<{ band: ChurnBand; members: number; predicted: number; at_risk: number }[]>(
      `select c.band, count(*)::int as members, sum(s.amount_minor)::float8 as predicted, sum(${VALUE_AT_RISK_SQL('s', 'c')})::float8 as at_risk
       from member_value_score s
       join member_churn_score c on c.member_id = s.member_id and c.model_version_id = ?
       join member m on m.id = s.member_id and m.status = 'ACTIVE'
       where s.model_version_id = ?
       group by c.band`,
      [churn.id, value.id],
    );
    const byBand = new Map(rows.map((r) => [r.band, r]));
    return {
      currency: value.currency ?? '',
      valueModelVersionId: value.id,
      churnModelVersionId: churn.id,
      bands: [ChurnBand.LOW, ChurnBand.MEDIUM, ChurnBand.HIGH].map((band) => {
        const r = byBand.get(band);
        return { churnBand: band, members: r?.members ?? 0, predictedValueMinor: r?.predicted ?? 0, valueAtRiskMinor: r?.at_risk ?? 0 };
      }),
    };
  }

  async similarProductsOf(em: EntityManager, productIds: readonly string[], first: number): Promise<SimilarProduct[][]> {
    const rows = await em.execute<{ product_id: string; similar_product_id: string; score: number }[]>(
      `select s.product_id, s.similar_product_id, s.score
       from product_similarity s join model_version v on v.id = s.model_version_id and v.kind = 'RECOMMENDER' and v.status = 'ACTIVE'
       where s.product_id in (?) and s.rank <= ? order by s.product_id, s.rank`,
      [productIds as string[], first],
    );
    const products = await em.find(Product, { id: { $in: [...new Set(rows.map((r) => r.similar_product_id))] } });
    const byId = new Map(products.map((p) => [p.id, p]));
    const out = new Map<string, SimilarProduct[]>(productIds.map((id) => [id, []]));
    for (const r of rows) {
      const product = byId.get(r.similar_product_id);
      if (product) out.get(r.product_id)!.push({ product, score: r.score });
    }
    return productIds.map((id) => out.get(id)!);
  }

  /**
   * Rewards the member can redeem now, or once their pending points are released, ranked by how much the member
   * is likely to want the reward's product (recommendation score) and then by how close they are to affording it.
   */
  async recommendedRewardsOf(em: EntityManager, memberId: string, points: { available: number; pending: number }, first: number): Promise<RewardSuggestion[]> {
    const reachable = await this.rewards.affordable(em, memberId, Math.max(0, points.available) + points.pending);
    if (reachable.length === 0) return [];
    const [recs] = await this.recommendationsOf(em, [memberId], MAX_RECOMMENDATIONS, false);
    const relevance = new Map(recs.map((r) => [r.product.sku, 1 / r.rank]));
    return reachable
      .map((reward) => {
        const pointsShort = Math.max(0, reward.costPoints - Math.max(0, points.available));
        const wanted = reward.sku ? relevance.get(reward.sku) ?? 0 : 0;
        const closeness = pointsShort === 0 ? 1 : Math.max(0, points.available) / reward.costPoints;
        return {
          reward,
          canAffordNow: pointsShort === 0,
          pointsShort,
          score: Number((wanted + 0.5 * closeness).toFixed(6)),
          reason: wanted > 0
            ? pointsShort === 0 ? 'Among your recommended products, and affordable now' : `Among your recommended products; ${pointsShort} points to go`
            : pointsShort === 0 ? 'Affordable now' : `${pointsShort} points to go, covered by your pending points`,
        };
      })
      .sort((a, b) => Number(b.canAffordNow) - Number(a.canAffordNow) || b.score - a.score || a.reward.costPoints - b.reward.costPoints)
      .slice(0, first);
  }

  private async toModelJob(fetched: Queue.Job<TrainPayload>): Promise<ModelJob> {
    const state = await fetched.getState();
    // The job may have finished between reading it and reading its state: read it again, so that a finished job
    // never shows the progress and result of before it finished.
    const job = (state === 'completed' || state === 'failed') && !fetched.finishedOn ? ((await fetched.queue.getJob(fetched.id)) ?? fetched) : fetched;
    const p = (typeof job.progress() === 'object' ? job.progress() : null) as Record<string, unknown> | null;
    const out = new ModelJob();
    Object.assign(out, {
      id: String(job.id),
      kind: job.data.kind as ModelKind,
      state: JOB_STATES[state] ?? ModelJobState.WAITING,
      progress: p
        ? {
            phase: String(p.phase ?? 'waiting'),
            epoch: typeof p.epoch === 'number' ? p.epoch : null,
            epochs: typeof p.epochs === 'number' ? p.epochs : null,
            loss: typeof p.loss === 'number' ? p.loss : null,
            percent: typeof p.percent === 'number' ? Math.round(p.percent) : 0,
          }
        : null,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason ?? null,
      requestedBy: job.data.requestedBy,
      createdAt: new Date(job.timestamp),
      runAt: state === 'delayed' ? await runAtOf(job) : null,
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      modelVersionId: (job.returnvalue as { modelVersionId?: string } | null)?.modelVersionId ?? (p?.modelVersionId as string | undefined) ?? null,
    });
    return out;
  }

  /**
   * The queue once its connection is up. While Redis is known to be away it fails at once: Bull's client would
   * otherwise hold the command and run it when Redis returns, enqueueing a job whose caller was told it failed.
   */
  private async readyQueue(kind: ModelKind): Promise<Queue.Queue<TrainPayload>> {
    const queue = this.trainQueue(kind);
    const client = queue.client;
    if (client.status === 'ready') return queue;
    if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') throw queueUnavailable();
    await this.unavailableIfDown(() => once(client, 'ready'));
    return queue;
  }

  /** A caller gets a clear answer after a few seconds rather than waiting for Redis. */
  private unavailableIfDown<T>(work: () => Promise<T>): Promise<T> {
    return unavailableUnlessRedisAnswers(work, QUEUE_TIMEOUT_MS, QUEUE_UNAVAILABLE);
  }
}

/**
 * When a delayed job runs: its score in the queue's delayed set (Bull stores the time in milliseconds × 0x1000 plus a
 * counter). Neither `timestamp` nor `opts.delay` says it for a retry, which Bull delays when the attempt fails.
 */
async function runAtOf(job: Queue.Job<TrainPayload>): Promise<Date | null> {
  const score = await job.queue.client.zscore(job.queue.toKey('delayed'), String(job.id));
  return score === null ? null : new Date(Math.floor(Number(score) / 0x1000));
}

const QUEUE_UNAVAILABLE = 'The job queue (Redis) is unreachable; try again shortly';

function queueUnavailable(): AppError {
  return new AppError('SERVICE_UNAVAILABLE', QUEUE_UNAVAILABLE, { dependency: 'redis' });
}
