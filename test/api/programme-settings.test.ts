import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness();
const b = build(h);

const UPDATE = `mutation S($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { pointValueMinor pointValueCurrency } }`;
const READ = `{ programmeSettings { pointValueMinor pointValueCurrency } }`;

describe('programme point value currency', () => {
  it('takes an ISO 4217 code and refuses any other with BAD_USER_INPUT on the field, changing nothing', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const set = await h.gql(admin.auth, UPDATE, { input: { pointValueMinor: 2, pointValueCurrency: 'EUR' } });
    expect(set.errors).toBeUndefined();
    expect(set.data.updateProgrammeSettings).toEqual({ pointValueMinor: 2, pointValueCurrency: 'EUR' });
    const audits = async () => (await h.sql(`select 1 from audit_entry where action = 'programme.update'`)).length;
    const before = await audits();
    for (const bad of ['XXQ', 'eur', 'EURO', '']) {
      // With another field, to show that the whole update is refused.
      const res = await h.gql(admin.auth, UPDATE, { input: { pointValueMinor: 5, pointValueCurrency: bad } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.fields).toEqual([expect.objectContaining({ path: 'input.pointValueCurrency' })]);
    }
    expect((await h.gql(admin.auth, READ)).data.programmeSettings).toEqual({ pointValueMinor: 2, pointValueCurrency: 'EUR' });
    expect(await audits()).toBe(before);
  });
});
