import { useHarness, expectError } from '../support/harness';
import { build, AdminRole, ApiKeyScope } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';

const h = useHarness();
const b = build(h);

const MERGE = `mutation Merge($input: MergeMembersInput!) {
  mergeMembers(input: $input) {
    movedIdentifiers
    survivor { id firstName lastName email phone country identifiers { type value } consents { medium isGranted } }
  }
}`;
const BY_ID = `query($id: ID!) { member(id: $id) { id status } }`;

describe('mergeMembers', () => {
  it('moves identifiers and consents to the survivor, fills its gaps and records the merge', async () => {
    const marketer = await b.admin(AdminRole.MARKETER);
    const online = await b.member().withEmail('same.person@example.com').named('Sam', 'Person').save();
    const store = await b.member().withPhone('+447911123000').inCountry('GB').save();

    const res = await h.gql(marketer.auth, MERGE, { input: { survivorId: online.id, absorbedId: store.id, reason: 'same person' } });
    expect(res.errors).toBeUndefined();
    const { survivor, movedIdentifiers } = res.data.mergeMembers;
    expect(movedIdentifiers).toBe(1);
    expect(survivor).toMatchObject({ id: online.id, email: 'same.person@example.com', phone: '+447911123000', country: 'GB' });
    expect(survivor.identifiers.map((i: any) => i.value).sort()).toEqual(['+447911123000', 'same.person@example.com']);

    const merges = await h.sql(`select survivor_id, absorbed_id, reason, merged_by from member_merge`);
    expect(merges).toEqual([
      { survivor_id: online.id, absorbed_id: store.id, reason: 'same person', merged_by: `admin:${marketer.id}` },
    ]);
    const audit = await h.sql(`select action from audit_entry where entity_id = ? and action = 'member.merge'`, [online.id]);
    expect(audit).toHaveLength(1);
    const absorbedRow = (await h.sql(`select status, merged_into_id, email, phone from member where id = ?`, [store.id]))[0];
    expect(absorbedRow).toEqual({ status: 'MERGED', merged_into_id: online.id, email: null, phone: null });
  });

  it('resolves the absorbed id to the survivor, for reads and for updates', async () => {
    const admin = await b.admin();
    const a = await b.member().save();
    const absorbed = await b.member().save();
    await h.gql(admin.auth, MERGE, { input: { survivorId: a.id, absorbedId: absorbed.id } });
    expect((await h.gql(admin.auth, BY_ID, { id: absorbed.id })).data.member).toEqual({ id: a.id, status: 'ACTIVE' });
    const upd = await h.gql(admin.auth, `mutation($id: ID!) { updateMember(input: { id: $id, lastName: "Via old id" }) { id lastName } }`, {
      id: absorbed.id,
    });
    expect(upd.data.updateMember).toEqual({ id: a.id, lastName: 'Via old id' });
  });

  it('keeps chains to one hop: a record merged earlier follows its survivor into the next merge', async () => {
    const admin = await b.admin();
    const [x, y, z] = [await b.member().save(), await b.member().save(), await b.member().save()];
    await h.gql(admin.auth, MERGE, { input: { survivorId: y.id, absorbedId: x.id } });
    await h.gql(admin.auth, MERGE, { input: { survivorId: z.id, absorbedId: y.id } });
    expect((await h.gql(admin.auth, BY_ID, { id: x.id })).data.member.id).toBe(z.id);
    const rows = await h.sql(`select merged_into_id from member where id = ?`, [x.id]);
    expect(rows[0].merged_into_id).toBe(z.id);
  });

  it("keeps the person's latest consent decision, whichever record it was given on", async () => {
    const admin = await b.admin();
    const older = await b.member().withConsent(ConsentMedium.EMAIL, true).withConsent(ConsentMedium.SMS, true).save();
    const newer = await b.member().withConsent(ConsentMedium.EMAIL, false).save();
    const res = await h.gql(admin.auth, MERGE, { input: { survivorId: older.id, absorbedId: newer.id } });
    const consents = Object.fromEntries(res.data.mergeMembers.survivor.consents.map((c: any) => [c.medium, c.isGranted]));
    expect(consents).toEqual({ EMAIL: false, SMS: true });
    expect(await h.sql(`select 1 from member_consent where member_id = ?`, [newer.id])).toHaveLength(0);
  });

  it('keeps the earlier enrolment date as member since', async () => {
    const admin = await b.admin();
    const first = await b.member().save();
    const later = await b.member().save();
    await h.gql(admin.auth, MERGE, { input: { survivorId: later.id, absorbedId: first.id } });
    const [row] = await h.sql(`select enrolled_at from member where id = ?`, [later.id]);
    expect(new Date(row.enrolled_at).getTime()).toBe(first.enrolledAt.getTime());
  });

  it('refuses merging a member into itself, an unknown member and an already merged one, changing nothing', async () => {
    const admin = await b.admin();
    const a = await b.member().save();
    const c = await b.member().save();
    const gone = await b.member().save();
    await h.gql(admin.auth, MERGE, { input: { survivorId: c.id, absorbedId: gone.id } });

    expect(expectError(await h.gql(admin.auth, MERGE, { input: { survivorId: a.id, absorbedId: a.id } }), 'CONFLICT').extensions.reason).toBe(
      'SAME_MEMBER',
    );
    const unknown = '01900000-0000-7000-8000-0000000000aa';
    expect(expectError(await h.gql(admin.auth, MERGE, { input: { survivorId: a.id, absorbedId: unknown } }), 'NOT_FOUND').extensions.id).toBe(
      unknown,
    );
    const merged = await h.gql(admin.auth, MERGE, { input: { survivorId: a.id, absorbedId: gone.id } });
    expect(expectError(merged, 'CONFLICT').extensions).toMatchObject({ reason: 'MEMBER_MERGED', survivorId: c.id });
    expect(await h.sql(`select 1 from member_merge where survivor_id = ?`, [a.id])).toHaveLength(0);
  });

  it('rolls back every move when a later step fails', async () => {
    const admin = await b.admin();
    const survivor = await b.member().save();
    const absorbed = await b.member().withPhone('+447911123111').save();
    h.app.services.members.registerMergeStep(async () => {
      throw new Error('simulated failure in another domain');
    });
    try {
      const res = await h.gql(admin.auth, MERGE, { input: { survivorId: survivor.id, absorbedId: absorbed.id } });
      expect(expectError(res, 'INTERNAL_SERVER_ERROR').message).toBe('Internal server error');
    } finally {
      (h.app.services.members as any).mergeSteps.pop();
    }
    const ids = await h.sql(`select member_id from member_identifier where value = '+447911123111'`);
    expect(ids).toEqual([{ member_id: absorbed.id }]);
    expect((await h.sql(`select status from member where id = ?`, [absorbed.id]))[0].status).toBe('ACTIVE');
    expect(await h.sql(`select 1 from member_merge where absorbed_id = ?`, [absorbed.id])).toHaveLength(0);
  });

  it('is allowed to channels with the members:merge scope only', async () => {
    const a = await b.member().save();
    const c = await b.member().save();
    const without = await b.apiKey([ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE]);
    const withMerge = await b.apiKey([ApiKeyScope.MEMBERS_MERGE, ApiKeyScope.MEMBERS_READ]);
    expectError(await h.gql(without.auth, MERGE, { input: { survivorId: a.id, absorbedId: c.id } }), 'FORBIDDEN');
    expect((await h.gql(withMerge.auth, MERGE, { input: { survivorId: a.id, absorbedId: c.id } })).errors).toBeUndefined();
  });
});
