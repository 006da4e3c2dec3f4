import { LockMode, QueryOrder, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, meanSampleOfSums, welch, wilson, type Context, type PluginServices } from '@loyalty/api/extension-api';
import { Challenge, ChallengeBadge, ChallengeProgress } from './challenge.entity';
import { CHALLENGE_CODE_TAKEN, CHALLENGE_NOT_EDITABLE, CHALLENGE_WINDOW_INVALID } from './declarations';
import { fieldProblems, FIXED_ONCE_JOINED, isUuid, optionalText, windowProblem, type ChallengeSpec } from './challenge-input';
import type { ChallengeResults, CreateChallengeInput, UpdateChallengeInput } from './challenge.types';
import { ChallengePersonalisation, holdoutSql } from './goals';
import { verdictOf } from './results-verdict';

/** Who a challenge counts now: the saved segment's members, or every active member. */
interface AudienceQuery {
  sql: string;
  params: unknown[];
}

/** The results' one read of the progress rows; sums are numeric text (exact whatever their size). */
interface SpendRow {
  joined: number;
  completed: number;
  holdout_members: number;
  participant_spend: string;
  participant_spend_squares: string;
  holdout_spend: string;
  holdout_spend_squares: string;
  rewards_unavailable: number;
}

/**
 * Challenges: the marketer's use cases (create, change, list, results, the builder's audience count) and what a member's
 * page reads. Progress itself is counted by the earning contributor (challenge-progress.ts), in each event's transaction.
 */
export class ChallengeService {
  constructor(private readonly services: PluginServices) {}

  list(em: EntityManager): Promise<Challenge[]> {
    return em.find(Challenge, {}, { orderBy: { startsAt: 'desc', id: 'desc' } });
  }

  async get(em: EntityManager, id: string): Promise<Challenge> {
    const challenge = isUuid(id) ? await em.findOne(Challenge, id) : null;
    if (!challenge) throw AppError.notFound('Challenge', id);
    return challenge;
  }

  /** One transaction: checks, the row, its audit entry. A code taken by another challenge is CHALLENGE_CODE_TAKEN. */
  async create(ctx: Context, input: CreateChallengeInput): Promise<Challenge> {
    return this.codeUnique(input.code, () =>
      ctx.em.transactional(async (em) => {
        const settings = await this.services.programme.settings(em);
        const reward = input.reward;
        const spec: ChallengeSpec = {
          code: input.code,
          name: input.name.trim(),
          description: optionalText(input.description),
          goalKind: input.goalKind,
          target: input.target,
          activityType: optionalText(input.activityType),
          currency: optionalText(input.currency) ?? settings.pointValueCurrency,
          personalisation: input.personalisation ?? ChallengePersonalisation.NONE,
          personalDelta: input.personalDelta ?? 0,
          personalLookbackWeeks: input.personalLookbackWeeks ?? 8,
          audienceSegmentId: input.audienceSegmentId ?? null,
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          rewardKind: reward.kind,
          rewardPoints: reward.points ?? null,
          rewardId: reward.rewardId ?? null,
          badgeCode: optionalText(reward.badgeCode),
          badgeName: optionalText(reward.badgeName),
          holdoutPercent: input.holdoutPercent ?? 0,
          isActive: input.isActive ?? false,
        };
        await this.check(em, spec, settings.timeZone);
        const now = new Date();
        const challenge = em.create(Challenge, { ...spec, createdBy: actorOf(ctx), createdAt: now, updatedAt: now });
        this.services.audit.record(em, ctx, { action: 'challenge.create', entityType: 'Challenge', entityId: challenge.id, after: snapshot(spec) });
        return challenge;
      }),
    );
  }

