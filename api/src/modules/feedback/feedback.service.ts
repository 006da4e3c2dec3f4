import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, type FieldProblem } from '../../base/errors';
import { idempotent } from '../../base/idempotent';
import type { SalesChannelKind } from '../../base/enums';
import { checkPageSize, decodeCursor, pageOf } from '../../base/pagination';
import { actorRef } from '../auth/principal';
import { SalesChannel } from '../channels/sales-channel.entity';
import { Member, MemberStatus } from '../members/member.entity';
import type { MemberService } from '../members/member.service';
import { Order } from '../orders/order.entity';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import { Feedback, FeedbackKind, NpsCategory, SCORE_RANGE, npsCategory } from './feedback.entity';
import {
  type CsatFigures,
  type FeedbackAnalytics,
  type FeedbackAnalyticsInput,
  type FeedbackConnection,
  type NpsFigures,
  type RecordFeedbackInput,
  TimeBucket,
} from './feedback.types';
import { MINUTE_MS } from '../../base/time';
import { lockLiveMember, onLiveMember } from '../ledger/member-lock';

/** Clocks of tills and phones run a little fast; an answer "from the future" beyond this is refused. */
const CLOCK_SKEW_MS = 5 * MINUTE_MS;
export const MAX_BUCKETS = 400;
const BUCKET_UNIT: Record<TimeBucket, 'day' | 'week' | 'month'> = { DAY: 'day', WEEK: 'week', MONTH: 'month' };

/** NPS and CSAT answers of members, and their figures for analytics. */
export class FeedbackService {
  constructor(
    private readonly members: MemberService,
    private readonly events: EventService,
  ) {}

