import { randomUUID } from 'node:crypto';
import { AdminRole, ApiKeyScope, build } from '../../../test/fixtures/build';
import { useHarness } from '../../../test/support/harness';
import { graphqlUrl } from '../../../test/support/listen';
import { UPSERT_REWARD } from '../../../test/support/races';
import { createLoyaltyClient, LoyaltyApiError, RewardsDocument, TypedDocumentString } from '../src';

const h = useHarness();
const b = build(h);

/** The real global fetch, with what the client passed it kept for the assertions. */
function recordingFetch() {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetchImpl: typeof fetch = (url, init) => {
    calls.push({ url: String(url), init: init ?? {} });
    return fetch(url, init);
  };
  return { calls, fetchImpl };
}

async function rejection(promise: Promise<unknown>): Promise<LoyaltyApiError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoyaltyApiError);
  return err as LoyaltyApiError;
}

const order = (memberId: string, unitPriceMinor: number) => ({
  input: {
    externalOrderId: `WEB-${randomUUID()}`,
    member: { id: memberId },
    placedAt: new Date().toISOString(),
    currency: 'GBP',
    lines: [{ sku: 'LAMP', name: 'Lamp', quantity: 1, unitPriceMinor }],
    totalMinor: unitPriceMinor,
  },
});

describe('createLoyaltyClient', () => {
  it('runs the storefront operations as typed methods: enrol, order, account, find, rewards, recommendations, redeem', async () => {
    await b.baseRate(1, 100);
    await b.settings({ pendingDays: 0 });
    const admin = await b.admin(AdminRole.ADMIN);
    const reward = await h.gql(admin.auth, UPSERT_REWARD, {
      input: { code: 'FIVE-OFF', name: '£5 off', kind: 'FIXED_DISCOUNT', costPoints: 40, valueMinor: 500, currency: 'GBP' },
    });
    const { key } = await b.apiKey();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key });

    const { enrolMember } = await client.enrolMember({ input: { email: 'ada@shop.example', firstName: 'Ada', country: 'GB' } });
    expect(enrolMember).toMatchObject({ email: 'ada@shop.example', firstName: 'Ada', enrolmentChannel: 'WEB', points: { available: 0, pending: 0 } });

    const { recordOrder } = await client.recordOrder(order(enrolMember.id, 5000));
    expect(recordOrder).toMatchObject({ status: 'COMPLETED', totalMinor: 5000, pointsEarned: 50, lines: [{ lineNo: 1, sku: 'LAMP', quantity: 1, netMinor: 5000 }] });
    expect(recordOrder.pointsBreakdown.map((l) => [l.kind, l.points])).toEqual([['BASE_RATE', 50]]);

    const { member } = await client.memberAccount({ id: enrolMember.id });
    expect(member.points).toMatchObject({ available: 50, pending: 0, lifetime: 50 });
    expect(member.orders.edges.map((e) => e.node.id)).toEqual([recordOrder.id]);
    expect(member.recommendedRewards.map((s) => [s.reward.code, s.canAffordNow])).toContainEqual(['FIVE-OFF', true]);

    expect((await client.findMember({ type: 'EMAIL', value: 'ADA@shop.example' })).memberByIdentifier?.id).toBe(enrolMember.id);
    expect((await client.rewards()).rewards.map((r) => r.code)).toContain('FIVE-OFF');
    expect((await client.memberRecommendations({ id: enrolMember.id })).member.recommendations).toEqual([]);

    const { redeemReward } = await client.redeemReward({ input: { memberId: enrolMember.id, rewardId: reward.data.upsertReward.id, idempotencyKey: randomUUID() } });
    expect(redeemReward).toMatchObject({ status: 'ISSUED', points: 40, voucherCode: expect.any(String) });
    expect((await client.memberAccount({ id: enrolMember.id })).member.points.available).toBe(10);
  });

  it('sends one POST of JSON with the API key, the caller\'s headers and the operation text', async () => {
    const { key } = await b.apiKey();
    const { calls, fetchImpl } = recordingFetch();
    const url = await graphqlUrl(h);
    const client = createLoyaltyClient({ url, apiKey: key, fetch: fetchImpl, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    await client.rewards();
    expect(calls).toHaveLength(1);
    const [{ url: sentTo, init }] = calls;
    expect(sentTo).toBe(url);
    expect(init.method).toBe('POST');
    expect(init.headers).toMatchObject({ 'content-type': 'application/json', 'x-api-key': key, traceparent: expect.stringMatching(/^00-/) });
    expect(JSON.parse(String(init.body))).toEqual({ query: String(RewardsDocument) });
  });

  it('throws LoyaltyApiError carrying extensions.code, its details, the HTTP status and the request id', async () => {
    await b.settings({ pendingDays: 14 });
    const admin = await b.admin(AdminRole.ADMIN);
    const reward = await h.gql(admin.auth, UPSERT_REWARD, {
      input: { code: 'COFFEE', name: 'Free coffee', kind: 'FREE_PRODUCT', costPoints: 150, sku: 'COFFEE' },
    });
    const { key } = await b.apiKey();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key, headers: { 'x-request-id': 'till-7-checkout-42' } });
    const { enrolMember } = await client.enrolMember({ input: { email: 'bo@shop.example' } });
    await client.recordOrder(order(enrolMember.id, 5000)); // any points it earns are pending for 14 days

    const insufficient = await rejection(client.redeemReward({ input: { memberId: enrolMember.id, rewardId: reward.data.upsertReward.id, idempotencyKey: randomUUID() } }));
    expect(insufficient).toMatchObject({ code: 'INSUFFICIENT_POINTS', status: 200, requestId: 'till-7-checkout-42', extensions: { available: 0, required: 150 } });
    expect(insufficient.errors).toHaveLength(1);

    const taken = await rejection(client.enrolMember({ input: { email: 'bo@shop.example' } }));
    expect(taken).toMatchObject({ code: 'CONFLICT', extensions: { reason: 'IDENTIFIER_TAKEN' } });

    const badTotal = await rejection(client.recordOrder({ input: { ...order(enrolMember.id, 5000).input, totalMinor: 4999 } }));
    expect(badTotal.code).toBe('BAD_USER_INPUT');
    expect(badTotal.extensions.fields).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining('totalMinor') })]));

    const unknown = await rejection(client.memberAccount({ id: randomUUID() }));
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', extensions: { entity: 'Member' } });
  });

  it('reports a wrong key as UNAUTHENTICATED and a key without the scope as FORBIDDEN', async () => {
    const url = await graphqlUrl(h);
    const wrongKey = await rejection(createLoyaltyClient({ url, apiKey: 'lp_live_not-a-real-key' }).rewards());
    expect(wrongKey.code).toBe('UNAUTHENTICATED');

    const member = await b.member().save();
    const readOnly = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
    const forbidden = await rejection(createLoyaltyClient({ url, apiKey: readOnly.key }).recordOrder(order(member.id, 1000)));
    expect(forbidden.code).toBe('FORBIDDEN');
  });

  it('runs a document of your own through request(), typed by TypedDocumentString', async () => {
    const member = await b.member().named('Cy', 'Young').save();
    const { key } = await b.apiKey();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key });
    const FIRST_NAME = new TypedDocumentString<{ member: { firstName: string | null } }, { id: string }>(
      'query FirstName($id: ID!) { member(id: $id) { firstName } }',
    );
    expect(await client.request(FIRST_NAME, { id: member.id })).toEqual({ member: { firstName: 'Cy' } });
    const { rewards } = await client.request(RewardsDocument);
    expect(rewards.every((r) => typeof r.costPoints === 'number' && Array.isArray(r.tierCodes))).toBe(true);
  });

  it('with persistedOperations against an API without the allow-list, falls back to the text once and sends text after', async () => {
    const { key } = await b.apiKey();
    const { calls, fetchImpl } = recordingFetch();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key, fetch: fetchImpl, persistedOperations: true });
    const sent = () => calls.map((c) => Object.keys(JSON.parse(String(c.init.body))).sort().join('+'));

    expect(Array.isArray((await client.rewards()).rewards)).toBe(true);
    expect(sent()).toEqual(['extensions', 'query']);
    expect(Array.isArray((await client.rewards()).rewards)).toBe(true);
    expect(sent()).toEqual(['extensions', 'query', 'query']);
  });

  it('reports an unreachable API as NETWORK_ERROR and an answer that is not GraphQL as UNEXPECTED_RESPONSE', async () => {
    const unreachable = await rejection(createLoyaltyClient({ url: 'http://127.0.0.1:1/graphql', apiKey: 'k' }).rewards());
    expect(unreachable.code).toBe('NETWORK_ERROR');
    expect((unreachable.cause as Error).message).toBe('fetch failed');

    const notGraphql = await rejection(createLoyaltyClient({ url: (await graphqlUrl(h)).replace('/graphql', '/healthz'), apiKey: 'k' }).rewards());
    expect(notGraphql).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 404 });
  });
});
