import {
  DAY_MS,
  EarningEventKind,
  EarningStage,
  LedgerReason,
  localDayNumber,
  localWeekNumber,
  newId,
  type ActivityEarningEvent,
  type EarningContributor,
  type EarningRun,
  type OrderEarningEvent,
  type ReturnEarningEvent,
} from '@loyalty/api/extension-api';
import { ChallengeRewardKind, ChallengeRewardStatus } from './challenge.entity';
import { BadgeAwarded, ChallengeCompleted } from './declarations';
import {
  activitiesQualify,
  ChallengeGoalKind,
  ChallengePersonalisation,
  emptyState,
  isInHoldout,
  isStreak,
  LATE_ARRIVAL_MS,
  MAX_CATEGORIES_PER_ORDER,
  MAX_TRACKED_ORDERS,
  ordersQualify,
  personalGoal,
  progressOf,
  stateOf,
  type ProgressState,
} from './goals';

/** A challenge as the earning read gives it (a row of `challenge`). */
interface ChallengeTerms {
  id: string;
  code: string;
  goalKind: ChallengeGoalKind;
  target: number;
  activityType: string | null;
  currency: string;
  personalisation: ChallengePersonalisation;
  personalDelta: number;
  personalLookbackWeeks: number;
  audienceSegmentId: string | null;
  startsAt: Date;
  endsAt: Date;
  rewardKind: ChallengeRewardKind;
  rewardPoints: number | null;
  rewardId: string | null;
  badgeCode: string | null;
  badgeName: string | null;
  holdoutPercent: number;
}

/** A member's progress row, in memory for the run; `dirty` rows are written when the run flushes. */
interface ProgressRow {
  id: string;
  challengeId: string;
  memberId: string;
  goal: number;
  progress: number;
  state: ProgressState;
  spendMinor: number;
  orders: number;
  isHoldout: boolean;
  joinedAt: Date;
  completedAt: Date | null;
  rewardStatus: ChallengeRewardStatus | null;
  rewardRef: string | null;
  updatedAt: Date;
  dirty: boolean;
}

/** Per member: the challenges the run's events may count for, each with the member's row if they joined. */
type MemberChallenges = Array<{ challenge: ChallengeTerms; row: ProgressRow | null }>;

/** Audience answers (challenge:member), asked once per run, and the rows to write at the end. */
interface RunScratch {
  audience: Map<string, boolean>;
}

const STAGE = EarningStage.BONUS + 50;

/** When the event happened, for a window: in it, and counted by the platform no later than the grace after its end. */
function counts(c: ChallengeTerms, happenedAt: Date, at: Date): boolean {
  return c.startsAt <= happenedAt && happenedAt < c.endsAt && at.getTime() < c.endsAt.getTime() + LATE_ARRIVAL_MS;
}

/** The streak unit of a moment: its local day or week number in the programme's time zone. */
const unitOf = (c: ChallengeTerms, at: Date, timeZone: string) =>
  c.goalKind === ChallengeGoalKind.STREAK_WEEKS ? localWeekNumber(at, timeZone) : localDayNumber(at, timeZone);

const parseRow = (p: Record<string, any>, challengeId: string): ProgressRow => ({
  id: p.id,
  challengeId,
  memberId: p.member_id,
  goal: Number(p.goal),
  progress: Number(p.progress),
  state: stateOf(p.state),
  spendMinor: Number(p.spend_minor),
  orders: Number(p.orders),
  isHoldout: p.is_holdout === true,
  joinedAt: new Date(p.joined_at),
  completedAt: p.completed_at ? new Date(p.completed_at) : null,
  rewardStatus: p.reward_status ?? null,
  rewardRef: p.reward_ref ?? null,
  updatedAt: new Date(p.updated_at),
  dirty: false,
});

const parseChallenge = (c: Record<string, any>): ChallengeTerms => ({
  id: c.id,
  code: c.code,
  goalKind: c.goal_kind,
  target: Number(c.target),
  activityType: c.activity_type ?? null,
  currency: c.currency,
  personalisation: c.personalisation,
  personalDelta: Number(c.personal_delta),
  personalLookbackWeeks: Number(c.personal_lookback_weeks),
  audienceSegmentId: c.audience_segment_id ?? null,
  startsAt: new Date(c.starts_at),
  endsAt: new Date(c.ends_at),
  rewardKind: c.reward_kind,
  rewardPoints: c.reward_points ?? null,
  rewardId: c.reward_id ?? null,
  badgeCode: c.badge_code ?? null,
  badgeName: c.badge_name ?? null,
  holdoutPercent: Number(c.holdout_percent),
});

/**
 * `challenges.progress`: counts every order, return and activity towards the active challenges whose window holds it,
 * in the transaction of its cause (the member's balance lock is held, so a member's events take turns), and rewards a
 * completion once. Rows are kept in the run's state, so an import batch's many events of a member count as they would
 * one by one, and written together when the run flushes; a completion is claimed at once with a conditional write.
 */