  /**
   * Records one answer in one transaction with its event. With `idempotencyKey`, a retry returns the stored answer
   * (a different answer under the same key is a CONFLICT); an order takes one answer of each kind.
   */
  async record(ctx: Context, input: RecordFeedbackInput): Promise<Feedback> {
    const range = SCORE_RANGE[input.kind];
    const problems: FieldProblem[] = [];
    if (input.score < range.min || input.score > range.max) {
      problems.push({ path: 'input.score', message: `must be from ${range.min} to ${range.max} for ${input.kind}` });
    }
    const givenAt = input.givenAt ?? new Date();
    if (givenAt.getTime() > Date.now() + CLOCK_SKEW_MS) problems.push({ path: 'input.givenAt', message: 'must not be in the future' });
    if (problems.length) throw AppError.badInput(problems);

    const member = await this.members.findById(ctx.em, input.memberId);
    if (member.status === MemberStatus.ERASED) throw AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId: member.id });
    const subject = await this.subjectOf(ctx, member, input);
    const comment = input.comment?.trim() || null;
    const key = input.idempotencyKey ? `${subject.recordingChannelId ?? 'admin'}:${input.idempotencyKey}` : null;
    // The member the answer was written for: the survivor when a merge moved the member while this one waited.
    let recordedFor = member.id;
    const same = (f: Feedback) =>
      (f.member.id === member.id || f.member.id === recordedFor) &&
      f.kind === input.kind && f.score === input.score && f.comment === comment && (f.order?.id ?? null) === (input.orderId ?? null);

    if (key) {
      const prior = await ctx.em.findOne(Feedback, { idempotencyKey: key });
      if (prior) return this.replayed(prior, same);
    }
    return idempotent(
      // Under the member lock, like every write on a member: an erasure waits for the answer and then redacts its comment,
      // or the answer waits and is refused; a merge waits and then moves it, or it waits and goes to the survivor.
      () => onLiveMember(member.id, (memberId) => ctx.em.transactional(async (em) => {
        await lockLiveMember(em, memberId);
        recordedFor = memberId;
        if (input.orderId) {
          const earlier = await em.findOne(Feedback, { order: input.orderId, kind: input.kind });
          if (earlier) {
            throw AppError.conflict('FEEDBACK_ALREADY_RECORDED', `This order already has a ${input.kind} answer`, { feedbackId: earlier.id });
          }
        }
        const feedback = em.create(Feedback, {
          member: memberId,
          kind: input.kind,
          score: input.score,
          comment,
          order: input.orderId ?? null,
          channel: subject.channelId,
          channelKind: subject.channelKind,
          storeCode: subject.storeCode,
          idempotencyKey: key,
          givenAt,
          recordedBy: actorRef(ctx.principal),
        });
        await em.flush();
        await this.events.record(
          em,
          EventType.FEEDBACK_RECORDED,
          {
            feedbackId: feedback.id,
            memberId,
            kind: feedback.kind,
            score: feedback.score,
            npsCategory: feedback.kind === FeedbackKind.NPS ? npsCategory(feedback.score) : null,
            orderId: input.orderId ?? null,
            channelId: subject.channelId,
            storeCode: subject.storeCode,
            givenAt: givenAt.toISOString(),
          },
          { memberId, occurredAt: givenAt },
        );
        ctx.log.info({ memberId, feedbackId: feedback.id, kind: feedback.kind, score: feedback.score }, 'feedback.recorded');
        return feedback;
      })),
      // A concurrent twin won the key, or the order's one answer of this kind.
      async () => {
        const fresh = ctx.em.fork();
        const winner = key ? await fresh.findOne(Feedback, { idempotencyKey: key }) : null;
        if (winner) return winner;
        const earlier = input.orderId ? await fresh.findOne(Feedback, { order: input.orderId, kind: input.kind }) : null;
        if (earlier) throw AppError.conflict('FEEDBACK_ALREADY_RECORDED', `This order already has a ${input.kind} answer`, { feedbackId: earlier.id });
        return null;
      },
      (winner) => this.replayed(winner, same),
    );
  }

  /** The member's answers, newest recorded first. */
  async ofMember(em: EntityManager, memberId: string, first: number, after: string | null): Promise<FeedbackConnection> {
    checkPageSize(first);
    const rows = await em.find(
      Feedback,
      { member: memberId, ...(after ? { id: { $lt: decodeCursor(after) } } : {}) },
      { orderBy: { id: 'desc' }, limit: first + 1 },
    );
    return pageOf(rows, first, Boolean(after));
  }

  /**
   * Every member's answers, newest recorded first: the feedback inbox. An NPS category is a score band (promoters 9–10,
   * passives 7–8, detractors 0–6); `withComment` keeps the answers that say something.
   */
  async inbox(em: EntityManager, filter: { kind: FeedbackKind | null; npsCategory: NpsCategory | null; withComment: boolean }, first: number, after: string | null): Promise<FeedbackConnection> {
    checkPageSize(first);
    const bands: Record<NpsCategory, { $gte: number; $lte: number }> = {
      [NpsCategory.PROMOTER]: { $gte: 9, $lte: 10 },
      [NpsCategory.PASSIVE]: { $gte: 7, $lte: 8 },
      [NpsCategory.DETRACTOR]: { $gte: 0, $lte: 6 },
    };
    if (filter.npsCategory && filter.kind === FeedbackKind.CSAT) throw AppError.badInput([{ path: 'npsCategory', message: 'applies to NPS answers only' }]);
    const rows = await em.find(
      Feedback,
      {
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(filter.npsCategory ? { kind: FeedbackKind.NPS, score: bands[filter.npsCategory] } : {}),
        ...(filter.withComment ? { comment: { $ne: null } } : {}),
        ...(after ? { id: { $lt: decodeCursor(after) } } : {}),
      },
      { orderBy: { id: 'desc' }, limit: first + 1 },
    );
    return pageOf(rows, first, Boolean(after));
  }

  /** Merge step: the absorbed member's answers belong to the survivor. */
  async mergeInto(em: EntityManager, survivor: Member, absorbed: Member): Promise<void> {
    await em.nativeUpdate(Feedback, { member: absorbed.id }, { member: survivor.id });
  }

  /** Erasure step: comments are free text and may name the person; scores stay for the figures. */
  async erase(em: EntityManager, memberIds: string[]): Promise<void> {
    await em.nativeUpdate(Feedback, { member: { $in: memberIds }, comment: { $ne: null } }, { comment: null });
  }

  /**
   * NPS and CSAT over [from, to): overall and per channel in one statement (grouping sets), then per time bucket
   * with empty buckets filled in. Every figure is computed by PostgreSQL; rounding is half away from zero.
   */
  async analytics(em: EntityManager, input: FeedbackAnalyticsInput): Promise<FeedbackAnalytics> {
    const problems: FieldProblem[] = [];
    if (!(input.to.getTime() > input.from.getTime())) problems.push({ path: 'input.to', message: 'must be after from' });
    if (problems.length) throw AppError.badInput(problems);
    const unit = BUCKET_UNIT[input.bucket];

    return em.transactional(
      async (tx) => {
        if (input.channelId && !(await tx.findOne(SalesChannel, input.channelId))) {
          throw AppError.badInput([{ path: 'input.channelId', message: 'no such sales channel' }]);
        }
        const [{ n: buckets }] = await tx.execute<{ n: number }[]>(
          `select count(*)::int as n from generate_series(date_trunc(?, ?::timestamptz at time zone 'UTC'),
             (?::timestamptz - interval '1 microsecond') at time zone 'UTC', ('1 ' || ?)::interval)`,
          [unit, input.from, input.to, unit],
        );
        if (buckets > MAX_BUCKETS) {
          throw AppError.badInput([{ path: 'input.bucket', message: `gives ${buckets} buckets over this range; at most ${MAX_BUCKETS}` }]);
        }

        const where = ['f.given_at >= ?', 'f.given_at < ?'];
        const params: unknown[] = [input.from, input.to];
        if (input.channelKind) where.push('f.channel_kind = ?'), params.push(input.channelKind);
        if (input.channelId) where.push('f.channel_id = ?'), params.push(input.channelId);
        if (input.storeCode) where.push('f.store_code = ?'), params.push(input.storeCode);
        const scoped = `select f.kind, f.score, f.channel_id, (date_trunc(?, f.given_at at time zone 'UTC') at time zone 'UTC') as bucket
                        from feedback f where ${where.join(' and ')}`;

        const grouped = await tx.execute<FigureRow[]>(
          `with f as (${scoped}), g as (
             select grouping(f.channel_id) = 0 as is_channel, f.channel_id, ${COUNTS}
             from f group by grouping sets ((), (f.channel_id))
           )
           select g.is_channel, g.channel_id, c.name as label, c.kind, ${FIGURES}
           from g left join sales_channel c on c.id = g.channel_id
           order by g.is_channel, g.nps_n + g.csat_n desc, c.name, g.channel_id`,
          [unit, ...params],
        );
        const series = await tx.execute<FigureRow[]>(
          `with f as (${scoped}), s as (
             select (b at time zone 'UTC') as bucket from generate_series(date_trunc(?, ?::timestamptz at time zone 'UTC'),
               (?::timestamptz - interval '1 microsecond') at time zone 'UTC', ('1 ' || ?)::interval) b
           ), g as (select s.bucket, ${COUNTS} from s left join f on f.bucket = s.bucket group by s.bucket)
           select g.bucket, ${FIGURES} from g order by g.bucket`,
          [unit, ...params, unit, input.from, input.to, unit],
        );

        const total = grouped.find((r) => !r.is_channel)!;
        return {
          from: input.from,
          to: input.to,
          bucket: input.bucket,
          nps: npsOf(total),
          csat: csatOf(total),
          byChannel: grouped
            .filter((r) => r.is_channel)
            .map((r) => ({ channelId: r.channel_id!, label: r.label!, channelKind: r.kind!, nps: npsOf(r), csat: csatOf(r) })),
          series: series.map((r) => ({ start: new Date(r.bucket!), nps: npsOf(r), csat: csatOf(r) })),
        };
      },
      { readOnly: true },
    );
  }

  /** Which channel and store the answer is about: the order's, or the caller's channel (admins name one). */
  private async subjectOf(
    ctx: Context,
    member: Member,
    input: RecordFeedbackInput,
  ): Promise<{ channelId: string; channelKind: SalesChannelKind; storeCode: string | null; recordingChannelId: string | null }> {
    const p = ctx.principal;
    const recordingChannelId = p?.kind === 'channel' ? p.channelId : null;
    if (p?.kind === 'channel' && input.channelId && input.channelId !== p.channelId) {
      throw AppError.badInput([{ path: 'input.channelId', message: 'a channel records feedback about itself or about an order' }]);
    }
    if (input.orderId) {
      const order = await ctx.em.findOne(Order, input.orderId);
      if (!order) throw AppError.notFound('Order', input.orderId);
      if (order.member?.id !== member.id) {
        throw AppError.conflict('ORDER_OF_ANOTHER_MEMBER', "This order is not the member's (a guest order must be claimed first)", { orderId: order.id });
      }
      if (input.storeCode && input.storeCode !== order.storeCode) {
        throw AppError.badInput([{ path: 'input.storeCode', message: "differs from the order's store; omit it to use the order's" }]);
      }
      if (input.channelId && input.channelId !== order.channel.id && p?.kind !== 'channel') {
        throw AppError.badInput([{ path: 'input.channelId', message: "differs from the order's channel; omit it to use the order's" }]);
      }
      return { channelId: order.channel.id, channelKind: order.channelKind, storeCode: order.storeCode, recordingChannelId };
    }
    if (p?.kind === 'channel') return { channelId: p.channelId, channelKind: p.channelKind, storeCode: input.storeCode ?? null, recordingChannelId };
    if (!input.channelId) throw AppError.badInput([{ path: 'input.channelId', message: 'is required for admin callers without an order' }]);
    const channel = await ctx.em.findOne(SalesChannel, input.channelId);
    if (!channel) throw AppError.notFound('SalesChannel', input.channelId);
    return { channelId: channel.id, channelKind: channel.kind, storeCode: input.storeCode ?? null, recordingChannelId };
  }

  private replayed(prior: Feedback, same: (f: Feedback) => boolean): Feedback {
    if (!same(prior)) {
      throw AppError.conflict('IDEMPOTENCY_KEY_REUSED', 'Feedback with this key was recorded with different contents', { feedbackId: prior.id });
    }
    return prior;
  }
}

