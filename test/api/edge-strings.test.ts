import { useHarness, type Auth, type GqlResult, type Harness } from '../support/harness';
import { build } from '../fixtures/build';
import { orderInput } from '../support/orders';
import { sqlInErrors } from '../support/error-leaks';

// A NUL byte or a lone UTF-16 surrogate in any string argument reached PostgreSQL, which refused it with a driver error:
// INTERNAL_SERVER_ERROR, and in development the message echoed the SQL with the value. Every string of every argument
// (variables, literals, nested inputs, lists, JSON values and keys) is now checked once at the edge, before any resolver.

/** Control characters other than tab, newline and carriage return, and surrogates without their pair, at each end too. */
const BAD_STRINGS: Array<[string, string]> = [
  ['a NUL byte', 'ab\u0000cd'],
  ['a lone NUL', '\u0000'],
  ['a bell', 'ding\u0007'],
  ['an escape sequence', '\u001b[31mred'],
  ['a form feed', 'a\u000cb'],
  ['a unit separator at the end', 'abc\u001f'],
  ['a lone high surrogate', 'x\ud800y'],
  ['a high surrogate at the end', 'emoji cut \ud83d'],
  ['a lone low surrogate at the start', '\udc00abc'],
  ['a low surrogate before its high one', 'x\ude00\ud83dy'],
];
const CONTROL = 'must not contain control characters other than tab, newline and carriage return';
const SURROGATE = 'must not contain unpaired UTF-16 surrogates';
const expectedMessage = (value: string) => (/[\u0000-\u001f]/.test(value) ? CONTROL : SURROGATE);
/** A JSON key's problem is told of the object holding it. */
const inKey = (message: string) => `keys ${message}`;

const UNUSED_ID = '01900000-0000-7000-8000-000000000000';

interface Case {
  name: string;
  /** Who calls it: the admin, a channel's API key, or nobody (login). */
  caller: 'admin' | 'channel' | 'anonymous';
  query: string;
  variables: (bad: string) => Record<string, unknown>;
  path: string;
  /** The bad string is a JSON key, not a value. */
  isKey?: boolean;
}

/** The operations an attacker hit, one string argument each, at every depth an argument can hide a string. */
function cases(fx: { memberId: string }): Case[] {
  return [
    { name: 'members(search)', caller: 'admin', query: `query($s: String) { members(search: $s) { totalCount } }`, variables: (s) => ({ s }), path: 'search' },
    {
      name: 'memberByIdentifier(value)',
      caller: 'channel',
      query: `query($v: String!) { memberByIdentifier(type: EMAIL, value: $v) { id } }`,
      variables: (v) => ({ v }),
      path: 'value',
    },
    {
      name: 'enrolMember(input.firstName)',
      caller: 'channel',
      query: `mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id } }`,
      variables: (s) => ({ i: { email: 'edge-enrol@test.example', firstName: s } }),
      path: 'input.firstName',
    },
    {
      name: 'updateMember(input.lastName)',
      caller: 'admin',
      query: `mutation($i: UpdateMemberInput!) { updateMember(input: $i) { id } }`,
      variables: (s) => ({ i: { id: fx.memberId, lastName: s } }),
      path: 'input.lastName',
    },
    {
      name: 'recordOrder(input.externalOrderId)',
      caller: 'channel',
      query: `mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }`,
      variables: (s) => ({ i: { ...orderInput(fx.memberId), externalOrderId: s } }),
      path: 'input.externalOrderId',
    },
    {
      name: 'recordOrder(input.lines[1].sku)',
      caller: 'channel',
      query: `mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id } }`,
      variables: (s) => {
        const input = orderInput(fx.memberId, [{}, {}]);
        input.lines[1].sku = s;
        return { i: input };
      },
      path: 'input.lines.1.sku',
    },
    {
      name: 'consumeVoucher(input.voucherCode)',
      caller: 'channel',
      query: `mutation($i: ConsumeVoucherInput!) { consumeVoucher(input: $i) { id } }`,
      variables: (s) => ({ i: { voucherCode: s } }),
      path: 'input.voucherCode',
    },
    {
      name: 'login(input.password)',
      caller: 'anonymous',
      query: `mutation($i: LoginInput!) { login(input: $i) { token } }`,
      variables: (s) => ({ i: { email: 'nobody@test.example', password: s } }),
      path: 'input.password',
    },
    {
      name: 'redeemReward(input.idempotencyKey)',
      caller: 'channel',
      query: `mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id } }`,
      variables: (s) => ({ i: { memberId: fx.memberId, rewardId: UNUSED_ID, idempotencyKey: s } }),
      path: 'input.idempotencyKey',
    },
    {
      name: 'adjustPoints(input.reason), which the audit row stores as JSON',
      caller: 'admin',
      query: `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`,
      variables: (s) => ({ i: { memberId: fx.memberId, points: 10, reason: s, idempotencyKey: 'edge-adjust' } }),
      path: 'input.reason',
    },
    {
      name: 'previewSegment(input.rule) with the bad string as a JSON value',
      caller: 'admin',
      query: `query($i: PreviewSegmentInput!) { previewSegment(input: $i) { count } }`,
      variables: (s) => ({ i: { rule: { and: [{ attribute: 'pointsBalance', op: 'gte', value: 0 }, { attribute: 'country', op: 'eq', value: s }] } } }),
      path: 'input.rule.and.1.value',
    },
    {
      name: 'previewSegment(input.rule) with the bad string as a JSON key',
      caller: 'admin',
      query: `query($i: PreviewSegmentInput!) { previewSegment(input: $i) { count } }`,
      variables: (s) => ({ i: { rule: { attribute: 'country', op: 'eq', value: 'GB', [s]: 1 } } }),
      path: 'input.rule',
      isKey: true,
    },
    {
      name: "createEarningRule(input.params), a plugin kind's arguments as JSON",
      caller: 'admin',
      query: `mutation($i: EarningRuleInput!) { createEarningRule(input: $i) { id } }`,
      variables: (s) => ({ i: { name: 'Edge brand', kind: 'BASE_RATE', priority: 0, params: { brand: s, extraPercent: 100 } } }),
      path: 'input.params.brand',
    },
    {
      name: 'Member.orders(after), an argument below the root field',
      caller: 'admin',
      query: `query($id: ID!, $after: String) { member(id: $id) { orders(first: 5, after: $after) { totalCount } } }`,
      variables: (after) => ({ id: fx.memberId, after }),
      path: 'member.orders.after',
    },
  ];
}

