import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

// No campaign runner in the test: a campaign launched with a start in the past is ACTIVE at once.
// The admin app is built for the distribution's plugins (the member 360 reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1', CAMPAIGNS_SWEEP_MS: '0' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const CREATE_SEGMENT = `mutation S($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const RESULTS = `query R($id: ID!) { campaign(id: $id) { status counts { treated holdout }
  results { treated { members buyers purchaseRate } holdout { members buyers purchaseRate } purchaseRateUplift { difference low high } verdict } } }`;
const MEMBERS = `query M($id: ID!) { campaign(id: $id) { members(first: 50, group: TREATED) { edges { node { memberId } } } } }`;

describeInBrowser('admin app: campaigns', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let marketer: { token: string };
  let creator: Awaited<ReturnType<typeof b.admin>>;
  let campaignId: string;

  beforeAll(async () => {
    await b.baseRate(1, 100);
    for (let i = 0; i < 20; i++) await b.member().inCountry('GB').save();
    await b.member().inCountry('FR').save();
    creator = await b.admin(AdminRole.MARKETER);
    marketer = creator.auth;
    const segment = await h.gql(marketer, CREATE_SEGMENT, {
      input: { name: 'Everyone in GB', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'GB' } },
    });
    expect(segment.errors).toBeUndefined();
  });

  it('a marketer creates a bonus campaign from a segment, launches it, sees it active, then sees its results', async () => {
    await signIn(AdminRole.MARKETER, '/campaigns');
    await session.page.getByTestId('campaigns-empty').waitFor();
    await session.page.getByTestId('campaign-new').click();
    const form = session.page.getByTestId('campaign-form');
    await form.getByLabel('Name').fill('Double up in GB');
    await form.getByLabel('Segment').selectOption({ label: 'Everyone in GB (dynamic)' });
    await form.getByLabel('Points per order').fill('25');
    await form.getByLabel('Budget (points)').fill('1000');
    await form.getByLabel('Holdout %').fill('50');
    await session.page.getByTestId('campaign-create').click();

    await session.page.getByTestId('campaign-not-launched').waitFor();
    campaignId = new URL(session.page.url()).pathname.split('/')[2];
    expect(await text('campaign-status')).toBe('Draft');
    expect(await text('campaign-action')).toBe('25 bonus points per order');
    expect(await text('campaign-budget')).toBe('0 of 1,000 points given');
    expect(await text('campaign-holdout')).toContain('50%');

    await session.page.getByTestId('campaign-launch').click();
    // Before launching: how many members it fixes, and about how many the holdout takes.
    await session.page.getByTestId('campaign-launch-size').waitFor();
    expect(await text('campaign-launch-size')).toBe('The segment has 20 members now: about 10 held out.');
    await session.page.getByTestId('campaign-confirm').click();
    await session.page.waitForFunction(() => document.querySelector('[data-testid="campaign-status"]')?.textContent === 'Active');
    await session.page.getByTestId('count-treated').waitFor();
    const api = await h.gql(marketer, RESULTS, { id: campaignId });
    expect(api.data.campaign.status).toBe('ACTIVE');
    const { treated, holdout } = api.data.campaign.counts;
    expect(treated + holdout).toBe(20);
    expect(await text('count-treated-value')).toBe(String(treated));
    expect(await text('count-holdout-value')).toBe(String(holdout));
    await screenshot(session.page, 'campaign');

    // Half of the treated members buy once, and so does one holdout member (when there is one).
    const treatedIds: string[] = (await h.gql(marketer, MEMBERS, { id: campaignId })).data.campaign.members.edges.map(
      (e: { node: { memberId: string } }) => e.node.memberId,
    );
    const [holdoutMember] = await h.sql<{ member_id: string }>(
      `select member_id from campaign_member where campaign_id = ? and assigned_group = 'HOLDOUT' order by member_id limit 1`,
      [campaignId],
    );
    const web = await b.apiKey();
    for (const memberId of [...treatedIds.slice(0, Math.ceil(treatedIds.length / 2)), ...(holdoutMember ? [holdoutMember.member_id] : [])]) {
      const order = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: 3000 }]) });
      expect(order.errors).toBeUndefined();
    }

    await session.page.getByTestId('tab-results').click();
    await session.page.getByTestId('results-group-row').nth(1).waitFor();
    const { results } = (await h.gql(marketer, RESULTS, { id: campaignId })).data.campaign;
    expect(results.treated.buyers).toBe(Math.ceil(treated / 2));
    const [treatedRow, holdoutRow] = await session.page.getByTestId('results-group-row').allTextContents();
    expect(treatedRow).toContain(`Treated${results.treated.members}${results.treated.buyers}`);
    expect(holdoutRow).toContain(`Holdout${results.holdout.members}${results.holdout.buyers}`);
    expect(await text('results-verdict-text')).toBe(results.verdict);
    if (results.purchaseRateUplift) {
      // The card and the verdict write the difference alike, to one decimal ("+5.2 pts" beside "+5.2 points").
      const { difference, low, high } = results.purchaseRateUplift;
      const pts = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
      expect(await text('uplift-purchase-rate-text')).toContain(`${pts(difference)} pts 95% CI ${pts(low)} pts to ${pts(high)} pts`);
      expect(results.verdict).toContain(`${pts(difference)} points (95% CI ${pts(low)} points to ${pts(high)} points)`);
      await session.page.getByTestId('uplift-purchase-rate-chart').locator('svg').first().waitFor();
    }
    expect(new URL(session.page.url()).pathname).toBe(`/campaigns/${campaignId}/results`);
    await screenshot(session.page, 'campaign-results');

    // A treated member who bought sees the campaign and its bonus on their timeline.
    await session.page.goto(new URL(`/members/${treatedIds[0]}`, session.page.url()).toString());
    await session.page.getByTestId('timeline-entry').first().waitFor();
    const timeline = await session.page.getByTestId('timeline-entry').allTextContents();
    expect(timeline.some((e) => e.includes('Campaign contactReached by a campaign, +25 bonus points so far'))).toBe(true);
    // Which campaign: the entry opens its page.
    expect(await session.page.getByTestId('timeline-campaign-link').first().getAttribute('href')).toBe(`/campaigns/${campaignId}`);
  });

  it('an analyst at 390 px reads the campaign list and results but cannot launch or cancel', async () => {
    await session.page.setViewportSize({ width: 390, height: 844 });
    await signIn(AdminRole.ANALYST, '/campaigns');
    await session.page.getByTestId('campaign-row').first().waitFor();
    expect(await text('campaign-row')).toContain('Double up in GB');
    expect(await session.page.getByTestId('campaign-new').count()).toBe(0);
    await session.page.getByTestId('campaign-link').first().click();
    await session.page.getByTestId('tab-results').click();
    await session.page.getByTestId('results-group-row').first().waitFor();
    expect(await session.page.getByTestId('campaign-launch').count()).toBe(0);
    expect(await session.page.getByTestId('campaign-cancel').count()).toBe(0);
    expect(await session.page.getByTestId('campaign-edit').count()).toBe(0);
    expect(await session.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(session.page, 'campaign-results-390');
  });

  it('a marketer ticks two actions in the form, double points and recommended products, and sees both on the campaign page', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/campaigns');
    await page.getByTestId('campaign-new').click();
    const form = page.getByTestId('campaign-form');
    await form.getByLabel('Name').fill('Drifting valuables');
    await form.getByLabel('Segment').selectOption({ label: 'Everyone in GB (dynamic)' });
    // Bonus points is ticked for a new campaign; the offer is ticked beside it.
    expect(await form.getByLabel('Bonus points').isChecked()).toBe(true);
    await form.getByLabel('Bonus', { exact: true }).selectOption('multiplier');
    await form.getByLabel('Multiplier %').fill('200');
    await form.getByLabel('Budget (points)').fill('5000');
    await form.getByLabel('Offer a reward discount').check();
    await form.getByLabel('Offer', { exact: true }).selectOption('RECOMMENDATIONS');
    await form.getByLabel('Products per member').fill('3');
    await form.getByLabel('Holdout %').fill('10');
    await page.getByTestId('campaign-create').click();

    await page.getByTestId('campaign-not-launched').waitFor();
    const id = new URL(page.url()).pathname.split('/')[2];
    expect(await page.getByTestId('campaign-action-item').allTextContents()).toEqual(['200% of order points (×2)', '3 recommended products']);
    expect(await text('campaign-budget')).toBe('0 of 5,000 points given');
    const stored = (await h.gql(marketer, `query C($id: ID!) { campaign(id: $id) { actionKinds bonus { multiplierPercent } offer { kind recommendationCount } budgetPoints holdoutShare } }`, { id })).data.campaign;
    expect(stored).toEqual({ actionKinds: ['BONUS_POINTS', 'OFFER'], bonus: { multiplierPercent: 200 }, offer: { kind: 'RECOMMENDATIONS', recommendationCount: 3 }, budgetPoints: 5000, holdoutShare: 0.1 });
    await screenshot(page, 'campaign-two-actions');
  });

  it('a marketer edits a draft: a refused change writes nothing, a message ticked in and the bonus out swap the actions, fields left alone stay, and a launched campaign has no editor', async () => {
    const { page } = session;
    const CAMPAIGN = `query C($id: ID!) { campaign(id: $id) { name actionKinds bonus { fixedPoints } message { medium body } budgetPoints holdoutShare startsAt endsAt segment { name } } }`;
    const [segment] = await h.sql<{ id: string }>(`select id from segment where name = 'Everyone in GB'`);
    const created = await h.gql(marketer, `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
      input: { name: 'Autumn nudge', segmentId: segment.id, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 14 * 86_400_000).toISOString(), holdoutShare: 0.1, bonus: { fixedPoints: 10 }, budgetPoints: 500 },
    });
    expect(created.errors).toBeUndefined();
    const id: string = created.data.createCampaign.id;
    const stored = async () => (await h.gql(marketer, CAMPAIGN, { id })).data.campaign;
    const before = await stored();

    await signIn(AdminRole.MARKETER, `/campaigns/${id}`);
    await page.getByTestId('campaign-edit').click();
    const form = page.getByTestId('campaign-form');
    expect(await form.getByLabel('Points per order').inputValue()).toBe('10');
    expect(await form.getByLabel('Holdout %').inputValue()).toBe('10');
    // An SMS longer than the API allows: refused under its field, nothing written.
    await form.getByLabel('Message').check();
    await form.getByLabel('Bonus points').uncheck();
    await form.getByLabel('Medium').selectOption('SMS');
    await form.getByLabel('Text').fill('x'.repeat(481));
    await page.getByTestId('campaign-save').click();
    await form.getByTestId('field-error').waitFor();
    expect(await stored()).toEqual(before);

    await form.getByLabel('Text').fill('Your autumn treat is waiting');
    await page.getByTestId('campaign-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="campaign-action"]')?.textContent === 'Sms message');
    // The bonus's budget went with it: a budget caps bonus points only.
    expect(await stored()).toEqual({ ...before, actionKinds: ['MESSAGE'], bonus: null, budgetPoints: null, message: { medium: 'SMS', body: 'Your autumn treat is waiting' } });

    // Only the holdout changes: the message, the schedule and the name stay as they are.
    await page.getByTestId('campaign-edit').click();
    await form.getByLabel('Holdout %').fill('20');
    await page.getByTestId('campaign-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="campaign-holdout"]')?.textContent?.includes('20%'));
    expect(await stored()).toEqual({ ...before, actionKinds: ['MESSAGE'], bonus: null, budgetPoints: null, message: { medium: 'SMS', body: 'Your autumn treat is waiting' }, holdoutShare: 0.2 });

    await page.getByTestId('campaign-launch').click();
    await page.getByTestId('campaign-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="campaign-status"]')?.textContent !== 'Draft');
    expect(await page.getByTestId('campaign-edit').count()).toBe(0);
  });

  /** A draft by the marketer of `beforeAll`, whose email the page should show as its creator. */
  async function draft(name: string): Promise<string> {
    const [segment] = await h.sql<{ id: string }>(`select id from segment where name = 'Everyone in GB'`);
    const created = await h.gql(marketer, `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
      input: { name, segmentId: segment.id, startsAt: new Date().toISOString(), holdoutShare: 0, bonus: { fixedPoints: 5 } },
    });
    expect(created.errors).toBeUndefined();
    return created.data.createCampaign.id;
  }

  /** The admin app's requests for the admin users and API keys that name actors, counted from now on. */
  function directoryRequests(): { count: number } {
    const seen = { count: 0 };
    session.page.on('request', (r) => {
      if (r.postData()?.includes('ActorDirectory')) seen.count++;
    });
    return seen;
  }

  it("an admin reads who created a campaign as that admin's email, the reference only as its tooltip", async () => {
    const id = await draft('Creator shown by email');
    await signIn(AdminRole.ADMIN, `/campaigns/${id}`);
    const createdBy = session.page.getByTestId('campaign-created-by');
    await session.page.waitForFunction((email) => document.querySelector('[data-testid="campaign-created-by"]')?.textContent === email, creator.email);
    expect(await createdBy.getAttribute('title')).toBe(`admin:${creator.id}`);
    expect(await session.page.locator('main').textContent()).not.toContain('admin:');
  });

  it("an analyst, who may not manage admin users, reads the creator's email from the staff directory, asked for once", async () => {
    const id = await draft('Creator shown to an analyst');
    const requests = directoryRequests();
    await signIn(AdminRole.ANALYST, `/campaigns/${id}`);
    await session.page.waitForFunction((email) => document.querySelector('[data-testid="campaign-created-by"]')?.textContent === email, creator.email);
    expect(await session.page.getByTestId('campaign-created-by').getAttribute('title')).toBe(`admin:${creator.id}`);
    expect(await text('campaign-status')).toBe('Draft');
    expect(requests.count).toBe(1);
  });

  it('a marketer is warned before launch that a small segment holds out too few to measure; a campaign not started yet reads "Not measured", its empty holdout as dashes', async () => {
    const { page } = session;
    const segment = await h.gql(marketer, CREATE_SEGMENT, { input: { name: 'Everyone in FR', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'FR' } } });
    expect(segment.errors).toBeUndefined();
    const draftFor = async (holdoutShare: number): Promise<string> => {
      const created = await h.gql(marketer, `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, {
        input: { name: `France ${holdoutShare}`, segmentId: segment.data.createSegment.id, startsAt: new Date(Date.now() + 86_400_000).toISOString(), holdoutShare, bonus: { fixedPoints: 5 } },
      });
      expect(created.errors).toBeUndefined();
      return created.data.createCampaign.id;
    };
    // One member at 10%: nobody would be held out, and the dialog says what that means before the launch.
    await signIn(AdminRole.MARKETER, `/campaigns/${await draftFor(0.1)}`);
    await page.getByTestId('campaign-launch').click();
    await page.getByTestId('campaign-launch-size').waitFor();
    expect(await text('campaign-launch-size')).toBe(
      'The segment has 1 member now: about 0 held out. Results need at least 2 held-out members to measure whether the campaign worked: raise the holdout share or target a larger segment.',
    );

    const id = await draftFor(0);
    await page.goto(new URL(`/campaigns/${id}`, page.url()).toString());
    await page.getByTestId('campaign-launch').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="campaign-launch-size"]')?.textContent?.includes('With no holdout'));
    await page.getByTestId('campaign-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="campaign-status"]')?.textContent === 'Scheduled');
    await page.getByTestId('tab-results').click();
    await page.getByTestId('results-group-row').nth(1).waitFor();
    // No interval was estimated, so "Not significant" would claim a finding; nor is there a window yet.
    expect(await text('results-verdict-badge')).toBe('Not measured');
    expect(await text('results-verdict-text')).toMatch(/^Not started yet/);
    expect(await text('results-window')).toMatch(/^Window opens \d/);
    // A group of nobody has no purchase rate or revenue per member: dashes, not 0% and £0.00.
    expect((await page.getByTestId('results-group-row').allTextContents())[1]).toBe('Holdout00———');
    await screenshot(page, 'campaign-results-not-started');
  });
});
