import { useHarness, expectError, type Auth } from '../support/harness';
import { build, ApiKeyScope } from '../fixtures/build';
import { RECORD_ORDER, RECORD_RETURN, ledgerCheck, orderInput, pointsOf } from '../support/orders';

const h = useHarness();
const b = build(h);

beforeAll(async () => {
  await b.baseRate(1, 100);
});

describe('recordOrder', () => {
  it('credits base points as pending, explains them, and keeps the ledger consistent', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const res = await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id, [{ quantity: 2, unitPriceMinor: 1250 }, { unitPriceMinor: 599 }]) });
    expect(res.errors).toBeUndefined();
    const order = res.data.recordOrder;
    expect(order).toMatchObject({ subtotalMinor: 3099, totalMinor: 3099, pointsEarned: 30, status: 'COMPLETED', channelKind: 'WEB', memberId: m.id });
    expect(order.pointsBreakdown).toEqual([expect.objectContaining({ kind: 'BASE_RATE', points: 30, ruleVersion: 1 })]);
    const points = await pointsOf(h, auth, m.id);
    expect(points).toMatchObject({ available: 0, pending: 30, lifetime: 30 });
    expect(points.nextExpiry?.points).toBe(30);
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('returns the stored order for a replay and credits once; a different body is a CONFLICT', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const input = orderInput(m.id, [{ unitPriceMinor: 5000 }]);
    const first = await h.gql(auth, RECORD_ORDER, { input });
    const again = await h.gql(auth, RECORD_ORDER, { input });
    expect(again.data.recordOrder.id).toBe(first.data.recordOrder.id);
    const changed = await h.gql(auth, RECORD_ORDER, { input: { ...input, totalMinor: 4000, lines: [{ ...input.lines[0], unitPriceMinor: 4000 }] } });
    expect(expectError(changed, 'CONFLICT').extensions.reason).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await pointsOf(h, auth, m.id)).pending).toBe(50);
  });

  it('creates one order and one credit from 50 concurrent replays', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const input = orderInput(m.id, [{ unitPriceMinor: 2000 }]);
    const results = await Promise.all(Array.from({ length: 50 }, () => h.gql(auth, RECORD_ORDER, { input })));
    expect(results.filter((r) => r.errors)).toEqual([]);
    expect(new Set(results.map((r) => r.data.recordOrder.id)).size).toBe(1);
    const rows = await h.sql(`select count(*)::int as n from ledger_entry where member_id = ? and reason = 'ORDER_EARN'`, [m.id]);
    expect(rows[0].n).toBe(1);
    expect((await pointsOf(h, auth, m.id)).pending).toBe(20);
  });

  it('creates unknown products from the line and keeps known ones', async () => {
    const { auth } = await b.apiKey();
    await h.gql(auth, RECORD_ORDER, { input: orderInput(null, [{ sku: 'NEW-SKU-1', category: 'Tea' }]) });
    await h.gql(auth, RECORD_ORDER, { input: orderInput(null, [{ sku: 'NEW-SKU-1', category: 'Coffee' }]) });
    expect(await h.sql(`select sku, category from product where sku = 'NEW-SKU-1'`)).toEqual([{ sku: 'NEW-SKU-1', category: 'Tea' }]);
  });

  it('spreads an order discount over the lines and earns on what was paid', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const res = await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 3000 }, { unitPriceMinor: 1000 }], { orderDiscountMinor: 1000 }) });
    expect(res.data.recordOrder.lines.map((l: any) => l.netMinor)).toEqual([2250, 750]);
    expect(res.data.recordOrder.pointsEarned).toBe(29);
  });

  describe('refuses bad input with BAD_USER_INPUT and writes nothing', () => {
    const cases: Array<[string, (i: any) => any, string]> = [
      ['a negative quantity', (i) => ({ ...i, lines: [{ ...i.lines[0], quantity: -1 }] }), 'input.lines.0.quantity'],
      ['a zero quantity', (i) => ({ ...i, lines: [{ ...i.lines[0], quantity: 0 }] }), 'input.lines.0.quantity'],
      ['a negative price', (i) => ({ ...i, lines: [{ ...i.lines[0], unitPriceMinor: -5 }] }), 'input.lines.0.unitPriceMinor'],
      ['an unknown currency', (i) => ({ ...i, currency: 'XXY' }), 'input.currency'],
      ['a lower-case currency', (i) => ({ ...i, currency: 'gbp' }), 'input.currency'],
      ['a total that does not match the lines', (i) => ({ ...i, totalMinor: i.totalMinor + 1 }), 'input.totalMinor'],
      ['a line discount above the line', (i) => ({ ...i, lines: [{ ...i.lines[0], discountMinor: 999_999 }] }), 'input.lines.0.discountMinor'],
      ['an order discount above the lines', (i) => ({ ...i, orderDiscountMinor: i.totalMinor + 1, totalMinor: 0 }), 'input.orderDiscountMinor'],
      ['no lines', (i) => ({ ...i, lines: [] }), 'input.lines'],
      ['a date in the future', (i) => ({ ...i, placedAt: new Date(Date.now() + 86_400_000).toISOString() }), 'input.placedAt'],
    ];
    it.each(cases)('%s', async (_name, mutate, path) => {
      const { auth } = await b.apiKey();
      const m = await b.member().save();
      const input = mutate(orderInput(m.id));
      const res = await h.gql(auth, RECORD_ORDER, { input });
      const err = expectError(res, 'BAD_USER_INPUT');
      expect(err.extensions.fields.map((f: any) => f.path)).toContain(path);
      expect(await h.sql(`select 1 from customer_order where external_order_id = ?`, [input.externalOrderId])).toHaveLength(0);
    });

    it('an unknown member is NOT_FOUND', async () => {
      const { auth } = await b.apiKey();
      const res = await h.gql(auth, RECORD_ORDER, { input: orderInput('01900000-0000-7000-8000-00000000beef') });
      expect(expectError(res, 'NOT_FOUND').extensions.entity).toBe('Member');
    });

    it('a channel without orders:write is FORBIDDEN', async () => {
      const { auth } = await b.apiKey([ApiKeyScope.MEMBERS_READ]);
      expectError(await h.gql(auth, RECORD_ORDER, { input: orderInput(null) }), 'FORBIDDEN');
    });
  });
});

