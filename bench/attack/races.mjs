// Concurrency: merges and erasures racing the writes of the member they absorb or erase (class 1), and the classic
// money races: double spend, stock oversell, replays with changed bodies, voucher reuse.
import { codeOf, pooled, staggered, summarise } from './http.mjs';
import { hoursAgo, uid } from './setup.mjs';

const RACE_WRITES = 12;
const RACE_GAP_MS = 3;
/** Where the merge (or erasure) starts among the 12 writes, one trial each. */
const RACE_POSITIONS = [1, 5, 9];

const MERGE = 'mutation($i: MergeMembersInput!) { mergeMembers(input: $i) { survivor { id } movedIdentifiers } }';
const ERASE = 'mutation($i: EraseMemberInput!) { eraseMember(input: $i) { id status } }';
const RETURN = 'mutation($i: RecordReturnInput!) { recordReturn(input: $i) { id pointsClawedBack valueMinor } }';

/** Runs 12 writes 3 ms apart with `interloper` started just before write number `at`; returns both sides' answers. */
async function race(at, write, interloper) {
  let interloperRes;
  const writes = await staggered(RACE_WRITES, RACE_GAP_MS, async (i) => {
    if (i === at) interloperRes = interloper();
    return write(i);
  });
  return { writes, interloper: await interloperRes };
}

export async function mergeRaces(w, cls) {
  const { api } = w;
  const absorbedIds = [];
  const survivors = [];
  const reward = await w.reward(cls, { costPoints: 10 });

  const scenarios = [
    {
      name: 'merge × recordOrder',
      prepare: async () => ({}),
      write: (b, _state, i) => w.recordOrder(cls, w.orderInput(b.id), w.keys.all, `recordOrder for the absorbed member #${i}`),
      ok: (res) => res.data?.recordOrder != null,
      isMerge: true,
    },
    {
      name: 'merge × redeemReward',
      prepare: async (b) => {
        await w.givePoints(cls, b.id, 10 * RACE_WRITES + 50);
        return {};
      },
      write: (b, _state, i) => w.redeem(cls, b.id, reward.id, w.keys.all, `atk-race-${uid()}`, `redeemReward for the absorbed member #${i}`),
      ok: (res) => res.data?.redeemReward != null,
      isMerge: true,
    },
    {
      name: 'merge × recordReturn',
      prepare: async (b) => {
        const orders = await pooled([...Array(RACE_WRITES).keys()], 4, async () => {
          const res = await w.recordOrder(cls, w.orderInput(b.id), w.keys.all, 'recordOrder (race setup)');
          if (!res.data?.recordOrder) throw new Error(`race setup: recordOrder failed: ${summarise(res)}`);
          return res.data.recordOrder.id;
        });
        return { orders };
      },
      write: (_b, state, i) =>
        api.gql(cls, w.keys.all, RETURN, { i: { orderId: state.orders[i], externalReturnId: `atk-ret-${uid()}` } }, { label: `recordReturn of the absorbed member's order #${i}` }),
      ok: (res) => res.data?.recordReturn != null,
      isMerge: true,
    },
    {
      name: 'eraseMember × recordOrder',
      prepare: async () => ({}),
      write: (b, _state, i) => w.recordOrder(cls, w.orderInput(b.id), w.keys.all, `recordOrder for the member being erased #${i}`),
      // Before the erasure commits an order is recorded; after it, the documented refusal.
      ok: (res) => res.data?.recordOrder != null || (codeOf(res) === 'CONFLICT' && res.errors[0].extensions?.reason === 'MEMBER_ERASED'),
      isMerge: false,
    },
  ];

  for (const s of scenarios) {
    for (const at of RACE_POSITIONS) {
      const a = await w.enrol(cls);
      const b = await w.enrol(cls);
      const state = await s.prepare(b);
      const { writes, interloper } = await race(
        at,
        (i) => s.write(b, state, i),
        () =>
          s.isMerge
            ? api.gql(cls, w.keys.all, MERGE, { i: { survivorId: a.id, absorbedId: b.id, reason: 'attack race' } }, { label: `${s.name}: mergeMembers` })
            : api.gql(cls, w.admin, ERASE, { i: { id: b.id, reason: 'attack race' } }, { label: `${s.name}: eraseMember` }),
      );
      const trial = `${s.name} (interloper at write ${at})`;
      cls.expect(!interloper.errors.length, `${trial}: the ${s.isMerge ? 'merge' : 'erasure'} failed: ${summarise(interloper)}`);
      const refused = writes.filter((r) => !s.ok(r));
      cls.expect(refused.length === 0, `${trial}: ${refused.length}/${RACE_WRITES} writes did not land: ${[...new Set(refused.map(summarise))].slice(0, 3).join(' | ')}`);
      if (s.isMerge) {
        absorbedIds.push(b.id);
        survivors.push({ id: a.id, trial, expectOrders: s.name === 'merge × redeemReward' ? 0 : RACE_WRITES });
      }
    }
  }

  // Every order of an absorbed member must now be the survivor's, and the ledger must say nothing is left behind.
  for (const s of survivors) {
    const res = await api.gql(cls, w.admin, 'query($id: ID!) { member(id: $id) { orders(first: 1) { totalCount } } }', { id: s.id }, { label: 'survivor orders (check)' });
    const count = res.data?.member?.orders?.totalCount;
    cls.expect(count === s.expectOrders, `${s.trial}: the survivor lists ${count} orders, expected ${s.expectOrders}`);
  }
  const check = await w.ledgerCheck(cls);
  const result = check.data?.ledgerCheck;
  if (!result) {
    cls.fail(`ledgerCheck did not answer: ${summarise(check)}`);
    return;
  }
  if (result.holdingsUnknown) cls.warn('this build has no ledgerCheck.mergedAwayHoldings: records left on absorbed members are judged by the survivors\' order counts only');
  const left = result.mergedAwayHoldings.filter((h) => absorbedIds.includes(h.memberId));
  cls.expect(left.length === 0, `ledgerCheck: ${left.length} merged-away members still hold records: ${JSON.stringify(left.slice(0, 3))}`);
  cls.expect(result.isConsistent, `ledgerCheck: isConsistent false (${result.mismatches.length} mismatches, ${result.mergedAwayHoldings.length} merged-away holdings)`);
  cls.note(`${scenarios.length} scenarios × ${RACE_POSITIONS.length} trials of ${RACE_WRITES} writes ${RACE_GAP_MS} ms apart; ledgerCheck over ${result.membersChecked} members`);
}

