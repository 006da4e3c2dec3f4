import { createHash } from 'node:crypto';
import { registerEnumType } from 'type-graphql';
import { DAY_MS } from '@loyalty/api/extension-api';

/** What a member must do within the window. */
export enum ChallengeGoalKind {
  /** `target` orders placed in the window. */
  ORDER_COUNT = 'ORDER_COUNT',
  /** Spend of at least `target` minor units of the challenge's currency, net of discounts and returns. */
  SPEND = 'SPEND',
  /** Orders with lines in `target` different categories. */
  DISTINCT_CATEGORIES = 'DISTINCT_CATEGORIES',
  /** `target` activities of `activityType`. */
  ACTIVITY_COUNT = 'ACTIVITY_COUNT',
  /** `target` consecutive local days, each with a qualifying event (an order, or an activity of `activityType`). */
  STREAK_DAYS = 'STREAK_DAYS',
  /** `target` consecutive local weeks (Monday to Sunday), each with a qualifying event. */
  STREAK_WEEKS = 'STREAK_WEEKS',
}
registerEnumType(ChallengeGoalKind, {
  name: 'ChallengeGoalKind',
  description: 'What a member must do within a challenge’s window (challenges plugin).',
  valuesConfig: {
    ORDER_COUNT: { description: '`target` orders placed in the window.' },
    SPEND: { description: 'Net spend (after discounts and returns) of at least `target` minor units of the challenge’s currency.' },
    DISTINCT_CATEGORIES: { description: 'Order lines in `target` different product categories.' },
    ACTIVITY_COUNT: { description: '`target` activities of `activityType`.' },
    STREAK_DAYS: { description: '`target` consecutive days in the programme’s time zone, each with an order (or an activity of `activityType` when set).' },
    STREAK_WEEKS: { description: '`target` consecutive Monday-to-Sunday weeks in the programme’s time zone, each with an order (or an activity of `activityType`).' },
  },
});

export enum ChallengePersonalisation {
  NONE = 'NONE',
  /** The member's usual count (or spend) per window over the lookback, plus `personalDelta`; never below `target`. */
  PERSONAL_PLUS = 'PERSONAL_PLUS',
}
registerEnumType(ChallengePersonalisation, {
  name: 'ChallengePersonalisation',
  description: 'How a member’s own goal is set when they join (challenges plugin).',
  valuesConfig: {
    NONE: { description: 'Every member’s goal is `target`.' },
    PERSONAL_PLUS: {
      description:
        'ORDER_COUNT and SPEND only: the member’s usual orders (or spend) per window over the `personalLookbackWeeks` before the start, plus `personalDelta`, and at least `target` (“one more visit than their usual week”).',
    },
  },
});

/** The largest target of each goal kind: a goal the state of one progress row can follow. */
export const MAX_TARGET: Record<ChallengeGoalKind, number> = {
  ORDER_COUNT: 1000,
  SPEND: 1_000_000_000_000,
  DISTINCT_CATEGORIES: 100,
  ACTIVITY_COUNT: 1000,
  STREAK_DAYS: 366,
  STREAK_WEEKS: 53,
};

/** A window is at most a year and a day, so a member's streak units (days) stay bounded. */
export const MAX_WINDOW_DAYS = 366;
/** An order or activity counts when it reaches the platform at most this long after the window closed (late till syncs). */
export const LATE_ARRIVAL_MS = 3 * DAY_MS;
/** Orders remembered one by one per progress row (to take back on a return); later ones count but cannot be undone. */
export const MAX_TRACKED_ORDERS = 1000;
/** Categories remembered per order. */
export const MAX_CATEGORIES_PER_ORDER = 50;

export const isStreak = (kind: ChallengeGoalKind) => kind === ChallengeGoalKind.STREAK_DAYS || kind === ChallengeGoalKind.STREAK_WEEKS;

/** Whether orders count towards the goal (activities do for ACTIVITY_COUNT and streaks of an activity type). */
export const ordersQualify = (kind: ChallengeGoalKind, activityType: string | null) =>
  kind !== ChallengeGoalKind.ACTIVITY_COUNT && !(isStreak(kind) && activityType !== null);

export const activitiesQualify = (kind: ChallengeGoalKind, activityType: string | null, activity: string) =>
  activityType !== null && activity === activityType && (kind === ChallengeGoalKind.ACTIVITY_COUNT || isStreak(kind));

