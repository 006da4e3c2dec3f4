/**
 * Hostile edges of member search by a whole phone number, the timeline's keyset cursor, and the variable-error path
 * (found by an audit; each failed before its fix).
 */
import { useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { RECORD_ORDER, orderInput } from '../support/orders';

const h = useHarness();
const b = build(h);
const SEARCH = `query($s: String) { members(search: $s, first: 10) { edges { node { id lastName } } } }`;
const TIMELINE = `query($id: ID!, $after: String) { member(id: $id) { timeline(first: 2, after: $after) { edges { cursor } pageInfo { endCursor } } } }`;
const ADJ = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const b64 = (s: string) => Buffer.from(s).toString('base64url');

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;

beforeAll(async () => {
  await b.baseRate(1, 100);
  admin = await b.admin();
});

describe('members(search) with a phone number among other words', () => {
  it('still requires every word: "Smith 07911 123666" does not find Ann Jones, whose phone that is', async () => {
    const jones = await b.member().withPhone('+447911123666').named('Ann', 'Jones').save();
    const smith = await b.member().withEmail('bob.smith@example.com').named('Bob', 'Smith').save();
    const res = await h.gql(admin.auth, SEARCH, { s: 'Smith 07911 123666' });
    expect(res.errors).toBeUndefined();
    const found = res.data.members.edges.map((e: any) => e.node.id);
    // libphonenumber would find the number inside any text; here the words around it must match too, and no one is
    // both "Smith" and that number.
    expect(found).not.toContain(jones.id);
    expect(found).not.toContain(smith.id);
    // The number alone, or with the owner's own name, finds her.
    for (const s of ['07911 123666', 'Jones 07911 123666', 'ann (07911) 123-666', '+44 7911 123666 jones']) {
      const res = await h.gql(admin.auth, SEARCH, { s });
      expect([s, res.data.members.edges.map((e: any) => e.node.id)]).toEqual([s, [jones.id]]);
    }
  });

  it('refuses an analyst a phone search (FORBIDDEN)', async () => {
    const analyst = await b.admin(AdminRole.ANALYST);
    const res = await h.gql(analyst.auth, SEARCH, { s: '07911 123666' });
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
  });
});

describe('timeline cursors', () => {
  it('refuses a cursor that is not exactly t:<at>|<type>|<id> (no prefix, or extra parts) as BAD_USER_INPUT, as Member.orders does', async () => {
    const till = await b.apiKey();
    const m = await b.member().save();
    for (let i = 0; i < 3; i++) await h.gql(till.auth, RECORD_ORDER, { input: orderInput(m.id, [{ unitPriceMinor: 1000 }]) });
    const first = await h.gql(admin.auth, TIMELINE, { id: m.id });
    const text = Buffer.from(first.data.member.timeline.pageInfo.endCursor, 'base64url').toString();
    expect(text.startsWith('t:')).toBe(true);
    const answers: Record<string, unknown> = {};
    for (const [name, cursor] of Object.entries({ withoutPrefix: text.slice(2), withExtraParts: `${text}|junk|more` })) {
      const res = await h.gql(admin.auth, TIMELINE, { id: m.id, after: b64(cursor) });
      answers[name] = res.errors?.map((e) => e.extensions.code) ?? 'accepted';
    }
    expect(answers).toEqual({ withoutPrefix: ['BAD_USER_INPUT'], withExtraParts: ['BAD_USER_INPUT'] });
  });
});

describe('variable error paths', () => {
  it('does not name a field the caller never sent when an unknown key quotes graphql-js’s wording', async () => {
    const m = await b.member().save();
    const key = 'z" is not defined by type "Q';
    const res = await h.gql(admin.auth, ADJ, { i: { memberId: m.id, points: 5, reason: 'x', idempotencyKey: 'k', [key]: 1 } });
    expect(res.errors?.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const paths = res.errors![0].extensions.fields.map((f: { path: string }) => f.path);
    // Not "i.z", a field neither the input type nor the request has: the crafted key leaves the error on the object.
    expect(paths).toEqual(['i']);
  });
});