export function challengeProgressContributor(): EarningContributor<MemberChallenges> {
  const contributor: EarningContributor<MemberChallenges> = {
    name: 'challenges.progress',
    stage: STAGE,
    read: {
      // Active challenges whose window (with the late-arrival grace) may hold one of the run's events or returned orders.
      select: `select coalesce(jsonb_agg(jsonb_build_object('c', to_jsonb(c), 'p', to_jsonb(p)) order by c.id), '[]'::jsonb)
               from challenge c left join challenge_progress p on p.challenge_id = c.id and p.member_id = k.member_id
               where c.is_active and c.starts_at <= greatest(k.placed_to, k.at_to)
                 and c.ends_at + interval '${LATE_ARRIVAL_MS / DAY_MS} days' > least(k.placed_from, k.at_from)`,
      parse: (value: Array<{ c: Record<string, any>; p: Record<string, any> | null }> | null) =>
        (value ?? []).map(({ c, p }) => ({ challenge: parseChallenge(c), row: p ? parseRow(p, c.id) : null })),
    },

    async onOrder(event, entries, run) {
      for (const entry of entries ?? []) {
        const c = entry.challenge;
        if (!counts(c, event.order.placedAt, event.at)) continue;
        const row = entry.row ?? (entry.row = await join(run, c, event.memberId, event.at, (terms) => counts(terms, event.order.placedAt, event.at)));
        if (!row) continue;
        addOrder(c, row, event, run.terms.settings.timeZone);
        await settle(run, c, row, event.at);
      }
    },

    async onReturn(event, entries, run) {
      for (const entry of entries ?? []) {
        if (!entry.row) continue;
        takeBack(entry.challenge, entry.row, event);
      }
    },

    async onActivity(event, entries, run) {
      for (const entry of entries ?? []) {
        const c = entry.challenge;
        const qualifies = (terms: ChallengeTerms) => activitiesQualify(terms.goalKind, terms.activityType, event.activity) && counts(terms, event.occurredAt, event.at);
        if (!qualifies(c)) continue;
        const row = entry.row ?? (entry.row = await join(run, c, event.memberId, event.at, qualifies));
        if (!row) continue;
        addActivity(c, row, event, run.terms.settings.timeZone);
        await settle(run, c, row, event.at);
      }
    },

    async flush(run) {
      const rows: ProgressRow[] = [];
      for (const entries of run.statesOf(contributor)) for (const e of entries ?? []) if (e.row?.dirty) rows.push(e.row);
      if (rows.length === 0) return;
      await run.em.execute(
        `insert into challenge_progress as p (id, challenge_id, member_id, goal, progress, state, spend_minor, orders, is_holdout, joined_at, completed_at, reward_status, reward_ref, updated_at)
         select x.id, x.challenge_id, x.member_id, x.goal, x.progress, x.state, x.spend_minor, x.orders, x.is_holdout, x.joined_at, x.completed_at, x.reward_status, x.reward_ref, x.updated_at
         from jsonb_to_recordset(?::jsonb) as x(id uuid, challenge_id uuid, member_id uuid, goal bigint, progress bigint, state jsonb, spend_minor bigint,
           orders int, is_holdout boolean, joined_at timestamptz, completed_at timestamptz, reward_status text, reward_ref text, updated_at timestamptz)
         on conflict (challenge_id, member_id) do update set progress = excluded.progress, state = excluded.state, spend_minor = excluded.spend_minor,
           orders = excluded.orders, completed_at = coalesce(p.completed_at, excluded.completed_at), reward_status = coalesce(p.reward_status, excluded.reward_status),
           reward_ref = coalesce(p.reward_ref, excluded.reward_ref), updated_at = excluded.updated_at`,
        [JSON.stringify(rows.map(recordOf))],
      );
      for (const row of rows) row.dirty = false;
    },
  };

  /**
   * The member's row, made on their first event in the window when they are in the audience (asked once per run; the
   * segment as of the event); null otherwise. A personal goal is fixed now, from their history before the start.
   * The first row depends on the challenge's terms, which may change until a member has progress: they are read again
   * here with the challenge's row share-locked (`c` takes them), so a change (updateChallenge holds the row for update)
   * committed before is counted with, and a later one waits for this event and then finds the member's progress.
   */
  async function join(run: EarningRun, c: ChallengeTerms, memberId: string, at: Date, qualifies: (c: ChallengeTerms) => boolean): Promise<ProgressRow | null> {
    const [held] = await run.em.execute<{ c: Record<string, any> }[]>(`select to_jsonb(c) as c from challenge c where c.id = ? for key share`, [c.id]);
    if (!held?.c.is_active) return null;
    Object.assign(c, parseChallenge(held.c));
    if (!qualifies(c)) return null;
    const { audience } = run.scratch<RunScratch>(contributor, () => ({ audience: new Map() }));
    const key = `${c.id}:${memberId}`;
    let admitted = audience.get(key);
    if (admitted === undefined) {
      admitted = c.audienceSegmentId === null || (await run.tools.inSegment(run.em, c.audienceSegmentId, memberId, at));
      audience.set(key, admitted);
    }
    if (!admitted) return null;
    let goal = c.target;
    if (c.personalisation === ChallengePersonalisation.PERSONAL_PLUS) {
      const lookbackMs = c.personalLookbackWeeks * 7 * DAY_MS;
      const history = await run.tools.purchaseHistory(run.em, memberId, new Date(c.startsAt.getTime() - lookbackMs), c.startsAt);
      goal = personalGoal({ kind: c.goalKind, target: c.target, delta: c.personalDelta, windowMs: c.endsAt.getTime() - c.startsAt.getTime(), lookbackMs, history });
    }
    return {
      id: newId(),
      challengeId: c.id,
      memberId,
      goal,
      progress: 0,
      state: emptyState(),
      spendMinor: 0,
      orders: 0,
      isHoldout: isInHoldout(c.id, memberId, c.holdoutPercent),
      joinedAt: at,
      completedAt: null,
      rewardStatus: null,
      rewardRef: null,
      updatedAt: at,
      dirty: true,
    };
  }

  /** Reaching the goal completes it once: claimed with a conditional write, then rewarded, then announced. */
  async function settle(run: EarningRun, c: ChallengeTerms, row: ProgressRow, at: Date): Promise<void> {
    row.dirty = true;
    row.updatedAt = at;
    if (row.completedAt) return;
    row.progress = progressOf(c.goalKind, row.state);
    if (row.isHoldout || row.progress < row.goal) return;

    row.completedAt = at;
    const claimed = await run.em.execute<{ id: string }[]>(
      `insert into challenge_progress as p (id, challenge_id, member_id, goal, progress, state, spend_minor, orders, is_holdout, joined_at, completed_at, updated_at)
       values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)
       on conflict (challenge_id, member_id) do update set progress = excluded.progress, state = excluded.state, completed_at = excluded.completed_at,
         updated_at = excluded.updated_at
       where p.completed_at is null
       returning p.id`,
      [row.id, c.id, row.memberId, row.goal, row.progress, JSON.stringify(row.state), row.spendMinor, row.orders, row.isHoldout, row.joinedAt, at, at],
    );
    // Under the member's lock no one else can have completed it; should the table say otherwise, it wins.
    if (claimed.length === 0) return;
    row.id = claimed[0].id;

    const key = `challenge:${c.id}:${row.memberId}`;
    let points: number | null = null;
    if (c.rewardKind === ChallengeRewardKind.POINTS && c.rewardPoints) {
      const lot = run.earn(row.memberId, c.rewardPoints, { sourceType: 'challenge', sourceId: c.id, key, actor: run.actor, note: `challenge ${c.code}`, at }, LedgerReason.BONUS, { available: true });
      points = c.rewardPoints;
      row.rewardRef = lot?.id ?? null;
      row.rewardStatus = ChallengeRewardStatus.GRANTED;
    } else if (c.rewardKind === ChallengeRewardKind.REWARD && c.rewardId) {
      const granted = await run.tools.grantReward(run.em, { memberId: row.memberId, rewardId: c.rewardId, key, grantedBy: `challenge:${c.code}`, now: at });
      row.rewardRef = granted?.id ?? null;
      row.rewardStatus = granted ? ChallengeRewardStatus.GRANTED : ChallengeRewardStatus.REWARD_UNAVAILABLE;
    } else if (c.rewardKind === ChallengeRewardKind.BADGE && c.badgeCode) {
      row.rewardRef = await awardBadge(run, c, row.memberId, at);
      row.rewardStatus = ChallengeRewardStatus.GRANTED;
    }
    run.emitEvent(
      ChallengeCompleted,
      {
        memberId: row.memberId,
        challengeId: c.id,
        challengeCode: c.code,
        goal: row.goal,
        progress: row.progress,
        rewardKind: c.rewardKind,
        rewardStatus: row.rewardStatus ?? ChallengeRewardStatus.GRANTED,
        points,
        rewardRef: row.rewardRef,
        completedAt: at.toISOString(),
      },
      { memberId: row.memberId, occurredAt: at, dedupeKey: `challenge.completed:${c.id}:${row.memberId}` },
    );
  }

  return contributor;
}

