import {
  EarningStage,
  LedgerReason,
  localDayNumber,
  localWeekNumber,
  startOfLocalDayNumber,
  type ActivityEarningEvent,
  type EarningContributor,
  type EarningRun,
} from '@loyalty/api/extension-api';
import { ActivityRecorded } from './activity-definitions';
import { Activity, ActivityOutcome } from './activity.entity';
import type { ActivityType } from './activity-type.entity';

/** An activity this plugin is recording in the run, waiting for the contributor's decision. */
interface PendingActivity {
  activity: Activity;
  type: ActivityType;
}

const pendingOf = (run: EarningRun): Map<string, PendingActivity> => run.scratch(activitiesEarn, () => new Map<string, PendingActivity>());

/** Hands the contributor an activity about to be credited in this run (ActivityService.record, before `tx.credit`). */
export function expectActivity(run: EarningRun, activity: Activity, type: ActivityType): void {
  pendingOf(run).set(activity.id, { activity, type });
}

/** The instants a local day number begins and the next one begins, in the programme's time zone. */
const localSpan = (firstDay: number, days: number, timeZone: string): [Date, Date] => [
  startOfLocalDayNumber(firstDay, timeZone),
  startOfLocalDayNumber(firstDay + days, timeZone),
];

/** Why the activity is not credited, or CREDITED; reads under the member's balance lock, so the counts are exact. */
async function decide(event: ActivityEarningEvent, type: ActivityType, run: EarningRun): Promise<ActivityOutcome> {
  const { em, tools } = run;
  if (type.tierCodes.length > 0) {
    const tier = await tools.tierOf(em, event.memberId);
    if (tier === null || !type.tierCodes.includes(tier)) return ActivityOutcome.NOT_ELIGIBLE;
  }
  if (type.segmentId !== null && !(await tools.inSegment(em, type.segmentId, event.memberId, event.at))) return ActivityOutcome.NOT_ELIGIBLE;
  if (type.points === 0) return ActivityOutcome.NO_POINTS;
  if (type.capPerDay === null && type.capPerWeek === null && type.capLifetime === null && type.minGapMinutes === null) return ActivityOutcome.CREDITED;

  const timeZone = run.terms.settings.timeZone;
  const [dayFrom, dayTo] = localSpan(localDayNumber(event.occurredAt, timeZone), 1, timeZone);
  // Local week n holds the day numbers 7n-3 .. 7n+3 (localWeekNumber: Monday weeks).
  const [weekFrom, weekTo] = localSpan(localWeekNumber(event.occurredAt, timeZone) * 7 - 3, 7, timeZone);
  const [counts] = await em.execute<{ lifetime: number; day: number; week: number; too_soon: boolean }[]>(
    `select count(*)::int as lifetime,
       count(*) filter (where a.occurred_at >= ? and a.occurred_at < ?)::int as day,
       count(*) filter (where a.occurred_at >= ? and a.occurred_at < ?)::int as week,
       coalesce(bool_or(abs(extract(epoch from a.occurred_at - ?::timestamptz)) < ?), false) as too_soon
     from activity_record a
     where a.member_id = ? and a.type = ? and a.outcome = 'CREDITED'`,
    [dayFrom, dayTo, weekFrom, weekTo, event.occurredAt, (type.minGapMinutes ?? 0) * 60, event.memberId, type.code],
  );
  if (type.capLifetime !== null && counts.lifetime >= type.capLifetime) return ActivityOutcome.CAPPED_LIFETIME;
  if (type.capPerWeek !== null && counts.week >= type.capPerWeek) return ActivityOutcome.CAPPED_WEEK;
  if (type.capPerDay !== null && counts.day >= type.capPerDay) return ActivityOutcome.CAPPED_DAY;
  if (counts.too_soon) return ActivityOutcome.TOO_SOON;
  return ActivityOutcome.CREDITED;
}

/**
 * Credits this plugin's activities: eligibility (tiers, segment), the caps per local day, week and lifetime, and the
 * least gap, counted over the member's credited activities of the type, then the type's points as an available lot
 * (LedgerReason.ACTIVITY: no return can take them back). Records `activity.recorded` first, so the outbox reads
 * activity.recorded, then points.earned. Activities other plugins run through the pipeline are not its to credit.
 */
export const activitiesEarn: EarningContributor<undefined> = {
  name: 'activities.earn',
  stage: EarningStage.EARN,
  async onActivity(event, _state, run) {
    const pending = pendingOf(run).get(event.activityId);
    if (!pending) return;
    pendingOf(run).delete(event.activityId);
    const { activity, type } = pending;
    activity.outcome = await decide(event, type, run);
    activity.points = activity.outcome === ActivityOutcome.CREDITED ? type.points : 0;
    run.emitEvent(
      ActivityRecorded,
      { memberId: event.memberId, activityId: activity.id, type: type.code, points: activity.points, outcome: activity.outcome, occurredAt: event.occurredAt.toISOString() },
      { memberId: event.memberId, occurredAt: event.at },
    );
    if (activity.points > 0) {
      run.earn(event.memberId, activity.points, { sourceType: 'activity', sourceId: activity.id, key: `activity:${activity.id}`, actor: run.actor, at: event.at }, LedgerReason.ACTIVITY, {
        available: true,
      });
    }
  },
};
