import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness();
const b = build(h);

const PAGE = `query Page($first: Int, $after: String, $search: String, $orderBy: MemberOrder) {
  members(first: $first, after: $after, search: $search, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id firstName lastName email } }
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
  }
}`;

describe('members', () => {
  it('walks every member exactly once across pages, newest first, with stable cursors', async () => {
    const admin = await b.admin();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await b.member().named('Page', `Walker${i}`).save()).id);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res: any = await h.gql(admin.auth, PAGE, { first: 3, after, search: 'walker' });
      expect(res.errors).toBeUndefined();
      expect(res.data.members.totalCount).toBe(7);
      seen.push(...res.data.members.edges.map((e: any) => e.node.id));
      expect(res.data.members.pageInfo.hasPreviousPage).toBe(after !== null);
      after = res.data.members.pageInfo.hasNextPage ? res.data.members.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it('orders oldest first when asked', async () => {
    const admin = await b.admin();
    const a = await b.member().named('Order', 'Alpha').save();
    const z = await b.member().named('Order', 'Zulu').save();
    const res = await h.gql(admin.auth, PAGE, { first: 10, search: 'order', orderBy: 'OLDEST_FIRST' });
    expect(res.data.members.edges.map((e: any) => e.node.id)).toEqual([a.id, z.id]);
  });

  it('matches every word of the search against first name, last name or email, case-insensitively', async () => {
    const admin = await b.admin();
    const ann = await b.member().named('Ann', 'Lovelace').withEmail('ann.l@maths.example').save();
    await b.member().named('Ann', 'Other').save();
    await b.member().named('Bob', 'Lovelace').save();
    const both = await h.gql(admin.auth, PAGE, { first: 10, search: 'ann LOVELACE' });
    expect(both.data.members.edges.map((e: any) => e.node.id)).toEqual([ann.id]);
    const byEmail = await h.gql(admin.auth, PAGE, { first: 10, search: 'maths.example' });
    expect(byEmail.data.members.edges.map((e: any) => e.node.id)).toEqual([ann.id]);
  });

  it('finds a member by a whole phone number typed in national or international format, as well as by its digits', async () => {
    const admin = await b.admin();
    const m = await b.member().named('Phone', 'Caller').withPhone('+447911123456').save();
    await b.member().named('Phone', 'Other').withPhone('+447911123457').save();
    const ids = async (search: string) => (await h.gql(admin.auth, PAGE, { first: 10, search })).data.members.edges.map((e: any) => e.node.id);
    for (const typed of ['07911 123456', '(07911) 123-456', '+44 7911 123456', '0044 7911 123456', '7911123456']) expect(await ids(typed)).toEqual([m.id]);
    // Words that are not one number still match word by word: digits of the number, and names.
    expect(await ids('123456')).toEqual([m.id]);
    expect(await ids('phone caller')).toEqual([m.id]);
    expect(await ids('07911 123458')).toEqual([]);
  });

  it('treats % and _ in the search as plain characters', async () => {
    const admin = await b.admin();
    await b.member().named('Percent', 'Nobody').save();
    const res = await h.gql(admin.auth, PAGE, { first: 10, search: '%' });
    expect(res.data.members.totalCount).toBe(0);
  });

  it('refuses a page size over 100 and a cursor it did not issue', async () => {
    const admin = await b.admin();
    expect(expectError(await h.gql(admin.auth, PAGE, { first: 101 }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe('first');
    expect(expectError(await h.gql(admin.auth, PAGE, { first: 5, after: 'bm90LWEtY3Vyc29y' }), 'BAD_USER_INPUT').extensions.fields[0].path).toBe(
      'after',
    );
  });

  it('runs the same number of SQL statements for 3 members as for 30 (no N+1 on identifiers and consents)', async () => {
    const admin = await b.admin();
    for (let i = 0; i < 30; i++) await b.member().named('Batch', `N${i}`).withEmail().withPhone(`+4479111${String(10000 + i).slice(-5)}`).save();
    const LIST = `query($first: Int) { members(first: $first, search: "batch") {
      edges { node { id identifiers { type value } consents { medium isGranted } mergedIntoId } } } }`;
    const small = await h.gql(admin.auth, LIST, { first: 3 });
    const large = await h.gql(admin.auth, LIST, { first: 30 });
    expect(large.errors).toBeUndefined();
    expect(large.data.members.edges).toHaveLength(30);
    expect(large.data.members.edges[0].node.identifiers).toHaveLength(2);
    expect(Number(large.headers['x-db-queries'])).toBe(Number(small.headers['x-db-queries']));
    expect(Number(large.headers['x-db-queries'])).toBeLessThanOrEqual(5);
  });

  it('does not let an analyst search by personal data', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    const res = await h.gql(analyst.auth, `{ members(search: "ann") { totalCount } }`);
    expectError(res, 'FORBIDDEN');
    const plain = await h.gql(analyst.auth, `{ members(first: 5) { totalCount edges { node { id country status } } } }`);
    expect(plain.errors).toBeUndefined();
  });
});

describe('member and memberByIdentifier', () => {
  const BY_ID = `query($id: ID!) { member(id: $id) { id email } }`;
  const BY_IDENT = `query($type: IdentifierType!, $value: String!, $channelId: ID) {
    memberByIdentifier(type: $type, value: $value, channelId: $channelId) { id } }`;

  it('finds a member by id and answers NOT_FOUND for an unknown id', async () => {
    const admin = await b.admin();
    const m = await b.member().withEmail('byid@example.com').save();
    expect((await h.gql(admin.auth, BY_ID, { id: m.id })).data.member).toEqual({ id: m.id, email: 'byid@example.com' });
    const missing = await h.gql(admin.auth, BY_ID, { id: '01900000-0000-7000-8000-000000000001' });
    expect(expectError(missing, 'NOT_FOUND').extensions.entity).toBe('Member');
  });

  it('finds by email in any case and by phone in national format; null when nobody has it', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().withEmail('lookup@example.com').withPhone('+447911123666').save();
    expect((await h.gql(auth, BY_IDENT, { type: 'EMAIL', value: ' LookUp@Example.com' })).data.memberByIdentifier).toEqual({ id: m.id });
    expect((await h.gql(auth, BY_IDENT, { type: 'PHONE', value: '07911 123666' })).data.memberByIdentifier).toEqual({ id: m.id });
    expect((await h.gql(auth, BY_IDENT, { type: 'EMAIL', value: 'nobody@example.com' })).data.memberByIdentifier).toBeNull();
  });

  it('refuses an analyst a lookup by email or phone, which would tie them to a member, but not by customer id', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    await b.member().withEmail('analyst-lookup@example.com').withPhone('+447911123667').save();
    expectError(await h.gql(analyst.auth, BY_IDENT, { type: 'EMAIL', value: 'analyst-lookup@example.com' }), 'FORBIDDEN');
    expectError(await h.gql(analyst.auth, BY_IDENT, { type: 'PHONE', value: '+447911123667' }), 'FORBIDDEN');
    const byCustomerId = await h.gql(analyst.auth, BY_IDENT, { type: 'CHANNEL_CUSTOMER_ID', value: 'CARD-0', channelId: (await b.channel()).id });
    expect(byCustomerId.errors).toBeUndefined();
  });

  it("finds by a channel's customer id only within that channel", async () => {
    const store = await b.apiKey();
    const other = await b.apiKey();
    const enrolled = await h.gql(store.auth, `mutation { enrolMember(input: { channelCustomerId: "CARD-9" }) { id } }`);
    const id = enrolled.data.enrolMember.id;
    expect((await h.gql(store.auth, BY_IDENT, { type: 'CHANNEL_CUSTOMER_ID', value: 'CARD-9' })).data.memberByIdentifier).toEqual({ id });
    expect((await h.gql(other.auth, BY_IDENT, { type: 'CHANNEL_CUSTOMER_ID', value: 'CARD-9' })).data.memberByIdentifier).toBeNull();
    const admin = await b.admin();
    expect(
      (await h.gql(admin.auth, BY_IDENT, { type: 'CHANNEL_CUSTOMER_ID', value: 'CARD-9', channelId: store.channelId })).data
        .memberByIdentifier,
    ).toEqual({ id });
    expectError(await h.gql(admin.auth, BY_IDENT, { type: 'CHANNEL_CUSTOMER_ID', value: 'CARD-9' }), 'BAD_USER_INPUT');
  });
});
