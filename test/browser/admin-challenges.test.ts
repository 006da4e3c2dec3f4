import { useHarness } from '../support/harness';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';
import { isInHoldout } from '../../plugins/challenges/src/goals';

const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const CREATE_SEGMENT = `mutation S($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const CHALLENGES = `{ challenges { id name status } }`;

describeInBrowser('admin app: challenges', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let marketer: { token: string };
  const british: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) british.push((await b.member().inCountry('GB').save()).id);
    await b.member().inCountry('FR').save();
    marketer = (await b.admin(AdminRole.MARKETER)).auth;
    const segment = await h.gql(marketer, CREATE_SEGMENT, { input: { name: 'Everyone in GB', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'GB' } } });
    expect(segment.errors).toBeUndefined();
  });

  it('a marketer builds a challenge for a segment with its live count, is told when the window is backwards, then sees results and member progress', async () => {
    await signIn(AdminRole.MARKETER, '/challenges');
    await session.page.getByTestId('challenges-empty').waitFor();
    await session.page.getByTestId('challenge-new').click();
    const form = session.page.getByTestId('challenge-form');
    await form.getByLabel('Name').fill('Three visits');
    await form.getByLabel('Target', { exact: true }).fill('3');
    // The live count follows the audience chosen.
    await session.page.waitForFunction(() => document.querySelector('[data-testid="challenge-audience-count"]')?.textContent === '4 members now');
    await form.getByLabel('Audience').selectOption({ label: 'Everyone in GB' });
    await session.page.waitForFunction(() => document.querySelector('[data-testid="challenge-audience-count"]')?.textContent === '3 members now');
    await form.getByLabel('A badge').check();
    await form.getByLabel('Badge name').fill('Regular');

    // A window that ends before it starts is refused and nothing is written.
    await form.getByLabel('Ends').fill('2020-01-01T00:00');
    await session.page.getByTestId('challenge-create').click();
    await form.getByTestId('field-error').waitFor();
    expect(await form.getByTestId('field-error').textContent()).toBe('The challenge must end after it starts, at most 366 days later.');
    expect((await h.gql(marketer, CHALLENGES)).data.challenges).toEqual([]);

    const nextWeek = new Date(Date.now() + 7 * 86_400_000);
    await form.getByLabel('Ends').fill(new Date(nextWeek.getTime() - nextWeek.getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
    await session.page.getByTestId('challenge-create').click();
    await session.page.getByTestId('challenge-results').waitFor();
    const challengeId = new URL(session.page.url()).pathname.split('/')[2];
    expect(await text('challenge-status')).toBe('Running');
    expect(await text('challenge-goal-text')).toBe('3 orders');
    expect(await text('challenge-reward-text')).toBe('Badge “Regular”');
    expect(await text('challenge-audience-text')).toBe('Everyone in GB (checked when a member first qualifies)');

    // One British member completes it, another is a third of the way, a French one is not in the audience.
    const web = await b.apiKey();
    const order = async (memberId: string) => expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(memberId) })).errors).toBeUndefined();
    for (let i = 0; i < 3; i++) await order(british[0]);
    await order(british[1]);
    await session.page.reload();
    await session.page.getByTestId('result-joined').waitFor();
    expect(await text('result-joined-value')).toBe('2');
    expect(await text('result-completed-value')).toBe('1');
    expect(await text('result-rate-value')).toBe('50%');
    // No holdout: nothing to compare spend with, and the page says so.
    expect(await text('challenge-verdict-text')).toBe('No uplift can be measured: the challenge has no holdout (hold out part of the audience in the next one).');
    expect(await text('uplift-spend-empty')).toBe('Needs a holdout');
    await screenshot(session.page, 'challenge-results');

    // Pausing it: a draft counts nothing.
    await session.page.getByTestId('challenge-toggle').click();
    await session.page.waitForFunction(() => document.querySelector('[data-testid="challenge-status"]')?.textContent === 'Draft');
    expect((await h.gql(marketer, CHALLENGES)).data.challenges).toEqual([{ id: challengeId, name: 'Three visits', status: 'DRAFT' }]);

    // Member 360: the progress bar and the badge.
    await session.page.goto(new URL(`/members/${british[0]}`, session.page.url()).toString());
    await session.page.getByTestId('member-challenge').first().waitFor();
    const row = await text('member-challenge');
    expect(row).toContain('Three visits');
    expect(row).toContain('3 of 3 (100%)');
    expect(row).toContain('Completed');
    expect(await session.page.getByTestId('member-challenge').locator('progress').getAttribute('value')).toBe('3');
    expect(await text('member-badges')).toBe('Regular');
    await screenshot(session.page, 'member-challenges');
    await session.page.goto(new URL(`/members/${british[1]}`, session.page.url()).toString());
    await session.page.getByTestId('member-challenge').first().waitFor();
    expect(await text('member-challenge')).toContain('1 of 3 (33.3%)');
  });

  it('a marketer edits a challenge: what progress depends on until someone joins, then only its name, description and end', async () => {
    const localInput = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const created = await h.gql(marketer, `mutation C($input: CreateChallengeInput!) { createChallenge(input: $input) { id } }`, {
      input: {
        code: 'autumn_orders',
        name: 'Autumn orders',
        goalKind: 'ORDER_COUNT',
        target: 3,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        reward: { kind: 'POINTS', points: 100 },
        isActive: true,
      },
    });
    expect(created.errors).toBeUndefined();
    const id: string = created.data.createChallenge.id;
    const stored = async () =>
      (await h.gql(marketer, `query Q($id: ID!) { challenge(id: $id) { name target rewardPoints endsAt startsAt } }`, { id })).data.challenge;
    const startedAt = (await stored()).startsAt;
    await signIn(AdminRole.MARKETER, `/challenges/${id}`);
    await session.page.getByTestId('challenge-results').waitFor();

    // No one has progress: the goal and the reward change; the start, shown to the minute and left alone, does not.
    await session.page.getByTestId('challenge-edit').click();
    const form = session.page.getByTestId('challenge-form');
    expect(await session.page.getByTestId('challenge-locked').count()).toBe(0);
    expect(await form.getByLabel('Code').inputValue()).toBe('autumn_orders');
    await form.getByLabel('Target', { exact: true }).fill('4');
    await form.getByTestId('challenge-points').fill('150');
    await session.page.getByTestId('challenge-save').click();
    await session.page.waitForFunction(() => document.querySelector('[data-testid="challenge-goal-text"]')?.textContent === '4 orders');
    expect(await text('challenge-reward-text')).toBe('150 points');
    expect(await stored()).toMatchObject({ name: 'Autumn orders', target: 4, rewardPoints: 150, startsAt: startedAt });

    // A member joins while the editor is open: the change to the goal is refused, and nothing is written.
    await session.page.getByTestId('challenge-edit').click();
    await form.getByLabel('Target', { exact: true }).fill('5');
    const web = await b.apiKey();
    expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(british[2]) })).errors).toBeUndefined();
    await session.page.getByTestId('challenge-save').click();
    await session.page.getByTestId('challenge-form-error').waitFor();
    expect(await text('challenge-form-error')).toBe('Members already have progress in this challenge: only its name, description, end and whether it is active can change.');
    expect((await stored()).target).toBe(4);
    await form.getByRole('button', { name: 'Cancel' }).click();

    // Reopened with progress, the fixed fields are shown but cannot change; the name and the end can.
    await session.page.reload();
    await session.page.waitForFunction(() => document.querySelector('[data-testid="result-joined-value"]')?.textContent === '1');
    await session.page.getByTestId('challenge-edit').click();
    await session.page.getByTestId('challenge-locked').waitFor();
    expect(await form.getByLabel('Target', { exact: true }).isDisabled()).toBe(true);
    expect(await form.getByTestId('challenge-points').isDisabled()).toBe(true);
    expect(await form.getByLabel('Starts').isDisabled()).toBe(true);
    expect(await form.getByLabel('Name').isDisabled()).toBe(false);
    const ends = new Date(Date.now() + 10 * 86_400_000);
    ends.setSeconds(0, 0);
    await form.getByLabel('Name').fill('Autumn orders, extended');
    await form.getByLabel('Ends').fill(localInput(ends));
    await session.page.getByTestId('challenge-save').click();
    await session.page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Autumn orders, extended');
    expect(await stored()).toMatchObject({ name: 'Autumn orders, extended', target: 4, rewardPoints: 150, startsAt: startedAt, endsAt: ends.toISOString() });
  });

  it('an analyst reads challenges and their results but cannot create or pause one', async () => {
    const created = await h.gql(marketer, `mutation C($input: CreateChallengeInput!) { createChallenge(input: $input) { id } }`, {
      input: {
        code: 'five_reviews',
        name: 'Five reviews',
        goalKind: 'ACTIVITY_COUNT',
        activityType: 'review_written',
        target: 5,
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 86_400_000).toISOString(),
        reward: { kind: 'POINTS', points: 50 },
      },
    });
    expect(created.errors).toBeUndefined();
    await signIn(AdminRole.ANALYST, '/challenges');
    await session.page.getByTestId('challenge-row').first().waitFor();
    const rows = await session.page.getByTestId('challenge-row').allTextContents();
    expect(rows.some((r) => r.includes('Five reviews') && r.includes('5 × review_written') && r.includes('50 points'))).toBe(true);
    expect(await session.page.getByTestId('challenge-new').count()).toBe(0);
    await session.page.getByRole('link', { name: 'Five reviews' }).click();
    await session.page.getByTestId('result-joined').waitFor();
    expect(await text('challenge-status')).toBe('Draft');
    expect(await session.page.getByTestId('challenge-toggle').count()).toBe(0);
  });

  it('a marketer reads incremental spend per member with its 95% interval and verdict, and why there is none once the holdout is one member', async () => {
    const segment = await h.gql(marketer, CREATE_SEGMENT, { input: { name: 'Everyone in IS', kind: 'DYNAMIC', rule: { attribute: 'country', op: 'eq', value: 'IS' } } });
    expect(segment.errors).toBeUndefined();
    const created = await h.gql(marketer, `mutation C($input: CreateChallengeInput!) { createChallenge(input: $input) { id } }`, {
      input: {
        code: 'one_order_is',
        name: 'One order',
        goalKind: 'ORDER_COUNT',
        target: 1,
        audienceSegmentId: segment.data.createSegment.id,
        holdoutPercent: 50,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        reward: { kind: 'POINTS', points: 10 },
        isActive: true,
      },
    });
    expect(created.errors).toBeUndefined();
    const id: string = created.data.createChallenge.id;
    // Three participants spend 100, 300 and 500 pence, two held-out members 100 each (the hash decides who is which).
    const participants: string[] = [];
    const held: string[] = [];
    while (participants.length < 3 || held.length < 2) {
      const member = (await b.member().inCountry('FR').save()).id;
      const group = isInHoldout(id, member, 50) ? held : participants;
      if (group.length === (group === held ? 2 : 3)) continue;
      group.push(member);
      await h.sql(`update member set country = 'IS' where id = ?`, [member]);
    }
    const web = await b.apiKey();
    const spend = async (memberId: string, pence: number) =>
      expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor: pence }]) })).errors).toBeUndefined();
    for (const [i, member] of participants.entries()) await spend(member, [100, 300, 500][i]);
    for (const member of held) await spend(member, 100);

    // d = 300 − 100 = 200; SE = √(40,000/3) = 115.47; ν = 2; 200 ± 4.3027 · 115.47 = [−296.83, 696.83] (the API test works it through).
    await signIn(AdminRole.MARKETER, `/challenges/${id}`);
    await session.page.getByTestId('uplift-spend-text').waitFor();
    expect(await text('result-incremental-value')).toBe('£2.00');
    expect(await text('result-incremental')).toContain('95% CI -£2.97 to £6.97 (point estimate; the interval includes zero)');
    expect(await text('result-rate')).toContain('95% CI 43.9% to 100%');
    expect(await text('uplift-spend-text')).toBe('+£2.00 95% CI -£2.97 to +£6.97 includes 0');
    expect(await text('challenge-verdict')).toContain('Not significant');
    expect(await text('challenge-verdict-text')).toBe(
      'No significant difference yet: spend per audience member £3.00 not held out vs £1.00 held out, +£2.00 (95% CI -£2.97 to +£6.97). ' +
        'The interval includes zero, so the challenge cannot yet be said to have added spend; orders still to come in its window may change that.',
    );
    await session.page.getByTestId('uplift-spend-chart').locator('svg').first().waitFor();
    await screenshot(session.page, 'challenge-uplift');

    // One held-out member leaves the segment: an interval needs 2 in each group, and the page says why there is none.
    await h.sql(`update member set country = 'FR' where id = ?`, [held[0]]);
    await session.page.reload();
    await session.page.getByTestId('uplift-spend-empty').waitFor();
    expect(await text('uplift-spend-empty')).toBe('Needs at least 2 held-out members in the audience; it has 1');
    expect(await text('result-incremental')).toContain('Point estimate; no interval (see the verdict)');
    expect(await text('challenge-verdict-text')).toBe(
      'No uplift can be measured: the holdout has 1 member in the audience, and an interval needs at least 2 (hold out more, or choose a larger audience, next time).',
    );
  });
});
