import Queue from 'bull';
import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { AppProcess } from '../support/services';

/**
 * The Models page against the real recommender worker (recommender/dist/main.js) training on a tiny purchase history:
 * the analyst's retrain runs through every phase to done, and the version it wrote shows with the gate's decision.
 */
const prefix = `test-admin-retrain-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', QUEUE_PREFIX: prefix });
const b = build(h);
let worker: AppProcess | undefined;
jest.setTimeout(180_000);

describeInBrowser('admin app: retrain with the real worker', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));

  beforeAll(async () => {
    const key = await b.apiKey();
    await b.baseRate();
    const day = 86_400_000;
    let n = 0;
    // 30 members over ~4 months; a third stop buying early, so the churn model has both outcomes to learn.
    for (let i = 0; i < 30; i++) {
      const member = await b.member().inCountry('GB').save();
      const daysAgo = i % 3 === 0 ? [120, 100, 80] : [110, 60, 20 - (i % 10)];
      for (const d of daysAgo) {
        await h.app.services.orders.record(b.ctx(), {
          channelId: key.channelId,
          externalOrderId: `tiny-${++n}`,
          member: { id: member.id },
          placedAt: new Date(Date.now() - d * day),
          currency: 'GBP',
          lines: [{ sku: `P${(i + d) % 5}`, name: `Product ${(i + d) % 5}`, quantity: 1, unitPriceMinor: 500, discountMinor: 0 }],
          orderDiscountMinor: 0,
          totalMinor: 500,
        } as never);
      }
    }
    worker = AppProcess.worker('worker', {
      DATABASE_URL: h.config.DATABASE_URL,
      REDIS_URL: h.config.REDIS_URL,
      QUEUE_PREFIX: prefix,
      MODEL_SCORE_CRON: 'off',
    });
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    for (const name of ['recommender.train-recommender', 'recommender.train-churn', 'recommender.train-value', 'recommender.score']) {
      const queue = new Queue(name, h.config.REDIS_URL, { prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('an analyst retrains the churn model and watches the real job reach done, then sees the version it wrote', async () => {
    const { page } = session;
    await session.signIn(AdminRole.ANALYST, '/models');
    await page.getByTestId('jobs-empty').waitFor();
    await page.getByTestId('retrain-churn').click();
    await page.getByTestId('job-progress').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="job-progress"]')?.textContent?.includes('Completed'), undefined, { timeout: 150_000 });
    expect(await page.getByTestId('job-percent').getAttribute('value')).toBe('100');
    expect(await session.text('job-phase')).toBe('done');

    // The model's own version, and when the gate kept it out, possibly the baseline trained to serve in its place.
    const versions = await h.sql(`select id, status, gate_reason, job_id from model_version where kind = 'CHURN' order by created_at`);
    const [version] = versions;
    expect(version.job_id).not.toMatch(/\.fallback:/);
    expect(version.gate_reason).toMatch(/^(promoted|kept out): rocAuc/);
    expect(versions.length === 1 || (version.status === 'REJECTED' && versions.length === 2)).toBe(true);
    await page.getByTestId('models-kind-churn').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="version-row"]').length === n, versions.length);
    // Newest first: the model's own version is the last row.
    const row = page.getByTestId('version-row').last();
    expect(await row.getByTestId('version-status').textContent()).toBe(version.status === 'ACTIVE' ? 'Active' : 'Rejected');
    await screenshot(page, 'models-real-retrain-done');
  });
});
