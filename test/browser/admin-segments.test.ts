import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { ValueType, type LoyaltyPlugin } from '../../api/src/composition/extension-api';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';

/** A plugin attribute the admin app has no label for: the builder spells out its name. */
const streaks: LoyaltyPlugin = {
  name: 'streaks',
  segmentAttributes: [
    {
      name: 'loyaltyStreakDays',
      description: 'Days in a row with an order, over the last `windowDays` days.',
      type: ValueType.INTEGER,
      operators: ['gte'],
      min: 0,
      max: 3660,
      needsWindowDays: true,
      rows: () => `select id as member_id, 0 as v from member where false`,
    },
  ],
};

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: [...DISTRIBUTION_PLUGINS, streaks] });
const b = build(h);

const CREATE_SEGMENT = `mutation S($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const PREVIEW = `query($input: PreviewSegmentInput!) { previewSegment(input: $input) { count } }`;

describeInBrowser('admin app: segments', () => {
  let signedIn: Awaited<ReturnType<typeof b.admin>>;
  const session = useAdminBrowser(
    async () => `http://127.0.0.1:${await h.app.listen()}`,
    async (role) => (signedIn = await b.admin(role)),
  );

  async function openBuilder(role: AdminRole) {
    await session.signIn(role, '/segments');
    await session.page.getByTestId('rule-builder').waitFor();
  }
  let marketer: { token: string };
  let marketerEmail: string;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) await b.member().inCountry('GB').withConsent(ConsentMedium.EMAIL, true).save();
    await b.member().inCountry('GB').withConsent(ConsentMedium.SMS, true).save();
    await b.member().inCountry('FR').withConsent(ConsentMedium.EMAIL, true).save();
    await b.member().inCountry('DE').save();
    ({ auth: marketer, email: marketerEmail } = await b.admin(AdminRole.MARKETER));
  });

  /** The count once the debounced preview for the current rule has arrived. */
  async function settledCount(): Promise<number> {
    await session.page.waitForFunction(() => {
      const panel = document.querySelector('[data-testid="preview-panel"]');
      return panel?.getAttribute('aria-busy') === 'false' && panel.querySelector('[data-testid="preview-count"]');
    });
    return Number((await session.page.getByTestId('preview-count').textContent())?.replace(/,/g, ''));
  }

  async function shownRule(): Promise<unknown> {
    return JSON.parse((await session.page.getByTestId('rule-json').textContent()) ?? 'null');
  }

  async function apiCount(rule: unknown): Promise<number> {
    const res = await h.gql(marketer, PREVIEW, { input: { rule } });
    expect(res.errors).toBeUndefined();
    return res.data.previewSegment.count;
  }

  it('a marketer builds a rule with AND and NOT, sees the count the API gives for it, and saves a snapshot', async () => {
    await openBuilder(AdminRole.MARKETER);

    // The builder starts with "country is GB".
    const gb = { and: [{ attribute: 'country', op: 'eq', value: 'GB' }] };
    expect(await settledCount()).toBe(4);
    expect(await shownRule()).toEqual(gb);
    expect(await apiCount(gb)).toBe(4);
    expect(await session.page.getByTestId('preview-sample-row').count()).toBe(4);

    await session.page.getByTestId('add-condition').first().click();
    const second = session.page.getByTestId('rule-condition').nth(1);
    await second.getByTestId('condition-attribute').selectOption('consents');
    const gbEmail = { and: [gb.and[0], { attribute: 'consents', op: 'contains', value: 'EMAIL' }] };
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('consents'));
    expect(await shownRule()).toEqual(gbEmail);
    expect(await settledCount()).toBe(await apiCount(gbEmail));
    expect(await settledCount()).toBe(3);

    await second.getByTestId('node-negate').check();
    const gbWithoutEmail = { and: [gb.and[0], { not: gbEmail.and[1] }] };
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('"not"'));
    expect(await shownRule()).toEqual(gbWithoutEmail);
    const count = await settledCount();
    expect(count).toBe(await apiCount(gbWithoutEmail));
    expect(count).toBe(1);
    await screenshot(session.page, 'segments');

    const save = session.page.getByTestId('segment-save');
    await save.getByLabel('Name').fill('GB without email consent');
    await save.getByTestId('kind-snapshot').check();
    await session.page.getByTestId('segment-save-submit').click();
    await session.page.getByTestId('save-done').waitFor();
    expect(await session.page.getByTestId('save-done').textContent()).toBe('Saved “GB without email consent” with 1 member');
    await session.page.getByTestId('segment-row').first().waitFor();
    expect(await session.page.getByTestId('segment-row').first().textContent()).toContain('Snapshot');
    await session.page.getByTestId('snapshot-count').waitFor();
    expect(await session.page.getByTestId('snapshot-count').textContent()).toContain('recorded 1 member.');
    const [stored] = await h.sql(`select kind, rule from segment where name = 'GB without email consent'`);
    expect(stored.kind).toBe('SNAPSHOT');
    expect(stored.rule).toEqual(gbWithoutEmail);
  });

  it('names every attribute in words, plugin ones too, and says the window in days rather than `windowDays`', async () => {
    await openBuilder(AdminRole.MARKETER);
    const condition = session.page.getByTestId('rule-condition').first();
    const labels = await condition.getByTestId('condition-attribute').locator('option').allTextContents();
    for (const label of ['Value band', 'Value at risk (minor units, e.g. pence)', 'NPS score', 'NPS category', 'CSAT score', 'Activity count', 'Challenge progress (%)', 'Challenge state', 'Loyalty streak days']) {
      expect(labels).toContain(label);
    }
    // No camelCase attribute name shows through.
    expect(labels.filter((l) => /[a-z][A-Z]/.test(l))).toEqual([]);

    await condition.getByTestId('condition-attribute').selectOption('purchaseCount');
    expect(await condition.getByTestId('condition-hint').textContent()).toBe('Orders placed in the last 90 days.');
    await condition.getByTestId('condition-window').fill('30');
    expect(await condition.getByTestId('condition-hint').textContent()).toBe('Orders placed in the last 30 days.');
    await condition.getByTestId('condition-attribute').selectOption('loyaltyStreakDays');
    expect(await condition.getByTestId('condition-hint').textContent()).toBe('Days in a row with an order, over the last 90 days.');
  });

  it('shows the API grammar message next to the condition it names', async () => {
    await openBuilder(AdminRole.MARKETER);
    await settledCount();
    await session.page.getByTestId('condition-value').first().fill('gbr');
    await session.page.getByTestId('rule-error').waitFor();
    expect(await session.page.getByTestId('rule-error').textContent()).toContain('an ISO 3166-1 alpha-2 code such as GB');
    expect(await session.page.getByTestId('preview-invalid').count()).toBe(1);
    expect(await session.page.getByTestId('segment-save-submit').isEnabled()).toBe(true);

    await session.page.getByTestId('condition-value').first().fill('FR');
    expect(await settledCount()).toBe(1);
    expect(await session.page.getByTestId('rule-error').count()).toBe(0);
  });

  it('an analyst at 390 px previews a rule but cannot save, and nothing is wider than the screen', async () => {
    await session.page.setViewportSize({ width: 390, height: 844 });
    await openBuilder(AdminRole.ANALYST);
    await session.page.getByTestId('group-combinator').selectOption('or');
    await session.page.getByTestId('add-condition').first().click();
    const second = session.page.getByTestId('rule-condition').nth(1);
    await second.getByTestId('condition-attribute').selectOption('country');
    await second.getByTestId('condition-value').fill('FR');
    const rule = { or: [{ attribute: 'country', op: 'eq', value: 'GB' }, { attribute: 'country', op: 'eq', value: 'FR' }] };
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('FR'));
    expect(await shownRule()).toEqual(rule);
    expect(await settledCount()).toBe(5);
    expect(await session.page.getByTestId('segment-save').count()).toBe(0);
    expect(await session.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(session.page, 'segments-390');
  });

  it('a marketer starts from "Valuable customers drifting away" and gets the members whose risk rose', async () => {
    await session.page.setViewportSize({ width: 1280, height: 900 });
    // Active churn and value models: one valuable member whose risk rose 20 points, one whose risk held, one rising
    // member of low value.
    const version = async (kind: string) =>
      (await h.sql<{ id: string }>(
        `insert into model_version (id, kind, status, algorithm, params, metrics, baseline_metrics, horizon_days, created_at, finished_at)
         values (gen_random_uuid(), ?, 'ACTIVE', 'TEST', '{}', '{}', '{}', 90, now(), now()) returning id`,
        [kind],
      ))[0].id;
    const [churn, value] = [await version('CHURN'), await version('VALUE')];
    const members = [await b.member().inCountry('DE').save(), await b.member().inCountry('DE').save(), await b.member().inCountry('DE').save()];
    const scores: Array<[number, number, string]> = [[0.7, 0.5, 'HIGH'], [0.5, 0.5, 'HIGH'], [0.9, 0.1, 'LOW']];
    for (const [k, [score, previous, band]] of scores.entries()) {
      await h.sql(`insert into member_churn_score (model_version_id, member_id, score, band, drivers, previous_score, previous_scored_at) values (?, ?, ?, 'HIGH', '[]', ?, now() - interval '30 days')`, [
        churn, members[k].id, score, previous,
      ]);
      await h.sql(`insert into member_value_score (model_version_id, member_id, amount_minor, p_return, band, drivers) values (?, ?, 10000, 0.8, ?, '[]')`, [value, members[k].id, band]);
    }

    await openBuilder(AdminRole.MARKETER);
    await session.page.getByTestId('preset-drifting-valuable').click();
    const drifting = { and: [{ attribute: 'valueBand', op: 'eq', value: 'HIGH' }, { attribute: 'churnScoreChange', op: 'gte', value: 0.1 }] };
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('churnScoreChange'));
    expect(await shownRule()).toEqual(drifting);
    expect(await settledCount()).toBe(await apiCount(drifting));
    expect(await settledCount()).toBe(1);
    expect(await session.page.getByTestId('preview-sample-row').count()).toBe(1);
    expect(await session.page.getByTestId('preview-sample-row').first().textContent()).toContain(members[0].id.slice(-12));
  });

  async function saveSegment(auth: { token: string }, name: string) {
    const res = await h.gql(auth, CREATE_SEGMENT, { input: { name, kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'DE' } } });
    expect(res.errors).toBeUndefined();
  }

  /** The "Created" cell of the saved segment called `name`, once the list shows it. */
  async function createdBy(name: string): Promise<{ text: string | null; title: string | null }> {
    const cell = session.page.getByTestId('segment-row').filter({ hasText: name }).getByTestId('segment-created-by');
    await cell.waitFor();
    return { text: await cell.textContent(), title: await cell.getAttribute('title') };
  }

  it("an admin reads who created each saved segment as their email, the whole list naming them from one request", async () => {
    const other = await b.admin(AdminRole.ADMIN);
    await saveSegment(marketer, 'Made by the marketer');
    await saveSegment(other.auth, 'Made by another admin');
    let directoryRequests = 0;
    session.page.on('request', (r) => {
      if (r.postData()?.includes('ActorDirectory')) directoryRequests++;
    });
    await openBuilder(AdminRole.ADMIN);
    await session.page.waitForFunction(
      (email) => [...document.querySelectorAll('[data-testid="segment-created-by"]')].some((e) => e.textContent === email),
      other.email,
    );
    expect((await createdBy('Made by another admin')).text).toBe(other.email);
    expect(await createdBy('Made by the marketer')).toEqual({ text: marketerEmail, title: expect.stringMatching(/^admin:/) });
    const cells = await session.page.getByTestId('segment-created-by').allTextContents();
    expect(cells.length).toBeGreaterThanOrEqual(2);
    expect(cells.filter((c) => c.startsWith('admin:'))).toEqual([]);
    expect(directoryRequests).toBe(1);
  });

  it("a marketer, who may not manage admin users, reads their own segments and a colleague's under each one's email", async () => {
    await saveSegment(marketer, 'Made by a colleague');
    let directoryRequests = 0;
    session.page.on('request', (r) => {
      if (r.postData()?.includes('ActorDirectory')) directoryRequests++;
    });
    await openBuilder(AdminRole.MARKETER);
    await saveSegment(signedIn.auth, 'Made by me');
    await session.page.reload();
    expect(await createdBy('Made by me')).toEqual({ text: signedIn.email, title: `admin:${signedIn.id}` });
    // The staff directory (`actorDirectory`) names colleagues for every role; "an admin" is only what shows while it loads.
    await session.page.waitForFunction(
      (email) => [...document.querySelectorAll('[data-testid="segment-created-by"]')].some((e) => e.textContent === email),
      marketerEmail,
    );
    expect(await createdBy('Made by a colleague')).toEqual({ text: marketerEmail, title: expect.stringMatching(/^admin:/) });
    const cells = await session.page.getByTestId('segment-created-by').allTextContents();
    expect(cells.filter((c) => c === 'an admin' || c.startsWith('admin:'))).toEqual([]);
    // One request before the reload and one after: every row of a page shares it.
    expect(directoryRequests).toBe(2);
  });
});