/** What the database holds that any of the cases could have written. */
async function footprint(h: Harness) {
  const [row] = await h.sql<Record<string, string>>(
    `select (select count(*) from member) members, (select count(*) from customer_order) orders, (select count(*) from ledger_entry) ledger,
            (select count(*) from audit_entry) audit, (select count(*) from redemption) redemptions,
            (select string_agg(coalesce(last_name, ''), ',') from member) names`,
  );
  return row;
}

function describeEdge(mode: 'production' | 'development') {
  describe(`in ${mode}`, () => {
    const h = useHarness({ NODE_ENV: mode, LOGIN_MAX_FAILURES: '100' });
    const b = build(h);
    let auths: Record<Case['caller'], Auth>;
    let all: Case[];

    beforeAll(async () => {
      const admin = await b.admin();
      const key = await b.apiKey();
      auths = { admin: admin.auth, channel: key.auth, anonymous: null };
      all = cases({ memberId: (await b.member().named('Edge', 'Case').save()).id });
    });

    function check(res: GqlResult<unknown>, path: string, message: string, sent: unknown) {
      return {
        status: res.status,
        codes: (res.errors ?? []).map((e) => e.extensions.code),
        hasField: (res.errors ?? []).some((e) => (e.extensions.fields ?? []).some((f: { path: string; message: string }) => f.path === path && f.message === message)),
        data: res.data ?? null,
        sql: sqlInErrors(res.errors, sent),
      };
    }

    it('refuses a control character or lone surrogate in every listed argument with BAD_USER_INPUT on its path, HTTP 400, writing nothing', async () => {
      const before = await footprint(h);
      const failures: unknown[] = [];
      for (const c of all) {
        for (const [what, bad] of BAD_STRINGS) {
          const variables = c.variables(bad);
          const res = await h.gql(auths[c.caller], c.query, variables);
          const message = c.isKey ? inKey(expectedMessage(bad)) : expectedMessage(bad);
          const got = check(res, c.path, message, variables);
          const want = { status: 400, codes: ['BAD_USER_INPUT'], hasField: true, data: null, sql: [] };
          if (JSON.stringify(got) !== JSON.stringify(want)) failures.push({ case: c.name, value: what, got, errors: res.errors });
        }
      }
      expect(failures).toEqual([]);
      expect(await footprint(h)).toEqual(before);
    });

    it('checks literals in the document too, inside inline fragments and named fragments at any depth', async () => {
      const documents: Array<[string, string]> = [
        [`{ members(search: "a\\u0000b") { totalCount } }`, 'search'],
        [`{ ... on Query { members(search: "\\u0007") { totalCount } } }`, 'search'],
        [`query { ...Outer } fragment Outer on Query { ...Inner } fragment Inner on Query { ... { members(search: "x\\u001b") { totalCount } } }`, 'search'],
        [`mutation { ... on Mutation { adjustPoints(input: { memberId: "${UNUSED_ID}", points: 1, reason: "r\\u0000", idempotencyKey: "k" }) { available } } }`, 'input.reason'],
      ];
      for (const [query, path] of documents) {
        const res = await h.gql(auths.admin, query);
        expect({ query, ...check(res, path, CONTROL, {}) }).toEqual({ query, status: 400, codes: ['BAD_USER_INPUT'], hasField: true, data: null, sql: [] });
      }
    });

    it('keeps tab, newline and carriage return, and well-formed astral characters, in free text', async () => {
      const member = await b.member().save();
      const reason = 'line one\r\nline two\tindented 😀 done';
      const res = await h.gql(auths.admin, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`, {
        i: { memberId: member.id, points: 5, reason, idempotencyKey: `edge-ok-${mode}` },
      });
      expect(res.errors).toBeUndefined();
      const [entry] = await h.sql(`select note from ledger_entry where member_id = ? and note = ?`, [member.id, reason]);
      expect(entry).toEqual({ note: reason });
      const [audit] = await h.sql(`select after->>'reason' reason from audit_entry where after->>'reason' = ?`, [reason]);
      expect(audit).toEqual({ reason });
    });

    it('answers an unexpected database error with a bare message: no SQL, no values, no stack trace', async () => {
      const secret = 'sekrit-value-42';
      const spy = jest.spyOn(h.app.services.members, 'read').mockImplementation(async (ctx) => {
        await ctx.em.getConnection().execute(`select id from member where email = ?::int`, [secret]);
        throw new Error('unreachable');
      });
      try {
        const res = await h.gql(auths.admin, `query($id: ID!) { member(id: $id) { id } }`, { id: UNUSED_ID });
        expect(res.errors).toHaveLength(1);
        expect(res.errors![0]).toEqual({
          message: 'Internal server error',
          path: ['member'],
          locations: expect.any(Array),
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
        });
        expect(JSON.stringify(res.errors)).not.toContain(secret);
      } finally {
        spy.mockRestore();
      }
    });
  });
}

describeEdge('production');
describeEdge('development');
