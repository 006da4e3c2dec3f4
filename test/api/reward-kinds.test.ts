import { printSchema } from 'graphql';
import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { pointsOf } from '../support/orders';
import { composePlugins, definePlugin, PluginError } from '../../api/src/composition/plugin';
import { AppError } from '../../api/src/base/errors';
import { buildGraphQLSchema } from '../../api/src/graphql/schema';

/** A plugin's kinds: a gift card completed at once with a card number, an experience used with a voucher. */
const giftCards = definePlugin({
  name: 'test-gift-cards',
  rewardKinds: [
    {
      kind: 'GIFT_CARD',
      label: 'Gift card',
      description: 'A prepaid card, issued at once.',
      completion: 'AT_ONCE',
      requires: ['valueMinor', 'currency'],
      async fulfil({ em, reward, memberId, redemptionId, points }) {
        // Written in the redemption's transaction: rolled back with it.
        await em.execute(`insert into test_gift_card (redemption_id, member_id, value_minor) values (?, ?, ?)`, [redemptionId, memberId, reward.valueMinor]);
        return { cardNumber: `GC-${redemptionId.slice(-8)}`, valueMinor: reward.valueMinor, points };
      },
    },
    { kind: 'EXPERIENCE', label: 'Experience', description: 'A day out, booked with the voucher.', completion: 'VOUCHER', requires: ['partner'] },
    {
      kind: 'SOLD_OUT_PARTNER',
      label: 'Refused by the partner',
      description: 'Its fulfilment always refuses.',
      completion: 'AT_ONCE',
      async fulfil() {
        throw new AppError('REWARD_OUT_OF_STOCK', 'The partner has none left');
      },
    },
  ],
});

const h = useHarness({}, { plugins: [giftCards] });
const b = build(h);