/** Parallel redemptions beyond the balance, and parallel redemptions of the last units in stock. */
export async function doubleSpend(w, cls) {
  const { api } = w;
  // Double spend: 1000 points, a reward of 150: six fit; 30 try at once.
  const reward = await w.reward(cls, { costPoints: 150 });
  const m = await w.enrol(cls);
  await w.givePoints(cls, m.id, 1000);
  const answers = await Promise.all([...Array(30).keys()].map((i) => w.redeem(cls, m.id, reward.id, w.keys.all, `atk-ds-${uid()}`, `redeemReward (double spend #${i})`)));
  const ok = answers.filter((r) => r.data?.redeemReward).length;
  const refusedOk = answers.filter((r) => codeOf(r) === 'INSUFFICIENT_POINTS').length;
  cls.expect(ok <= 6, `double spend: ${ok} of 30 parallel redemptions of 150 points succeeded with 1000 points (at most 6 fit)`);
  cls.expect(ok + refusedOk === 30, `double spend: ${30 - ok - refusedOk} answers were neither a redemption nor INSUFFICIENT_POINTS`);
  const after = await w.points(cls, m.id);
  cls.expect(after.points.available === 1000 - 150 * ok, `double spend: ${ok} redemptions left ${after.points.available} points, expected ${1000 - 150 * ok}`);
  cls.expect(after.points.available >= 0, `double spend: the balance went negative (${after.points.available})`);

  // Oversell: 5 units in stock, 20 members redeem at once.
  const scarce = await w.reward(cls, { costPoints: 10, stock: 5 });
  const buyers = await pooled([...Array(20).keys()], 5, async () => {
    const b = await w.enrol(cls);
    await w.givePoints(cls, b.id, 100);
    return b;
  });
  const grabs = await Promise.all(buyers.map((b, i) => w.redeem(cls, b.id, scarce.id, w.keys.all, `atk-os-${uid()}`, `redeemReward (oversell #${i})`)));
  const sold = grabs.filter((r) => r.data?.redeemReward).length;
  cls.expect(sold === 5, `oversell: ${sold} of 20 parallel redemptions succeeded for a stock of 5`);
  cls.expect(grabs.every((r) => r.data?.redeemReward || codeOf(r) === 'REWARD_OUT_OF_STOCK'), `oversell: refusals other than REWARD_OUT_OF_STOCK: ${[...new Set(grabs.filter((r) => r.errors.length && codeOf(r) !== 'REWARD_OUT_OF_STOCK').map(summarise))].join(' | ')}`);
  const stock = await api.gql(cls, w.admin, '{ rewards(activeOnly: false) { id redeemedCount stock } }', undefined, { label: 'rewards (check)' });
  const row = stock.data?.rewards?.find((r) => r.id === scarce.id);
  cls.expect(row?.redeemedCount === 5, `oversell: redeemedCount is ${row?.redeemedCount} for a stock of 5`);
}

