import { useHarness, expectError } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';

const h = useHarness();
const b = build(h);

const KPIS = `query($input: AnalyticsFilterInput!) { analytics { kpis(input: $input) { activeMembers orders netRevenueMinor } } }`;
const TOP = `query($asOf: DateTimeISO!, $limit: Int!) { analytics { topProductsBySegment(asOf: $asOf, limit: $limit) { segment } } }`;
const MEMBER_RFM = `query($id: ID!) { analytics { memberRfm(memberId: $id, asOf: "2030-01-01T00:00:00Z") { score } } }`;
const RANGE = { from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' };

/** Row counts of every table the analytics could conceivably touch. */
async function footprint() {
  const [row] = await h.sql(`select (select count(*) from audit_entry)::int as audit, (select count(*) from ledger_entry)::int as ledger,
    (select count(*) from customer_order)::int as orders, (select count(*) from member)::int as members, (select count(*) from sales_channel)::int as channels`);
  return row;
}

describe('who may read analytics', () => {
  it.each([AdminRole.ANALYST, AdminRole.MARKETER, AdminRole.ADMIN])('answers %s', async (role) => {
    const admin = await b.admin(role);
    const res = await h.gql(admin.auth, KPIS, { input: RANGE });
    expect(res.errors).toBeUndefined();
    expect(res.data.analytics.kpis).toEqual({ activeMembers: 0, orders: 0, netRevenueMinor: 0 });
  });

  it("refuses a channel's API key with FORBIDDEN, whatever its scopes", async () => {
    const key = await b.apiKey();
    expectError(await h.gql(key.auth, KPIS, { input: RANGE }), 'FORBIDDEN');
  });

  it('refuses an anonymous caller with UNAUTHENTICATED', async () => {
    expectError(await h.gql(null, KPIS, { input: RANGE }), 'UNAUTHENTICATED');
  });
});

describe('analytics input', () => {
  let analyst: { token: string };
  beforeAll(async () => {
    analyst = (await b.admin(AdminRole.ANALYST)).auth;
  });

  it('refuses a range whose end is not after its start with BAD_USER_INPUT and writes nothing', async () => {
    const before = await footprint();
    const err = expectError(await h.gql(analyst, KPIS, { input: { from: RANGE.to, to: RANGE.from } }), 'BAD_USER_INPUT');
    expect(err.extensions.fields).toEqual([{ path: 'input.to', message: 'must be after from' }]);
    expectError(await h.gql(analyst, KPIS, { input: { from: RANGE.from, to: RANGE.from } }), 'BAD_USER_INPUT');
    expect(await footprint()).toEqual(before);
  });

  it('refuses an unknown sales channel with BAD_USER_INPUT and writes nothing', async () => {
    const before = await footprint();
    const input = { ...RANGE, channelId: '0190a0a0-0000-7000-8000-000000000000' };
    const err = expectError(await h.gql(analyst, KPIS, { input }), 'BAD_USER_INPUT');
    expect(err.extensions.fields).toEqual([{ path: 'input.channelId', message: 'no such sales channel' }]);
    expect(await footprint()).toEqual(before);
  });

  it('refuses a channel kind that does not exist with BAD_USER_INPUT', async () => {
    expectError(await h.gql(analyst, KPIS, { input: { ...RANGE, channelKind: 'TELEPATHY' } }), 'BAD_USER_INPUT');
  });

  it('refuses a country that is not an ISO alpha-2 code with BAD_USER_INPUT', async () => {
    const err = expectError(await h.gql(analyst, KPIS, { input: { ...RANGE, country: 'gb' } }), 'BAD_USER_INPUT');
    expect(err.extensions.fields[0].path).toBe('input.country');
  });

  it('refuses a top-products limit outside 1..50 with BAD_USER_INPUT', async () => {
    expectError(await h.gql(analyst, TOP, { asOf: RANGE.to, limit: 0 }), 'BAD_USER_INPUT');
    expectError(await h.gql(analyst, TOP, { asOf: RANGE.to, limit: 51 }), 'BAD_USER_INPUT');
  });

  it('answers NOT_FOUND for the RFM of a member who does not exist', async () => {
    expectError(await h.gql(analyst, MEMBER_RFM, { id: '0190a0a0-0000-7000-8000-000000000001' }), 'NOT_FOUND');
  });
});
