import { Client } from 'pg';
import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { activityPlugin, TEST_ACTIVITY_TABLE } from '../fixtures/plugins/activity-registries-plugin';

// With the distribution's plugins, which the admin app is built for (the member 360 reads their fields).
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: [...DISTRIBUTION_PLUGINS, activityPlugin] });
const b = build(h);

/** What plugins add shows in the admin app without an admin code change: segment attributes and timeline entries. */
describeInBrowser('admin app: what plugins register', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const members: string[] = [];

  beforeAll(async () => {
    await h.sql(TEST_ACTIVITY_TABLE);
    for (let i = 0; i < 3; i++) members.push((await b.member().inCountry('GB').save()).id);
    const activity = `insert into test_activity (id, member_id, type, occurred_at) values (gen_random_uuid(), ?, ?, now() - interval '1 day')`;
    await h.sql(activity, [members[0], 'review']);
    await h.sql(activity, [members[0], 'review']);
    await h.sql(activity, [members[1], 'review']);
  });

  afterAll(async () => {
    const client = new Client({ connectionString: h.config.DATABASE_URL });
    await client.connect();
    await client.query('drop table if exists test_activity');
    await client.end();
  });

  it('a marketer builds a segment on a plugin attribute with its qualifier and window, and sees the API’s count', async () => {
    await session.signIn(AdminRole.MARKETER, '/segments');
    await session.page.getByTestId('rule-builder').waitFor();
    const condition = session.page.getByTestId('rule-condition').first();
    await condition.getByTestId('condition-attribute').selectOption('testActivityCount');
    await condition.getByTestId('condition-qualifier').fill('review');
    await condition.getByTestId('condition-op').selectOption('gte');
    await condition.getByTestId('condition-value').fill('1');
    await condition.getByTestId('condition-window').fill('30');
    const rule = { and: [{ attribute: 'testActivityCount', op: 'gte', value: 1, windowDays: 30, qualifier: 'review' }] };
    await session.page.waitForFunction(() => document.querySelector('[data-testid="rule-json"]')?.textContent?.includes('"qualifier": "review"'));
    expect(JSON.parse((await session.page.getByTestId('rule-json').textContent()) ?? 'null')).toEqual(rule);
    await session.page.waitForFunction(() => {
      const panel = document.querySelector('[data-testid="preview-panel"]');
      return panel?.getAttribute('aria-busy') === 'false' && panel.querySelector('[data-testid="preview-count"]');
    });
    expect(Number(await session.page.getByTestId('preview-count').textContent())).toBe(2);

    await condition.getByTestId('condition-qualifier').fill('Review!');
    await session.page.getByTestId('rule-error').waitFor();
    expect(await session.page.getByTestId('rule-error').textContent()).toContain('an activity type such as review');
  });

  it('member 360 shows a plugin’s timeline entries by their summary', async () => {
    await session.signIn(AdminRole.MARKETER, `/members/${members[0]}`);
    await session.page.getByTestId('timeline-entry').first().waitFor();
    const entries = await session.page.getByTestId('timeline-entry').allTextContents();
    expect(entries.filter((t) => t.includes('Did review'))).toHaveLength(2);
  });
});