interface FigureRow {
  is_channel?: boolean;
  channel_id?: string | null;
  label?: string | null;
  kind?: SalesChannelKind | null;
  bucket?: string | Date;
  nps_n: number;
  promoters: number;
  passives: number;
  detractors: number;
  nps_score: number | null;
  promoter_rate: number | null;
  detractor_rate: number | null;
  csat_n: number;
  csat_mean: number | null;
  satisfied: number;
  satisfied_rate: number | null;
}

/** Counts per group of `f`; FIGURES turns them into the published figures. */
const COUNTS = `count(*) filter (where f.kind = 'NPS')::int as nps_n,
  count(*) filter (where f.kind = 'NPS' and f.score >= 9)::int as promoters,
  count(*) filter (where f.kind = 'NPS' and f.score between 7 and 8)::int as passives,
  count(*) filter (where f.kind = 'NPS' and f.score <= 6)::int as detractors,
  count(*) filter (where f.kind = 'CSAT')::int as csat_n,
  coalesce(sum(f.score) filter (where f.kind = 'CSAT'), 0)::int as csat_sum,
  count(*) filter (where f.kind = 'CSAT' and f.score >= 4)::int as satisfied`;

const FIGURES = `g.nps_n, g.promoters, g.passives, g.detractors,
  round((g.promoters - g.detractors) * 100::numeric / nullif(g.nps_n, 0), 2)::float8 as nps_score,
  round(g.promoters::numeric / nullif(g.nps_n, 0), 4)::float8 as promoter_rate,
  round(g.detractors::numeric / nullif(g.nps_n, 0), 4)::float8 as detractor_rate,
  g.csat_n, round(g.csat_sum::numeric / nullif(g.csat_n, 0), 2)::float8 as csat_mean,
  g.satisfied, round(g.satisfied::numeric / nullif(g.csat_n, 0), 4)::float8 as satisfied_rate`;

function npsOf(r: FigureRow): NpsFigures {
  return {
    responses: r.nps_n,
    promoters: r.promoters,
    passives: r.passives,
    detractors: r.detractors,
    score: r.nps_score,
    promoterRate: r.promoter_rate,
    detractorRate: r.detractor_rate,
  };
}

function csatOf(r: FigureRow): CsatFigures {
  return { responses: r.csat_n, mean: r.csat_mean, satisfied: r.satisfied, satisfiedRate: r.satisfied_rate };
}
