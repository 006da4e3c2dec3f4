import { randomUUID } from 'node:crypto';
import Queue from 'bull';
import type { Browser, Page } from 'playwright-core';
import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { collectPageErrors, describeInBrowser, expectOnScreen, launchChromium, screenshot } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

const prefix = `test-admin-app-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const RECORD_FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
// The admin app is built for the distribution's plugins (the member 360 reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', QUEUE_PREFIX: prefix }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

describeInBrowser('admin app: dashboard, member 360, models', () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let baseUrl: string;
  /** How the admin app names the key that recorded the orders: its channel and its name. */
  let webKeyLabel: string;

  beforeAll(async () => {
    baseUrl = `http://127.0.0.1:${await h.app.listen()}`;
    browser = await launchChromium();
    await b.baseRate(1, 100);
    const ada = await b.member().named('Ada', 'Lovelace').withEmail('ada@engine.example').inCountry('GB').save();
    const charles = await b.member().named('Charles', 'Babbage').save();
    const mary = await b.member().named('Mary', 'Somerville').save();
    const web = await b.apiKey();
    const [channel] = await h.sql<{ name: string }>(`select name from sales_channel where id = ?`, [web.channelId]);
    webKeyLabel = `${channel.name} key “test key”`;
    for (const unitPriceMinor of [2500, 1500]) {
      const result = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(ada.id, [{ unitPriceMinor }]) });
      expect(result.errors).toBeUndefined();
    }
    // Two promoters and a detractor: NPS (2 − 1) × 100 ÷ 3 = 33.33.
    const admin = await b.admin(AdminRole.ADMIN);
    for (const [memberId, score] of [[ada.id, 10], [charles.id, 9], [mary.id, 3]] as const) {
      const result = await h.gql(admin.auth, RECORD_FEEDBACK, { input: { memberId, kind: 'NPS', score, channelId: web.channelId, comment: 'Parcel was late' } });
      expect(result.errors).toBeUndefined();
    }
  });
  afterAll(async () => {
    await browser?.close();
    for (const name of ['recommender.train-churn', 'recommender.train-recommender', 'recommender.train-value']) {
      const queue = new Queue(name, h.config.REDIS_URL, { prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
  beforeEach(async () => {
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // A step that stalls fails on its own line, inside the test's 30 s (Playwright's default is 30 s per step).
    page.setDefaultTimeout(10_000);
    errors = collectPageErrors(page);
  });
  afterEach(async () => {
    await page.context().close();
    expect(errors).toEqual([]);
  });

  async function signIn(role: AdminRole, path = '/dashboard') {
    const admin = await b.admin(role);
    await page.goto(`${baseUrl}${path}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return admin;
  }

  const text = async (testId: string) => (await page.getByTestId(testId).first().textContent())?.trim();

  it('the dashboard shows KPI figures that match the seeded orders and members', async () => {
    await signIn(AdminRole.MARKETER);
    await page.getByTestId('kpi-tiles').waitFor();
    expect(await text('kpi-active-members-value')).toBe('1');
    expect(await text('kpi-new-members-value')).toBe('3');
    expect(await text('kpi-orders-value')).toBe('2');
    expect(await text('kpi-net-revenue-value')).toBe('£40.00');
    expect(await text('kpi-aov-value')).toBe('£20.00');
    expect(await text('kpi-points-issued-value')).toBe('40');
    await page.getByTestId('chart-revenue-by-channel').locator('svg').first().waitFor();
    await page.getByTestId('churn-empty').waitFor();
    await page.getByTestId('chart-nps').locator('svg').first().waitFor();
    expect(await text('nps-score')).toBe('33.33');
    expect(await text('nps-summary')).toContain('from 3 answers · 2 promoters, 0 passives, 1 detractors');
    // This week's 3 answers are too few to plot an NPS: the line leaves the week off, and the note says so.
    expect(await text('nps-too-few')).toMatch(/^Weeks with fewer than 5 answers are not drawn on the NPS line, so few answers swing it: \d+ \w{3} \(3 answers\)$/);
    await screenshot(page, 'dashboard');

    expect(await page.getByTestId('churn-all-channels').count()).toBe(0);
    await page.getByTestId('dashboard-channel').selectOption('STORE');
    await page.waitForFunction(() => document.querySelector('[data-testid="kpi-orders-value"]')?.textContent === '0');
    expect(await text('kpi-points-issued')).toContain('Not split by channel');
    // The model cards are per member whatever the channel, and say so.
    expect(await text('churn-all-channels')).toBe('All channels: models score members, not channels');
    expect(await text('value-at-risk-all-channels')).toBe('All channels: models score members, not channels');
  });

  it('the churn card says the first churn model is training while a churn training job is queued, not to train one', async () => {
    const queue = new Queue('recommender.train-churn', h.config.REDIS_URL, { prefix });
    const job = await queue.add({ v: 1, kind: 'CHURN', requestedAt: new Date().toISOString(), requestedBy: 'bootstrap' }, { jobId: `bootstrap-test-${randomUUID()}` });
    try {
      await signIn(AdminRole.MARKETER);
      await page.waitForFunction(() => document.querySelector('[data-testid="churn-empty"]')?.textContent?.includes('training'));
      expect(await text('churn-empty')).toBe('No member has a churn score yet: the first churn model is training, and its scores show here once it is done');
    } finally {
      await job.remove();
      await queue.close();
    }
  });

  it('a marketer finds a member, opens the 360 view, adjusts points and sees the new ledger row', async () => {
    const marketer = await signIn(AdminRole.MARKETER, '/members');
    await page.getByLabel('Search members').fill('lovelace');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="member-row"]').length === 1);
    await page.getByTestId('member-link').click();

    await page.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    expect(await text('member-email')).toBe('ada@engine.example');
    await page.getByTestId('order-row').nth(1).waitFor();
    expect(await page.getByTestId('order-row').count()).toBe(2);
    expect(await page.getByTestId('order-row').first().textContent()).toContain('£15.00');
    await page.getByTestId('ledger-row').nth(1).waitFor();
    expect(await text('recommendations-empty')).toContain('No recommendations');
    expect(await text('member-rfm')).toContain('RFM');
    await page.getByTestId('feedback-row').first().waitFor();
    const answer = await text('feedback-row');
    expect(answer).toContain('NPS 10/10');
    expect(answer).toContain('Promoter');
    expect(answer).toContain('Parcel was late');
    // Newest first: the answer came after both orders and their ledger rows.
    await page.getByTestId('timeline-entry').nth(4).waitFor();
    const timeline = await page.getByTestId('timeline-entry').allTextContents();
    expect(timeline[0]).toContain('FeedbackNPS 10/10, promoter');
    expect(timeline.filter((e) => e.includes('OrderOrder ')).map((e) => e.match(/£\d+\.\d\d/)?.[0]).sort()).toEqual(['£15.00', '£25.00']);
    expect(timeline.some((e) => e.includes('LedgerOrder earn: +25 pending'))).toBe(true);
    const availableBefore = Number(await text('points-available-value'));
    await screenshot(page, 'member-360');

    const form = page.getByTestId('adjust-points');
    await form.getByLabel('Points').fill('50');
    await form.getByLabel('Reason').fill('Goodwill: parcel arrived late');
    await page.getByTestId('adjust-submit').click();
    await page.getByTestId('adjust-done').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="ledger-row"]').length === 3);
    const newest = await page.getByTestId('ledger-row').first().textContent();
    expect(newest).toContain('Adjustment');
    expect(newest).toContain('+50');
    expect(newest).toContain('Goodwill: parcel arrived late');
    // Who: the marketer's own email; the orders' rows, by a channel's key the marketer may not manage, its channel and name.
    expect(newest).toContain(marketer.email);
    await page.waitForFunction(
      (label) => [...document.querySelectorAll('[data-testid="ledger-row"]')].slice(1).every((r) => r.textContent?.endsWith(label)),
      webKeyLabel,
    );
    expect(await page.getByTestId('ledger-row').first().getAttribute('class')).toBe('is-new');
    await page.waitForFunction(
      (expected) => document.querySelector('[data-testid="points-available-value"]')?.textContent === expected,
      String(availableBefore + 50),
    );
    await screenshot(page, 'member-360-adjusted');

    await page.goto(`${baseUrl}/members/${randomUUID()}`);
    await page.getByTestId('member-error').waitFor();
    expect(await text('member-error')).toContain('That record no longer exists.');
  });

  it('an admin sees a rejected model version with its gate reason and metrics chart, and activates it', async () => {
    // What the audit used: a laptop screen, where a long gate reason once pushed the buttons out of the table's view.
    await page.setViewportSize({ width: 1280, height: 800 });
    const id = randomUUID();
    await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, train_rows, is_promoted, gate_reason, created_at, finished_at)
       values (?, 'RECOMMENDER', 'REJECTED', 'TF-HYBRID', '{}', ?, ?, 30, 1234, false, 'ndcg@10 0.210 does not beat POPULAR 0.230', now(), now())`,
      [id, JSON.stringify({ all: { 'ndcg@10': 0.21, 'recall@10': 0.3, users: 80 } }), JSON.stringify({ POPULAR: { all: { 'ndcg@10': 0.23, 'recall@10': 0.28, users: 80 } } })],
    );
    const admin = await signIn(AdminRole.ADMIN, '/models');
    await page.getByTestId('version-row').first().waitFor();
    const row = await page.getByTestId('version-row').first().textContent();
    expect(row).toContain('TF-HYBRID');
    expect(row).toContain('Rejected');
    expect(row).toContain('0.21');
    expect(await text('gate-decision')).toContain('not promoted — ndcg@10 0.210 does not beat POPULAR 0.230');
    await page.getByTestId('version-metrics').locator('svg').first().waitFor();
    const chart = (await page.getByTestId('version-metrics').locator('svg').first().textContent()) ?? '';
    expect(chart).toContain('nDCG@10 (all items)');
    expect(chart).not.toContain('all ndcg@10');
    // Never served, so activating it is no rollback.
    expect(await text('version-activate')).toBe('Activate this version');
    await expectOnScreen(page, page.getByTestId('version-row').getByRole('button'));
    await screenshot(page, 'models');

    await page.getByTestId('version-activate').click();
    await page.getByTestId('activate-dialog').getByLabel('Reason').fill('Reviewed by hand: better coverage');
    await page.getByTestId('activate-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="version-status"]')?.textContent === 'Active');
    await page.waitForFunction((email) => document.querySelector('[data-testid="activated-by"]')?.textContent === email, admin.email);
    // The gate's decision and reason as the gate wrote them, then who activated it by hand, when and why.
    expect(await text('gate-decision')).toMatch(
      new RegExp(`^Promotion gate: not promoted — ndcg@10 0\\.210 does not beat POPULAR 0\\.230 · activated by hand by ${admin.email.replace(/[.+]/g, '\\$&')} on \\d+ \\w{3} \\d{4}, \\d\\d:\\d\\d: Reviewed by hand: better coverage$`),
    );
    expect(await page.getByTestId('version-row').first().textContent()).toContain('Not promoted · ndcg@10 0.210 does not beat POPULAR 0.230 · activated by hand');
    expect(await page.getByTestId('activated-by').getAttribute('title')).toBe(`admin:${admin.id}`);
    await screenshot(page, 'models-activated');
  });

  it('an analyst rolls the churn model back to the version served before', async () => {
    const [previous, current] = [randomUUID(), randomUUID()];
    for (const [id, status, auc, daysAgo] of [[previous, 'RETIRED', 0.74, 3], [current, 'ACTIVE', 0.71, 1]] as const) {
      await h.sql(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, train_rows, is_promoted, gate_reason, created_at, finished_at)
         values (?, 'CHURN', ?, 'TF-CHURN', '{}', ?, ?, 90, 500, true, 'beats every baseline', now() - ? * interval '1 day', now() - ? * interval '1 day')`,
        [id, status, JSON.stringify({ rocAuc: auc, prAuc: 0.52, calibration: { meanPredicted: 0.31, observed: 0.3, ece: 0.02, bins: [] } }), JSON.stringify({ RECENCY: { rocAuc: 0.69 } }), daysAgo, daysAgo],
      );
    }
    const analyst = await signIn(AdminRole.ANALYST, '/models');
    await page.getByTestId('models-kind-churn').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-row"]').length === 2);
    const rows = page.getByTestId('version-row');
    expect(await rows.nth(0).getByTestId('version-status').textContent()).toBe('Active');
    expect(await rows.nth(1).textContent()).toContain('0.74');
    expect(await rows.nth(0).getByTestId('version-activate').count()).toBe(0);
    expect(await rows.nth(1).getByTestId('version-activate').textContent()).toBe('Roll back to this');
    const chart = page.getByTestId('version-metrics').locator('svg').first();
    await chart.waitFor();
    const labels = (await chart.textContent()) ?? '';
    for (const label of ['ROC-AUC', 'PR-AUC', 'Mean predicted (calibration)', 'Observed rate (calibration)']) expect(labels).toContain(label);
    expect(labels).not.toMatch(/prAuc|meanPredicted/);
    // The active version's metrics beside the version it replaced, not only beside the baselines.
    expect(labels).toContain('Previous version (TF-CHURN');

    await rows.nth(1).getByTestId('version-activate').click();
    await page.getByTestId('activate-dialog').getByLabel('Reason').fill('Newer model misses lapsed store customers');
    await page.getByTestId('activate-confirm').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-status"]')[1]?.textContent === 'Active');
    expect(await rows.nth(0).getByTestId('version-status').textContent()).toBe('Retired');
    const [stored] = await h.sql(`select status, activated_by from model_version where id = ?`, [previous]);
    expect(stored).toEqual({ status: 'ACTIVE', activated_by: `admin:${analyst.id}` });
  });

  it('an analyst reads the value model’s metrics beside its baselines, its band thresholds and its decile calibration chart', async () => {
    const id = randomUUID();
    const calibration = Array.from({ length: 10 }, (_, i) => ({ meanPredicted: 10 * (i + 1), meanActual: 10 * (i + 1) + (i % 2 ? 3 : -3), count: 20 }));
    const metrics = { gini: 0.6123, spearman: 0.5, topDecileCapture: 0.4321, mae: 123.4, rmse: 456.7, customers: 200, meanActual: 55, calibration };
    const baseline = (gini: number) => ({ ...metrics, gini, spearman: 0.41, topDecileCapture: 0.35, mae: 150, rmse: 500, calibration: [] });
    await h.sql(
      `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, train_rows, is_promoted, gate_reason, value_scoring, created_at, finished_at)
       values (?, 'VALUE', 'ACTIVE', 'TF-VALUE', '{}', ?, ?, 90, 4000, true, 'promoted: gini 0.6123 > BGNBD-GG 0.5800', ?, now(), now())`,
      [
        id,
        JSON.stringify(metrics),
        JSON.stringify({ 'PAST-SPEND': baseline(0.51), 'RFM-LINEAR': baseline(0.55), 'BGNBD-GG': baseline(0.58) }),
        JSON.stringify({ currency: 'GBP', mediumQuantile: 0.5, highQuantile: 0.8, mediumFromMinor: 2500, highFromMinor: 12000, members: 200 }),
      ],
    );
    await signIn(AdminRole.ANALYST, '/models');
    await page.getByTestId('models-kind-value').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="value-metrics-row"]').length === 4);
    expect(await page.getByTestId('version-row').first().textContent()).toContain('0.61');
    const rows = await page.getByTestId('value-metrics-row').allTextContents();
    expect(rows[0]).toBe('This version (TF-VALUE)0.610.543.2%123.4456.7');
    expect(rows.slice(1).map((r) => r.slice(0, r.indexOf('0.'))).sort()).toEqual(['BGNBD-GG', 'PAST-SPEND', 'RFM-LINEAR']);
    expect(rows.find((r) => r.startsWith('BGNBD-GG'))).toBe('BGNBD-GG0.580.4135%150500');
    // The decision once: not "promoted — promoted: …".
    expect(await text('gate-decision')).toBe('Promotion gate: promoted — gini 0.6123 > BGNBD-GG 0.5800');
    expect(await page.getByTestId('version-row').first().textContent()).toContain('Promoted · gini 0.6123 > BGNBD-GG 0.5800');
    expect(await text('value-bands')).toBe('Bands: HIGH from £120.00 (top 20%), MEDIUM from £25.00 (top 50%) · 200 members scored');
    const chart = page.getByTestId('value-calibration').getByRole('img', { name: /Decile calibration/ });
    await chart.locator('svg').first().waitFor();
    const svg = (await chart.locator('svg').textContent()) ?? '';
    for (const label of ['D1', 'D10', 'Mean predicted', 'Mean actual']) expect(svg).toContain(label);
    await screenshot(page, 'models-value');
  });

  it('an analyst sees which version is a baseline served in place of a kept-out model, and why', async () => {
    await h.sql(`update model_version set status = 'RETIRED' where kind = 'VALUE' and status = 'ACTIVE'`);
    const metrics = (gini: number) => ({ gini, spearman: 0.5, topDecileCapture: 0.4, mae: 100, rmse: 400, customers: 200, meanActual: 55, calibration: [] });
    const [keptOut, standIn] = [randomUUID(), randomUUID()];
    const insert = (id: string, status: string, algorithm: string, params: object, gateReason: string, gini: number, baselines: Record<string, number>, minutesAgo: number) =>
      h.sql(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, train_rows, is_promoted, gate_reason, created_at, finished_at)
         values (?, 'VALUE', ?, ?, ?, ?, ?, 90, 4000, ?, ?, now() - make_interval(mins => ?), now() - make_interval(mins => ?))`,
        [id, status, algorithm, JSON.stringify(params), JSON.stringify(metrics(gini)), JSON.stringify(Object.fromEntries(Object.entries(baselines).map(([n, g]) => [n, metrics(g)]))), status === 'ACTIVE', gateReason, minutesAgo, minutesAgo],
      );
    const keptOutReason = 'kept out: gini 0.7616 does not beat BGNBD-GG 0.7860';
    await insert(keptOut, 'REJECTED', 'TF-VALUE', {}, keptOutReason, 0.7616, { 'PAST-SPEND': 0.7242, 'BGNBD-GG': 0.786 }, 2);
    await insert(standIn, 'ACTIVE', 'BGNBD-GG', { servedInsteadOf: { algorithm: 'TF-VALUE', modelVersionId: keptOut } }, `in place of TF-VALUE, ${keptOutReason} — promoted: gini 0.7860 > PAST-SPEND 0.7242`, 0.786, { 'PAST-SPEND': 0.7242 }, 1);
    await signIn(AdminRole.ANALYST, '/models');
    await page.getByTestId('models-kind-value').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-stands-in"]').length === 1);
    const rows = await page.getByTestId('version-row').allTextContents();
    const standInRow = rows.find((r) => r.includes('BGNBD-GG · baseline in place of TF-VALUE'));
    expect(standInRow).toContain('Active');
    expect(standInRow).toContain('in place of TF-VALUE, kept out: gini 0.7616 does not beat BGNBD-GG 0.7860');
    // The kept-out version stays listed, rejected, with its own figure.
    expect(rows.filter((r) => /TF-VALUERejected0\.76/.test(r))).toHaveLength(1);
    // Its figures beside the baselines it was compared with.
    await page.getByTestId('version-row').filter({ hasText: 'baseline in place of' }).getByRole('button', { name: 'Metrics' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="value-metrics-row"]')?.textContent?.startsWith('This version (BGNBD-GG)'));
    const metricsRows = await page.getByTestId('value-metrics-row').allTextContents();
    expect(metricsRows[0]).toMatch(/^This version \(BGNBD-GG\)0\.79/);
    expect(metricsRows.some((r) => r.startsWith('PAST-SPEND0.72'))).toBe(true);
    await screenshot(page, 'models-value-stand-in');
  });

  it('an analyst queues a retrain and watches its progress until the job completes', async () => {
    await signIn(AdminRole.ANALYST, '/models');
    await page.getByTestId('jobs-empty').waitFor();
    await page.getByTestId('retrain-churn').click();
    await page.getByTestId('job-progress').waitFor();
    expect(await text('job-progress')).toContain('Waiting');
    expect(await text('job-phase')).toBe('queued');
    // The queue-health card polls every 5 s: the queued job, then the stand-in worker, show up in its row.
    const trainQueueCells = (expected: string[]) =>
      page.waitForFunction(
        (cells) => {
          const row = [...document.querySelectorAll('[data-testid="queue-row"]')].find((r) => r.textContent?.includes('recommender.train-churn'));
          return JSON.stringify([...(row?.querySelectorAll('td') ?? [])].slice(1, 1 + cells.length).map((td) => td.textContent)) === JSON.stringify(cells);
        },
        expected,
        { timeout: 15_000 },
      );
    await trainQueueCells(['No worker', '1', '0']);

    // Stands in for the recommender worker: reports an epoch, then finishes when the test says so.
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const worker = new Queue('recommender.train-churn', h.config.REDIS_URL, { prefix });
    void worker.process(async (job) => {
      await job.progress({ phase: 'training', epoch: 2, epochs: 5, loss: 0.4321, percent: 40 });
      await finished;
      return {};
    });
    try {
      await page.waitForFunction(() => document.querySelector('[data-testid="job-progress"]')?.textContent?.includes('epoch 2 of 5'));
      expect(await text('job-progress')).toContain('loss 0.4321');
      expect(await text('job-phase')).toBe('training');
      expect(await page.getByTestId('job-percent').getAttribute('value')).toBe('40');
      expect(await text('job-row')).toContain('training');
      await trainQueueCells(['1 worker', '0', '1']);
      await screenshot(page, 'models-training');
      finish();
      await page.waitForFunction(() => document.querySelector('[data-testid="job-progress"]')?.textContent?.includes('Completed'));
      expect(await page.getByTestId('job-percent').getAttribute('value')).toBe('100');
      await page.waitForFunction(() => document.querySelector('[data-testid="job-row"]')?.textContent?.includes('Completed'));
    } finally {
      finish();
      await worker.close();
    }
  });

  it('a marketer sees an API validation message on the reward form field', async () => {
    await signIn(AdminRole.MARKETER, '/rewards');
    await page.getByTestId('rewards-empty').waitFor();
    await page.getByTestId('rewards-new').click();
    const dialog = page.getByTestId('rewards-dialog');
    await dialog.getByLabel('Code').fill('TENOFF');
    await dialog.getByLabel('Name', { exact: true }).fill('£10 off');
    await dialog.getByLabel('Cost (points)').fill('-5');
    await dialog.getByLabel('Value (minor units)').fill('1000');
    await dialog.getByLabel('Currency').fill('GBP');
    await dialog.getByTestId('form-save').click();
    await dialog.getByTestId('field-error').first().waitFor();
    expect(await dialog.getByLabel('Cost (points)').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.getByLabel('Code').getAttribute('aria-invalid')).toBe('false');
    await screenshot(page, 'reward-form-error');
    await dialog.getByLabel('Cost (points)').fill('500');
    await dialog.getByTestId('form-save').click();
    await page.getByTestId('rewards-row').first().waitFor();
    expect(await page.getByTestId('rewards-row').first().textContent()).toContain('£10 off');
  });

  it('an analyst at 390 px sees only their pages, without names, and nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(AdminRole.ANALYST);
    await page.getByTestId('kpi-tiles').waitFor();
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Dashboard', 'Insights', 'Members', 'Segments', 'Campaigns', 'Challenges', 'Models', 'Operations']);
    await page.getByTestId('chart-cohorts').locator('svg').first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'dashboard-390');

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByTestId('member-link').first().click();
    await page.getByTestId('member-profile').waitFor();
    expect(await page.locator('body').textContent()).not.toContain('ada@engine.example');
    await page.getByTestId('feedback-row').first().waitFor();
    expect(await page.locator('body').textContent()).not.toContain('Parcel was late');
    expect(await page.getByTestId('adjust-points').count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'member-360-390');
  });
});
