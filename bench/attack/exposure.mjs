// Voucher codes are bearer secrets (class 3): only ADMIN, MARKETER and keys with rewards:redeem may read them.
// Every other caller is walked through every way to a member's redemptions; the code must appear in no answer.
import { Caller, summarise } from './http.mjs';

const REDEMPTIONS = 'redemptions { id status voucherCode }';
const TIMELINE = 'timeline(first: 50) { edges { node { type node { __typename ... on Redemption { id voucherCode } } } } }';

export async function voucherExposure(w, cls) {
  const { api } = w;
  const reward = await w.reward(cls, { costPoints: 50 });
  const m = await w.enrol(cls, { country: 'AQ', channelCustomerId: `vx-${w.stamp}` });
  await w.givePoints(cls, m.id, 500);
  const redeemed = await w.redeem(cls, m.id, reward.id, w.keys.REWARDS_REDEEM);
  const code = redeemed.data?.redeemReward?.voucherCode;
  if (!code) {
    cls.error(`could not get a voucher to look for: ${summarise(redeemed)}`);
    return;
  }
  // A saved segment holding the member, for the paths through segments.
  const seg = await api.gql(cls, w.marketer, 'mutation($i: CreateSegmentInput!) { createSegment(input: $i) { id } }', { i: { name: `attack vouchers ${w.stamp}`, kind: 'SNAPSHOT', rule: { attribute: 'country', op: 'eq', value: 'AQ' } } }, { label: 'createSegment (setup)' });
  const segmentId = seg.data?.createSegment?.id;

  const leaks = [];
  const look = async (callerName, caller, what, query, variables) => {
    const res = await api.gql(cls, caller, query, variables, { label: `${what} as ${callerName}` });
    if (res.text.includes(code)) leaks.push(`${callerName} read the voucher code through ${what}`);
    return res;
  };
  const readers = {
    ANALYST: w.analyst,
    'key:members:read': w.keys.MEMBERS_READ,
    'key:members:write': w.keys.MEMBERS_WRITE,
    'key:members:merge': w.keys.MEMBERS_MERGE,
    'key:orders:read': w.keys.ORDERS_READ,
    'key:orders:write': w.keys.ORDERS_WRITE,
    'key:feedback:write': w.keys.FEEDBACK_WRITE,
    anonymous: Caller.anonymous(),
  };
  for (const [name, caller] of Object.entries(readers)) {
    await look(name, caller, 'member.redemptions', `query($id: ID!) { member(id: $id) { ${REDEMPTIONS} } }`, { id: m.id });
    await look(name, caller, 'member.timeline', `query($id: ID!) { member(id: $id) { ${TIMELINE} } }`, { id: m.id });
    await look(name, caller, 'memberByIdentifier', `query($v: String!, $c: ID) { memberByIdentifier(type: CHANNEL_CUSTOMER_ID, value: $v, channelId: $c) { ${REDEMPTIONS} } }`, { v: `vx-${w.stamp}`, c: w.channel.id });
    await look(name, caller, 'members(country)', `{ members(first: 20, country: "AQ") { edges { node { ${REDEMPTIONS} } } } }`);
    if (segmentId) {
      await look(name, caller, 'segment.members', `query($id: ID!) { segment(id: $id) { members(first: 20) { edges { node { ${REDEMPTIONS} } } } } }`, { id: segmentId });
      await look(name, caller, 'segments', `{ segments { members(first: 20) { edges { node { ${REDEMPTIONS} } } } } }`);
    }
  }
  // Mutations that answer with the member.
  await look('key:members:write', w.keys.MEMBERS_WRITE, 'updateMember', `mutation($i: UpdateMemberInput!) { updateMember(input: $i) { ${REDEMPTIONS} ${TIMELINE} } }`, { i: { id: m.id, firstName: 'Eve' } });
  const absorbed = await w.enrol(cls);
  await look('key:members:merge', w.keys.MEMBERS_MERGE, 'mergeMembers', `mutation($i: MergeMembersInput!) { mergeMembers(input: $i) { survivor { ${REDEMPTIONS} ${TIMELINE} } } }`, { i: { survivorId: m.id, absorbedId: absorbed.id } });
  const m2 = await w.enrol(cls);
  await look('key:members:write', w.keys.MEMBERS_WRITE, 'applyReferralCode', `mutation($i: ApplyReferralCodeInput!) { applyReferralCode(input: $i) { id } }`, { i: { memberId: m2.id, referralCode: m.referralCode } });
  await look('key:orders:write', w.keys.ORDERS_WRITE, 'recordOrder', 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id memberId } }', { i: w.orderInput(m.id) });
  await look('key:feedback:write', w.keys.FEEDBACK_WRITE, 'recordFeedback', 'mutation($i: RecordFeedbackInput!) { recordFeedback(input: $i) { id } }', { i: { memberId: m.id, kind: 'CSAT', score: 4 } });
  for (const l of leaks) cls.fail(l);

  // The code must stay readable where it belongs, or the check above proves nothing.
  for (const [name, caller] of [['MARKETER', w.marketer], ['key:rewards:redeem + members:read', null]]) {
    let c = caller;
    if (!c) c = (await w.makeKey(['REWARDS_REDEEM', 'MEMBERS_READ'], `attack redeem+read ${w.stamp}`)).caller;
    const res = await api.gql(cls, c, `query($id: ID!) { member(id: $id) { ${REDEMPTIONS} } }`, { id: m.id }, { label: `member.redemptions as ${name}` });
    cls.expect(res.text.includes(code), `${name} may read voucher codes but got none (${summarise(res) || 'null'}): the exposure check cannot tell`);
  }
  cls.note(`${Object.keys(readers).length} callers × ${segmentId ? 6 : 4} read paths and 5 mutations searched for the voucher code`);
}
