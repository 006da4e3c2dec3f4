import { rowsForMembers, ValueType, type LoyaltyPlugin } from '@loyalty/api/extension-api';
import { apiKeyScopes, permissions } from './access';
import { ActivityErrors, ActivityRecorded } from './activity-definitions';
import { activitiesEarn } from './activity-earning';
import { Activity, ActivityOutcome } from './activity.entity';
import { ActivityType } from './activity-type.entity';
import { ActivityResolver, MemberActivitiesResolver } from './activity.resolver';
import { TYPE_CODE } from './activity.types';
import { Migration20261207120000_activities } from './migrations';
import { demoActivity, demoProgramme } from './demo';

/**
 * Member activities (non-purchase earning): the programme declares activity types with their earning rules, channels
 * record members' activities (recordActivity, scope activities:write), and the earning contributor activities.earn
 * credits them in the same transaction. See README.md and docs/activities.md.
 */
export const plugin: LoyaltyPlugin = {
  name: 'activities',
  entities: [ActivityType, Activity],
  migrations: [{ name: 'Migration20261207120000_activities', class: Migration20261207120000_activities }],
  earningContributors: [activitiesEarn],
  resolvers: [ActivityResolver, MemberActivitiesResolver],
  eventTypes: [ActivityRecorded],
  errorCodes: Object.values(ActivityErrors),
  permissions,
  apiKeyScopes,
  segmentAttributes: [
    {
      name: 'activityCount',
      description: 'Activities of one type (the qualifier: its code) the member recorded in the last `windowDays` days, credited or not.',
      type: ValueType.INTEGER,
      operators: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between'],
      min: 0,
      max: 1_000_000,
      needsWindowDays: true,
      qualifier: { description: 'The activity type code.', pattern: TYPE_CODE, patternHint: 'an activity type code such as store_visit' },
      missingValue: 0,
      rows: (p) => `select a.member_id, count(*) as v from activity_record a
        where a.type = ${p.qualifier()} and a.occurred_at >= ${p.windowStart()} and a.occurred_at < ${p.asOf()}
        group by a.member_id`,
    },
  ],
  timelineSources: [
    {
      kind: 'ACTIVITY',
      description: 'An activity the member did (activities plugin), credited or not.',
      table: 'activity_record',
      occurredAt: 's.occurred_at',
      node: Activity,
      summary: (node) => {
        const a = node as Activity;
        return a.outcome === ActivityOutcome.CREDITED ? `${a.type}: +${a.points} points` : `${a.type}: ${a.outcome.toLowerCase().replace(/_/g, ' ')}`;
      },
    },
  ],
  demo: { programme: demoProgramme, activity: demoActivity },
  memberSteps: {
    // The survivor's caps and counts include what the absorbed member did.
    async merge(em, survivorId, absorbedId) {
      await em.execute('update activity_record set member_id = ? where member_id = ?', [survivorId, absorbedId]);
    },
    // What the channel sent may be personal (a review's text); the facts and points stay.
    async erase(em, memberIds) {
      await em.execute(`update activity_record set attributes = '{}'::jsonb where member_id in (?) and attributes <> '{}'::jsonb`, [memberIds]);
    },
    export: (em, memberIds) =>
      rowsForMembers(em, `select member_id, type, channel_kind, occurred_at, recorded_at, attributes, points, outcome from activity_record where member_id in (:members) order by occurred_at, id`, memberIds),
  },
};

export default plugin;
export { Activity, ActivityOutcome, ActivityType, ActivityRecorded, ActivityErrors, activitiesEarn };