/** A member holds each badge once: a second challenge with the same badge records its completion and gives nothing new. */
async function awardBadge(run: EarningRun, c: ChallengeTerms, memberId: string, at: Date): Promise<string> {
  const inserted = await run.em.execute<{ id: string }[]>(
    `insert into challenge_badge (id, member_id, code, name, challenge_id, awarded_at) values (?, ?, ?, ?, ?, ?)
     on conflict (member_id, code) do nothing returning id`,
    [newId(), memberId, c.badgeCode, c.badgeName ?? c.badgeCode, c.id, at],
  );
  if (inserted.length === 0) {
    const [held] = await run.em.execute<{ id: string }[]>(`select id from challenge_badge where member_id = ? and code = ?`, [memberId, c.badgeCode]);
    return held.id;
  }
  const badgeId = inserted[0].id;
  run.emitEvent(
    BadgeAwarded,
    { memberId, badgeId, badgeCode: c.badgeCode!, challengeId: c.id, awardedAt: at.toISOString() },
    { memberId, occurredAt: at, dedupeKey: `badge.awarded:${memberId}:${c.badgeCode}` },
  );
  return badgeId;
}

/** Adds an order placed in the window: its spend always (for the results), its contribution when orders count. */
function addOrder(c: ChallengeTerms, row: ProgressRow, { order, lines }: OrderEarningEvent, timeZone: string): void {
  // A claimed guest order may come returned already: nothing of it is left to count.
  if (order.totalMinor > 0 && order.returnedMinor >= order.totalMinor) return;
  const value = order.currency === c.currency ? Math.max(0, order.totalMinor - order.returnedMinor) : 0;
  const countsForGoal = ordersQualify(c.goalKind, c.activityType);
  const unit = countsForGoal && isStreak(c.goalKind) ? unitOf(c, order.placedAt, timeZone) : null;
  const categories = [
    ...new Set(lines.filter((l) => l.category !== null && l.quantity > l.returnedQuantity && l.netMinor > 0).map((l) => l.category!.trim().slice(0, 100))),
  ].slice(0, MAX_CATEGORIES_PER_ORDER);
  const s = row.state;
  if (Object.keys(s.o).length < MAX_TRACKED_ORDERS) {
    s.o[order.id] = { v: value, ...(unit !== null ? { u: unit } : {}), ...(c.goalKind === ChallengeGoalKind.DISTINCT_CATEGORIES ? { c: categories } : {}) };
  } else {
    // Counted for good: a return of these can no longer be taken back.
    s.rn = (s.rn ?? 0) + 1;
    s.rv = (s.rv ?? 0) + value;
    if (c.goalKind === ChallengeGoalKind.DISTINCT_CATEGORIES) s.rc = [...new Set([...(s.rc ?? []), ...categories])].slice(0, 1000);
  }
  if (unit !== null) s.u[unit] = (s.u[unit] ?? 0) + 1;
  row.spendMinor += value;
  row.orders += 1;
}