/** The same idempotency key with another body must be refused; the same body at once must be applied once. */
export async function replays(w, cls) {
  const { api } = w;
  const m = await w.enrol(cls);
  const base = w.orderInput(m.id, { unitPriceMinor: 4000 });
  const first = await w.recordOrder(cls, base, w.keys.all, 'recordOrder (original)');
  const orderId = first.data?.recordOrder?.id;
  cls.expect(orderId, `replay: the original order failed: ${summarise(first)}`);
  const changed = [
    ['a higher total', { ...base, totalMinor: 400000, lines: [{ sku: 'ATK-SKU', quantity: 100, unitPriceMinor: 4000 }] }],
    ['another member', { ...base, member: { id: (await w.enrol(cls)).id } }],
    ['no member (guest)', { ...base, member: undefined }],
    ['another currency', { ...base, currency: 'EUR' }],
    ['another time', { ...base, placedAt: hoursAgo(30) }],
  ];
  for (const [what, input] of changed) {
    const res = await w.recordOrder(cls, input, w.keys.all, `recordOrder replay with ${what}`);
    cls.expect(codeOf(res) === 'CONFLICT' && res.errors[0].extensions?.reason === 'IDEMPOTENCY_KEY_REUSED', `replay of an order with ${what} was not refused as IDEMPOTENCY_KEY_REUSED: ${res.data?.recordOrder ? 'accepted' : summarise(res)}`);
  }
  // 30 identical replays at once: one order, points credited once.
  const before = await w.points(cls, m.id);
  const fresh = w.orderInput(m.id, { unitPriceMinor: 3000 });
  const burst = await Promise.all([...Array(30).keys()].map((i) => w.recordOrder(cls, fresh, w.keys.all, `recordOrder identical replay #${i}`)));
  const ids = new Set(burst.map((r) => r.data?.recordOrder?.id).filter(Boolean));
  cls.expect(ids.size === 1 && burst.every((r) => r.data?.recordOrder), `30 identical replays at once: ${ids.size} distinct orders, ${burst.filter((r) => !r.data?.recordOrder).length} failures (${[...new Set(burst.filter((r) => r.errors.length).map(summarise))].join(' | ')})`);
  const after = await w.points(cls, m.id);
  const earned = burst.find((r) => r.data?.recordOrder)?.data.recordOrder.pointsEarned ?? 0;
  cls.expect(after.points.pending - before.points.pending === earned, `30 identical replays: pending points grew by ${after.points.pending - before.points.pending}, the order earned ${earned}`);

  // A redemption key reused for another reward; an adjustment key reused with other points.
  await w.givePoints(cls, m.id, 1000);
  const r1 = await w.reward(cls, { costPoints: 100 });
  const r2 = await w.reward(cls, { costPoints: 100 });
  const key = `atk-rk-${uid()}`;
  const redeemed = await w.redeem(cls, m.id, r1.id, w.keys.all, key, 'redeemReward (original)');
  cls.expect(redeemed.data?.redeemReward, `replay: the original redemption failed: ${summarise(redeemed)}`);
  const otherReward = await w.redeem(cls, m.id, r2.id, w.keys.all, key, 'redeemReward replay with another reward');
  cls.expect(
    otherReward.errors.length > 0 || otherReward.data?.redeemReward?.id === redeemed.data?.redeemReward?.id,
    `replay: a redemption key reused for another reward made a second redemption`,
  );
  // Redemption keys are the member's own: the same key for another member is another redemption, never the first one.
  const otherMember = await w.enrol(cls);
  await w.givePoints(cls, otherMember.id, 1000);
  const otherMemberRes = await w.redeem(cls, otherMember.id, r1.id, w.keys.all, key, 'redeemReward with the key of another member');
  cls.expect(
    !otherMemberRes.data?.redeemReward || otherMemberRes.data.redeemReward.id !== redeemed.data?.redeemReward?.id,
    "a redemption key reused for another member returned the first member's redemption and voucher",
  );
  // An adjustment key reused with other points, or for another member: refused, or at least not reported as done.
  const adjKey = `atk-adj-${uid()}`;
  const adj = (memberId, points) =>
    api.gql(cls, w.admin, 'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }', { i: { memberId, points, reason: 'attack replay', idempotencyKey: adjKey } }, { label: `adjustPoints replay (${points})` });
  const beforeAdj = await w.points(cls, m.id);
  await adj(m.id, 10);
  const adjChanged = await adj(m.id, 100000);
  const afterAdj = await w.points(cls, m.id);
  const applied = afterAdj.points.available - beforeAdj.points.available;
  cls.expect(
    codeOf(adjChanged) === 'CONFLICT',
    `an adjustment key reused with +100000 instead of +10 answered ${adjChanged.errors.length ? summarise(adjChanged) : `success (available ${adjChanged.data?.adjustPoints?.available})`} and applied ${applied - 10 === 0 ? 'nothing' : applied - 10} of it: the caller is told it worked`,
  );
  const otherBefore = await w.points(cls, otherMember.id);
  const adjOther = await adj(otherMember.id, 500);
  const otherAfter = await w.points(cls, otherMember.id);
  cls.expect(
    codeOf(adjOther) === 'CONFLICT' || otherAfter.points.available - otherBefore.points.available === 500,
    `an adjustment key first used for one member, then for another, answered ${adjOther.errors.length ? summarise(adjOther) : 'success'} and gave the second member ${otherAfter.points.available - otherBefore.points.available} of 500 points`,
  );

  // A return id reused on another order of the member.
  if (orderId) {
    const other = await w.recordOrder(cls, w.orderInput(m.id), w.keys.all, 'recordOrder (return replay setup)');
    const retId = `atk-ret-${uid()}`;
    await api.gql(cls, w.keys.all, RETURN, { i: { orderId, externalReturnId: retId } }, { label: 'recordReturn (original)' });
    const reused = await api.gql(cls, w.keys.all, RETURN, { i: { orderId: other.data?.recordOrder?.id, externalReturnId: retId } }, { label: 'recordReturn replay on another order' });
    cls.note(`a return id reused on another order answered ${reused.errors.length ? summarise(reused) : 'data'}`);
  }
}

