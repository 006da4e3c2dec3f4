import { expectError, useHarness } from '../../../test/support/harness';
import { build, AdminRole } from '../../../test/fixtures/build';
import { orderInput, RECORD_ORDER } from '../../../test/support/orders';
import { plugin } from '../src';
import { inBirthdayWeek } from '../src/brand-bonus';

// The API as a retailer would run it with LOYALTY_PLUGINS naming this plugin.
const h = useHarness({}, { plugins: [plugin] });
const b = build(h);

const CREATE_RULE = `mutation Create($input: EarningRuleInput!) {
  createEarningRule(input: $input) { id ruleKey version kind params }
}`;
const KINDS = `{ earningRuleKinds { kind label isBuiltIn params { name label type required min max maxLength } } }`;

/** An order whose lines carry a brand (recordOrder stores it on the product). */
function brandedOrder(memberId: string, lines: Array<{ sku: string; brand: string | null; unitPriceMinor: number; quantity?: number }>) {
  const input = orderInput(memberId, lines.map(({ sku, unitPriceMinor, quantity }) => ({ sku, unitPriceMinor, quantity })));
  return { ...input, lines: input.lines.map((l, i) => ({ ...l, brand: lines[i].brand })) };
}

describe('brand-bonus plugin', () => {
  it('lists BRAND_BONUS after the built-in kinds, with its params', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const res = await h.gql(admin.auth, KINDS);
    expect(res.errors).toBeUndefined();
    const kinds = res.data.earningRuleKinds as Array<{ kind: string; isBuiltIn: boolean; params: unknown[] }>;
    expect(kinds.map((k) => k.kind)).toEqual(['BASE_RATE', 'CATEGORY_MULTIPLIER', 'PRODUCT_MULTIPLIER', 'CHANNEL_MULTIPLIER', 'BONUS', 'ORDER_CAP', 'DAILY_CAP', 'BRAND_BONUS']);
    expect(kinds.at(-1)).toEqual({
      kind: 'BRAND_BONUS',
      label: 'Brand bonus',
      isBuiltIn: false,
      params: [
        { name: 'brand', label: 'Brand', type: 'string', required: true, min: null, max: null, maxLength: 100 },
        { name: 'extraPercent', label: 'Extra %', type: 'percent', required: true, min: 1, max: 1000, maxLength: null },
        { name: 'when', label: 'When', type: 'enum', required: false, min: null, max: null, maxLength: null },
      ],
    });
  });

  it("gives 3x points on the brand only in the member's birthday week, counted in the programme's time zone (the journey's rule)", async () => {
    await b.baseRate(1, 100);
    const admin = await b.admin(AdminRole.ADMIN);
    const brand = `Own${Date.now()}`;
    const created = await h.gql(admin.auth, CREATE_RULE, {
      input: { name: 'Birthday week: 3x on our brand', kind: 'BRAND_BONUS', priority: 0, params: { brand, extraPercent: 200, when: 'BIRTHDAY_WEEK' } },
    });
    expect(created.errors).toBeUndefined();
    const today = new Date();
    const iso = (at: Date) => at.toISOString().slice(0, 10);
    const inTwoDays = iso(new Date(today.getTime() + 2 * 86_400_000)).replace(/^\d{4}/, '1990');
    const inTenDays = iso(new Date(today.getTime() + 10 * 86_400_000)).replace(/^\d{4}/, '1990');
    const web = await b.apiKey();
    const earned = async (birthday: string | null) => {
      const member = await b.member().save();
      await h.sql(`update member set birthday = ? where id = ?`, [birthday, member.id]);
      const res = await h.gql(web.auth, RECORD_ORDER, { input: brandedOrder(member.id, [{ sku: `${brand}-1`, brand, unitPriceMinor: 1000 }, { sku: 'OTHER-1', brand: 'Other', unitPriceMinor: 500 }]) });
      expect(res.errors).toBeUndefined();
      return res.data.recordOrder.pointsBreakdown.map((x: { kind: string; points: number }) => [x.kind, x.points]);
    };
    // Base 10 + 5; in the birthday week 200% more of the brand's 10.
    expect(await earned(inTwoDays)).toEqual([['BASE_RATE', 15], ['BRAND_BONUS', 20]]);
    expect(await earned(inTenDays)).toEqual([['BASE_RATE', 15]]);
    expect(await earned(null)).toEqual([['BASE_RATE', 15]]);
  });

  it('counts the birthday week in local days, across New Year, and keeps a 29 February birthday on the 28th', () => {
    const at = (iso: string) => new Date(iso);
    expect(inBirthdayWeek(at('2026-06-12T12:00:00Z'), '1990-06-15', 'UTC')).toBe(true);
    expect(inBirthdayWeek(at('2026-06-11T23:59:59Z'), '1990-06-15', 'UTC')).toBe(false);
    expect(inBirthdayWeek(at('2026-06-18T23:59:59Z'), '1990-06-15', 'UTC')).toBe(true);
    expect(inBirthdayWeek(at('2026-06-19T00:00:00Z'), '1990-06-15', 'UTC')).toBe(false);
    // 23:30 UTC on the 11th is already the 12th in Tokyo.
    expect(inBirthdayWeek(at('2026-06-11T23:30:00Z'), '1990-06-15', 'Asia/Tokyo')).toBe(true);
    expect(inBirthdayWeek(at('2026-12-30T10:00:00Z'), '1990-01-01', 'UTC')).toBe(true);
    expect(inBirthdayWeek(at('2027-01-03T10:00:00Z'), '1990-12-31', 'UTC')).toBe(true);
    expect(inBirthdayWeek(at('2027-02-25T10:00:00Z'), '1992-02-29', 'UTC')).toBe(true);
    expect(inBirthdayWeek(at('2027-03-04T10:00:00Z'), '1992-02-29', 'UTC')).toBe(false);
    expect(inBirthdayWeek(at('2026-06-15T10:00:00Z'), null, 'UTC')).toBe(false);
  });

  it('a BRAND_BONUS rule made through GraphQL adds points on that brand, with its own breakdown line', async () => {
    await b.baseRate(1, 100);
    const admin = await b.admin(AdminRole.ADMIN);
    const created = await h.gql(admin.auth, CREATE_RULE, {
      input: { name: 'Acme double points', kind: 'BRAND_BONUS', priority: 0, params: { brand: 'Acme', extraPercent: 100 } },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data.createEarningRule).toMatchObject({ kind: 'BRAND_BONUS', version: 1, params: { brand: 'Acme', extraPercent: 100 } });

    const member = await b.member().save();
    const web = await b.apiKey();
    // £25 of Acme (any case), £12.50 of another brand, £5 of no brand: base 25 + 12 + 5, and 25 more for Acme.
    const res = await h.gql(web.auth, RECORD_ORDER, {
      input: brandedOrder(member.id, [
        { sku: 'ACME-KETTLE', brand: 'ACME', unitPriceMinor: 1500 },
        { sku: 'ACME-MUG', brand: 'acme ', unitPriceMinor: 500, quantity: 2 },
        { sku: 'OTHER-TEA', brand: 'Other', unitPriceMinor: 1250 },
        { sku: 'LOOSE-SUGAR', brand: null, unitPriceMinor: 500 },
      ]),
    });
    expect(res.errors).toBeUndefined();
    const order = res.data.recordOrder;
    expect(order.pointsEarned).toBe(42 + 25);
    expect(order.pointsBreakdown).toEqual([
      expect.objectContaining({ kind: 'BASE_RATE', points: 42 }),
      { kind: 'BRAND_BONUS', label: 'Acme double points', ruleId: created.data.createEarningRule.id, ruleVersion: 1, points: 25 },
    ]);
    const [ledger] = await h.sql<{ delta: number }>(
      `select (pending_delta + available_delta)::int as delta from ledger_entry where source_type = 'order' and source_id = ?`,
      [order.id],
    );
    expect(ledger.delta).toBe(67);
  });

  it('refuses bad params with BAD_USER_INPUT naming each one, and writes no rule', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const before = await h.sql<{ n: number }>(`select count(*)::int as n from earning_rule`);
    const res = await h.gql(admin.auth, CREATE_RULE, {
      input: { name: 'Bad', kind: 'BRAND_BONUS', priority: 0, params: { brand: '   ', extraPercent: 5000, colour: 'red' } },
    });
    const error = expectError(res, 'BAD_USER_INPUT');
    expect(error.extensions.fields).toEqual(
      expect.arrayContaining([
        { path: 'input.params.brand', message: 'must not be blank' },
        { path: 'input.params.extraPercent', message: 'must be from 1 to 1000' },
        { path: 'input.params.colour', message: 'is not a param of BRAND_BONUS' },
      ]),
    );
    const missing = await h.gql(admin.auth, CREATE_RULE, { input: { name: 'Bad', kind: 'BRAND_BONUS', priority: 0 } });
    expect(expectError(missing, 'BAD_USER_INPUT').extensions.fields).toEqual([
      { path: 'input.params.brand', message: 'is required' },
      { path: 'input.params.extraPercent', message: 'is required' },
    ]);
    const after = await h.sql<{ n: number }>(`select count(*)::int as n from earning_rule`);
    expect(after[0].n).toBe(before[0].n);
  });
});