describe('guest orders', () => {
  const CLAIM = `mutation($input: ClaimOrderInput!) { claimOrder(input: $input) { id memberId pointsEarned } }`;

  it('are stored without points and credited once when a member claims them', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const guest = await h.gql(auth, RECORD_ORDER, { input: orderInput(null, [{ unitPriceMinor: 4200 }]) });
    expect(guest.data.recordOrder).toMatchObject({ memberId: null, pointsEarned: 0 });
    const claim = await h.gql(auth, CLAIM, { input: { orderId: guest.data.recordOrder.id, memberId: m.id } });
    expect(claim.data.claimOrder).toMatchObject({ memberId: m.id, pointsEarned: 42 });
    const again = await h.gql(auth, CLAIM, { input: { orderId: guest.data.recordOrder.id, memberId: m.id } });
    expect(again.data.claimOrder.pointsEarned).toBe(42);
    expect((await pointsOf(h, auth, m.id)).pending).toBe(42);
    const other = await b.member().save();
    const stolen = await h.gql(auth, CLAIM, { input: { orderId: guest.data.recordOrder.id, memberId: other.id } });
    expect(expectError(stolen, 'CONFLICT').extensions.reason).toBe('ORDER_ALREADY_CLAIMED');
    expect((await pointsOf(h, auth, other.id)).pending).toBe(0);
  });
});

describe('recordReturn', () => {
  it('claws back points in proportion to the value returned, exactly all of them at the end', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const order = (await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id, [{ quantity: 3, unitPriceMinor: 1000 }, { unitPriceMinor: 1001 }]) })).data
      .recordOrder;
    expect(order.pointsEarned).toBe(40);
    const first = await h.gql(auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'R1', lines: [{ lineNo: 1, quantity: 1 }] } });
    expect(first.data.recordReturn).toMatchObject({ valueMinor: 1000, pointsClawedBack: 9 });
    const rest = await h.gql(auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'R2' } });
    expect(rest.data.recordReturn).toMatchObject({ valueMinor: 3001, pointsClawedBack: 31 });
    expect(await pointsOf(h, auth, m.id)).toMatchObject({ pending: 0, lifetime: 0 });
    const none = await h.gql(auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'R3' } });
    expect(expectError(none, 'CONFLICT').extensions.reason).toBe('ORDER_FULLY_RETURNED');
    expect((await ledgerCheck(h)).isConsistent).toBe(true);
  });

  it('refuses to return more than is left, and an unknown line, writing nothing', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const order = (await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id, [{ quantity: 2 }]) })).data.recordOrder;
    const tooMany = await h.gql(auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'X1', lines: [{ lineNo: 1, quantity: 3 }] } });
    expect(expectError(tooMany, 'BAD_USER_INPUT').extensions.fields[0]).toEqual({ path: 'input.lines.0.quantity', message: 'exceeds the 2 not yet returned' });
    const noLine = await h.gql(auth, RECORD_RETURN, { input: { orderId: order.id, externalReturnId: 'X2', lines: [{ lineNo: 9, quantity: 1 }] } });
    expect(expectError(noLine, 'BAD_USER_INPUT').extensions.fields[0].path).toBe('input.lines.0.lineNo');
    expect(await h.sql(`select returned_quantity from order_line where order_id = ?`, [order.id])).toEqual([{ returned_quantity: 0 }]);
    expect(await h.sql(`select 1 from order_return where order_id = ?`, [order.id])).toHaveLength(0);
  });

  it('is idempotent per return id', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const order = (await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id, [{ quantity: 2, unitPriceMinor: 5000 }]) })).data.recordOrder;
    const input = { orderId: order.id, externalReturnId: 'SAME', lines: [{ lineNo: 1, quantity: 1 }] };
    const a = await h.gql(auth, RECORD_RETURN, { input });
    const b2 = await h.gql(auth, RECORD_RETURN, { input });
    expect(b2.data.recordReturn.id).toBe(a.data.recordReturn.id);
    expect((await pointsOf(h, auth, m.id)).pending).toBe(50);
  });
});

