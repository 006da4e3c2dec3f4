import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { orderInput, RECORD_ORDER } from '../support/orders';

// The admin app is built for the distribution's plugins: load them, as the other admin suites do.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const RFM = `query R($asOf: DateTimeISO!) {
  analytics { rfm(asOf: $asOf) { asOf scoredMembers segments { segment members share orders revenueMinor }
    cells { recencyScore frequencyMonetaryScore segment members } } }
}`;
const TOP_PRODUCTS = `query T($asOf: DateTimeISO!, $segment: RfmSegment) {
  analytics { topProductsBySegment(asOf: $asOf, segment: $segment, limit: 10) { segment products { sku name } } }
}`;

const dayMs = 86_400_000;
const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);
/** What the page asks the API for when a day is chosen: the end of that UTC day. */
const endOfDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + dayMs).toISOString();
// Every row of a column with one decimal ("0.0%" beside "16.7%").
const percent = new Intl.NumberFormat('en-GB', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

interface SegmentFigures {
  segment: string;
  members: number;
  share: number;
  orders: number;
  revenueMinor: number;
}

interface CellFigures {
  recencyScore: number;
  frequencyMonetaryScore: number;
  segment: string;
  members: number;
}

/** The populated cells as `R-FM:members`, sorted. */
const populatedCells = (cells: CellFigures[]) => cells.filter((c) => c.members > 0).map((c) => `${c.recencyScore}-${c.frequencyMonetaryScore}:${c.members}`).sort();

/**
 * Six members whose orders put them, today, in Lost (1), Hibernating (2), Loyal customers (2) and New customers (1);
 * 30 days ago (before the orders of the last 10 days) five of them were scored, one each in Lost, Hibernating,
 * Need attention, Potential loyalists and Champions (worked out by hand from docs/concepts/analytics.md below).
 */
const history: { daysAgo: number; pounds: number; sku: string }[][] = [
  [{ daysAgo: 200, pounds: 10, sku: 'TEA' }],
  [{ daysAgo: 150, pounds: 20, sku: 'TEA' }],
  [{ daysAgo: 100, pounds: 30, sku: 'MUG' }],
  [
    { daysAgo: 60, pounds: 20, sku: 'KETTLE' },
    { daysAgo: 10, pounds: 25, sku: 'KETTLE' },
  ],
  [
    { daysAgo: 90, pounds: 30, sku: 'KETTLE' },
    { daysAgo: 50, pounds: 20, sku: 'TOASTER' },
    { daysAgo: 5, pounds: 10, sku: 'TOASTER' },
  ],
  [{ daysAgo: 2, pounds: 5, sku: 'SPOON' }],
];

describeInBrowser('admin app: RFM segments', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  let admin: { token: string };
  const today = utcDay(Date.now());
  const monthAgo = utcDay(Date.now() - 30 * dayMs);

  beforeAll(async () => {
    ({ auth: admin } = await b.admin(AdminRole.ADMIN));
    const web = await b.apiKey();
    const now = Date.now();
    for (const orders of history) {
      const member = await b.member().inCountry('GB').save();
      for (const { daysAgo, pounds, sku } of orders) {
        const input = orderInput(member.id, [{ sku, unitPriceMinor: pounds * 100 }], { placedAt: new Date(now - daysAgo * dayMs).toISOString() });
        const result = await h.gql(web.auth, RECORD_ORDER, { input });
        expect(result.errors).toBeUndefined();
      }
    }
  });

  async function rfmAsOf(day: string): Promise<{ scoredMembers: number; segments: SegmentFigures[]; cells: CellFigures[] }> {
    const result = await h.gql(admin, RFM, { asOf: endOfDay(day) });
    expect(result.errors).toBeUndefined();
    return result.data.analytics.rfm;
  }

  const populated = (segments: SegmentFigures[]) => Object.fromEntries(segments.filter((s) => s.members > 0).map((s) => [s.segment, s.members]));

  /** Waits until the page shows figures as of the end of `day`, then checks every segment's count and share against the API's. */
  async function expectFiguresOf(day: string, api: { segments: SegmentFigures[] }) {
    const { page } = session;
    await page.waitForFunction((asOf) => document.querySelector('[data-testid="rfm-as-of"]')?.getAttribute('datetime') === asOf, endOfDay(day));
    expect(await page.getByTestId('rfm-segment-row').count()).toBe(11);
    for (const s of api.segments) {
      expect([s.segment, await session.text(`rfm-members-${s.segment}`)]).toEqual([s.segment, String(s.members)]);
      expect([s.segment, await session.text(`rfm-share-${s.segment}`)]).toEqual([s.segment, percent.format(s.share)]);
    }
  }

  it('an analyst opens Insights and sees members per segment as the API counts them, and a segment’s top products', async () => {
    const api = await rfmAsOf(today);
    // Recency ranks the last orders 200 … 2 days ago R = 1, 1, 2, 3, 4, 5 (quintiles of six); orders 1, 1, 1, 2, 3, 1
    // give F = 1, 1, 1, 4, 5, 1; spend £10, £20, £30, £45, £60, £5 gives M = 1, 2, 3, 4, 5, 1; FM = ⌊(F + M + 1) / 2⌋.
    expect(api.scoredMembers).toBe(6);
    expect(populated(api.segments)).toEqual({ LOST: 1, HIBERNATING: 2, LOYAL_CUSTOMERS: 2, NEW_CUSTOMERS: 1 });
    // (R, FM) = (1, 1), (1, 2), (2, 2), (3, 4), (4, 5), (5, 1): one member in each of those cells of the grid.
    expect(api.cells).toHaveLength(25);
    expect(populatedCells(api.cells)).toEqual(['1-1:1', '1-2:1', '2-2:1', '3-4:1', '4-5:1', '5-1:1']);

    const { page } = session;
    await session.signIn(AdminRole.ANALYST, '/dashboard');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Insights' }).click();
    await page.waitForURL(/\/insights\/rfm$/);
    await expectFiguresOf(today, api);
    for (const c of api.cells) {
      const at = `${c.recencyScore}-${c.frequencyMonetaryScore}`;
      expect([at, await session.text(`rfm-cell-members-${at}`)]).toEqual([at, String(c.members)]);
    }
    expect(await session.text('rfm-summary')).toContain('6 members scored');
    expect(await session.text('rfm-segment-CANT_LOSE_THEM')).toBe("Can't lose them");
    expect(await session.text('rfm-revenue-LOYAL_CUSTOMERS')).toBe('£105.00');
    // One number of decimals per column: orders per member to two, shares of £170 of revenue to one.
    const column = async (prefix: string) => Promise.all(['LOYAL_CUSTOMERS', 'HIBERNATING', 'NEW_CUSTOMERS', 'LOST', 'CHAMPIONS'].map((s) => session.text(`${prefix}-${s}`)));
    expect(await column('rfm-frequency')).toEqual(['2.50', '1.00', '1.00', '1.00', '—']);
    expect(await column('rfm-revenue-share')).toEqual(['61.8%', '29.4%', '2.9%', '5.9%', '0.0%']);

    // With no segment in the address, the largest (first in the table on a tie) is shown: Loyal customers.
    expect(await page.getByTestId('rfm-segment-detail').locator('h2').textContent()).toBe('Loyal customers');
    await page.getByTestId('rfm-segment-NEW_CUSTOMERS').click();
    await page.waitForURL(/segment=NEW_CUSTOMERS/);
    await page.getByTestId('rfm-products').waitFor();
    expect(await page.getByTestId('rfm-product-name').allTextContents()).toEqual(['Product SPOON']);

    await page.getByTestId('rfm-cell-3-4').getByRole('link').click();
    await page.waitForURL(/segment=LOYAL_CUSTOMERS/);
    await page.waitForFunction(() => document.querySelector('[data-testid="rfm-product-name"]')?.textContent === 'Product KETTLE');
    const top = await h.gql(admin, TOP_PRODUCTS, { asOf: endOfDay(today), segment: 'LOYAL_CUSTOMERS' });
    expect(top.errors).toBeUndefined();
    const apiNames = top.data.analytics.topProductsBySegment[0].products.map((p: { name: string }) => p.name);
    expect(apiNames).toEqual(['Product KETTLE', 'Product TOASTER']);
    expect(await page.getByTestId('rfm-product-name').allTextContents()).toEqual(apiNames);
    expect(await session.text('rfm-detail-members-value')).toBe('2');
    expect(await session.text('rfm-detail-frequency-value')).toBe('2.50');
    expect(await session.text('rfm-detail-monetary-value')).toBe('£52.50');
    // An analyst may preview segments but not save them.
    expect(await session.text('rfm-segment-link')).toBe('Preview these members as a segment');
    await screenshot(page, 'insights-rfm');

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'insights-rfm-390');
  });

  it('choosing an earlier day leaves out the orders placed after it, and the day stays in the address', async () => {
    const earlier = await rfmAsOf(monthAgo);
    // 30 days ago the last 10 days' orders had not happened: five members scored, one per segment.
    expect(earlier.scoredMembers).toBe(5);
    expect(populated(earlier.segments)).toEqual({ LOST: 1, HIBERNATING: 1, NEED_ATTENTION: 1, POTENTIAL_LOYALISTS: 1, CHAMPIONS: 1 });

    const { page } = session;
    await session.signIn(AdminRole.MARKETER, '/insights/rfm?segment=LOYAL_CUSTOMERS');
    await expectFiguresOf(today, await rfmAsOf(today));
    await page.getByTestId('rfm-as-of-input').fill(monthAgo);
    await page.waitForURL(new RegExp(`asOf=${monthAgo}`));
    await expectFiguresOf(monthAgo, earlier);
    expect(await session.text('rfm-summary')).toContain('5 members scored');
    // The champion's third order (£10, 5 days ago) is left out: £30 + £20.
    expect(await session.text('rfm-revenue-CHAMPIONS')).toBe('£50.00');
    expect(await session.text('rfm-products-empty')).toMatch(/^No member was in Loyal customers at the end of /);
    expect(page.url()).toContain('segment=LOYAL_CUSTOMERS');

    // The address alone opens the same view.
    await page.reload();
    await expectFiguresOf(monthAgo, earlier);

    // Before the first order nothing is scored, and the page says why.
    await page.getByTestId('rfm-as-of-input').fill(utcDay(Date.now() - 365 * dayMs));
    await page.getByTestId('rfm-empty').waitFor();
    expect(await session.text('rfm-empty')).toMatch(/^No member had placed an order by the end of .+ segments appear once orders are recorded or imported; choose a later day\.$/);

    await page.getByTestId('rfm-as-of-today').click();
    await expectFiguresOf(today, await rfmAsOf(today));
    expect(page.url()).not.toContain('asOf=');
  });

  it('a hand-edited address shows the default view: a segment named after an Object property, a day before 1970', async () => {
    const { page } = session;
    await session.signIn(AdminRole.ANALYST, '/insights/rfm?segment=toString');
    await expectFiguresOf(today, await rfmAsOf(today));
    for (const segment of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      if (segment !== 'toString') await page.goto(new URL(`/insights/rfm?segment=${segment}`, page.url()).toString());
      await page.getByTestId('rfm-segment-detail').waitFor();
      // Not a segment: the largest is shown, as with none.
      expect([segment, await page.getByTestId('rfm-segment-detail').locator('h2').textContent()]).toEqual([segment, 'Loyal customers']);
      expect(await page.locator('body').textContent()).not.toContain('Unexpected Application Error');
    }
    for (const asOf of ['0000-01-01', '1969-12-31', '2024-02-30', `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`]) {
      await page.goto(new URL(`/insights/rfm?asOf=${asOf}`, page.url()).toString());
      await expectFiguresOf(today, await rfmAsOf(today));
      expect([asOf, await page.getByTestId('rfm-as-of-input').inputValue()]).toEqual([asOf, today]);
    }
  });

  it('a marketer opens a segment of the members of an RFM segment in the segment builder', async () => {
    const { page } = session;
    await session.signIn(AdminRole.MARKETER, '/insights/rfm?segment=HIBERNATING');
    await page.getByTestId('rfm-segment-detail').waitFor();
    expect(await session.text('rfm-segment-link')).toBe('Create a segment of these members');
    await page.getByTestId('rfm-segment-link').click();
    await page.waitForURL(/\/segments\?rfmSegment=HIBERNATING$/);
    expect(JSON.parse((await page.getByTestId('rule-json').textContent())!)).toEqual({ and: [{ attribute: 'rfmSegment', op: 'eq', value: 'HIBERNATING' }] });
    // The segment builder names the RFM segments as the RFM page does.
    const choices = page.getByTestId('condition-value');
    expect(await choices.locator('option:checked').textContent()).toBe('Hibernating');
    expect(await choices.locator('option').allTextContents()).toContain("Can't lose them");
    await page.waitForFunction(() => {
      const panel = document.querySelector('[data-testid="preview-panel"]');
      return panel?.getAttribute('aria-busy') === 'false' && panel.querySelector('[data-testid="preview-count"]')?.textContent === '2';
    });
  });
});
