import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';

const h = useHarness();
const b = build(h);

const ERASE = `mutation Erase($input: EraseMemberInput!) {
  eraseMember(input: $input) { id status erasedAt firstName email phone birthday country identifiers { value } consents { medium isGranted } }
}`;

describe('eraseMember', () => {
  it('anonymises personal data, keeps the record and country, and withdraws consents', async () => {
    const admin = await b.admin();
    const m = await b.member().named('Erin', 'Erased').withEmail('erin@example.com').withPhone('+447911123222').inCountry('IE')
      .withConsent(ConsentMedium.EMAIL, true).save();
    const res = await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'GDPR ticket 123' } });
    expect(res.errors).toBeUndefined();
    expect(res.data.eraseMember).toMatchObject({
      id: m.id, status: 'ERASED', firstName: null, email: null, phone: null, birthday: null, country: 'IE', identifiers: [],
      consents: [{ medium: 'EMAIL', isGranted: false }],
    });
    const row = (await h.sql(`select first_name, last_name, email, phone, status from member where id = ?`, [m.id]))[0];
    expect(row).toEqual({ first_name: null, last_name: null, email: null, phone: null, status: 'ERASED' });
  });

  it('leaves no personal data in the audit log, and audits the erasure itself', async () => {
    const admin = await b.admin();
    const m = await b.member().withEmail('audit-trace@example.com').named('Trace', 'Me').save();
    await h.gql(admin.auth, `mutation($id: ID!) { updateMember(input: { id: $id, lastName: "Changed" }) { id } }`, { id: m.id });
    await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'request 9' } });
    const rows = await h.sql(`select action, before::text as b, after::text as a, actor from audit_entry where entity_id = ? order by id`, [m.id]);
    expect(rows.map((r) => r.action)).toEqual(['member.enrol', 'member.update', 'member.erase']);
    const text = JSON.stringify(rows);
    expect(text).not.toContain('audit-trace@example.com');
    expect(text).not.toContain('Trace');
    expect(rows[2].actor).toBe(`admin:${admin.id}`);
    expect(JSON.parse(rows[2].a)).toMatchObject({ reason: 'request 9', erasedFields: expect.arrayContaining(['email', 'firstName']) });
  });

  it('frees the identifiers, so the person can enrol afresh', async () => {
    const admin = await b.admin();
    const m = await b.member().withEmail('again@example.com').save();
    await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'request' } });
    const fresh = await b.member().withEmail('again@example.com').save();
    expect(fresh.id).not.toBe(m.id);
  });

  it('is idempotent and blocks later updates with CONFLICT MEMBER_ERASED', async () => {
    const admin = await b.admin();
    const m = await b.member().save();
    await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'first' } });
    const again = await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: 'second' } });
    expect(again.data.eraseMember.status).toBe('ERASED');
    expect(await h.sql(`select 1 from audit_entry where entity_id = ? and action = 'member.erase'`, [m.id])).toHaveLength(1);
    const upd = await h.gql(admin.auth, `mutation($id: ID!) { updateMember(input: { id: $id, firstName: "Back" }) { id } }`, { id: m.id });
    expect(expectError(upd, 'CONFLICT').extensions.reason).toBe('MEMBER_ERASED');
  });

  it('also scrubs audit rows of records merged into the erased member', async () => {
    const admin = await b.admin();
    const survivor = await b.member().save();
    const absorbed = await b.member().withEmail('absorbed-pii@example.com').save();
    await h.gql(admin.auth, `mutation($s: ID!, $a: ID!) { mergeMembers(input: { survivorId: $s, absorbedId: $a }) { movedIdentifiers } }`, {
      s: survivor.id, a: absorbed.id,
    });
    await h.gql(admin.auth, ERASE, { input: { id: survivor.id, reason: 'r' } });
    const text = JSON.stringify(await h.sql(`select before, after from audit_entry`));
    expect(text).not.toContain('absorbed-pii@example.com');
  });

  it('is refused to marketers, analysts and channels, and requires a reason', async () => {
    const m = await b.member().save();
    for (const caller of [await b.admin(AdminRole.MARKETER), await b.admin(AdminRole.ANALYST), await b.apiKey()]) {
      expectError(await h.gql(caller.auth, ERASE, { input: { id: m.id, reason: 'x' } }), 'FORBIDDEN');
    }
    const admin = await b.admin();
    const noReason = await h.gql(admin.auth, ERASE, { input: { id: m.id, reason: '' } });
    expect(expectError(noReason, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.reason');
    expect((await h.sql(`select status from member where id = ?`, [m.id]))[0].status).toBe('ACTIVE');
  });
});
