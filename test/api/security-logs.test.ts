import { useHarness } from '../support/harness';
import { build } from '../fixtures/build';

const lines: string[] = [];
const h = useHarness({ LOG_LEVEL: 'trace' }, { logDestination: { write: (line: string) => lines.push(line) } });
const b = build(h);

describe('logs', () => {
  it('never contain the personal data, passwords, tokens or API keys of a run that enrols a member and logs in', async () => {
    const admin = await b.admin();
    const member = { email: 'Secret.Person@private.example', phone: '07911 123456', firstName: 'Zebedee', lastName: 'Quixotic' };
    const newPassword = 'another very private passphrase';

    const channel = await h.gql(admin.auth, `mutation { createSalesChannel(input: { name: "Logged shop", kind: WEB }) { id } }`);
    const created = await h.gql(admin.auth, `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
      input: { channelId: channel.data.createSalesChannel.id, name: 'till', scopes: ['MEMBERS_READ', 'MEMBERS_WRITE'] },
    });
    const apiKey = created.data.createApiKey.key as string;
    const enrolled = await h.gql({ apiKey }, `mutation($input: EnrolMemberInput!) { enrolMember(input: $input) { id phone } }`, { input: member });
    expect(enrolled.errors).toBeUndefined();
    const storedPhone = enrolled.data.enrolMember.phone as string;
    // A GET carries its variables in the query string.
    await h
      .http()
      .get('/graphql')
      .set('x-api-key', apiKey)
      .set('apollo-require-preflight', '1')
      .query({ query: 'query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id } }', variables: JSON.stringify({ v: member.email }) });

    const login = await h.gql(null, `mutation($input: LoginInput!) { login(input: $input) { token } }`, {
      input: { email: admin.email, password: admin.password },
    });
    const token = login.data.login.token as string;
    await h.gql(null, `mutation($input: LoginInput!) { login(input: $input) { token } }`, { input: { email: admin.email, password: 'a wrong guess here' } });
    const changed = await h.gql({ token }, `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { token } }`, {
      input: { currentPassword: admin.password, newPassword },
    });
    expect(changed.errors).toBeUndefined();

    const output = lines.join('');
    // The capture works: request lines and domain events are there, with ids.
    expect(output).toContain('"msg":"member.enrolled"');
    expect(output).toContain(enrolled.data.enrolMember.id);
    expect(output).toContain('"msg":"request completed"');
    expect(output).toContain('[redacted]');

    const secrets = {
      memberEmail: member.email,
      memberEmailLower: member.email.toLowerCase(),
      memberEmailEncoded: encodeURIComponent(member.email),
      phone: member.phone,
      storedPhone,
      firstName: member.firstName,
      lastName: member.lastName,
      adminEmail: admin.email,
      password: admin.password,
      newPassword,
      wrongPassword: 'a wrong guess here',
      token,
      fixtureToken: admin.token,
      newToken: changed.data.changePassword.token,
      apiKey,
      // Everything after lk_<prefix>_: the secret is base64url, so it may hold "_" itself, and splitting on "_" would
      // test a fragment short enough to turn up by chance (it failed one CI run).
      apiKeySecret: /^lk_[A-Za-z0-9]{12}_(.+)$/.exec(apiKey)![1],
    };
    const leaked = Object.entries(secrets).filter(([, value]) => output.includes(value)).map(([name]) => name);
    expect(leaked).toEqual([]);
  });
});