/** A voucher works once: consumed twice, ten times at once, by another member, cancelled after use, cancelled twice. */
export async function voucherReuse(w, cls) {
  const { api } = w;
  const reward = await w.reward(cls, { costPoints: 100 });
  const m = await w.enrol(cls);
  const other = await w.enrol(cls);
  await w.givePoints(cls, m.id, 1000);
  const CONSUME = 'mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { id status consumedOrderRef } }';
  const CANCEL = 'mutation($i: CancelRedemptionInput!) { cancelRedemption(input: $i) { id status } }';
  const voucher = async () => {
    const res = await w.redeem(cls, m.id, reward.id);
    if (!res.data?.redeemReward?.voucherCode) throw new Error(`voucher setup failed: ${summarise(res)}`);
    return res.data.redeemReward;
  };

  const v1 = await voucher();
  await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: v1.voucherCode, orderRef: 'atk-1' } }, { label: 'consumeVoucher' });
  const again = await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: v1.voucherCode, orderRef: 'atk-2' } }, { label: 'consumeVoucher again' });
  cls.expect(codeOf(again) === 'VOUCHER_UNUSABLE', `a consumed voucher was accepted again: ${again.errors.length ? summarise(again) : 'data'}`);
  const lower = await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: ` ${v1.voucherCode.toLowerCase()} ` } }, { label: 'consumeVoucher again (lower case, spaces)' });
  cls.expect(codeOf(lower) === 'VOUCHER_UNUSABLE', `a consumed voucher in lower case was accepted again: ${lower.errors.length ? summarise(lower) : 'data'}`);
  const cancelUsed = await api.gql(cls, w.keys.all, CANCEL, { i: { redemptionId: v1.id } }, { label: 'cancelRedemption of a consumed voucher' });
  cls.expect(codeOf(cancelUsed) === 'CONFLICT', `a consumed voucher could be cancelled for a refund: ${cancelUsed.errors.length ? summarise(cancelUsed) : 'data'}`);

  const v2 = await voucher();
  const burst = await Promise.all([...Array(10).keys()].map((i) => api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: v2.voucherCode, orderRef: `atk-b${i}` } }, { label: `consumeVoucher in parallel #${i}` })));
  cls.expect(burst.filter((r) => r.data?.consumeVoucher).length === 1, `10 parallel consumes of one voucher: ${burst.filter((r) => r.data?.consumeVoucher).length} succeeded`);

  const v3 = await voucher();
  const foreign = await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: v3.voucherCode, memberId: other.id } }, { label: "consumeVoucher for another member" });
  cls.expect(codeOf(foreign) === 'VOUCHER_UNUSABLE' && foreign.errors[0].extensions?.reason === 'OTHER_MEMBER', `another member's voucher: ${foreign.errors.length ? summarise(foreign) : 'accepted'}`);

  const before = await w.points(cls, m.id);
  const cancels = await Promise.all([...Array(8).keys()].map((i) => api.gql(cls, w.keys.all, CANCEL, { i: { redemptionId: v3.id } }, { label: `cancelRedemption in parallel #${i}` })));
  const cancelled = cancels.filter((r) => r.data?.cancelRedemption).length;
  cls.expect(cancelled === 1, `8 parallel cancellations of one redemption: ${cancelled} succeeded`);
  const after = await w.points(cls, m.id);
  cls.expect(after.points.available - before.points.available === 100, `8 parallel cancellations refunded ${after.points.available - before.points.available} points for a redemption of 100`);
  const consumeCancelled = await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: v3.voucherCode } }, { label: 'consumeVoucher of a cancelled voucher' });
  cls.expect(codeOf(consumeCancelled) === 'VOUCHER_UNUSABLE', `a cancelled voucher was accepted: ${consumeCancelled.errors.length ? summarise(consumeCancelled) : 'data'}`);

  // Guessing: random codes of the right shape find nothing and say nothing.
  for (let i = 0; i < 10; i++) {
    const guess = Math.random().toString(36).slice(2, 14).toUpperCase();
    const res = await api.gql(cls, w.keys.all, CONSUME, { i: { voucherCode: guess } }, { label: 'consumeVoucher with a guessed code' });
    cls.expect(codeOf(res) === 'NOT_FOUND', `a guessed voucher code answered ${res.errors.length ? summarise(res) : 'data'}`);
  }
}
