import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

// The programme's time zone (where members' days and weeks begin for caps, streaks and goals) is a setting.
const h = useHarness();
const b = build(h);

const UPDATE = `mutation S($input: UpdateProgrammeSettingsInput!) { updateProgrammeSettings(input: $input) { timeZone } }`;
const READ = `{ programmeSettings { timeZone } }`;

describe('programme time zone', () => {
  it('is UTC until set, takes an IANA zone, and refuses anything else with BAD_USER_INPUT, changing nothing', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    expect((await h.gql(admin.auth, READ)).data.programmeSettings.timeZone).toBe('UTC');
    const set = await h.gql(admin.auth, UPDATE, { input: { timeZone: 'Europe/London' } });
    expect(set.errors).toBeUndefined();
    expect(set.data.updateProgrammeSettings.timeZone).toBe('Europe/London');
    for (const bad of ['Mars/Olympus', 'Europe/London ', 'x'.repeat(65), "UTC'; drop table member; --"]) {
      const res = await h.gql(admin.auth, UPDATE, { input: { timeZone: bad } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.fields).toEqual([expect.objectContaining({ path: 'input.timeZone' })]);
    }
    expect((await h.gql(admin.auth, READ)).data.programmeSettings.timeZone).toBe('Europe/London');
  });
});
