import { useHarness } from '../support/harness';
import { describeInBrowser, useAdminBrowser } from '../support/browser';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { build, AdminRole } from '../fixtures/build';

// The member page shows the first-party plugins' cards (activities, challenges): the API must have their fields.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const MEMBER = `query M($id: ID!) { member(id: $id) { firstName lastName email phone birthday country preferredChannel identifiers { type value } consents { medium isGranted source } } }`;

describeInBrowser('admin app: editing a member profile', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;

  it('the service desk corrects a profile: a taken email and a bad phone are named by their fields and change nothing, then the fix and the consents are saved', async () => {
    const { page } = session;
    const grace = await b.member().named('Grace', 'Hopper').withEmail('grace@old.example').withPhone('+447911000111').withConsent('EMAIL', true).save();
    await b.member().withEmail('taken@engine.example').save();
    const admin = await b.admin(AdminRole.MARKETER);
    const stored = async () => (await h.gql(admin.auth, MEMBER, { id: grace.id })).data.member;
    const before = await stored();

    await signIn(AdminRole.MARKETER, `/members/${grace.id}`);
    await page.getByTestId('member-profile-edit').click();
    const form = page.getByTestId('member-profile-form');
    expect(await form.getByRole('textbox', { name: 'Email' }).inputValue()).toBe('grace@old.example');

    await form.getByLabel('First name').fill('Grace B.');
    await form.getByRole('textbox', { name: 'Email' }).fill('taken@engine.example');
    await page.getByTestId('member-profile-save').click();
    await form.getByTestId('field-error').waitFor();
    expect((await form.getByTestId('field-error').allTextContents()).map((t) => t.trim())).toEqual(['belongs to another member']);
    await form.getByRole('textbox', { name: 'Email' }).fill('grace@engine.example');
    await form.getByLabel('Phone').fill('12');
    await page.getByTestId('member-profile-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="field-error"]')?.textContent === 'is not a valid phone number');
    expect(await stored()).toEqual(before);

    // Fixed: the phone cleared, a birthday, the email consent withdrawn and SMS granted. Fields left alone stay.
    await form.getByLabel('Phone').fill('');
    await form.getByLabel('Birthday').fill('1980-12-09');
    await form.getByRole('checkbox', { name: 'Email' }).uncheck();
    await form.getByRole('checkbox', { name: 'SMS' }).check();
    await page.getByTestId('member-profile-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="member-email"]')?.textContent === 'grace@engine.example');
    expect(await text('member-consents')).toContain('Withdrawn Email');
    expect(await text('member-consents')).toContain('Granted Sms');
    const after = await stored();
    expect(after).toMatchObject({ firstName: 'Grace B.', lastName: 'Hopper', email: 'grace@engine.example', phone: null, birthday: '1980-12-09', country: before.country });
    expect(after.identifiers).toEqual([{ type: 'EMAIL', value: 'grace@engine.example' }]);
    expect(after.consents).toEqual(
      expect.arrayContaining([
        { medium: 'EMAIL', isGranted: false, source: 'ADMIN' },
        { medium: 'SMS', isGranted: true, source: 'ADMIN' },
      ]),
    );
    // One update: the refused attempts wrote nothing.
    const audit = await h.sql<{ action: string }>(`select action from audit_entry where entity_type = 'Member' and entity_id = ? order by id`, [grace.id]);
    expect(audit.map((a) => a.action)).toEqual(['member.enrol', 'member.update']);
  });

  it('an analyst, who never sees contact details, is offered no edit', async () => {
    const member = await b.member().save();
    await signIn(AdminRole.ANALYST, `/members/${member.id}`);
    await session.page.getByTestId('member-profile').waitFor();
    expect(await session.page.getByTestId('member-profile-edit').count()).toBe(0);
  });
});
