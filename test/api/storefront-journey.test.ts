import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { useHarness, type Auth, type GqlResult } from '../support/harness';
import { build, SalesChannelKind } from '../fixtures/build';
import { DEMO_KEY_SCOPES } from '../../api/src/composition/seed/demo';
import { createLogger } from '../../api/src/base/logger';

/**
 * The README's storefront journey with a key holding exactly the scopes `npm start` gives its demo key: every
 * operation of schema/operations/channels/storefront.graphql (the storefront's allow-list), the README's curl calls,
 * then the voucher used at checkout and the member's answer. No step may be refused.
 */
const h = useHarness();
const b = build(h);

const STOREFRONT_FILE = path.resolve(__dirname, '..', '..', 'schema', 'operations', 'channels', 'storefront.graphql');
const storefrontText = readFileSync(STOREFRONT_FILE, 'utf8');
const storefrontOperations = parse(storefrontText)
  .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  .map((d) => d.name!.value);

const SEARCH = `query($q: String!) { members(first: 10, search: $q) { totalCount edges { cursor node { id email } } pageInfo { hasNextPage endCursor } } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { id status consumedAt consumedOrderRef } }`;
const FEEDBACK = `mutation($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id kind score npsCategory } }`;

let key: Auth;

async function step(name: string, query: string, variables: Record<string, unknown>, operationName?: string): Promise<any> {
  const req = h.http().post('/graphql').set('content-type', 'application/json').set('x-api-key', (key as { apiKey: string }).apiKey);
  const res = await req.send({ query, variables, ...(operationName ? { operationName } : {}) });
  const body = res.body as GqlResult<any>;
  expect({ step: name, errors: body.errors ?? [] }).toEqual({ step: name, errors: [] });
  return body.data;
}

const storefront = (operation: string, variables: Record<string, unknown>) => step(operation, storefrontText, variables, operation);

describe("the README's storefront journey with the demo key's scopes", () => {
  it('enrols, finds, orders, shows the account, redeems, uses the voucher at checkout and records feedback, none of it refused', async () => {
    const admin = await b.admin();
    await b.baseRate(1, 100);
    await b.settings({ pendingDays: 0 });
    const reward = (
      await h.gql(admin.auth, `mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id } }`, {
        i: { code: 'JOURNEY-COFFEE', name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 20 },
      })
    ).data.upsertReward;
    const { auth, channelId } = await b.apiKey([...DEMO_KEY_SCOPES], SalesChannelKind.WEB);
    key = auth;
    const ran = new Set<string>();
    const run = async (operation: string, variables: Record<string, unknown>) => {
      ran.add(operation);
      return storefront(operation, variables);
    };

    const email = 'Ann.Smith@example.com';
    const enrolled = (
      await run('EnrolMember', {
        input: { email, phone: '07911 123456', firstName: 'Ann', lastName: 'Smith', consents: [{ medium: 'EMAIL', isGranted: true }] },
      })
    ).enrolMember;
    expect(enrolled.points).toEqual({ available: 0, pending: 0 });
    expect((await run('FindMember', { type: 'PHONE', value: '+44 7911 123456' })).memberByIdentifier.id).toBe(enrolled.id);
    expect((await step('search (README curl)', SEARCH, { q: 'ann smith' })).members.totalCount).toBe(1);

    const order = (
      await run('RecordOrder', {
        input: {
          externalOrderId: `WEB-${randomUUID()}`,
          member: { id: enrolled.id },
          placedAt: new Date(Date.now() - 60_000).toISOString(),
          currency: 'GBP',
          lines: [{ sku: 'SCARF', name: 'Scarf', quantity: 1, unitPriceMinor: 4000 }],
          totalMinor: 4000,
        },
      })
    ).recordOrder;
    expect(order.pointsEarned).toBe(40);
    // Points of a past order become available when the jobs run (pendingDays is 0 here).
    await h.app.services.points.runJobs(h.em(), createLogger('silent'));

    const rewards = (await run('Rewards', {})).rewards;
    expect(rewards.map((r: { id: string }) => r.id)).toContain(reward.id);
    const redemption = (await run('RedeemReward', { input: { memberId: enrolled.id, rewardId: reward.id, idempotencyKey: randomUUID() } })).redeemReward;
    expect(redemption.voucherCode).toEqual(expect.any(String));

    const account = (await run('MemberAccount', { id: enrolled.id })).member;
    expect(account.points.available).toBe(20);
    expect(account.orders.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([order.id]);
    expect(account.redemptions).toEqual([expect.objectContaining({ id: redemption.id, voucherCode: redemption.voucherCode })]);
    await run('MemberRecommendations', { id: enrolled.id });

    const consumed = (
      await step('consumeVoucher at checkout', CONSUME, { input: { voucherCode: redemption.voucherCode, memberId: enrolled.id, orderRef: 'WEB-CHECKOUT-1' } })
    ).consumeVoucher;
    expect(consumed.status).toBe('CONSUMED');
    const answer = (
      await step('recordFeedback', FEEDBACK, { input: { memberId: enrolled.id, kind: 'NPS', score: 9, orderId: order.id, channelId } })
    ).recordFeedback;
    expect(answer).toMatchObject({ kind: 'NPS', score: 9 });

    // Every storefront operation was part of the journey.
    expect([...ran].sort()).toEqual([...storefrontOperations].sort());
  });
});
