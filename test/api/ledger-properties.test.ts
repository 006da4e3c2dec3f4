import fc from 'fast-check';
import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';
import { orderInput } from '../support/orders';
import { RewardKind } from '../../api/src/modules/rewards/reward.entity';

const h = useHarness();
const b = build(h);
const DAY = 86_400_000;
const silent = { info: () => undefined } as never;

type Op =
  | { kind: 'order'; who: 0 | 1; amounts: number[] }
  | { kind: 'return'; pick: number; partial: boolean }
  | { kind: 'redeem'; who: 0 | 1; reward: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'consume'; pick: number }
  | { kind: 'adjust'; who: 0 | 1; points: number }
  | { kind: 'jobs'; days: number }
  | { kind: 'merge' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('order' as const), who: fc.constantFrom(0 as const, 1 as const), amounts: fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('return' as const), pick: fc.nat(), partial: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeem' as const), who: fc.constantFrom(0 as const, 1 as const), reward: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('consume' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('adjust' as const), who: fc.constantFrom(0 as const, 1 as const), points: fc.integer({ min: -300, max: 300 }).filter((p) => p !== 0) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('jobs' as const), days: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const) }) },
);

/** Business outcomes (insufficient points, nothing left to return, ...) are expected; anything else is a bug. */
const EXPECTED = new Set(['INSUFFICIENT_POINTS', 'CONFLICT', 'BAD_USER_INPUT', 'REWARD_OUT_OF_STOCK', 'VOUCHER_UNUSABLE', 'REWARD_LIMIT_REACHED']);

async function invariantsHold(memberIds: string[]) {
  const check = await h.app.services.points.check(h.em());
  expect(check.mismatches).toEqual([]);
  for (const id of memberIds) {
    const [row] = await h.sql(
      `select
         (select coalesce(sum(points_earned), 0)::int from customer_order where member_id = ?) as earned_orders,
         (select coalesce(sum(points_clawed_back), 0)::int from customer_order where member_id = ?) as clawed_orders,
         (select coalesce(sum(lifetime_delta), 0)::int from ledger_entry where member_id = ? and reason = 'ORDER_EARN') as earned_ledger,
         (select coalesce(-sum(lifetime_delta), 0)::int from ledger_entry where member_id = ? and reason = 'RETURN_CLAWBACK') as clawed_ledger,
         (select count(*)::int from point_lot where member_id = ? and (remaining < 0 or remaining > points)) as bad_lots`,
      [id, id, id, id, id],
    );
    expect(row.bad_lots).toBe(0);
    expect(row.clawed_orders).toBeLessThanOrEqual(row.earned_orders);
  }
}

describe('ledger invariants under random sequences', () => {
  it('hold after every order, return, redemption, cancellation, consumption, adjustment, job run and merge', async () => {
    await b.baseRate(1, 100);
    const channel = await b.channel();
    const rewards = await Promise.all(
      [50, 120, 400].map((cost, i) =>
        h.app.services.rewards.upsert(b.ctx(), {
          code: `PROP-${i}`, name: `Reward ${i}`, kind: RewardKind.FREE_PRODUCT, sku: 'GIFT', costPoints: cost, stock: i === 2 ? 3 : null, tierCodes: [], isActive: true,
        } as never),
      ),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops) => {
        await b.settings({ pendingDays: 7 });
        const members = [await b.member().save(), await b.member().save()];
        let live = [0, 1];
        const orders: string[] = [];
        const redemptions: Array<{ id: string; voucher: string | null }> = [];
        let clock = Date.now();
        let n = 0;
        for (const o of ops) {
          const ctx = b.ctx();
          const memberOf = (who: 0 | 1) => members[live.includes(who) ? who : live[0]];
          try {
            switch (o.kind) {
              case 'order': {
                const input = orderInput(memberOf(o.who).id, o.amounts.map((a) => ({ unitPriceMinor: a })), { channelId: channel.id });
                const order = await h.app.services.orders.record(ctx, { ...input, placedAt: new Date(input.placedAt) } as never);
                orders.push(order.id);
                break;
              }
              case 'return':
                if (orders.length === 0) break;
                await h.app.services.orders.recordReturn(ctx, {
                  orderId: orders[o.pick % orders.length],
                  externalReturnId: `ret-${++n}`,
                  lines: o.partial ? [{ lineNo: 1, quantity: 1 }] : null,
                });
                break;
              case 'redeem': {
                const r = await h.app.services.rewards.redeem(ctx, { memberId: memberOf(o.who).id, rewardId: rewards[o.reward].id, idempotencyKey: `red-${++n}` });
                redemptions.push({ id: r.id, voucher: r.voucherCode });
                break;
              }
              case 'cancel':
                if (redemptions.length) await h.app.services.rewards.cancel(ctx, { redemptionId: redemptions[o.pick % redemptions.length].id });
                break;
              case 'consume': {
                const r = redemptions.length ? redemptions[o.pick % redemptions.length] : null;
                if (r?.voucher) await h.app.services.rewards.consume(ctx, { voucherCode: r.voucher });
                break;
              }
              case 'adjust':
                await h.app.services.points.adjust(ctx, { memberId: memberOf(o.who).id, points: o.points, reason: 'property test', idempotencyKey: `adj-${++n}-${members[0].id}` });
                break;
              case 'jobs':
                clock += o.days * DAY;
                await h.app.services.points.runJobs(h.em(), silent, new Date(clock));
                break;
              case 'merge':
                if (live.length === 2) {
                  await h.app.services.members.merge(ctx, { survivorId: members[1].id, absorbedId: members[0].id });
                  live = [1];
                }
                break;
            }
          } catch (err) {
            const code = (err as { extensions?: { code?: string } }).extensions?.code;
            if (!code || !EXPECTED.has(code)) throw err;
          }
          await invariantsHold(members.map((m) => m.id));
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 20), seed: process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : undefined },
    );
  }, 180_000);
});
