import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GqlResult, Harness } from './harness';
import { ledgerCheck } from './orders';

/** The mutations the race tests fire (test/api/merge-races.test.ts, test/api/concurrency-pairs.test.ts). */
export const MERGE = `mutation($input: MergeMembersInput!) { mergeMembers(input: $input) { survivor { id } } }`;
export const ERASE = `mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id status } }`;
export const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
export const UPSERT_REWARD = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
export const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id points } }`;
export const CANCEL_REDEMPTION = `mutation($input: CancelRedemptionInput!) { cancelRedemption(input: $input) { id status } }`;
export const CLAIM = `mutation($input: ClaimOrderInput!) { claimOrder(input: $input) { id memberId pointsEarned } }`;
export const APPLY_REFERRAL = `mutation($input: ApplyReferralCodeInput!) { applyReferralCode(input: $input) { id status referrerId referredId } }`;
export const ENROL = `mutation($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode } }`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `writes` `gapMs` apart and `interloper` after `offsetMs`; returns every answer. */
export async function race<T>(writes: Array<() => Promise<T>>, interloper: () => Promise<T>, offsetMs: number, gapMs: number): Promise<{ writes: T[]; interloper: T }> {
  const sent = writes.map(async (w, i) => {
    await sleep(i * gapMs);
    return w();
  });
  const other = sleep(offsetMs).then(interloper);
  return { writes: await Promise.all(sent), interloper: await other };
}

/** Every error code the race answered, as CODE or CODE:reason; an internal error or a deadlock would be INTERNAL_SERVER_ERROR. */
export function codesOf(results: Array<Pick<GqlResult<unknown>, 'errors'>>): string[] {
  return results.flatMap((r) => (r.errors ?? []).map((e) => (e.extensions.reason ? `${e.extensions.code}:${e.extensions.reason}` : e.extensions.code)));
}

/** The data of an answer that must succeed; its errors, as the test's failure, otherwise. */
export async function ok(answer: Promise<GqlResult<any>>): Promise<any> {
  const res = await answer;
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}

const errorCodes: Record<string, string> = JSON.parse(readFileSync(join(__dirname, '../../schema/error-codes.json'), 'utf8'));

/**
 * Whether a CODE or CODE:reason answer is documented: the code is in schema/error-codes.json and its description names
 * the reason. INTERNAL_SERVER_ERROR is listed there but documents a failure, so it never counts.
 */
export function isDocumented(answer: string): boolean {
  const [code, reason] = answer.split(':');
  if (code === 'INTERNAL_SERVER_ERROR' || !(code in errorCodes)) return false;
  return reason === undefined || errorCodes[code].includes(reason);
}

/** The codes answered that are not `allowed`, or not documented (an internal error never is): empty when all is well. */
export function unexpected(results: Array<Pick<GqlResult<unknown>, 'errors'>>, allowed: string[] = []): string[] {
  return codesOf(results).filter((code) => !allowed.includes(code) || !isDocumented(code));
}

/** A consistent ledger, and nothing (order, lot, redemption, points) left on the merged-away records or erased members. */
export async function assertNothingLeftBehind(h: Harness, absorbedIds: string | string[]) {
  const ids = typeof absorbedIds === 'string' ? [absorbedIds] : absorbedIds;
  const check = await ledgerCheck(h);
  expect(check.mismatches).toEqual([]);
  expect(check.mergedAwayHoldings).toEqual([]);
  expect(check.erasedHoldings).toEqual([]);
  expect(check.isConsistent).toBe(true);
  if (ids.length === 0) return;
  expect(await h.sql('select id from customer_order where member_id in (?)', [ids])).toEqual([]);
  expect(await h.sql('select id from redemption where member_id in (?)', [ids])).toEqual([]);
  expect(await h.sql(`select id from point_lot where member_id in (?) and state <> 'CLOSED'`, [ids])).toEqual([]);
}
