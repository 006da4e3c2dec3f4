import { build, AdminRole } from '../../../test/fixtures/build';
import type { Auth, GqlResult, Harness } from '../../../test/support/harness';

export const RECORD = `mutation R($input: RecordActivityInput!) {
  recordActivity(input: $input) { id memberId type points outcome occurredAt recordedAt channelId channelKind attributes }
}`;
export const CREATE_TYPE = `mutation C($input: CreateActivityTypeInput!) {
  createActivityType(input: $input) { id code name description points capPerDay capPerWeek capLifetime minGapMinutes tierCodes segmentId channelKinds isActive }
}`;
export const UPDATE_TYPE = `mutation U($input: UpdateActivityTypeInput!) {
  updateActivityType(input: $input) { id code name points capPerDay capPerWeek capLifetime minGapMinutes tierCodes segmentId channelKinds isActive }
}`;

let seq = 0;
/** A unique idempotency key for this test run. */
export const key = (prefix = 'k') => `${prefix}-${process.env.JEST_WORKER_ID ?? '1'}-${Date.now()}-${++seq}`;

/** Test helpers over the API: activity types made by an admin, activities recorded by a channel key. */
export function activityFixtures(h: Harness) {
  const b = build(h);
  let admin: { auth: Auth } | null = null;
  const adminAuth = async () => (admin ??= await b.admin(AdminRole.ADMIN)).auth;
  let typeSeq = 0;

  return {
    b,
    adminAuth,
    /** An activity type with a fresh code (`prefix_N`) and the given rules. */
    async type(input: Record<string, unknown> = {}): Promise<{ id: string; code: string; points: number }> {
      const res = await h.gql(await adminAuth(), CREATE_TYPE, {
        input: { code: `t${process.env.JEST_WORKER_ID ?? '1'}_${++typeSeq}_${Date.now() % 100000}`, name: 'Test activity', points: 10, ...input },
      });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data.createActivityType;
    },
    record(auth: Auth, input: Record<string, unknown>): Promise<GqlResult<any>> {
      return h.gql(auth, RECORD, { input: { idempotencyKey: key(), ...input } });
    },
    /** What a member has on the ledger, in lots and in the outbox: to assert what was (not) written. */
    async footprint(memberId?: string) {
      const where = memberId ? 'where member_id = ?' : '';
      const params = memberId ? [memberId] : [];
      const [row] = await h.sql<{ activities: number; ledger: number; lots: number; events: number }>(
        `select (select count(*)::int from activity_record ${where}) as activities,
                (select count(*)::int from ledger_entry ${where}) as ledger,
                (select count(*)::int from point_lot ${where}) as lots,
                (select count(*)::int from event_outbox ${where}) as events`,
        [...params, ...params, ...params, ...params],
      );
      return row;
    },
    async balance(memberId: string) {
      const [row] = await h.sql<{ available: number; lifetime: number }>(
        `select available::int, lifetime::int from member_balance where member_id = ?`,
        [memberId],
      );
      return row ?? { available: 0, lifetime: 0 };
    },
  };
}