  /** The given fields; those progress depends on only while no member has progress (CHALLENGE_NOT_EDITABLE). */
  async update(ctx: Context, input: UpdateChallengeInput): Promise<Challenge> {
    return ctx.em.transactional(async (em) => {
      // Read under the row's lock: neither the first member's progress nor another change (the window check) crosses this.
      const challenge = isUuid(input.id) ? await em.findOne(Challenge, input.id, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
      if (!challenge) throw AppError.notFound('Challenge', input.id);
      const before = specOf(challenge);
      const settings = await this.services.programme.settings(em);
      const reward = input.reward;
      const given = <T>(value: T | null | undefined, stored: T): T => (value === undefined || value === null ? stored : value);
      const spec: ChallengeSpec = {
        ...before,
        name: input.name != null ? input.name.trim() : before.name,
        description: input.description !== undefined ? optionalText(input.description) : before.description,
        goalKind: given(input.goalKind, before.goalKind),
        target: given(input.target, before.target),
        activityType: input.activityType !== undefined ? optionalText(input.activityType) : before.activityType,
        currency: given(optionalText(input.currency), before.currency),
        personalisation: given(input.personalisation, before.personalisation),
        personalDelta: given(input.personalDelta, before.personalDelta),
        personalLookbackWeeks: given(input.personalLookbackWeeks, before.personalLookbackWeeks),
        audienceSegmentId: input.audienceSegmentId !== undefined ? input.audienceSegmentId : before.audienceSegmentId,
        startsAt: given(input.startsAt, before.startsAt),
        endsAt: given(input.endsAt, before.endsAt),
        holdoutPercent: given(input.holdoutPercent, before.holdoutPercent),
        isActive: given(input.isActive, before.isActive),
        ...(reward
          ? {
              rewardKind: reward.kind,
              rewardPoints: reward.points ?? null,
              rewardId: reward.rewardId ?? null,
              badgeCode: optionalText(reward.badgeCode),
              badgeName: optionalText(reward.badgeName),
            }
          : {}),
      };
      const changed = FIXED_ONCE_JOINED.filter((f) => !same(spec[f], before[f]));
      if (changed.length > 0 && (await em.count(ChallengeProgress, { challenge: challenge.id })) > 0) {
        throw new AppError(CHALLENGE_NOT_EDITABLE.code, `Members have progress in this challenge: ${changed.join(', ')} can no longer change`, { fields: changed });
      }
      await this.check(em, spec, settings.timeZone);
      Object.assign(challenge, spec, { updatedAt: new Date() });
      this.services.audit.record(em, ctx, { action: 'challenge.update', entityType: 'Challenge', entityId: challenge.id, before: snapshot(before), after: snapshot(spec) });
      return challenge;
    });
  }

  /** Members a challenge would count now: the segment's (NOT_FOUND when unknown or deleted), or every active member. */
  async audienceCount(em: EntityManager, segmentId: string | null): Promise<number> {
    const q = await this.audience(em, segmentId);
    const [row] = await em.execute<{ n: number }[]>(`select count(*)::int as n from (${q.sql}) q`, q.params);
    return row.n;
  }

  /**
   * Participants, completions and spend: the audience now split by the holdout hash (the intention-to-treat groups),
   * and each group's net spend in the window from the progress rows (every audience member's order in the window makes
   * or updates their row). A deleted segment's audience is empty. Incremental spend per member comes with its Welch 95%
   * interval and the completion rate with its Wilson interval (docs/concepts/challenges.md, results).
   */
  async results(em: EntityManager, challenge: Challenge, now = new Date()): Promise<ChallengeResults> {
    // Sums as numeric text, read as bigint: a sum of squared spends passes 2^53 (and int8) long before a sum of spends.
    const [rows] = await em.execute<SpendRow[]>(
      `select count(*) filter (where not is_holdout)::int as joined,
              count(*) filter (where not is_holdout and completed_at is not null)::int as completed,
              count(*) filter (where is_holdout)::int as holdout_members,
              coalesce(sum(spend_minor) filter (where not is_holdout), 0)::text as participant_spend,
              coalesce(sum(spend_minor::numeric * spend_minor) filter (where not is_holdout), 0)::text as participant_spend_squares,
              coalesce(sum(spend_minor) filter (where is_holdout), 0)::text as holdout_spend,
              coalesce(sum(spend_minor::numeric * spend_minor) filter (where is_holdout), 0)::text as holdout_spend_squares,
              count(*) filter (where reward_status = 'REWARD_UNAVAILABLE')::int as rewards_unavailable
       from challenge_progress where challenge_id = ?`,
      [challenge.id],
    );
    let audience: AudienceQuery;
    try {
      audience = await this.audience(em, challenge.audienceSegmentId);
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      audience = { sql: 'select null::uuid as member_id where false', params: [] };
    }
    const [split] = await em.execute<{ total: number; holdout: number }[]>(
      `select count(*)::int as total, count(*) filter (where ${holdoutSql('q.member_id')})::int as holdout from (${audience.sql}) q`,
      [challenge.id, challenge.holdoutPercent, ...audience.params],
    );
    const treated = split.total - split.holdout;
    const participantSpend = BigInt(rows.participant_spend);
    const holdoutSpend = BigInt(rows.holdout_spend);
    const spendPerMember = treated > 0 ? Number(participantSpend) / treated : null;
    const holdoutSpendPerMember = split.holdout > 0 ? Number(holdoutSpend) / split.holdout : null;
    // Members of a group without a row spent 0. More rows than members (the segment lost members who joined) are not
    // the spends of the group's members, so no interval is given for them.
    const sample = (members: number, rowCount: number, sum: bigint, squares: string) =>
      rowCount <= members ? meanSampleOfSums(members, sum, BigInt(squares)) : null;
    const participants = sample(treated, rows.joined, participantSpend, rows.participant_spend_squares);
    const holdout = sample(split.holdout, rows.holdout_members, holdoutSpend, rows.holdout_spend_squares);
    const spendPerMemberUplift = participants && holdout ? welch(participants, holdout) : null;
    return {
      joined: rows.joined,
      completed: rows.completed,
      completionRate: rows.joined > 0 ? rows.completed / rows.joined : null,
      completionRateInterval: wilson({ n: rows.joined, successes: rows.completed }),
      holdoutMembers: rows.holdout_members,
      audienceMembers: split.total,
      audienceHoldoutMembers: split.holdout,
      currency: challenge.currency,
      participantSpendMinor: Number(participantSpend),
      holdoutSpendMinor: Number(holdoutSpend),
      spendPerMemberMinor: spendPerMember,
      holdoutSpendPerMemberMinor: holdoutSpendPerMember,
      incrementalSpendPerMemberMinor: spendPerMember !== null && holdoutSpendPerMember !== null ? spendPerMember - holdoutSpendPerMember : null,
      spendPerMemberUplift,
      significant: spendPerMemberUplift?.significant ?? false,
      verdict: verdictOf({
        challenge,
        now,
        participants: { members: treated, rows: rows.joined, spendPerMember },
        holdout: { members: split.holdout, rows: rows.holdout_members, spendPerMember: holdoutSpendPerMember },
        uplift: spendPerMemberUplift,
      }),
      rewardsUnavailable: rows.rewards_unavailable,
    };
  }

  /** Members' challenges, not held out: the running ones first, then by when they completed. */
  async progressOf(em: EntityManager, memberIds: readonly string[]): Promise<ChallengeProgress[]> {
    return em.find(
      ChallengeProgress,
      { memberId: { $in: [...memberIds] }, isHoldout: false },
      { orderBy: { completedAt: QueryOrder.DESC_NULLS_FIRST, joinedAt: QueryOrder.DESC }, populate: ['challenge'] },
    );
  }

  badgesOf(em: EntityManager, memberIds: readonly string[]): Promise<ChallengeBadge[]> {
    return em.find(ChallengeBadge, { memberId: { $in: [...memberIds] } }, { orderBy: { awardedAt: 'desc', id: 'desc' } });
  }

  private async audience(em: EntityManager, segmentId: string | null): Promise<AudienceQuery> {
    if (segmentId === null) return { sql: `select m.id as member_id from member m where m.status = 'ACTIVE'`, params: [] };
    if (!isUuid(segmentId)) throw AppError.notFound('Segment', segmentId);
    return this.services.segments.memberIdsQuery(em, { segmentId });
  }

  /** Field problems (BAD_USER_INPUT), then the window, then what the ids name must exist (NOT_FOUND). */
  private async check(em: EntityManager, spec: ChallengeSpec, timeZone: string): Promise<void> {
    const problems = fieldProblems(spec, timeZone);
    if (problems.length) throw AppError.badInput(problems);
    const window = windowProblem(spec);
    if (window) {
      throw new AppError(CHALLENGE_WINDOW_INVALID.code, `The challenge's window is invalid: ${window}`, { startsAt: spec.startsAt.toISOString(), endsAt: spec.endsAt.toISOString() });
    }
    if (spec.audienceSegmentId) await this.services.segments.get(em, spec.audienceSegmentId);
    if (spec.rewardId) {
      const found = await em.execute(`select 1 from reward where id = ?`, [spec.rewardId]);
      if (found.length === 0) throw AppError.notFound('Reward', spec.rewardId);
    }
  }

  private async codeUnique<T>(code: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException && /challenge_code_unique/.test(err.message)) {
        throw new AppError(CHALLENGE_CODE_TAKEN.code, `Another challenge has the code ${code}`, { challengeCode: code });
      }
      throw err;
    }
  }
}

/** As the audit log names actors (`admin:<id>`, `apiKey:<id>`). */
const actorOf = ({ principal }: Context) => (!principal ? 'system' : principal.kind === 'admin' ? `admin:${principal.adminId}` : `apiKey:${principal.apiKeyId}`);

const same = (a: unknown, b: unknown) => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);

function specOf(c: Challenge): ChallengeSpec {
  return {
    code: c.code,
    name: c.name,
    description: c.description,
    goalKind: c.goalKind,
    target: c.target,
    activityType: c.activityType,
    currency: c.currency,
    personalisation: c.personalisation,
    personalDelta: c.personalDelta,
    personalLookbackWeeks: c.personalLookbackWeeks,
    audienceSegmentId: c.audienceSegmentId,
    startsAt: c.startsAt,
    endsAt: c.endsAt,
    rewardKind: c.rewardKind,
    rewardPoints: c.rewardPoints,
    rewardId: c.rewardId,
    badgeCode: c.badgeCode,
    badgeName: c.badgeName,
    holdoutPercent: c.holdoutPercent,
    isActive: c.isActive,
  };
}

const snapshot = (s: ChallengeSpec): Record<string, unknown> => ({ ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() });