const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id status points voucherCode expiresAt fulfilment reward { code kind } } }`;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let seq = 0;

/** With the kind as an enum literal in the document, as existing clients write it. */
async function upsert(kind: string, fields = '') {
  return h.gql(admin.auth, `mutation { upsertReward(input: { code: "KIND-${++seq}", name: "${kind} reward", kind: ${kind}, costPoints: 100 ${fields} }) { id code kind } }`);
}

async function memberWith(points: number) {
  const m = await b.member().save();
  await h.gql(admin.auth, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
    i: { memberId: m.id, points, reason: 'test balance', idempotencyKey: `seed-${m.id}` },
  });
  return m;
}

beforeAll(async () => {
  await h.sql(`create table if not exists test_gift_card (redemption_id uuid primary key, member_id uuid not null, value_minor int)`);
  admin = await b.admin();
});

describe('reward kinds', () => {
  it('lists the built-in kinds, then the plugins', async () => {
    const res = await h.gql(admin.auth, `query { rewardKinds { kind label completion requires } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.rewardKinds.map((k: { kind: string }) => k.kind)).toEqual([
      'FREE_PRODUCT',
      'FIXED_DISCOUNT',
      'PERCENT_DISCOUNT',
      'PARTNER',
      'DONATION',
      'GIFT_CARD',
      'EXPERIENCE',
      'SOLD_OUT_PARTNER',
    ]);
    expect(res.data.rewardKinds[5]).toEqual({ kind: 'GIFT_CARD', label: 'Gift card', completion: 'AT_ONCE', requires: ['valueMinor', 'currency'] });
  });

  it('still takes the built-in kinds as enum literals, with the fields each requires', async () => {
    expect((await upsert('FREE_PRODUCT', ', sku: "COFFEE"')).data.upsertReward.kind).toBe('FREE_PRODUCT');
    expect((await upsert('DONATION', ', partner: "Food bank"')).data.upsertReward.kind).toBe('DONATION');
    const missing = expectError(await upsert('FIXED_DISCOUNT', ', valueMinor: 500'), 'BAD_USER_INPUT');
    expect(missing.extensions.fields).toEqual([{ path: 'input.currency', message: 'is required for FIXED_DISCOUNT' }]);
  });

  it("checks a plugin kind's required fields, and refuses a kind nobody registered", async () => {
    const missing = expectError(await upsert('GIFT_CARD', ', currency: "GBP"'), 'BAD_USER_INPUT');
    expect(missing.extensions.fields).toEqual([{ path: 'input.valueMinor', message: 'is required for GIFT_CARD' }]);
    const unknown = await upsert('NOT_A_KIND');
    expect(unknown.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await h.sql(`select 1 from reward where kind = 'NOT_A_KIND'`)).toHaveLength(0);
  });

  it('redeems a plugin kind completed at once: points spent, fulfilment kept, its rows written in the same transaction', async () => {
    const card = (await upsert('GIFT_CARD', ', valueMinor: 2500, currency: "GBP"')).data.upsertReward;
    const m = await memberWith(300);
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: card.id, idempotencyKey: 'gift-1' } });
    expect(res.errors).toBeUndefined();
    const redemption = res.data.redeemReward;
    expect(redemption).toMatchObject({ status: 'CONSUMED', points: 100, voucherCode: null, expiresAt: null, reward: { code: card.code, kind: 'GIFT_CARD' } });
    expect(redemption.fulfilment).toEqual({ cardNumber: `GC-${redemption.id.slice(-8)}`, valueMinor: 2500, points: 100 });
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(200);
    expect(await h.sql(`select member_id, value_minor from test_gift_card where redemption_id = ?`, [redemption.id])).toEqual([{ member_id: m.id, value_minor: 2500 }]);

    // A replay returns the first redemption; the card is not issued twice.
    const again = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: card.id, idempotencyKey: 'gift-1' } });
    expect(again.data.redeemReward.id).toBe(redemption.id);
    expect(await h.sql(`select 1 from test_gift_card where member_id = ?`, [m.id])).toHaveLength(1);
  });

  it('issues a voucher for a plugin kind that completes with one', async () => {
    const day = (await upsert('EXPERIENCE', ', partner: "Zoo"')).data.upsertReward;
    const m = await memberWith(100);
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: day.id, idempotencyKey: 'day-1' } });
    expect(res.errors).toBeUndefined();
    expect(res.data.redeemReward).toMatchObject({ status: 'ISSUED', fulfilment: null });
    expect(res.data.redeemReward.voucherCode).toMatch(/^\w{4}-\w{4}-\w{4}$/);
  });

  it('rolls the redemption back when the fulfilment refuses, with its error code', async () => {
    const refused = (await upsert('SOLD_OUT_PARTNER')).data.upsertReward;
    const m = await memberWith(100);
    const res = await h.gql(admin.auth, REDEEM, { input: { memberId: m.id, rewardId: refused.id, idempotencyKey: 'refused-1' } });
    expectError(res, 'REWARD_OUT_OF_STOCK');
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(100);
    expect(await h.sql(`select 1 from redemption where member_id = ?`, [m.id])).toHaveLength(0);
    expect((await h.sql(`select redeemed_count from reward where id = ?`, [refused.id]))[0].redeemed_count).toBe(0);
  });

  it('refuses to redeem a reward whose kind is no longer registered (its plugin removed) with REWARD_UNAVAILABLE', async () => {
    const orphan = (await upsert('FREE_PRODUCT', ', sku: "X"')).data.upsertReward;
    await h.sql(`update reward set kind = 'REMOVED_KIND' where id = ?`, [orphan.id]);
    const m = await memberWith(100);
    const res = await h.gql(admin.auth, `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { id } }`, {
      input: { memberId: m.id, rewardId: orphan.id, idempotencyKey: 'orphan-1' },
    });
    expect(expectError(res, 'REWARD_UNAVAILABLE').extensions.reason).toBe('UNKNOWN_KIND');
    expect((await pointsOf(h, admin.auth, m.id)).available).toBe(100);
    // It still lists, with its kind as stored, so that it can be found and retired.
    const listed = await h.gql(admin.auth, `query { rewards(activeOnly: false) { id kind } }`);
    expect(listed.errors).toBeUndefined();
    expect(listed.data.rewards.find((r: { id: string }) => r.id === orphan.id)).toEqual({ id: orphan.id, kind: 'REMOVED_KIND' });
  });

  it('refuses at start a plugin kind that takes a built-in or another plugin\'s name, or is not UPPER_SNAKE', () => {
    const kind = (name: string) => ({ kind: name, label: name, description: name, completion: 'AT_ONCE' as const });
    expect(() => composePlugins([definePlugin({ name: 'clash', rewardKinds: [kind('DONATION')] })])).toThrow(PluginError);
    expect(() => composePlugins([definePlugin({ name: 'clash', rewardKinds: [kind('DONATION')] })])).toThrow(/plugin "clash": Reward kind 'DONATION' is registered twice/);
    expect(() => composePlugins([giftCards, definePlugin({ name: 'second', rewardKinds: [kind('GIFT_CARD')] })])).toThrow(/plugin "second"/);
    expect(() => composePlugins([definePlugin({ name: 'lower', rewardKinds: [kind('gift')] })])).toThrow(/must be UPPER_SNAKE/);
  });

  it("adds a plugin's kinds to this app's RewardKind enum only: the committed schema stays the core's", async () => {
    const core = printSchema(await buildGraphQLSchema(null));
    expect(core).not.toContain('GIFT_CARD');
    expect(core).toMatch(/enum RewardKind \{[^}]*DONATION[^}]*\}/);
    const withPlugin = printSchema(await buildGraphQLSchema(h.app.services));
    expect(withPlugin).toMatch(/enum RewardKind \{[^}]*GIFT_CARD[^}]*\}/);
  });
});