/**
 * What a progress row remembers of what counted (challenge_progress.state): enough to recompute the progress after a
 * return, and to give the same answer whether a member's events come one by one or in an import batch.
 */
export interface ProgressState {
  /**
   * Orders placed in the window, by id: their net value in the challenge's currency (spend), their streak unit when
   * orders make the streak, their categories (DISTINCT_CATEGORIES).
   */
  o: Record<string, { v: number; u?: number; c?: string[] }>;
  /** Value and categories of orders beyond MAX_TRACKED_ORDERS (counted for good). */
  rv?: number;
  rn?: number;
  rc?: string[];
  /** Qualifying activities counted. */
  n: number;
  /** Streaks: qualifying events (orders or activities, as the goal says) per unit (local day or week number). */
  u: Record<string, number>;
}

export const emptyState = (): ProgressState => ({ o: {}, n: 0, u: {} });

/** Parses a stored state, tolerating missing keys (a row written before a key existed). */
export function stateOf(value: unknown): ProgressState {
  const v = (value && typeof value === 'object' ? value : {}) as Partial<ProgressState>;
  return { o: v.o ?? {}, n: v.n ?? 0, u: v.u ?? {}, ...(v.rv ? { rv: v.rv } : {}), ...(v.rn ? { rn: v.rn } : {}), ...(v.rc ? { rc: v.rc } : {}) };
}

/** The longest run of consecutive unit numbers that have at least one event. */
export function longestRun(units: Record<string, number>): number {
  const days = Object.entries(units)
    .filter(([, n]) => n > 0)
    .map(([u]) => Number(u))
    .sort((a, b) => a - b);
  let best = 0;
  let run = 0;
  for (let i = 0; i < days.length; i++) {
    run = i > 0 && days[i] === days[i - 1] + 1 ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

/** The progress the state amounts to for a goal kind. */
export function progressOf(kind: ChallengeGoalKind, state: ProgressState): number {
  const orders = Object.values(state.o);
  switch (kind) {
    case ChallengeGoalKind.ORDER_COUNT:
      return orders.length + (state.rn ?? 0);
    case ChallengeGoalKind.SPEND:
      return orders.reduce((sum, o) => sum + o.v, 0) + (state.rv ?? 0);
    case ChallengeGoalKind.DISTINCT_CATEGORIES:
      return new Set([...orders.flatMap((o) => o.c ?? []), ...(state.rc ?? [])]).size;
    case ChallengeGoalKind.ACTIVITY_COUNT:
      return state.n;
    case ChallengeGoalKind.STREAK_DAYS:
    case ChallengeGoalKind.STREAK_WEEKS:
      return longestRun(state.u);
  }
}

/**
 * A PERSONAL_PLUS goal: the member's usual orders (or spend) per window-length over the lookback before the start,
 * rounded, plus the delta; never below the challenge's target (its floor) nor above the kind's maximum.
 */
export function personalGoal(input: {
  kind: ChallengeGoalKind;
  target: number;
  delta: number;
  windowMs: number;
  lookbackMs: number;
  history: { orders: number; spendMinor: number };
}): number {
  const usualPerLookback = input.kind === ChallengeGoalKind.SPEND ? Math.max(0, input.history.spendMinor) : input.history.orders;
  const usual = Math.round((usualPerLookback * input.windowMs) / input.lookbackMs);
  return Math.min(MAX_TARGET[input.kind], Math.max(input.target, usual + input.delta));
}

/**
 * Whether a member is in a challenge's holdout: the first 32 bits of MD5("<challenge id>:<member id>") fall below
 * `percent` of 2^32. Deterministic, independent between challenges; compared in integers so that SQL
 * (`holdoutSql`) gives the same answer at the boundary. MD5 only spreads ids, it guards nothing.
 */
export function isInHoldout(challengeId: string, memberId: string, percent: number): boolean {
  if (percent <= 0) return false;
  const position = parseInt(createHash('md5').update(`${challengeId}:${memberId}`).digest('hex').slice(0, 8), 16);
  return position * 100 < percent * 2 ** 32;
}

/** `isInHoldout` in SQL over a member id column; binds the challenge id, then the percent. */
export const holdoutSql = (memberIdColumn: string) =>
  `(('x' || substr(md5(?::text || ':' || ${memberIdColumn}::text), 1, 8))::bit(32)::bigint * 100 < ?::bigint * 4294967296)`;
