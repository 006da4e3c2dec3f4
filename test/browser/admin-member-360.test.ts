import { randomUUID } from 'node:crypto';
import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

// The admin app is built for the distribution's plugins (the member 360 reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

/** What the recommender worker writes, inserted directly: an active version and its rows. */
async function activeVersion(kind: 'RECOMMENDER' | 'CHURN' | 'VALUE') {
  const id = randomUUID();
  await h.sql(
    `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
     values (?, ?, 'ACTIVE', ?, '{}', '{}', '{}', 90, now(), now())`,
    [id, kind, { CHURN: 'TF-CHURN', RECOMMENDER: 'TF-HYBRID', VALUE: 'TF-VALUE' }[kind]],
  );
  return id;
}

describeInBrowser('admin app: member 360 with model outputs', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let memberId: string;
  let recommender: string;
  let value: string;

  beforeAll(async () => {
    await b.baseRate(1, 100);
    const grace = await b.member().named('Grace', 'Hopper').withEmail('grace@navy.example').inCountry('US').save();
    memberId = grace.id;
    const web = await b.apiKey();
    const order = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(grace.id, [{ unitPriceMinor: 4200 }]) });
    expect(order.errors).toBeUndefined();

    recommender = await activeVersion('RECOMMENDER');
    for (const [rank, sku, name] of [[1, 'MUG-01', 'Enamel camping mug'], [2, 'LAMP-07', 'Brass desk lamp']] as const) {
      const [product] = await h.sql<{ id: string }>(
        `insert into product (id, sku, name, created_at) values (?, ?, ?, now()) on conflict (sku) do update set name = excluded.name returning id`,
        [randomUUID(), sku, name],
      );
      await h.sql(
        `insert into member_recommendation (model_version_id, member_id, rank, product_id, score, reason, is_repeat) values (?, ?, ?, ?, ?, ?, false)`,
        [recommender, grace.id, rank, product.id, 1 - rank / 10, `Often bought with ${sku === 'MUG-01' ? 'teapots' : 'notebooks'}`],
      );
    }
    const churn = await activeVersion('CHURN');
    const drivers = [
      { feature: 'recency_days', value: 120, contribution: 1.25 },
      { feature: 'orders_90d', value: 1, contribution: 0.4 },
      { feature: 'tenure_days', value: 700, contribution: -0.3 },
    ];
    // Scored 0.6 at the run before (0.75 − 0.6 is 0.14999998 in float4: the card still says 15 points).
    await h.sql(
      `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at)
       values (?, ?, 0.75, 'HIGH', ?, 0.6, '2026-11-20T06:00:00Z')`,
      [churn, grace.id, JSON.stringify(drivers)],
    );
    value = await activeVersion('VALUE');
    await h.sql(`update model_version set value_scoring = ? where id = ?`, [
      JSON.stringify({ currency: 'GBP', mediumQuantile: 0.5, highQuantile: 0.8, mediumFromMinor: 2000, highFromMinor: 9000, members: 1 }),
      value,
    ]);
    const valueDrivers = [
      { feature: 'log_spend_90d', value: Math.log1p(42), contribution: 0.9 },
      { feature: 'log_spend_period_2', value: Math.log1p(10), contribution: 0.3 },
      { feature: 'p_alive', value: 0.4, contribution: -0.5 },
    ];
    await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, 12345, 0.6, 'HIGH', ?)`, [
      value,
      grace.id,
      JSON.stringify(valueDrivers),
    ]);
  });

  it('a marketer sees recommendations with product names and the model version, and churn risk with its drivers', async () => {
    await signIn(AdminRole.MARKETER, `/members/${memberId}`);
    await session.page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();

    await session.page.getByTestId('recommendation-row').nth(1).waitFor();
    const recs = await session.page.getByTestId('recommendation-row').allTextContents();
    expect(recs[0]).toContain('Enamel camping mug (MUG-01)');
    expect(recs[0]).toContain('Often bought with teapots');
    expect(recs[1]).toContain('Brass desk lamp (LAMP-07)');
    expect(await session.page.getByTestId('member-recommendations').textContent()).toContain(`Model ${recommender.slice(0, 8)}`);

    expect(await text('member-churn')).toContain('High risk');
    expect(await text('member-churn')).toContain('75% chance of no purchase in 90 days');
    expect(await text('member-churn-change')).toMatch(/^Rising by 15 percentage points since 20 Nov 2026 \(was 60%\)$/);
    const driversChart = session.page.getByTestId('member-risk').getByRole('img', { name: /drives this member's churn score/ });
    await driversChart.locator('svg').first().waitFor();
    expect(await driversChart.locator('svg').textContent()).toContain('recency_days = 120');
    await session.page.getByTestId('order-row').first().waitFor();
    await screenshot(session.page, 'member-360-models');
  });

  it('a card whose query failed shows the error with Retry, and Retry asks the API again and shows the rows', async () => {
    const page = session.page;
    let refused = 0;
    let served = 0;
    // The API refuses the orders card's query once (as during a database restart); every later one goes through.
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName !== 'MemberOrders') return route.continue();
      if (refused === 0) {
        refused++;
        return route.fulfill({
          status: 200,
          contentType: 'application/json',
          body: JSON.stringify({ data: null, errors: [{ message: 'The database is unavailable; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }),
        });
      }
      served++;
      return route.continue();
    });
    await signIn(AdminRole.MARKETER, `/members/${memberId}`);
    const error = page.getByTestId('orders-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('A service the server needs is unavailable');
    expect(await page.getByTestId('order-row').count()).toBe(0);
    await error.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('order-row').first().waitFor();
    expect([refused, served]).toEqual([1, 1]);
    expect(await error.count()).toBe(0);
  });

  it('a marketer sees the predicted value with its band and its drivers named in words', async () => {
    await signIn(AdminRole.MARKETER, `/members/${memberId}`);
    await session.page.getByTestId('member-predicted-value').waitFor();
    const summary = await text('member-predicted-value');
    expect(summary).toContain('High value');
    expect(summary).toContain('£123.45 expected in the next 90 days');
    expect(summary).toContain('60% chance of buying again');
    expect(summary).toContain(`model ${value.slice(0, 8)}`);
    const drivers = await session.page.getByTestId('member-value-drivers').locator('li').allTextContents();
    expect(drivers).toEqual(['▲ Spend in the last 90 days: 42', '▲ Spend 30–60 days ago: 10', '▼ Chance still active (BG/NBD): 0.4']);
    const chart = session.page.getByTestId('member-value').getByRole('img', { name: /drives this member's predicted value/ });
    await chart.locator('svg').first().waitFor();
    expect(await chart.locator('svg').textContent()).toContain('Spend in the last 90 days');
    await screenshot(session.page, 'member-360-value');
  });

  it('the dashboard counts the member in the high churn-risk band, and among those whose risk rose, with a link to them', async () => {
    await signIn(AdminRole.ANALYST, '/dashboard');
    await session.page.getByTestId('churn-counts').waitFor();
    expect(await text('churn-counts')).toBe('Low 0 · Medium 0 · High 1');
    // 0.75 against 0.6 four weeks before: up 15 points.
    expect(await text('churn-rising')).toBe("1 member's risk rose 10 points or more over about a month · Open as a segment");
    await session.page.getByTestId('churn-rising').getByRole('link', { name: 'Open as a segment' }).click();
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('churnScoreChange'));
    expect(JSON.parse((await session.page.getByTestId('rule-json').textContent())!)).toEqual({ and: [{ attribute: 'churnScoreChange', op: 'gte', value: 0.1 }] });
    await session.page.waitForFunction(() => document.querySelector('[data-testid="preview-panel"]')?.getAttribute('aria-busy') === 'false' && document.querySelector('[data-testid="preview-count"]'));
    expect(await text('preview-count')).toBe('1');
  });

  it('the dashboard puts the member’s value at risk in the high churn band: 12,345 × 0.75 rounded down', async () => {
    await signIn(AdminRole.ANALYST, '/dashboard');
    await session.page.getByTestId('value-at-risk-band').nth(2).waitFor();
    const rows = await session.page.getByTestId('value-at-risk-band').allTextContents();
    expect(rows).toEqual(['Low0£0.00£0.00', 'Medium0£0.00£0.00', 'High1£123.45£92.58']);
    expect(await text('value-at-risk-total')).toBe('£92.58 of £123.45 predicted value at risk of churn');
    const chart = session.page.getByTestId('chart-value-at-risk').getByRole('img', { name: /value at risk per churn band/ });
    await chart.locator('svg').first().waitFor();
    // Short ticks ("£20", "£100"): amounts with pence ran into each other on the half-width card.
    const ticks = await chart.locator('svg text').allTextContents();
    expect(ticks).toEqual(expect.arrayContaining(['£0', '£100']));
    expect(ticks.filter((t) => /£\d[\d,]*\.\d\d/.test(t))).toEqual([]);
  });

  // Last: this member would change the dashboard's counts above.
  it('a model is never certain: a churn score of 0.0004 reads <1% and a chance of return of 1 reads >99%; one day reads singular', async () => {
    const alan = await b.member().named('Alan', 'Turing').save();
    const web = await b.apiKey();
    const placedAt = new Date(Date.now() - 30 * 3600_000).toISOString();
    expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(alan.id, [{ unitPriceMinor: 1000 }], { placedAt }) })).errors).toBeUndefined();
    const [churn] = await h.sql<{ id: string }>(`select id from model_version where kind = 'CHURN' and status = 'ACTIVE'`);
    await h.sql(
      `insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at)
       values (?, ?, 0.0004, 'LOW', '[]', 0.03, '2026-11-20T06:00:00Z')`,
      [churn.id, alan.id],
    );
    await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, 5000, 1.0, 'MEDIUM', '[]')`, [value, alan.id]);

    await signIn(AdminRole.MARKETER, `/members/${alan.id}`);
    await session.page.getByTestId('member-predicted-value').waitFor();
    expect(await text('member-churn')).toContain('<1% chance of no purchase in 90 days');
    expect(await text('member-churn-change')).toMatch(/^Falling by 2\.96 percentage points since 20 Nov 2026 \(was 3%\)$/);
    expect(await text('member-predicted-value')).toContain('>99% chance of buying again');
    expect(await text('member-rfm')).toMatch(/· 1 order · last 1 day ago$/);
  });

  it('lists orders newest placed first however late each was recorded, and Load more follows the cursor to the older ones', async () => {
    const ada = await b.member().named('Ada', 'Lovelace').save();
    const web = await b.apiKey();
    const tag = randomUUID().slice(0, 8);
    // P01 was placed most recently, P12 longest ago; they arrive out of order (an offline till, an import of history).
    for (const rank of [3, 1, 12, 8, 2, 10, 5, 11, 4, 7, 9, 6]) {
      const placedAt = new Date(Date.now() - rank * 40 * 86_400_000).toISOString();
      const externalOrderId = `${tag}-P${String(rank).padStart(2, '0')}`;
      expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(ada.id, [{}], { placedAt, externalOrderId }) })).errors).toBeUndefined();
    }
    const expected = Array.from({ length: 12 }, (_, i) => `${tag}-P${String(i + 1).padStart(2, '0')}`);
    const admin = await b.admin();
    const firstPage = await h.gql(admin.auth, `query($id: ID!) { member(id: $id) { orders(first: 10) { pageInfo { endCursor } } } }`, { id: ada.id });
    const afters: unknown[] = [];
    session.page.on('request', (request) => {
      const body = request.method() === 'POST' && request.url().endsWith('/graphql') ? request.postDataJSON() : null;
      if (body?.operationName === 'MemberOrders') afters.push(body.variables.after ?? null);
    });

    await signIn(AdminRole.MARKETER, `/members/${ada.id}`);
    const orderIds = async () => (await session.page.getByTestId('order-row').allTextContents()).map((row) => row.match(new RegExp(`${tag}-P\\d\\d`))?.[0]);
    await session.page.getByTestId('order-row').nth(9).waitFor();
    expect(await orderIds()).toEqual(expected.slice(0, 10));
    expect(await text('orders-shown')).toBe('10 of 12');
    await session.page.getByTestId('orders-load-more').click();
    await session.page.getByTestId('order-row').nth(11).waitFor();
    expect(await orderIds()).toEqual(expected);
    expect(await session.page.getByTestId('orders-load-more').count()).toBe(0);
    expect(afters).toEqual([null, firstPage.data.member.orders.pageInfo.endCursor]);
  });

  it('names the RFM segment as the RFM page does: the most orders and spend, but the oldest last order, is "Can\'t lose them"', async () => {
    const web = await b.apiKey();
    const katherine = await b.member().named('Katherine', 'Johnson').save();
    // 13 orders of £100, the last 100 days ago: more orders and spend than any other member here, and the oldest last order.
    for (let i = 0; i < 13; i++) {
      const placedAt = new Date(Date.now() - (100 + 10 * i) * 86_400_000).toISOString();
      expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(katherine.id, [{ unitPriceMinor: 10000 }], { placedAt }) })).errors).toBeUndefined();
    }
    // With five or more members scored, the most orders and the most spend score 5: R 1, FM 5.
    for (let i = 0; i < 4; i++) {
      const other = await b.member().save();
      expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(other.id, [{ unitPriceMinor: 100 }]) })).errors).toBeUndefined();
    }
    await signIn(AdminRole.MARKETER, `/members/${katherine.id}`);
    expect(await text('member-rfm')).toMatch(/^Can't lose them RFM 155 · 13 orders · last \d+ days ago$/);
  });
});
