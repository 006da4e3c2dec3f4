import type { Auth, Harness } from '../../../test/support/harness';
import { orderInput, RECORD_ORDER, RECORD_RETURN } from '../../../test/support/orders';

export const CHALLENGE_FIELDS = `id code name goalKind target activityType currency personalisation personalDelta personalLookbackWeeks
  audienceSegmentId startsAt endsAt rewardKind rewardPoints rewardId badgeCode badgeName holdoutPercent isActive status`;

export const CREATE_CHALLENGE = `mutation Create($input: CreateChallengeInput!) { createChallenge(input: $input) { ${CHALLENGE_FIELDS} } }`;
export const UPDATE_CHALLENGE = `mutation Update($input: UpdateChallengeInput!) { updateChallenge(input: $input) { ${CHALLENGE_FIELDS} } }`;
export const CHALLENGES = `query { challenges { ${CHALLENGE_FIELDS} } }`;
export const CHALLENGE_RESULTS = `query Results($id: ID!) { challenge(id: $id) { id status results {
  joined completed completionRate holdoutMembers audienceMembers audienceHoldoutMembers currency participantSpendMinor holdoutSpendMinor
  spendPerMemberMinor holdoutSpendPerMemberMinor incrementalSpendPerMemberMinor rewardsUnavailable completionRateInterval { low high }
  spendPerMemberUplift { difference low high standardError degreesOfFreedom significant } significant verdict } } }`;
export const AUDIENCE_COUNT = `query Count($segmentId: ID) { challengeAudienceCount(segmentId: $segmentId) }`;
export const MEMBER_CHALLENGES = `query Member($id: ID!) { member(id: $id) { id
  challenges { id progress goal percent joinedAt completedAt rewardStatus rewardRef challenge { id code name } }
  badges { id code name challengeId awardedAt } } }`;

const DAY = 86_400_000;
let seq = 0;

/** A valid CreateChallengeInput: 3 orders in a window around `around`, 100 points; `overrides` replace fields. */
export function challengeInput(overrides: Record<string, unknown> = {}, around = new Date()) {
  return {
    code: `challenge_${process.env.JEST_WORKER_ID ?? '1'}_${++seq}_${Date.now() % 100000}`,
    name: 'Three visits',
    goalKind: 'ORDER_COUNT',
    target: 3,
    startsAt: new Date(around.getTime() - 10 * DAY).toISOString(),
    endsAt: new Date(around.getTime() + 10 * DAY).toISOString(),
    reward: { kind: 'POINTS', points: 100 },
    isActive: true,
    ...overrides,
  };
}

export async function createChallenge(h: Harness, auth: Auth, overrides: Record<string, unknown> = {}, around?: Date) {
  const res = await h.gql(auth, CREATE_CHALLENGE, { input: challengeInput(overrides, around) });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createChallenge as { id: string; code: string; [key: string]: unknown };
}

/** Records an order through GraphQL; `placedAt` and lines as given. */
export async function recordOrder(h: Harness, auth: Auth, memberId: string, options: { placedAt?: Date; lines?: Parameters<typeof orderInput>[1]; extra?: Record<string, unknown> } = {}) {
  const input = orderInput(memberId, options.lines ?? [{}], { ...(options.placedAt ? { placedAt: options.placedAt.toISOString() } : {}), ...(options.extra ?? {}) });
  const res = await h.gql(auth, RECORD_ORDER, { input });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return { order: res.data.recordOrder as { id: string; totalMinor: number; lines: Array<{ lineNo: number; quantity: number }> }, input };
}

export async function returnOrder(h: Harness, auth: Auth, orderId: string, lines: Array<{ lineNo: number; quantity: number }>) {
  const res = await h.gql(auth, RECORD_RETURN, { input: { orderId, externalReturnId: `RET-${++seq}-${Date.now()}`, lines } });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.recordReturn;
}

export interface ProgressRow {
  member_id: string;
  goal: number;
  progress: number;
  completed_at: Date | null;
  is_holdout: boolean;
  spend_minor: number;
  orders: number;
  reward_status: string | null;
  state: Record<string, any>;
}

export async function progressRows(h: Harness, challengeId: string): Promise<ProgressRow[]> {
  return h.sql<ProgressRow>(
    `select member_id, goal::int, progress::float8 as progress, completed_at, is_holdout, spend_minor::float8 as spend_minor, orders, reward_status, state
     from challenge_progress where challenge_id = ? order by member_id`,
    [challengeId],
  );
}

export async function progressOf(h: Harness, challengeId: string, memberId: string): Promise<ProgressRow | undefined> {
  return (await progressRows(h, challengeId)).find((r) => r.member_id === memberId);
}

/** Ledger rows the challenge wrote for a member. */
export async function challengeLedger(h: Harness, challengeId: string, memberId: string) {
  return h.sql<{ delta: number; reason: string }>(`select available_delta::int as delta, reason from ledger_entry where source_type = 'challenge' and source_id = ? and member_id = ?`, [challengeId, memberId]);
}

export async function eventsOf(h: Harness, type: string, memberId: string) {
  return h.sql<{ payload: Record<string, any> }>(`select payload from event_outbox where type = ? and member_id = ? order by id`, [type, memberId]);
}