function addActivity(c: ChallengeTerms, row: ProgressRow, event: ActivityEarningEvent, timeZone: string): void {
  row.state.n += 1;
  if (isStreak(c.goalKind)) {
    const unit = unitOf(c, event.occurredAt, timeZone);
    row.state.u[unit] = (row.state.u[unit] ?? 0) + 1;
  }
}

/**
 * A return of an order placed in the window: its value leaves the member's spend; a fully returned order no longer
 * counts (its streak day, its categories). The progress of a completed challenge stays as it was when completed.
 */
function takeBack(c: ChallengeTerms, row: ProgressRow, { order, valueMinor, at }: ReturnEarningEvent): void {
  const counted = row.state.o[order.id];
  if (!counted) return;
  const taken = order.currency === c.currency ? Math.min(counted.v, Math.max(0, valueMinor)) : 0;
  counted.v -= taken;
  row.spendMinor -= taken;
  if (order.returnedMinor >= order.totalMinor) {
    delete row.state.o[order.id];
    row.spendMinor -= counted.v;
    row.orders -= 1;
    if (counted.u !== undefined) {
      const left = (row.state.u[counted.u] ?? 0) - 1;
      if (left > 0) row.state.u[counted.u] = left;
      else delete row.state.u[counted.u];
    }
  }
  if (!row.completedAt) row.progress = progressOf(c.goalKind, row.state);
  row.updatedAt = at;
  row.dirty = true;
}

/** The row as the flush's recordset takes it. */
const recordOf = (r: ProgressRow) => ({
  id: r.id,
  challenge_id: r.challengeId,
  member_id: r.memberId,
  goal: r.goal,
  progress: r.progress,
  state: r.state,
  spend_minor: r.spendMinor,
  orders: r.orders,
  is_holdout: r.isHoldout,
  joined_at: r.joinedAt.toISOString(),
  completed_at: r.completedAt?.toISOString() ?? null,
  reward_status: r.rewardStatus,
  reward_ref: r.rewardRef,
  updated_at: r.updatedAt.toISOString(),
});
