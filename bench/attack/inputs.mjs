// Hostile values: 32-bit overflow (class 5), NUL bytes and lone surrogates (class 6), malformed ids inside fragments
// (class 7), and the classics: integer extremes and floats in every Int argument, over-long strings everywhere.
import { getNamedType } from 'graphql';
import { Caller, codeOf, pooled, summarise } from './http.mjs';
import { argumentsFor, leavesOf, namedSamples, operationFor, rootFields, setAt } from './schema.mjs';
import { hoursAgo, uid } from './setup.mjs';

const INT_MAX = 2_147_483_647;

export async function overflow(w, cls) {
  const { api } = w;
  const m = await w.enrol(cls);
  const order = (over, label) => w.recordOrder(cls, { ...w.orderInput(m.id), ...over }, w.keys.all, label);
  const hostileOrders = [
    ['3 × 1,000,000,000 with a 2,000,000,000 discount', { totalMinor: 1_000_000_000, lines: [{ sku: 'ATK-BIG', quantity: 3, unitPriceMinor: 1_000_000_000, discountMinor: 2_000_000_000 }] }],
    ['3 × 1,000,000,000, total 2^31-1', { totalMinor: INT_MAX, lines: [{ sku: 'ATK-BIG', quantity: 3, unitPriceMinor: 1_000_000_000 }] }],
    ['three lines of 1,000,000,000', { totalMinor: INT_MAX, lines: [1, 2, 3].map((n) => ({ sku: `ATK-BIG-${n}`, quantity: 1, unitPriceMinor: 1_000_000_000 })) }],
    ['(2^31-1) × (2^31-1)', { totalMinor: INT_MAX, lines: [{ sku: 'ATK-BIG', quantity: INT_MAX, unitPriceMinor: INT_MAX }] }],
    ['an order discount of 2^31-1', { totalMinor: 0, orderDiscountMinor: INT_MAX, lines: [{ sku: 'ATK-BIG', quantity: 1, unitPriceMinor: 100 }] }],
    ['a negative line discount', { totalMinor: INT_MAX, lines: [{ sku: 'ATK-BIG', quantity: 1, unitPriceMinor: 1, discountMinor: -(INT_MAX - 1) }] }],
    ['a negative quantity', { totalMinor: -1_000_000_000, lines: [{ sku: 'ATK-BIG', quantity: -1, unitPriceMinor: 1_000_000_000 }] }],
    ['-2^31 unit price', { totalMinor: -2_147_483_648, lines: [{ sku: 'ATK-BIG', quantity: 1, unitPriceMinor: -2_147_483_648 }] }],
    ['a discount larger than the line', { totalMinor: -5, lines: [{ sku: 'ATK-BIG', quantity: 1, unitPriceMinor: 5, discountMinor: 10 }] }],
  ];
  for (const [what, over] of hostileOrders) await order(over, `recordOrder: ${what}`);

  // 41 orders of 2^31-1 minor units each for one member, so that the sums pass 2^31 and 2^32 (and the points with
  // them). Where the bounds refuse that amount, the largest order they accept takes its place (41 × 10^9 > 2^32 too).
  const rich = await w.enrol(cls);
  let amount = null;
  const answers = [];
  for (const candidate of [INT_MAX, 2_000_000_000, 1_000_000_000, 500_000_000]) {
    const [unitPriceMinor, quantity] = candidate > 1_000_000_000 && candidate % 2 === 0 ? [candidate / 2, 2] : [candidate, 1];
    const res = await w.recordOrder(cls, w.orderInput(rich.id, { unitPriceMinor, quantity, placedAt: hoursAgo(2) }), w.keys.all, `recordOrder of ${candidate}`);
    answers.push(res);
    if (res.data?.recordOrder) {
      amount = { unitPriceMinor, quantity, total: candidate };
      break;
    }
    if (codeOf(res) !== 'BAD_USER_INPUT') break;
  }
  cls.note(`largest single order accepted: ${amount ? amount.total.toLocaleString('en-GB') : 'none'} (tried 2,147,483,647 first: ${answers[0].data?.recordOrder ? 'accepted' : summarise(answers[0]).slice(0, 160)})`);
  if (amount) {
    const rest = await pooled([...Array(40).keys()], 6, (i) =>
      w.recordOrder(cls, w.orderInput(rich.id, { unitPriceMinor: amount.unitPriceMinor, quantity: amount.quantity, placedAt: hoursAgo(2 + i / 10) }), w.keys.all, `recordOrder of ${amount.total} #${i + 2}`),
    );
    answers.push(...rest);
    const accepted = rest.filter((r) => r.data?.recordOrder).length + 1;
    cls.expect(accepted === 41, `41 orders of ${amount.total}: ${accepted} accepted, refused: ${[...new Set(rest.filter((r) => r.errors.length).map(summarise))].join(' | ')}`);
  }
  // Points adjusted past 2^31 and 2^32 in steps of 2^31-1.
  for (let i = 0; i < 3; i++) {
    await api.gql(cls, w.admin, 'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available lifetime } }', { i: { memberId: rich.id, points: INT_MAX, reason: 'attack overflow', idempotencyKey: `atk-ovf-${uid()}` } }, { label: `adjustPoints +2^31-1 #${i}` });
  }
  await api.gql(cls, w.admin, 'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available lifetime } }', { i: { memberId: rich.id, points: -2_147_483_648, reason: 'attack overflow', idempotencyKey: `atk-ovf-${uid()}` } }, { label: 'adjustPoints -2^31' });

  // Everything that reads those sums must still answer.
  const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const to = new Date(Date.now() + 86_400_000).toISOString();
  const reads = [
    ['analytics.kpis', `query($f: DateTimeISO!, $t: DateTimeISO!) { analytics { kpis(input: { from: $f, to: $t }) { orders grossRevenueMinor netRevenueMinor averageOrderValueMinor pointsIssued liabilityPoints liabilityMinor revenuePerActiveMemberMinor byChannel { __typename } byCountry { __typename } } } }`],
    ['analytics.cohorts', `query($f: DateTimeISO!, $t: DateTimeISO!) { analytics { cohorts(input: { from: $f, to: $t }) { __typename } } }`],
    ['analytics.purchaseIntervals', `query($f: DateTimeISO!, $t: DateTimeISO!) { analytics { purchaseIntervals(input: { from: $f, to: $t }) { __typename } } }`],
    ['analytics.rfm', `query($t: DateTimeISO!) { analytics { rfm(asOf: $t) { __typename } } }`],
    ['analytics.topProductsBySegment', `query($t: DateTimeISO!) { analytics { topProductsBySegment(asOf: $t) { __typename } } }`],
    ['member of 41 big orders', `query($m: ID!) { member(id: $m) { points { available pending lifetime nextExpiry { points } } tier { code } tierProgress { current missing } orders(first: 5) { totalCount edges { node { totalMinor pointsEarned } } } ledger(first: 5) { edges { node { availableDelta } } } timeline(first: 5) { edges { cursor } } rfm { __typename } } }`],
    ['members ordered by the richest', `{ members(first: 5) { totalCount edges { node { id points { lifetime } } } } }`],
    ['ledgerCheck', `{ ledgerCheck { isConsistent membersChecked } }`],
  ];
  for (const [what, query] of reads) {
    const res = await api.gql(cls, w.root, query, { f: from, t: to, m: rich.id }, { label: `${what} after the big orders` });
    cls.expect(!res.errors.length, `${what} after 41 orders of 2^31-1: ${summarise(res)}`);
  }
  const seg = await api.gql(cls, w.root, 'query($r: JSON!) { previewSegment(input: { rule: $r }) { count } }', { r: { attribute: 'monetaryMinor', op: 'gte', value: INT_MAX, windowDays: 30 } }, { label: 'previewSegment monetaryMinor ≥ 2^31-1' });
  cls.expect(!seg.errors.length || codeOf(seg) === 'BAD_USER_INPUT', `previewSegment over the big spender: ${summarise(seg)}`);
  const ret = answers.find((r) => r.data?.recordOrder)?.data.recordOrder.id;
  if (ret) await api.gql(cls, w.keys.all, 'mutation($i: RecordReturnInput!) { recordReturn(input: $i) { pointsClawedBack valueMinor } }', { i: { orderId: ret, externalReturnId: `atk-ret-${uid()}` } }, { label: 'recordReturn of a 2^31-1 order' });
}