describe('member.orders', () => {
  it('lists a member\'s orders newest first, page by page', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id) })).data.recordOrder.id);
    const Q = `query($id: ID!, $after: String) { member(id: $id) { orders(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;
    const p1 = (await h.gql(auth, Q, { id: m.id })).data.member.orders;
    const p2 = (await h.gql(auth, Q, { id: m.id, after: p1.pageInfo.endCursor })).data.member.orders;
    expect([...p1.edges, ...p2.edges].map((e: any) => e.node.id)).toEqual([...ids].reverse());
    expect(p2.pageInfo.hasNextPage).toBe(false);
  });

  const PAGE = `query($id: ID!, $first: Int!, $after: String) { member(id: $id) {
    orders(first: $first, after: $after) { edges { cursor node { id placedAt } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
  type OrderPage = { edges: { cursor: string; node: { id: string; placedAt: string } }[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null } };
  const ordersPage = async (auth: Auth, id: string, first: number, after: string | null = null): Promise<OrderPage> => {
    const res = await h.gql(auth, PAGE, { id, first, after });
    expect(res.errors).toBeUndefined();
    return res.data.member.orders;
  };
  const record = async (auth: Auth, memberId: string, placedAt: string): Promise<string> => {
    const res = await h.gql(auth, RECORD_ORDER, { input: orderInput(memberId, [{}], { placedAt }) });
    expect(res.errors).toBeUndefined();
    return res.data.recordOrder.id;
  };
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

  it('lists orders newest placedAt first, however late each was recorded', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    // A web order, then two years of history imported, then yesterday's sale from a till that was offline.
    const web = await record(auth, m.id, daysAgo(0.5));
    const imported2010 = await record(auth, m.id, '2010-03-01T10:00:00.000Z');
    const imported2011 = await record(auth, m.id, '2011-07-15T09:30:00.000Z');
    const offlineTill = await record(auth, m.id, daysAgo(1));
    const page = await ordersPage(auth, m.id, 10);
    expect(page.edges.map((e) => e.node.id)).toEqual([web, offlineTill, imported2011, imported2010]);
    expect(page.edges[2].node.placedAt).toBe('2011-07-15T09:30:00.000Z');
  });

  it('pages with first=2 through 5 orders, two placed at the same microsecond, returning each once in order', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const newest = await record(auth, m.id, daysAgo(1));
    const tiedFirst = await record(auth, m.id, daysAgo(30));
    const oldest = await record(auth, m.id, daysAgo(90));
    const tiedSecond = await record(auth, m.id, daysAgo(31));
    const middle = await record(auth, m.id, daysAgo(60));
    // Imported rows keep microseconds, which a Date drops: a cursor rounded to the millisecond would skip one of the two.
    await h.sql(`update customer_order set placed_at = ? where id in (?, ?)`, [`${daysAgo(30).slice(0, 23)}456Z`, tiedFirst, tiedSecond]);
    const [laterId, earlierId] = [tiedFirst, tiedSecond].sort().reverse();
    const pages: OrderPage[] = [];
    let after: string | null = null;
    do {
      const page: OrderPage = await ordersPage(auth, m.id, 2, after);
      pages.push(page);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after && pages.length < 10);
    // Ties go by id, descending; the two tied orders straddle the first and second pages.
    expect(pages.map((p) => p.edges.map((e) => e.node.id))).toEqual([[newest, laterId], [earlierId, middle], [oldest]]);
    expect(pages.map((p) => [p.pageInfo.hasPreviousPage, p.pageInfo.hasNextPage])).toEqual([[false, true], [true, true], [true, false]]);
  });

  it('neither repeats nor skips older orders when one placed later is recorded while a client pages', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const older = [];
    for (const days of [1, 2, 3, 4]) older.push(await record(auth, m.id, daysAgo(days)));
    const first = await ordersPage(auth, m.id, 2);
    const meanwhile = await record(auth, m.id, daysAgo(0.01));
    // Recorded late but placed before the first page's last order: it belongs on a later page, and is found there.
    const lateTill = await record(auth, m.id, daysAgo(3.5));
    const rest = await ordersPage(auth, m.id, 10, first.pageInfo.endCursor);
    expect([...first.edges, ...rest.edges].map((e) => e.node.id)).toEqual([older[0], older[1], older[2], lateTill, older[3]]);
    expect((await ordersPage(auth, m.id, 10)).edges.map((e) => e.node.id)).toEqual([meanwhile, older[0], older[1], older[2], lateTill, older[3]]);
  });

  it('refuses a cursor it did not make, including one with a date out of range, with BAD_USER_INPUT on after', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const id = await record(auth, m.id, daysAgo(1));
    const issued = (await ordersPage(auth, m.id, 1)).edges[0].cursor;
    const encoded = (text: string) => Buffer.from(text).toString('base64url');
    const cursors = [
      'not a cursor at all!',
      encoded('\u0001\u00ffjunk|||'),
      encoded(`c:${id}`), // an id alone, as cursors were before orders went by placedAt
      encoded(`k:+275760-09-13T00:00:00.000000Z|${id}`),
      encoded(`k:294277-01-01T00:00:00.000000Z|${id}`),
      encoded(`k:0000-01-01T00:00:00.000000Z|${id}`),
      encoded(`k:2026-02-30T00:00:00.000000Z|${id}`),
      encoded(`k:2026-01-01T24:00:00.000000Z|${id}`),
      encoded(`k:2026-01-01T00:00:00.000000Z|not-a-uuid`),
      encoded(`${Buffer.from(issued, 'base64url').toString()}|${id}`),
      encoded(Buffer.from(issued, 'base64url').toString().replace('T', ' ')),
    ];
    const refused = [];
    for (const after of cursors) {
      const res = await h.gql(auth, PAGE, { id: m.id, first: 5, after });
      refused.push({ after, codes: res.errors?.map((e) => e.extensions.code), paths: res.errors?.[0]?.extensions.fields?.map((f: { path: string }) => f.path) });
    }
    expect(refused).toEqual(cursors.map((after) => ({ after, codes: ['BAD_USER_INPUT'], paths: ['after'] })));
  });

  it('counts all of the member\'s orders in totalCount, merged records\' included, whatever the page size', async () => {
    const { auth } = await b.apiKey();
    const m = await b.member().save();
    const other = await b.member().save();
    for (let i = 0; i < 3; i++) await h.gql(auth, RECORD_ORDER, { input: orderInput(m.id) });
    await h.gql(auth, RECORD_ORDER, { input: orderInput(other.id) });
    const Q = `query($id: ID!) { member(id: $id) { orders(first: 1) { totalCount edges { node { id } } } } }`;
    const page = (await h.gql(auth, Q, { id: m.id })).data.member.orders;
    expect([page.totalCount, page.edges.length]).toEqual([3, 1]);
    await h.app.services.members.merge(b.ctx(), { survivorId: m.id, absorbedId: other.id });
    expect((await h.gql(auth, Q, { id: m.id })).data.member.orders.totalCount).toBe(4);
    const none = await b.member().save();
    expect((await h.gql(auth, Q, { id: none.id })).data.member.orders).toEqual({ totalCount: 0, edges: [] });
  });

  it('batches totalCount: a page of members costs the same statements for 2 as for 6', async () => {
    const admin = await b.admin();
    const { auth } = await b.apiKey();
    for (let i = 0; i < 6; i++) await h.gql(auth, RECORD_ORDER, { input: orderInput((await b.member().save()).id) });
    const page = (n: number) => h.gql(admin.auth, `{ members(first: ${n}) { edges { node { orders(first: 1) { totalCount } } } } }`);
    const [two, six] = [await page(2), await page(6)];
    expect(six.data.members.edges.map((e: any) => e.node.orders.totalCount)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Number(six.headers['x-db-queries'])).toBe(Number(two.headers['x-db-queries']));
  });
});
