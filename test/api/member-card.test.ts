import { useHarness, expectError } from '../support/harness';
import { build } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { MEMBER_COLUMNS } from '../../api/src/modules/members/member-card';

// `member(id)` and `memberByIdentifier` answer from one statement (api/src/modules/members/member-card.ts); the members list
// answers through the loaders (PointsService.pointsOf, TierService.currentOf). Both must say the same for every member.
const h = useHarness();
const b = build(h);

const CARD = `points { available pending lifetime nextExpiry { points expiresAt } } tier { code threshold earnMultiplierPercent benefitFlags }`;
const BY_ID = `query($id: ID!) { member(id: $id) { id status ${CARD} } }`;
const BY_EMAIL = `query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id ${CARD} } }`;
const LIST = `query { members(first: 100, status: ACTIVE) { edges { node { id ${CARD} } } } }`;
const UPSERT_TIER = `mutation T($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;
const MERGE = `mutation M($input: MergeMembersInput!) { mergeMembers(input: $input) { movedIdentifiers } }`;
const ADJUST = `mutation A($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;

describe('member card (one statement) against the loaders', () => {
  it('gives the same points, next expiry and tier for members in every state, and follows merges', async () => {
    const admin = await b.admin();
    const pos = await b.apiKey();
    await b.baseRate();
    const ok = async (query: string, variables: Record<string, unknown>) => {
      const res = await h.gql(admin.auth, query, variables);
      expect(res.errors).toBeUndefined();
      return res.data;
    };
    await ok(UPSERT_TIER, { i: { code: 'BASE', name: 'Base', threshold: 0 } });
    await ok(UPSERT_TIER, { i: { code: 'SILVER', name: 'Silver', threshold: 30, earnMultiplierPercent: 150, benefitFlags: ['FREE_DELIVERY'] } });

    const fresh = await b.member().save(); // no balance row, no tier row
    const buyer = await b.member().save(); // pending lots from orders
    const silver = await b.member().save(); // upgraded by an order
    const mixed = await b.member().save(); // two lots expiring the same day, one spent
    const absorbed = await b.member().withEmail(`absorbed-${Date.now()}@test.example`).save();
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(buyer.id, [{ unitPriceMinor: 1200 }]) });
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(silver.id, [{ unitPriceMinor: 4000 }]) });
    await h.gql(pos.auth, RECORD_ORDER, { input: orderInput(absorbed.id, [{ unitPriceMinor: 900 }]) });
    for (const [points, key] of [[40, 'a'], [25, 'b'], [-10, 'c']] as const) {
      await ok(ADJUST, { i: { memberId: mixed.id, points, reason: 'test', idempotencyKey: `${mixed.id}-${key}` } });
    }
    await h.sql(`update point_lot set expires_at = date_trunc('day', now()) + interval '40 days 3 hours' where member_id = ?`, [mixed.id]);
    await ok(MERGE, { input: { survivorId: buyer.id, absorbedId: absorbed.id } });

    const listed = (await ok(LIST, {})).members.edges.map((e: { node: { id: string } }) => e.node);
    const byId = new Map(listed.map((n: { id: string }) => [n.id, n]));
    for (const m of [fresh, buyer, silver, mixed]) {
      const card = (await ok(BY_ID, { id: m.id })).member;
      const { status, ...rest } = card;
      expect(status).toBe('ACTIVE');
      expect(rest).toEqual(byId.get(m.id));
    }
    // The fixture reaches the cases it is meant to.
    expect(byId.get(fresh.id)).toMatchObject({ points: { available: 0, pending: 0, lifetime: 0, nextExpiry: null }, tier: { code: 'BASE' } });
    expect(byId.get(silver.id)).toMatchObject({ tier: { code: 'SILVER', benefitFlags: ['FREE_DELIVERY'], earnMultiplierPercent: 150 } });
    expect((byId.get(mixed.id) as { points: { nextExpiry: { points: number } } }).points.nextExpiry.points).toBe(55);
    expect((byId.get(buyer.id) as { points: { pending: number } }).points.pending).toBe(12 + 9); // the absorbed record's 9 moved in

    // An absorbed id answers with the survivor and the survivor's card, by id and by the moved email.
    const viaAbsorbed = (await ok(BY_ID, { id: absorbed.id })).member;
    expect(viaAbsorbed.id).toBe(buyer.id);
    const { status: _s, ...survivorCard } = viaAbsorbed;
    expect(survivorCard).toEqual(byId.get(buyer.id));
    const viaEmail = (await ok(BY_EMAIL, { v: absorbed.email! })).memberByIdentifier;
    expect(viaEmail).toEqual(byId.get(buyer.id));
  });

  it('answers every member field, relations included, as the members list (entities) does', async () => {
    // member(id) answers from the card row without an entity (MemberRecord); the list from MikroORM entities.
    const admin = await b.admin();
    const FIELDS = `id status firstName lastName email phone country birthday preferredChannel preferredStoreCode enrolmentChannel
      referralCode enrolledAt updatedAt mergedAt erasedAt mergedIntoId identifiers { id type scope value createdAt }
      consents { medium isGranted source grantedAt withdrawnAt }`;
    const full = await b.member().withEmail().withPhone('+447911123456').named('Ada', 'Lovelace').inCountry('GB')
      .withConsent(ConsentMedium.EMAIL, true).withConsent(ConsentMedium.SMS, false).save();
    await h.sql(`update member set birthday = '1990-02-28', preferred_channel = 'STORE', preferred_store_code = 'S-12' where id = ?`, [full.id]);
    const bare = await b.member().save();
    const listed = await h.gql(admin.auth, `query { members(first: 100, status: ACTIVE) { edges { node { ${FIELDS} } } } }`);
    expect(listed.errors).toBeUndefined();
    for (const m of [full, bare]) {
      const res = await h.gql(admin.auth, `query($id: ID!) { member(id: $id) { ${FIELDS} } }`, { id: m.id });
      expect(res.errors).toBeUndefined();
      expect(res.data.member).toEqual(listed.data.members.edges.find((e: { node: { id: string } }) => e.node.id === m.id).node);
    }
    const card = (await h.gql(admin.auth, `query($id: ID!) { member(id: $id) { ${FIELDS} } }`, { id: full.id })).data.member;
    // The fixture reaches the cases it is meant to: set dates, a birthday, identifiers and consents.
    expect(card).toMatchObject({ birthday: '1990-02-28', preferredChannel: 'STORE', firstName: 'Ada', mergedIntoId: null });
    expect(card.identifiers.length).toBeGreaterThanOrEqual(2);
    expect(card.consents).toHaveLength(2);
    expect(typeof card.enrolledAt).toBe('string');
  });

  it('names every column of the member table, so that the prepared card keeps its result type', async () => {
    const rows = await h
      .em()
      .getConnection()
      .execute<{ column_name: string }[]>(
        `select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'member' order by ordinal_position`,
      );
    expect([...MEMBER_COLUMNS].sort()).toEqual(rows.map((r) => r.column_name).sort());
  });

  it('answers NOT_FOUND for an unknown id and null for an unknown identifier', async () => {
    const admin = await b.admin();
    expectError(await h.gql(admin.auth, BY_ID, { id: '01900000-0000-7000-8000-000000000000' }), 'NOT_FOUND');
    const none = await h.gql(admin.auth, BY_EMAIL, { v: 'nobody@test.example' });
    expect(none.errors).toBeUndefined();
    expect(none.data.memberByIdentifier).toBeNull();
  });
});