/** Values that PostgreSQL cannot store (NUL) or that are not Unicode (lone surrogates), in every kind of argument. */
export async function hostileStrings(w, cls, ids) {
  const { api } = w;
  const values = [
    ['NUL', 'atk\u0000nul'],
    ['lone high surrogate', 'atk\ud800x'],
    ['lone low surrogate', '\udc00atk'],
    ['ESC control character', 'atk\u001b[31m'],
  ];
  const member = ids.memberId;
  const targets = [
    ['members(search)', w.admin, 'query($v: String) { members(first: 5, search: $v) { totalCount } }', (v) => ({ v })],
    ['memberByIdentifier(EMAIL)', w.admin, 'query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id } }', (v) => ({ v })],
    ['memberByIdentifier(CHANNEL_CUSTOMER_ID)', w.keys.all, 'query($v: String!) { memberByIdentifier(type: CHANNEL_CUSTOMER_ID, value: $v) { id } }', (v) => ({ v })],
    ['enrolMember.firstName', w.keys.all, 'mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }', (v) => ({ i: { email: `s-${uid()}@attack.test`, firstName: v } })],
    ['enrolMember.lastName', w.keys.all, 'mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }', (v) => ({ i: { email: `s-${uid()}@attack.test`, lastName: v } })],
    ['enrolMember.email', w.keys.all, 'mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }', (v) => ({ i: { email: `s${v}-${uid()}@attack.test` } })],
    ['enrolMember.channelCustomerId', w.keys.all, 'mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }', (v) => ({ i: { channelCustomerId: `${v}-${uid()}` } })],
    ['updateMember.firstName', w.keys.all, 'mutation($i: UpdateMemberInput!) { updateMember(input: $i) { id } }', (v) => ({ i: { id: member, firstName: v } })],
    ['updateMember.preferredStoreCode', w.keys.all, 'mutation($i: UpdateMemberInput!) { updateMember(input: $i) { id } }', (v) => ({ i: { id: member, preferredStoreCode: v } })],
    ['recordOrder.externalOrderId', w.keys.all, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }', (v) => ({ i: w.orderInput(member, { externalOrderId: `${v}-${uid()}` }) })],
    ['recordOrder.lines.sku', w.keys.all, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }', (v) => ({ i: w.orderInput(member, { lines: [{ sku: v, quantity: 1, unitPriceMinor: 2500 }] }) })],
    ['recordOrder.lines.name', w.keys.all, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }', (v) => ({ i: w.orderInput(member, { lines: [{ sku: 'ATK-SKU', name: v, quantity: 1, unitPriceMinor: 2500 }] }) })],
    ['recordOrder.storeCode', w.keys.all, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }', (v) => ({ i: w.orderInput(member, { storeCode: v }) })],
    ['recordOrder.member.identifierValue', w.keys.all, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }', (v) => ({ i: w.orderInput(null, { member: { identifierType: 'EMAIL', identifierValue: v } }) })],
    ['consumeVoucher.voucherCode', w.keys.all, 'mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { id } }', (v) => ({ i: { voucherCode: v } })],
    ['consumeVoucher.orderRef', w.keys.all, 'mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { id } }', (v) => ({ i: { voucherCode: 'ZZZZZZZZZZZZ', orderRef: v } })],
    ['login.email', Caller.anonymous(), 'mutation($i: LoginInput!) { login(input: $i) { token } }', (v) => ({ i: { email: `x${v}@attack.test`, password: 'whatever-password' } })],
    ['login.password', Caller.anonymous(), 'mutation($i: LoginInput!) { login(input: $i) { token } }', (v) => ({ i: { email: `nobody-${uid()}@attack.test`, password: `pw${v}` } })],
    ['redeemReward.idempotencyKey', w.keys.all, 'mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id } }', (v) => ({ i: { memberId: member, rewardId: ids.rewardId, idempotencyKey: `${v}-${uid()}` } })],
    ['adjustPoints.reason', w.admin, 'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }', (v) => ({ i: { memberId: member, points: 1, reason: v, idempotencyKey: `atk-${uid()}` } })],
    ['adjustPoints.idempotencyKey', w.admin, 'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }', (v) => ({ i: { memberId: member, points: 1, reason: 'attack', idempotencyKey: `${v}-${uid()}` } })],
    ['recordFeedback.comment', w.admin, 'mutation($i: RecordFeedbackInput!) { recordFeedback(input: $i) { id } }', (v) => ({ i: { memberId: member, kind: 'NPS', score: 5, comment: v, channelId: ids.channelId } })],
    ['mergeMembers.reason', w.keys.all, 'mutation($i: MergeMembersInput!) { mergeMembers(input: $i) { movedIdentifiers } }', (v) => ({ i: { survivorId: member, absorbedId: member, reason: v } })],
    ['applyReferralCode.referralCode', w.keys.all, 'mutation($i: ApplyReferralCodeInput!) { applyReferralCode(input: $i) { id } }', (v) => ({ i: { memberId: member, referralCode: v } })],
    ['createSegment.name', w.admin, 'mutation($i: CreateSegmentInput!) { createSegment(input: $i) { id } }', (v) => ({ i: { name: v, kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'GB' } } })],
    ['previewSegment rule value', w.admin, 'query($r: JSON!) { previewSegment(input: { rule: $r }) { count } }', (v) => ({ r: { attribute: 'country', op: 'eq', value: v } })],
    ['upsertReward.name', w.admin, 'mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }', (v) => ({ i: { code: `ATK-${uid()}`.toUpperCase(), name: v, kind: 'FREE_PRODUCT', sku: 'ATK', costPoints: 10 } })],
    ['createApiKey.name', w.admin, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }', (v) => ({ i: { channelId: ids.channelId, name: v, scopes: ['MEMBERS_READ'] } })],
    ['auditLog(entityType)', w.admin, 'query($v: String) { auditLog(entityType: $v, first: 1) { id } }', (v) => ({ v })],
  ];
  for (const [what, caller, query, vars] of targets) {
    for (const [kind, value] of values) {
      const res = await api.gql(cls, caller, query, vars(value), { label: `${what} with a ${kind}` });
      cls.expect(codeOf(res) === 'BAD_USER_INPUT', `${what} with a ${kind}: ${res.errors.length ? summarise(res) : 'accepted'} (documented: refused with BAD_USER_INPUT)`);
    }
  }
  // In the query text itself: an escaped NUL in a literal, and a raw NUL byte in the document.
  const literal = await api.gql(cls, w.admin, '{ members(first: 1, search: "a\\u0000b") { totalCount } }', undefined, { label: 'members(search) with \\u0000 in a literal' });
  cls.expect(['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED'].includes(codeOf(literal)), `a NUL escape in a query literal: ${literal.errors.length ? summarise(literal) : 'accepted'}`);
  const surrogateLiteral = await api.gql(cls, w.admin, '{ members(first: 1, search: "a\\uD800b") { totalCount } }', undefined, { label: 'members(search) with \\uD800 in a literal' });
  cls.expect(surrogateLiteral.errors.length > 0, `a lone surrogate escape in a query literal was accepted`);
  const raw = await api.request(cls, { headers: { 'content-type': 'application/json', ...w.admin.headers() }, body: '{"query":"{ members(first: 1, search: \\"a\u0000b\\") { totalCount } }"}', label: 'raw NUL byte inside the JSON body' });
  cls.expect(raw.status >= 400 && raw.status < 500, `a raw NUL byte in the body answered HTTP ${raw.status}`);
  const badUtf8 = Buffer.concat([Buffer.from('{"query":"{ members(first: 1, search: \\"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('\\") { totalCount } }"}')]);
  await api.request(cls, { headers: { 'content-type': 'application/json', ...w.admin.headers() }, body: badUtf8, label: 'invalid UTF-8 bytes in the body' });
}

/** Malformed ids where the argument check may not look: inside fragments on the root types. */
export async function fragmentIds(w, cls) {
  const bad = ['abc', '', '00000000-0000-0000-0000-00000000000g', `${'1'.repeat(5000)}`, "' or 1=1 --", '123'];
  const docs = [
    (id) => [`inline fragment on Query`, `{ ... on Query { member(id: ${JSON.stringify(id)}) { id } } }`],
    (id) => [`named fragment on Query`, `query { ...F } fragment F on Query { member(id: ${JSON.stringify(id)}) { id } }`],
    (id) => [`nested fragments`, `query { ...A } fragment A on Query { ...B } fragment B on Query { ... on Query { order(id: ${JSON.stringify(id)}) { id } } }`],
    (id) => [`fragment with @include`, `{ ... on Query @include(if: true) { campaign(id: ${JSON.stringify(id)}) { id } } }`],
    (id) => [`fragment on Mutation`, `mutation { ... on Mutation { cancelRedemption(input: { redemptionId: ${JSON.stringify(id)} }) { id } } }`],
    (id) => [`named fragment on Mutation, input id`, `mutation { ...M } fragment M on Mutation { mergeMembers(input: { survivorId: ${JSON.stringify(id)}, absorbedId: ${JSON.stringify(id)} }) { movedIdentifiers } }`],
    (id) => [`fragment, segment and modelVersion`, `{ ... on Query { segment(id: ${JSON.stringify(id)}) { id } modelVersion(id: ${JSON.stringify(id)}) { id } } }`],
  ];
  for (const make of docs) {
    for (const id of bad) {
      const [what, query] = make(id);
      const res = await w.api.gql(cls, w.root, query, undefined, { label: `${what} with id ${JSON.stringify(id.slice(0, 20))}` });
      cls.expect(codeOf(res) === 'BAD_USER_INPUT', `${what}, id ${JSON.stringify(id.slice(0, 40))}: ${res.errors.length ? summarise(res) : 'data'} (documented: BAD_USER_INPUT)`);
    }
  }
  // Through a variable typed ID inside a fragment.
  for (const id of bad.slice(0, 3)) {
    const res = await w.api.gql(cls, w.root, 'query($id: ID!) { ...F } fragment F on Query { member(id: $id) { id } }', { id }, { label: 'fragment with an ID variable' });
    cls.expect(codeOf(res) === 'BAD_USER_INPUT', `fragment with the variable id ${JSON.stringify(id)}: ${res.errors.length ? summarise(res) : 'data'}`);
  }
  // A variable typed ID given a number and an object.
  for (const id of [123, { a: 1 }, ['x']]) {
    const res = await w.api.gql(cls, w.root, 'query($id: ID!) { member(id: $id) { id } }', { id }, { label: 'member with a non-string id variable' });
    cls.expect(res.errors.length > 0, `member(id: ${JSON.stringify(id)}) answered data`);
  }
}

/** Every Int argument and input field, one at a time, at the edges of 32 bits and beyond, and as floats. */
export async function integerExtremes(w, cls, schema, ids) {
  const samples = namedSamples(ids);
  const skip = new Set(['Mutation.login', 'Mutation.logout', 'Mutation.changePassword', 'Mutation.revokeAdminSessions']);
  const cases = [];
  const inRange = [INT_MAX, -2_147_483_648, 0, -1];
  const outOfRange = [2_147_483_648, -2_147_483_649, 1.5, 1e21, '7'];
  for (const f of rootFields(schema)) {
    if (skip.has(f.name)) continue;
    for (const leaf of leavesOf(f.field, 'Int')) {
      for (const value of [...inRange, ...outOfRange]) cases.push({ f, leaf, value, isInRange: inRange.includes(value) });
    }
  }
  let refusedOutOfRange = 0;
  await pooled(cases, 6, async ({ f, leaf, value, isInRange }) => {
    const args = argumentsFor(f.field, samples, leaf.path);
    setAt(args, leaf.path, value);
    const query = operationFor(f.kind, f.field, args);
    const res = await w.api.gql(cls, w.admin, query, args, { label: `${f.name} ${leaf.path} = ${JSON.stringify(value)}` });
    if (!isInRange) {
      if (cls.expect(codeOf(res) === 'BAD_USER_INPUT', `${f.name} ${leaf.path} = ${JSON.stringify(value)}: ${res.errors.length ? summarise(res) : 'accepted'}`)) refusedOutOfRange++;
    }
  });
  cls.note(`${cases.length} calls over ${new Set(cases.map((c) => `${c.f.name} ${c.leaf.path}`)).size} Int arguments; out-of-range values refused: ${refusedOutOfRange}`);
}

/** Every String argument and input field given 100,000 characters (and 10,000), one at a time. */
export async function longStrings(w, cls, schema, ids) {
  const samples = namedSamples(ids);
  const skip = new Set(['Mutation.logout', 'Mutation.changePassword', 'Mutation.revokeAdminSessions']);
  const cases = [];
  for (const f of rootFields(schema)) {
    if (skip.has(f.name)) continue;
    for (const leaf of [...leavesOf(f.field, 'String'), ...leavesOf(f.field, 'ID')]) {
      const scalar = getNamedType(leaf.type).name;
      for (const length of scalar === 'ID' ? [10_000] : [10_000, 100_000]) cases.push({ f, leaf, length });
    }
  }
  let accepted = 0;
  await pooled(cases, 4, async ({ f, leaf, length }) => {
    const args = argumentsFor(f.field, samples, leaf.path);
    setAt(args, leaf.path, 'é'.repeat(length / 2) + 'a'.repeat(length / 2));
    const caller = f.name === 'Mutation.login' ? Caller.anonymous() : w.admin;
    const res = await w.api.gql(cls, caller, operationFor(f.kind, f.field, args), args, { label: `${f.name} ${leaf.path} of ${length} characters` });
    if (!res.errors.length) accepted++;
  });
  cls.note(`${cases.length} calls over ${new Set(cases.map((c) => `${c.f.name} ${c.leaf.path}`)).size} String and ID arguments; ${accepted} answered without error (stored or harmless)`);
}
