import { LockMode, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import { AppError, type FieldProblem } from '../../base/errors';
import { checkPageSize, decodeCursor, encodeCursor, pageOf } from '../../base/pagination';
import { isUuid } from '../../base/ids';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import type { EventService } from '../events/event.service';
import { EventType } from '../events/event-types';
import type { SegmentService } from '../segments/segment.service';
import { Segment } from '../segments/segment.entity';
import type { ModelService } from '../models/model.service';
import type { ProgrammeService } from '../programme/programme.service';
import { Reward } from '../rewards/reward.entity';
import { ConsentMedium } from '../members/member-consent.entity';
import {
  Campaign,
  CampaignActionKind,
  CampaignGroup,
  CampaignMember,
  CampaignOfferKind,
  CampaignStatus,
} from './campaign.entity';
import type {
  CampaignBonusInput,
  CampaignConnection,
  CampaignCounts,
  CampaignGroupMetrics,
  CampaignListFilter,
  CampaignMemberConnection,
  CampaignMessageInput,
  CampaignOfferInput,
  CampaignResults,
  CreateCampaignInput,
  UpdateCampaignInput,
} from './campaign.types';
import { holdoutPositionSql } from './holdout';
import { differenceOfProportions, welch, type Estimate } from '../../base/intervals';
import { deliverPendingMessages, type DeliveryReport, type MessageDeliveryAdapter } from './campaign-delivery';

const SMS_MAX = 480;
const OFFER_BATCH = 500;
const LAUNCHED = [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE, CampaignStatus.ENDED];

/** A campaign's editable fields, checked as a whole (create, or a draft with an update applied). */
interface Spec {
  name: string;
  description: string | null;
  segmentId: string;
  bonus: CampaignBonusInput | null;
  offer: CampaignOfferInput | null;
  message: CampaignMessageInput | null;
  holdoutShare: number;
  budgetPoints: number | null;
  startsAt: Date;
  endsAt: Date | null;
}

export interface SweepReport {
  started: number;
  ended: number;
  messages: DeliveryReport;
}

/**
 * Campaigns (docs/concepts/campaigns.md): drafts, launch with holdout assignment, contacting treated members (offers and
 * messages), cancel, results. Bonus points are given while orders are recorded (campaign-bonus.ts).
 */
export class CampaignService {
  constructor(
    private readonly audit: AuditService,
    private readonly events: EventService,
    private readonly segments: SegmentService,
    private readonly models: ModelService,
    private readonly programme: ProgrammeService,
    private adapter: MessageDeliveryAdapter,
    private readonly maxMessageAttempts: number,
  ) {}

  /** Replaces the message delivery adapter (the default logs); see MessageDeliveryAdapter. */
  useDeliveryAdapter(adapter: MessageDeliveryAdapter): void {
    this.adapter = adapter;
  }

  async get(em: EntityManager, id: string): Promise<Campaign> {
    const campaign = isUuid(id) ? await em.findOne(Campaign, id) : null;
    if (!campaign) throw AppError.notFound('Campaign', id);
    return campaign;
  }

  /** Newest first; `status` is the status now (SCHEDULED, ACTIVE and ENDED follow from the clock). */
  async list(em: EntityManager, filter: CampaignListFilter): Promise<CampaignConnection> {
    checkPageSize(filter.first);
    const where = statusWhere(filter.status ?? null, new Date());
    const afterId = filter.after ? decodeCursor(filter.after) : null;
    const rows = await em.find(Campaign, afterId ? { $and: [where, { id: { $lt: afterId } }] } : where, { orderBy: { id: 'desc' }, limit: filter.first + 1 });
    return { ...pageOf(rows, filter.first, Boolean(afterId)), countTotal: () => em.count(Campaign, where) };
  }

  async create(ctx: Context, input: CreateCampaignInput): Promise<Campaign> {
    const spec: Spec = {
      name: input.name.trim(),
      description: input.description ?? null,
      segmentId: input.segmentId,
      bonus: input.bonus ?? null,
      offer: input.offer ?? null,
      message: input.message ?? null,
      holdoutShare: input.holdoutShare,
      budgetPoints: input.budgetPoints ?? null,
      startsAt: input.startsAt,
      endsAt: input.endsAt ?? null,
    };
    return ctx.em.transactional(async (em) => {
      await this.check(em, spec);
      const campaign = em.create(Campaign, { name: spec.name, segment: spec.segmentId, actionKind: kindsOf(spec)[0], holdoutShare: 0, startsAt: spec.startsAt, createdBy: actorRef(ctx.principal) });
      applySpec(campaign, spec);
      this.audit.record(em, ctx, { action: 'campaign.create', entityType: 'Campaign', entityId: campaign.id, after: snapshot(campaign) });
      return campaign;
    });
  }

  /** Drafts only: CAMPAIGN_NOT_EDITABLE once launched or cancelled. */
  async update(ctx: Context, input: UpdateCampaignInput): Promise<Campaign> {
    return ctx.em.transactional(async (em) => {
      const campaign = await this.lock(em, input.id);
      editable(campaign, 'update');
      const before = snapshot(campaign);
      const current = specOf(campaign);
      const spec: Spec = {
        ...current,
        ...(input.name != null ? { name: input.name.trim() } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.segmentId != null ? { segmentId: input.segmentId } : {}),
        // Each action on its own: given, it replaces that action whole (or adds it); null removes it; left out, it
        // stays. A removed bonus takes its budget with it, unless budgetPoints is given too (then check() refuses it).
        ...(input.bonus !== undefined ? { bonus: input.bonus, ...(input.bonus === null ? { budgetPoints: null } : {}) } : {}),
        ...(input.offer !== undefined ? { offer: input.offer } : {}),
        ...(input.message !== undefined ? { message: input.message } : {}),
        ...(input.holdoutShare != null ? { holdoutShare: input.holdoutShare } : {}),
        ...(input.budgetPoints != null ? { budgetPoints: input.budgetPoints === 0 ? null : input.budgetPoints } : {}),
        ...(input.startsAt != null ? { startsAt: input.startsAt } : {}),
        ...(input.endsAt !== undefined ? { endsAt: input.endsAt } : {}),
      };
      await this.check(em, spec);
      applySpec(campaign, spec);
      if (spec.segmentId !== campaign.segment.id) campaign.segment = em.getReference(Segment, spec.segmentId, { wrapped: true });
      campaign.updatedAt = new Date();
      this.audit.record(em, ctx, { action: 'campaign.update', entityType: 'Campaign', entityId: campaign.id, before, after: snapshot(campaign) });
      return campaign;
    });
  }

  /**
   * Fixes the targeted members (the segment as of now, erased members left out) and their groups, contacts the
   * treated ones if the window has started, and records `campaign.launched`, all in one transaction: a failure leaves
   * the draft as it was, with no members and no event.
   */
  async launch(ctx: Context, id: string): Promise<Campaign> {
    return ctx.em.transactional(async (em) => {
      const campaign = await this.lock(em, id);
      editable(campaign, 'launch');
      const now = new Date();
      if (campaign.endsAt && campaign.endsAt <= now) {
        throw AppError.badInput([{ path: 'endsAt', message: 'has passed; move the end of the draft first' }]);
      }
      const targets = await this.segments.memberIdsQuery(em, { segmentId: campaign.segment.id }, now);
      if (campaign.startsAt < now) campaign.startsAt = now;
      const [counts] = await em.execute<{ treated: number; holdout: number }[]>(
        `with assigned as (
           insert into campaign_member (campaign_id, member_id, assigned_group, assigned_at, bonus_points)
           select ?::uuid, q.member_id, case when ${holdoutPositionSql('q.member_id')} < ? then 'HOLDOUT' else 'TREATED' end, ?, 0
           from (${targets.sql}) q join member m on m.id = q.member_id and m.status = 'ACTIVE'
           returning assigned_group)
         select (count(*) filter (where assigned_group = 'TREATED'))::int as treated, (count(*) filter (where assigned_group = 'HOLDOUT'))::int as holdout from assigned`,
        [campaign.id, campaign.id, campaign.holdoutShare, now, ...targets.params],
      );
      if (counts.treated + counts.holdout === 0) {
        throw AppError.conflict('CAMPAIGN_TARGETS_NO_MEMBERS', 'The segment has no active members to target now', { segmentId: campaign.segment.id });
      }
      Object.assign(campaign, { treatedCount: counts.treated, holdoutCount: counts.holdout, launchedAt: now, updatedAt: now });
      campaign.storedStatus = campaign.startsAt <= now ? CampaignStatus.ACTIVE : CampaignStatus.SCHEDULED;
      if (campaign.storedStatus === CampaignStatus.ACTIVE) await this.contact(em, campaign, now);
      await this.events.record(
        em,
        EventType.CAMPAIGN_LAUNCHED,
        {
          campaignId: campaign.id,
          segmentId: campaign.segment.id,
          actionKind: campaign.actionKind,
          actionKinds: campaign.actionKinds,
          targetedMembers: counts.treated + counts.holdout,
          holdoutMembers: counts.holdout,
          budgetPoints: campaign.budgetPoints,
          startsAt: campaign.startsAt.toISOString(),
          endsAt: campaign.endsAt?.toISOString() ?? null,
        },
        { occurredAt: now },
      );
      this.audit.record(em, ctx, { action: 'campaign.launch', entityType: 'Campaign', entityId: campaign.id, after: { ...snapshot(campaign), treatedCount: counts.treated, holdoutCount: counts.holdout } });
      ctx.log.info({ campaignId: campaign.id, treated: counts.treated, holdout: counts.holdout }, 'campaign.launched');
      return campaign;
    });
  }

  /** Stops a draft or a running campaign: no more bonuses, undelivered messages CANCELLED. Results stop at the cancel. */
  async cancel(ctx: Context, id: string): Promise<Campaign> {
    return ctx.em.transactional(async (em) => {
      const campaign = await this.lock(em, id);
      const now = new Date();
      const status = campaign.statusAt(now);
      if (status === CampaignStatus.ENDED || status === CampaignStatus.CANCELLED) {
        throw new AppError('CAMPAIGN_NOT_EDITABLE', `A ${status} campaign cannot be cancelled`, { status });
      }
      const before = snapshot(campaign);
      campaign.storedStatus = CampaignStatus.CANCELLED;
      campaign.cancelledAt = now;
      campaign.updatedAt = now;
      await em.execute(`update campaign_message set status = 'CANCELLED' where campaign_id = ? and status = 'PENDING'`, [campaign.id]);
      this.audit.record(em, ctx, { action: 'campaign.cancel', entityType: 'Campaign', entityId: campaign.id, before, after: snapshot(campaign) });
      return campaign;
    });
  }

  /**
   * The runner's pass (docs/concepts/campaigns.md): contacts the treated members of campaigns whose start has come, marks
   * ended ones ENDED, then delivers pending messages. Each campaign is its own transaction.
   */
  async sweep(em: EntityManager, now = new Date()): Promise<SweepReport> {
    const due = await em.find(Campaign, { storedStatus: CampaignStatus.SCHEDULED, startsAt: { $lte: now } }, { fields: ['id'] });
    let started = 0;
    for (const { id } of due) {
      const fork = em.fork();
      await fork.transactional(async (tx) => {
        const campaign = await tx.findOne(Campaign, id, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
        if (!campaign || campaign.storedStatus !== CampaignStatus.SCHEDULED) return;
        campaign.storedStatus = CampaignStatus.ACTIVE;
        if (campaign.statusAt(now) === CampaignStatus.ACTIVE) await this.contact(tx, campaign, now);
        started++;
      });
    }
    const ended = await em.fork().nativeUpdate(
      Campaign,
      { storedStatus: { $in: [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE] }, endsAt: { $lte: now } },
      { storedStatus: CampaignStatus.ENDED },
    );
    const messages = await deliverPendingMessages(em.fork(), this.adapter, this.maxMessageAttempts);
    return { started, ended, messages };
  }

  /**
   * A member merge step: the absorbed member's campaign groups and messages become the survivor's, so the survivor's
   * orders earn the bonuses and count in the results. Where both were targeted by one campaign, the survivor keeps
   * their own row and the absorbed one stays on the merged id (never contacted again: delivery skips merged members).
   */
  async mergeInto(em: EntityManager, survivorId: string, absorbedId: string): Promise<void> {
    await em.execute(
      `update campaign_member set member_id = ? where member_id = ? and campaign_id not in (select campaign_id from campaign_member where member_id = ?)`,
      [survivorId, absorbedId, survivorId],
    );
    await em.execute(
      `update campaign_message set member_id = ? where member_id = ? and campaign_id not in (select campaign_id from campaign_message where member_id = ?)`,
      [survivorId, absorbedId, survivorId],
    );
  }

  /** Counts for many campaigns in one statement (the DataLoader behind `campaign.counts`). */
  async countsOf(em: EntityManager, campaignIds: readonly string[]): Promise<CampaignCounts[]> {
    const rows = await em.execute<(CampaignCounts & { id: string })[]>(
      `select c.id,
         coalesce(m.treated, 0)::int as treated, coalesce(m.holdout, 0)::int as holdout,
         coalesce(m.contacted, 0)::int as contacted, coalesce(m.bonused, 0)::int as bonused,
         coalesce(g.pending, 0)::int as "messagesPending", coalesce(g.sent, 0)::int as "messagesSent",
         coalesce(g.skipped, 0)::int as "messagesSkipped", coalesce(g.failed, 0)::int as "messagesFailed"
       from campaign c
       left join lateral (
         select count(*) filter (where assigned_group = 'TREATED') as treated, count(*) filter (where assigned_group = 'HOLDOUT') as holdout,
           count(*) filter (where contacted_at is not null) as contacted, count(*) filter (where bonus_points > 0) as bonused
         from campaign_member where campaign_id = c.id) m on true
       left join lateral (
         select count(*) filter (where status = 'PENDING') as pending, count(*) filter (where status = 'SENT') as sent,
           count(*) filter (where status = 'SKIPPED') as skipped, count(*) filter (where status = 'FAILED') as failed
         from campaign_message where campaign_id = c.id) g on true
       where c.id in (?)`,
      [campaignIds as string[]],
    );
    const byId = new Map(rows.map(({ id, ...counts }) => [id, counts]));
    const none = { treated: 0, holdout: 0, contacted: 0, bonused: 0, messagesPending: 0, messagesSent: 0, messagesSkipped: 0, messagesFailed: 0 };
    return campaignIds.map((id) => byId.get(id) ?? none);
  }

  /** Members by id, optionally one group. */
  async members(em: EntityManager, campaign: Campaign, first: number, after: string | null, group: CampaignGroup | null): Promise<CampaignMemberConnection> {
    checkPageSize(first);
    const afterId = after ? decodeCursor(after) : null;
    const rows = await em.find(
      CampaignMember,
      { campaignId: campaign.id, ...(group ? { group } : {}), ...(afterId ? { memberId: { $gt: afterId } } : {}) },
      { orderBy: { memberId: 'asc' }, limit: first + 1 },
    );
    const page = pageOf(rows.map((r) => ({ id: r.memberId, row: r })), first, Boolean(afterId));
    return { pageInfo: page.pageInfo, edges: page.edges.map((e) => ({ cursor: encodeCursor(e.node.id), node: e.node.row })) };
  }

  /**
   * Treated vs holdout over [startsAt, windowEnd): purchase rate (difference of proportions, Wald 95% interval),
   * revenue per member and points cost per member (Welch's t 95% intervals). Null for a campaign never launched.
   */
  async results(em: EntityManager, campaign: Campaign, now = new Date()): Promise<CampaignResults | null> {
    if (!campaign.launchedAt) return null;
    const windowStart = campaign.startsAt;
    const windowEnd = new Date(Math.max(campaign.windowEnd(now).getTime(), windowStart.getTime()));
    const currency = (await this.programme.settings(em)).pointValueCurrency;
    const rows = await em.execute<{ grp: CampaignGroup; members: number; buyers: number; revenue: number; revenue_var: number; points: number; points_var: number }[]>(
      `with per_member as (
         select cm.assigned_group as grp, cm.bonus_points, count(o.id) as orders,
           coalesce(sum(o.total_minor - o.returned_minor) filter (where o.currency = ?), 0)::float8 as revenue
         from campaign_member cm
         left join customer_order o on o.member_id = cm.member_id and o.placed_at >= ? and o.placed_at < ?
         where cm.campaign_id = ?
         group by cm.member_id, cm.assigned_group, cm.bonus_points)
       select grp, count(*)::int as members, (count(*) filter (where orders > 0))::int as buyers,
         sum(revenue)::float8 as revenue, coalesce(var_samp(revenue), 0)::float8 as revenue_var,
         sum(bonus_points)::float8 as points, coalesce(var_samp(bonus_points), 0)::float8 as points_var
       from per_member group by grp`,
      [currency, windowStart, windowEnd, campaign.id],
    );
    const of = (group: CampaignGroup) => rows.find((r) => r.grp === group) ?? { grp: group, members: 0, buyers: 0, revenue: 0, revenue_var: 0, points: 0, points_var: 0 };
    const t = of(CampaignGroup.TREATED);
    const h = of(CampaignGroup.HOLDOUT);
    const metrics = (r: typeof t): CampaignGroupMetrics => ({
      group: r.grp,
      members: r.members,
      buyers: r.buyers,
      purchaseRate: r.members ? r.buyers / r.members : 0,
      revenueMinor: r.revenue,
      revenuePerMemberMinor: r.members ? r.revenue / r.members : 0,
      pointsCost: r.points,
      pointsCostPerMember: r.members ? r.points / r.members : 0,
    });
    const treated = metrics(t);
    const holdout = metrics(h);
    const purchaseRateUplift = differenceOfProportions({ n: t.members, successes: t.buyers }, { n: h.members, successes: h.buyers });
    const revenuePerMemberUplift = welch({ n: t.members, mean: treated.revenuePerMemberMinor, variance: t.revenue_var }, { n: h.members, mean: holdout.revenuePerMemberMinor, variance: h.revenue_var });
    const pointsCostPerMemberUplift = welch({ n: t.members, mean: treated.pointsCostPerMember, variance: t.points_var }, { n: h.members, mean: holdout.pointsCostPerMember, variance: h.points_var });
    const significant = Boolean(purchaseRateUplift?.significant || revenuePerMemberUplift?.significant);
    return {
      windowStart,
      windowEnd,
      currency,
      treated,
      holdout,
      purchaseRateUplift,
      revenuePerMemberUplift,
      pointsCostPerMemberUplift,
      incrementalBuyers: purchaseRateUplift ? purchaseRateUplift.difference * t.members : null,
      incrementalRevenueMinor: revenuePerMemberUplift ? revenuePerMemberUplift.difference * t.members : null,
      significant,
      verdict: verdictOf({ notStarted: now < campaign.startsAt, ended: windowEnd < now, treated, holdout, purchaseRateUplift, revenuePerMemberUplift, currency }),
    };
  }

  /**
   * Gives treated members every action of the campaign, in this transaction: bonus eligibility, their offer, and a
   * message where they consent. Each action marks the members it reached as contacted; the holdout gets none.
   */
  private async contact(em: EntityManager, campaign: Campaign, now: Date): Promise<void> {
    campaign.contactedAt = now;
    const treated = [campaign.id, CampaignGroup.TREATED];
    if (campaign.bonus) {
      await em.execute(`update campaign_member set contacted_at = ? where campaign_id = ? and assigned_group = ?`, [now, ...treated]);
    }
    if (campaign.offer?.kind === CampaignOfferKind.REWARD_DISCOUNT) {
      const reward = await em.findOneOrFail(Reward, campaign.offerRewardId!);
      const costPoints = reward.costPoints - Math.floor((reward.costPoints * (campaign.offerDiscountPercent ?? 0)) / 100);
      await em.execute(`update campaign_member set contacted_at = ?, offer = ?::jsonb where campaign_id = ? and assigned_group = ?`, [
        now,
        JSON.stringify({ rewardId: reward.id, rewardCode: reward.code, discountPercent: campaign.offerDiscountPercent, costPoints }),
        ...treated,
      ]);
    } else if (campaign.offer?.kind === CampaignOfferKind.RECOMMENDATIONS) {
      await this.offerRecommendations(em, campaign, now);
    }
    if (campaign.message) {
      // Consent is read now, in this transaction: a member without it gets no outbox row. The text is sent as written:
      // with an offer too, the member's offer is on their record (campaign_member.offer), not merged into the message.
      await em.execute(
        `with written as (
           insert into campaign_message (id, campaign_id, member_id, medium, subject, body, status, attempts, created_at)
           select gen_random_uuid(), cm.campaign_id, cm.member_id, ?, ?, ?, 'PENDING', 0, ?
           from campaign_member cm
           join member m on m.id = cm.member_id and m.status = 'ACTIVE'
           join member_consent c on c.member_id = cm.member_id and c.medium = ? and c.is_granted
           where cm.campaign_id = ? and cm.assigned_group = ?
           returning member_id)
         update campaign_member set contacted_at = ? where campaign_id = ? and member_id in (select member_id from written)`,
        [campaign.messageMedium, campaign.messageSubject, campaign.messageBody, now, campaign.messageMedium, ...treated, now, campaign.id],
      );
    }
  }

  /** Each treated member's top products from the active recommender, in batches; none recorded for a member it has none for. */
  private async offerRecommendations(em: EntityManager, campaign: Campaign, now: Date): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const ids = (
        await em.execute<{ member_id: string }[]>(
          `select member_id from campaign_member where campaign_id = ? and assigned_group = 'TREATED' and member_id > ? order by member_id limit ?`,
          [campaign.id, after, OFFER_BATCH],
        )
      ).map((r) => r.member_id);
      if (ids.length === 0) return;
      after = ids[ids.length - 1];
      const recs = await this.models.recommendationsOf(em, ids, campaign.offerRecommendationCount ?? 3, true);
      const offers = ids
        .map((memberId, i) => ({
          member_id: memberId,
          offer: { products: recs[i].map((r) => ({ productId: r.product.id, sku: r.product.sku, name: r.product.name, rank: r.rank, modelVersionId: r.modelVersionId })) },
        }))
        .filter((o) => o.offer.products.length > 0);
      if (offers.length === 0) continue;
      await em.execute(
        `update campaign_member cm set contacted_at = ?, offer = x.offer
         from jsonb_to_recordset(?::jsonb) as x(member_id uuid, offer jsonb)
         where cm.campaign_id = ? and cm.member_id = x.member_id`,
        [now, JSON.stringify(offers), campaign.id],
      );
    }
  }

  private async lock(em: EntityManager, id: string): Promise<Campaign> {
    const campaign = isUuid(id) ? await em.findOne(Campaign, id, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    if (!campaign) throw AppError.notFound('Campaign', id);
    return campaign;
  }

  /** Field rules that class-validator cannot express, then the referenced segment and reward must exist. */
  private async check(em: EntityManager, spec: Spec): Promise<void> {
    const problems: FieldProblem[] = [];
    // At most one of each kind follows from the input's shape; none would be a campaign that gives nothing.
    if (kindsOf(spec).length === 0) problems.push({ path: 'input', message: 'give at least one of bonus, offer and message' });
    if (spec.bonus && (spec.bonus.fixedPoints == null) === (spec.bonus.multiplierPercent == null)) {
      problems.push({ path: 'input.bonus', message: 'give exactly one of fixedPoints and multiplierPercent' });
    }
    if (spec.offer) {
      const o = spec.offer;
      if (o.kind === CampaignOfferKind.REWARD_DISCOUNT) {
        if (!o.rewardId) problems.push({ path: 'input.offer.rewardId', message: 'is required for REWARD_DISCOUNT' });
        if (o.discountPercent == null) problems.push({ path: 'input.offer.discountPercent', message: 'is required for REWARD_DISCOUNT' });
        if (o.recommendationCount != null) problems.push({ path: 'input.offer.recommendationCount', message: 'is only for RECOMMENDATIONS' });
      } else {
        if (o.recommendationCount == null) problems.push({ path: 'input.offer.recommendationCount', message: 'is required for RECOMMENDATIONS' });
        if (o.rewardId != null) problems.push({ path: 'input.offer.rewardId', message: 'is only for REWARD_DISCOUNT' });
        if (o.discountPercent != null) problems.push({ path: 'input.offer.discountPercent', message: 'is only for REWARD_DISCOUNT' });
      }
    }
    if (spec.message) {
      const m = spec.message;
      if (m.medium === ConsentMedium.EMAIL && !m.subject) problems.push({ path: 'input.message.subject', message: 'is required for EMAIL' });
      if (m.medium !== ConsentMedium.EMAIL && m.subject) problems.push({ path: 'input.message.subject', message: `is only for EMAIL, not ${m.medium}` });
      if (m.medium === ConsentMedium.SMS && m.body.length > SMS_MAX) problems.push({ path: 'input.message.body', message: `must be at most ${SMS_MAX} characters for SMS` });
    }
    if (spec.budgetPoints != null && !spec.bonus) problems.push({ path: 'input.budgetPoints', message: 'caps bonus points: give a bonus, or no budget' });
    if (spec.endsAt && spec.endsAt <= spec.startsAt) problems.push({ path: 'input.endsAt', message: 'must be after startsAt' });
    if (!Number.isFinite(spec.holdoutShare)) problems.push({ path: 'input.holdoutShare', message: 'must be a number' });
    if (problems.length) throw AppError.badInput(problems);
    await this.segments.get(em, spec.segmentId);
    if (spec.offer?.rewardId) {
      const reward = isUuid(spec.offer.rewardId) ? await em.findOne(Reward, spec.offer.rewardId) : null;
      if (!reward) throw AppError.notFound('Reward', spec.offer.rewardId);
    }
  }
}

function editable(campaign: Campaign, what: 'update' | 'launch'): void {
  if (campaign.storedStatus !== CampaignStatus.DRAFT) {
    const status = campaign.statusAt(new Date());
    throw new AppError('CAMPAIGN_NOT_EDITABLE', `Only a DRAFT campaign can ${what === 'update' ? 'be changed' : 'be launched'}; this one is ${status}`, { status });
  }
}

function statusWhere(status: CampaignStatus | null, now: Date): FilterQuery<Campaign> {
  switch (status) {
    case null:
      return {};
    case CampaignStatus.DRAFT:
    case CampaignStatus.CANCELLED:
      return { storedStatus: status };
    case CampaignStatus.SCHEDULED:
      return { storedStatus: { $in: LAUNCHED }, startsAt: { $gt: now } };
    case CampaignStatus.ACTIVE:
      return { storedStatus: { $in: LAUNCHED }, startsAt: { $lte: now }, $or: [{ endsAt: null }, { endsAt: { $gt: now } }] };
    case CampaignStatus.ENDED:
      return { storedStatus: { $in: LAUNCHED }, endsAt: { $lte: now } };
  }
}

function specOf(c: Campaign): Spec {
  return {
    name: c.name,
    description: c.description,
    segmentId: c.segment.id,
    bonus: c.bonus ? { ...c.bonus } : null,
    offer: c.offer ? { ...c.offer } : null,
    message: c.message ? { ...c.message } : null,
    holdoutShare: c.holdoutShare,
    budgetPoints: c.budgetPoints,
    startsAt: c.startsAt,
    endsAt: c.endsAt,
  };
}

/** The spec's actions in the order of `Campaign.actionKinds`; check() refuses none. */
function kindsOf(s: Spec): CampaignActionKind[] {
  return [
    ...(s.bonus ? [CampaignActionKind.BONUS_POINTS] : []),
    ...(s.offer ? [CampaignActionKind.OFFER] : []),
    ...(s.message ? [CampaignActionKind.MESSAGE] : []),
  ];
}

function applySpec(c: Campaign, s: Spec): void {
  c.name = s.name;
  c.description = s.description;
  c.actionKind = kindsOf(s)[0];
  c.bonusFixedPoints = s.bonus?.fixedPoints ?? null;
  c.bonusMultiplierPercent = s.bonus?.multiplierPercent ?? null;
  c.offerKind = s.offer?.kind ?? null;
  c.offerRewardId = s.offer?.rewardId ?? null;
  c.offerDiscountPercent = s.offer?.discountPercent ?? null;
  c.offerRecommendationCount = s.offer?.recommendationCount ?? null;
  c.messageMedium = s.message?.medium ?? null;
  c.messageSubject = s.message?.subject ?? null;
  c.messageBody = s.message?.body ?? null;
  c.holdoutShare = s.holdoutShare;
  c.budgetPoints = s.budgetPoints;
  c.startsAt = s.startsAt;
  c.endsAt = s.endsAt;
}

function snapshot(c: Campaign): Record<string, unknown> {
  return {
    name: c.name,
    segmentId: c.segment.id,
    status: c.storedStatus,
    actionKinds: c.actionKinds,
    bonus: c.bonus,
    offer: c.offer,
    message: c.message ? { medium: c.message.medium, subject: c.message.subject } : null,
    holdoutShare: c.holdoutShare,
    budgetPoints: c.budgetPoints,
    startsAt: c.startsAt,
    endsAt: c.endsAt,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** Percentage points to one decimal, signed as the admin app's uplift card writes them (formatRateUplift): "+5.2", "0.0", "-1.3". */
const pp = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} points`;
/**
 * Signed money as the admin app's tiles write it, to the nearest minor unit in the currency's own decimals:
 * 16676 GBP → "+£166.76", -500 JPY → "-JP¥500" (not "166.76 GBP", nor 500 yen read as 5.00).
 */
function money(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const rounded = Math.round(minor);
  return `${rounded >= 0 ? '+' : '-'}${format.format(Math.abs(rounded) / 10 ** digits)}`;
}

function verdictOf(r: {
  notStarted: boolean;
  /** The window is over (ended or cancelled): waiting longer cannot change the figures. */
  ended: boolean;
  treated: CampaignGroupMetrics;
  holdout: CampaignGroupMetrics;
  purchaseRateUplift: Estimate | null;
  revenuePerMemberUplift: Estimate | null;
  currency: string;
}): string {
  if (r.notStarted) return 'Not started yet: results cover orders from the start of the campaign.';
  if (r.holdout.members < 2) return 'No uplift can be measured: the holdout group has fewer than 2 members (raise the holdout share or target a larger segment).';
  const rate = r.purchaseRateUplift;
  const revenue = r.revenuePerMemberUplift;
  const rateText = rate
    ? `purchase rate ${pct(r.treated.purchaseRate)} treated vs ${pct(r.holdout.purchaseRate)} holdout, ${pp(rate.difference)} (95% CI ${pp(rate.low)} to ${pp(rate.high)})`
    : `purchase rate ${pct(r.treated.purchaseRate)} treated vs ${pct(r.holdout.purchaseRate)} holdout (no spread to estimate an interval from)`;
  const revenueText = revenue
    ? `revenue per member ${money(revenue.difference, r.currency)} (95% CI ${money(revenue.low, r.currency)} to ${money(revenue.high, r.currency)})`
    : 'revenue per member: too little data for an interval';
  // Neither interval could be estimated (no buyers, or every member alike): there is nothing that "includes zero".
  if (!rate && !revenue) {
    return r.ended
      ? `No uplift can be measured: ${rateText}; ${revenueText}. Without an interval the campaign cannot be said to have worked; telling a difference apart needs more members, or a larger holdout, next time.`
      : `No uplift can be measured yet: ${rateText}; ${revenueText}. An interval needs members who bought and members who did not; let it run longer or target more members.`;
  }
  if (rate?.significant || revenue?.significant) {
    const up = (rate?.significant ? rate.difference : revenue!.difference) > 0;
    return `${up ? 'The campaign made a significant difference' : 'Treated members did significantly worse than the holdout'}: ${rateText}; ${revenueText}.`;
  }
  if (r.ended) {
    return `No significant difference: ${rateText}; ${revenueText}. The intervals include zero, so the campaign cannot be said to have worked; telling a difference this size apart needs more members, or a larger holdout, next time.`;
  }
  return `No significant difference yet: ${rateText}; ${revenueText}. The intervals include zero, so the campaign cannot yet be said to have worked; let it run longer or target more members.`;
}
