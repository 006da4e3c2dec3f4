import { randomUUID } from 'node:crypto';
import { createLoyaltyClient } from '@loyalty/client';
import { AdminRole, build } from '../../../test/fixtures/build';
import { useHarness } from '../../../test/support/harness';
import { graphqlUrl } from '../../../test/support/listen';
import { UPSERT_REWARD } from '../../../test/support/races';
import { main } from '../src/main';
import { runTillJourney } from '../src/till-journey';

// The API as `npm start` runs it; the example talks to it over HTTP through @loyalty/client.
const h = useHarness();
const b = build(h);

/**
 * A programme like the demo's: 1 point per £1, two rewards, and an active recommender that knows what is popular in
 * GB. Idempotent, since the tests of a file share its database.
 */
async function programme({ pendingDays }: { pendingDays: number }) {
  await b.settings({ pendingDays });
  const [baseRates] = await h.sql<{ n: number }>(`select count(*)::int as n from earning_rule where kind = 'BASE_RATE'`);
  if (baseRates.n === 0) await b.baseRate(1, 100);
  const admin = await b.admin(AdminRole.ADMIN);
  await h.gql(admin.auth, UPSERT_REWARD, { input: { code: 'MUG-CLUB', name: 'Free refill', kind: 'FREE_PRODUCT', costPoints: 30, sku: 'REFILL' } });
  await h.gql(admin.auth, UPSERT_REWARD, { input: { code: 'HAMPER', name: 'Hamper', kind: 'FREE_PRODUCT', costPoints: 5000, sku: 'HAMPER' } });
  const [active] = await h.sql<{ id: string }>(`select id from model_version where kind = 'RECOMMENDER' and status = 'ACTIVE'`);
  const recommender = active?.id ?? randomUUID();
  if (!active) {
    await h.sql(`insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
      values (?, 'RECOMMENDER', 'ACTIVE', 'TEST', '{}', '{}', '{}', 30, now(), now())`, [recommender]);
  }
  const [teapot] = await h.sql<{ id: string }>(
    `insert into product (id, sku, name, created_at) values (?, 'TEAPOT', 'Blue teapot', now()) on conflict (sku) do update set name = excluded.name returning id`,
    [randomUUID()],
  );
  await h.sql(`insert into popular_product (model_version_id, country, rank, product_id, score) values (?, 'GB', 1, ?, 10) on conflict do nothing`, [recommender, teapot.id]);
}

describe('storefront-client example: the till journey', () => {
  it('enrols a new shopper, records the sale, shows points and recommendations, and redeems an affordable reward', async () => {
    await programme({ pendingDays: 0 });
    const { key } = await b.apiKey();
    const lines: string[] = [];
    const result = await runTillJourney(createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key }), { shopper: { email: 'sam@shop.example' }, firstName: 'Sam' }, (l) => lines.push(l));

    // £18 of coffee and two £6.50 mugs: 31 points, available at once with no pending window; the refill costs 30.
    expect(result).toMatchObject({
      isNewMember: true,
      pointsEarned: 31,
      recommendedSkus: ['TEAPOT'],
      redemption: { rewardCode: 'MUG-CLUB', status: 'ISSUED', voucherCode: expect.any(String) },
      points: { available: 1, pending: 0 },
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        `Enrolled sam@shop.example as member ${result.memberId}`,
        expect.stringMatching(/^Order TILL-.*: GBP 31\.00, \+31 points \(Base GBP 31\)$/),
        'Points: 31 available, 0 pending (released after the return window)',
        expect.stringMatching(/^ {2}Reward MUG-CLUB \(30 points\): affordable now - /),
        expect.stringMatching(/^ {2}Suggest Blue teapot \(TEAPOT\): /),
        expect.stringMatching(/^Redeemed MUG-CLUB for 30 points: ISSUED, voucher \S+$/),
      ]),
    );
  });

  it('finds the member on a second visit with the same loyalty card, and records a replayed order once', async () => {
    await programme({ pendingDays: 0 });
    const { key } = await b.apiKey();
    const client = createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key });
    const visit = { shopper: { cardNumber: 'CARD-0042' }, externalOrderId: 'TILL-7-0001', placedAt: new Date(Date.now() - 60_000) };
    const first = await runTillJourney(client, visit, () => {});
    const lines: string[] = [];
    const second = await runTillJourney(client, visit, (l) => lines.push(l));
    expect(second).toMatchObject({ memberId: first.memberId, isNewMember: false, orderId: first.orderId });
    expect(lines[0]).toBe(`CARD-0042 is already member ${first.memberId}`);
  });

  it('shows the refusal when the points are still pending: INSUFFICIENT_POINTS with what is available', async () => {
    await programme({ pendingDays: 14 });
    const { key } = await b.apiKey();
    const lines: string[] = [];
    const result = await runTillJourney(createLoyaltyClient({ url: await graphqlUrl(h), apiKey: key }), { shopper: { email: 'new@shop.example' } }, (l) => lines.push(l));
    expect(result).toMatchObject({ points: { available: 0, pending: 31 }, redemption: { rewardCode: 'MUG-CLUB', refusedWith: 'INSUFFICIENT_POINTS' } });
    expect(lines).toContain('Cannot redeem MUG-CLUB yet: 0 of 30 points available');
  });

  it('runs from the command line with the URL and key from the environment or the arguments', async () => {
    await programme({ pendingDays: 0 });
    const { key } = await b.apiKey();
    const url = await graphqlUrl(h);

    const fromEnv: string[] = [];
    expect(await main(['--email', 'cli@shop.example'], { LOYALTY_URL: url, LOYALTY_API_KEY: key }, (l) => fromEnv.push(l))).toBe(0);
    expect(fromEnv[0]).toMatch(/^Enrolled cli@shop\.example as member /);
    expect(fromEnv.at(-1)).toMatch(/^Redeemed MUG-CLUB/);

    const fromArgs: string[] = [];
    expect(await main(['--url', url, '--key', key, '--persisted'], { LOYALTY_API_KEY: 'lp_live_overridden' }, (l) => fromArgs.push(l))).toBe(0);
    expect(fromArgs[0]).toMatch(/^Enrolled shopper-[0-9a-f]{8}@example\.com as member /);

    const wrongKey: string[] = [];
    expect(await main(['--url', url, '--key', 'lp_live_wrong'], {}, (l) => wrongKey.push(l))).toBe(1);
    expect(wrongKey).toEqual([expect.stringMatching(/^Failed with UNAUTHENTICATED: .* \(request [\w-]+\)$/)]);

    const both: string[] = [];
    expect(await main(['--key', key, '--email', 'a@shop.example', '--card', '7'], {}, (l) => both.push(l))).toBe(2);
    expect(both[0]).toMatch(/^Give --email or --card, not both\./);

    const noKey: string[] = [];
    expect(await main([], { LOYALTY_URL: url }, (l) => noKey.push(l))).toBe(2);
    expect(noKey[0]).toMatch(/^No API key: pass --key or set LOYALTY_API_KEY\./);
  });
});
