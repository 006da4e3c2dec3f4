import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, useAdminBrowser } from '../support/browser';
import { build, AdminRole, ApiKeyScope, SalesChannelKind } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

/**
 * The README's two screenshots, of a small programme seeded here: a month of orders on two channels, NPS answers,
 * churn scores and recommendations. `README_SCREENSHOTS=1` writes them to docs/screenshots/ (commit them);
 * otherwise they go to test-output/screenshots/ like every other browser test's.
 */
// The admin app is built for the distribution's plugins (the member 360 reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);
const RECORD_FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
const dayMs = 86_400_000;
const outDir = process.env.README_SCREENSHOTS
  ? path.resolve(__dirname, '..', '..', 'docs', 'screenshots')
  : path.resolve(__dirname, '..', '..', 'test-output', 'screenshots');

describeInBrowser('admin app: README screenshots', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  let featured: string;
  let orders = 0;

  beforeAll(async () => {
    await b.baseRate(1, 100);
    const web = await b.apiKey();
    const store = await b.apiKey(Object.values(ApiKeyScope), SalesChannelKind.STORE);
    const admin = await b.admin(AdminRole.ADMIN);
    const names = [['Ada', 'Lovelace'], ['Alan', 'Turing'], ['Grace', 'Hopper'], ['Edsger', 'Dijkstra'], ['Barbara', 'Liskov'], ['Donald', 'Knuth'],
      ['Frances', 'Allen'], ['John', 'Backus'], ['Margaret', 'Hamilton'], ['Ken', 'Thompson'], ['Radia', 'Perlman'], ['Tim', 'Berners-Lee']];
    const members: string[] = [];
    for (const [i, [first, last]] of names.entries()) {
      const m = await b.member().named(first, last).withEmail(`${first.toLowerCase()}@example.org`).inCountry(i % 3 ? 'GB' : 'FR').save();
      members.push(m.id);
    }
    featured = members[3];
    // Deterministic spread: member i orders (i % 4) + 1 times over the last 28 days, alternating channels.
    for (const [i, memberId] of members.entries()) {
      for (let k = 0; k <= i % 4; k++) {
        const placedAt = new Date(Date.now() - ((i * 7 + k * 5) % 28) * dayMs - 3600_000).toISOString();
        const key = (i + k) % 3 === 0 ? store : web;
        const res = await h.gql(key.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: 1500 + ((i * 37 + k * 11) % 50) * 100, sku: `SKU-${(i + k) % 5}` }], { placedAt }) });
        expect(res.errors).toBeUndefined();
        orders += 1;
      }
    }
    // Three answers a member, about nine a week: the trend draws a week's NPS from 5 answers.
    for (const [i, memberId] of members.entries()) {
      for (let k = 0; k < 3; k++) {
        const givenAt = new Date(Date.now() - ((i * 5 + k * 9) % 28) * dayMs - 7200_000).toISOString();
        const res = await h.gql(admin.auth, RECORD_FEEDBACK, {
          input: { memberId, kind: 'NPS', score: [10, 9, 6, 8, 10, 3, 9, 7, 10, 9, 5, 10][(i + k * 5) % 12], channelId: web.channelId, givenAt, comment: i === 3 && k === 0 ? 'Quick delivery, lovely mugs' : null },
        });
        expect(res.errors).toBeUndefined();
      }
    }

    const churn = randomUUID();
    const recommender = randomUUID();
    for (const [id, kind, algorithm] of [[churn, 'CHURN', 'TF-CHURN'], [recommender, 'RECOMMENDER', 'TF-HYBRID']]) {
      await h.sql(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
         values (?, ?, 'ACTIVE', ?, '{}', '{}', '{}', 90, now(), now())`,
        [id, kind, algorithm],
      );
    }
    for (const [i, memberId] of members.entries()) {
      const score = [0.72, 0.12, 0.35, 0.81, 0.08, 0.44, 0.19, 0.66, 0.27, 0.05, 0.52, 0.15][i];
      const band = score >= 0.6 ? 'HIGH' : score >= 0.3 ? 'MEDIUM' : 'LOW';
      const drivers = [
        { feature: 'days_since_last_order', value: 21 + i, contribution: 0.9 - i * 0.05 },
        { feature: 'orders_90d', value: (i % 4) + 1, contribution: -0.35 },
        { feature: 'distinct_products', value: 3 + (i % 5), contribution: -0.2 },
      ];
      await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers) values (?, ?, ?, ?, ?)`, [churn, memberId, score, band, JSON.stringify(drivers)]);
    }
    const products = [['MUG-01', 'Enamel camping mug'], ['LAMP-07', 'Brass desk lamp'], ['TEA-12', 'Loose-leaf breakfast tea'], ['NOTE-03', 'Dot-grid notebook']];
    for (const [rank, [sku, name]] of products.entries()) {
      const [product] = await h.sql<{ id: string }>(
        `insert into product (id, sku, name, created_at) values (?, ?, ?, now()) on conflict (sku) do update set name = excluded.name returning id`,
        [randomUUID(), sku, name],
      );
      await h.sql(
        `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat) values (?, ?, ?, ?, ?, ?, false)`,
        [recommender, featured, rank + 1, product.id, 0.9 - rank * 0.1, rank % 2 ? 'Often bought with teapots' : 'Similar to SKU-0, which you bought'],
      );
    }
  });

  async function capture(name: string) {
    mkdirSync(outDir, { recursive: true });
    await session.page.screenshot({ path: path.join(outDir, `${name}.png`) });
  }

  it('the dashboard with a month of orders, NPS and churn bands', async () => {
    await session.page.setViewportSize({ width: 1280, height: 1000 });
    await session.signIn(AdminRole.MARKETER, '/dashboard');
    await session.page.getByTestId('kpi-tiles').waitFor();
    expect(await session.text('kpi-orders-value')).toBe(String(orders));
    for (const chart of ['chart-revenue-by-channel', 'chart-points', 'chart-nps', 'chart-churn']) {
      await session.page.getByTestId(chart).locator('svg').first().waitFor();
    }
    expect(await session.text('churn-counts')).toBe('Low 6 · Medium 3 · High 3');
    await capture('dashboard');
  });

  it("a member's 360 view with points, churn drivers and recommendations", async () => {
    await session.page.setViewportSize({ width: 1280, height: 1000 });
    await session.signIn(AdminRole.MARKETER, `/members/${featured}`);
    await session.page.getByRole('heading', { name: 'Edsger Dijkstra' }).waitFor();
    await session.page.getByTestId('member-risk').locator('svg').first().waitFor();
    await session.page.getByTestId('recommendation-row').first().waitFor();
    await session.page.getByTestId('timeline-entry').first().waitFor();
    expect(await session.text('member-churn')).toContain('High risk');
    await capture('member-360');
  });
});
