import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { readFileSync } from 'node:fs';
import { orderInput, RECORD_ORDER } from '../support/orders';

// The admin app is built for the distribution's plugins (the member page reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const MEMBER = `query M($id: ID!) { member(id: $id) { id status mergedIntoId email phone orders(first: 10) { totalCount } identifiers { type value } } }`;
const ERASE = `mutation($input: EraseMemberInput!) { eraseMember(input: $input) { id } }`;
const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const UPSERT_TIER = `mutation($i: UpsertTierInput!) { upsertTier(input: $i) { id } }`;

describeInBrowser('admin app: member actions', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let ada: { id: string };
  let duplicate: { id: string };
  let admin: { auth: { token: string } };

  beforeAll(async () => {
    await b.baseRate(1, 100);
    admin = await b.admin();
    ada = await b.member().named('Ada', 'Lovelace').withEmail('ada@engine.example').save();
    duplicate = await b.member().named('Ada', 'Lovelace').withEmail('ada.l@old.example').withPhone('+447911222444').save();
    const web = await b.apiKey();
    for (const [memberId, unitPriceMinor] of [[ada.id, 2000], [duplicate.id, 4500]] as const) {
      const order = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(memberId, [{ unitPriceMinor }]) });
      expect(order.errors).toBeUndefined();
    }
  });

  it('a marketer merges a duplicate after a preview of what moves, and may not erase', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, `/members/${ada.id}`);
    await page.getByTestId('member-merge').waitFor();
    expect(await page.getByTestId('member-erase').count()).toBe(0);
    expect(await page.getByTestId('member-export').count()).toBe(0);

    await page.getByTestId('member-merge').click();
    const form = page.getByTestId('member-merge-form');
    await form.getByLabel('Find the other record').fill('lovelace');
    await page.getByTestId('merge-candidate').waitFor();
    expect(await page.getByTestId('merge-candidate').count()).toBe(1);
    await page.getByTestId('merge-candidate').check();
    await page.getByTestId('merge-preview').waitFor();
    const items = Object.fromEntries(
      (await page.getByTestId('merge-preview-item').allInnerTexts()).map((t) => t.split('\n').map((s) => s.trim())).map(([k, ...v]) => [k, v.join(' ')]),
    );
    expect(items.Identifiers).toContain('email ada.l@old.example');
    expect(items.Identifiers).toContain('phone +447911222444');
    expect(items.Orders).toBe('1');
    expect(items.Points).toBe('0 available, 45 pending, 45 lifetime');
    expect(items['Profile gaps filled']).toBe('Phone: +447911222444');
    await screenshot(page, 'member-merge-preview');

    await form.getByLabel('Reason').fill('Same person, two emails');
    await page.getByTestId('member-merge-confirm').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid="member-action-dialog"]')?.hasAttribute('open'));
    expect(new URL(page.url()).pathname).toBe(`/members/${ada.id}`);
    await page.getByTestId('order-row').nth(1).waitFor();

    const absorbed = (await h.gql(admin.auth, MEMBER, { id: duplicate.id })).data.member;
    expect(absorbed.id).toBe(ada.id);
    const survivor = absorbed;
    expect(survivor.orders.totalCount).toBe(2);
    expect(survivor.phone).toBe('+447911222444');
    expect(survivor.identifiers.map((i: { value: string }) => i.value).sort()).toEqual(['+447911222444', 'ada.l@old.example', 'ada@engine.example']);
    const [merged] = await h.sql<{ status: string; merged_into_id: string }>(`select status, merged_into_id from member where id = ?`, [duplicate.id]);
    expect(merged).toEqual({ status: 'MERGED', merged_into_id: ada.id });
  });

  it('an admin erases a member only after giving a reference and typing ERASE', async () => {
    const { page } = session;
    const grace = await b.member().named('Grace', 'Hopper').withEmail('grace@navy.example').save();
    await signIn(AdminRole.ADMIN, `/members/${grace.id}`);
    await page.getByTestId('member-erase').click();
    const form = page.getByTestId('member-erase-form');
    await form.getByLabel('Request reference').fill('DSR-2041');
    expect(await page.getByTestId('member-erase-confirm').isDisabled()).toBe(true);
    await form.getByLabel('Type ERASE to confirm').fill('erase');
    expect(await page.getByTestId('member-erase-confirm').isDisabled()).toBe(true);
    await form.getByLabel('Type ERASE to confirm').fill('ERASE');
    await page.getByTestId('member-erase-confirm').click();
    await page.waitForFunction(() => document.querySelector('.page-summary')?.textContent === 'Erased');
    expect(await page.locator('body').textContent()).not.toContain('grace@navy.example');
    expect(await page.getByTestId('member-erase').count()).toBe(0);

    const erased = (await h.gql(admin.auth, MEMBER, { id: grace.id })).data.member;
    expect(erased).toMatchObject({ status: 'ERASED', email: null, identifiers: [] });
    const [audit] = await h.sql<{ after: { reason: string } }>(`select after from audit_entry where action = 'member.erase' and entity_id = ?`, [grace.id]);
    expect(audit.after.reason).toBe('DSR-2041');
    expect(await text('member-profile')).not.toContain('Grace');
  });

  it('an erased member\'s page keeps the history, names both balances the erasure forfeited, and shows no progress, challenges or prediction', async () => {
    const { page } = session;
    for (const [code, name, threshold] of [['GREEN', 'Green', 0], ['SILVER', 'Silver', 1000]] as const) {
      expect((await h.gql(admin.auth, UPSERT_TIER, { i: { code, name, threshold } })).errors).toBeUndefined();
    }
    const edsger = await b.member().named('Edsger', 'Dijkstra').save();
    const web = await b.apiKey();
    // £712 earns 712 points, pending through the return window; 50 points of goodwill are available at once.
    expect((await h.gql(web.auth, RECORD_ORDER, { input: orderInput(edsger.id, [{ unitPriceMinor: 71200 }]) })).errors).toBeUndefined();
    const goodwill = { memberId: edsger.id, points: 50, reason: 'Goodwill', idempotencyKey: `goodwill-${edsger.id}` };
    expect((await h.gql(admin.auth, ADJUST, { i: goodwill })).errors).toBeUndefined();
    await signIn(AdminRole.ADMIN, `/members/${edsger.id}`);
    expect(await text('tier-progress')).toMatch(/ more points to Silver /);
    expect(await text('member-risk')).toContain('churn');

    expect((await h.gql(admin.auth, ERASE, { input: { id: edsger.id, reason: 'DSR-88' } })).errors).toBeUndefined();
    await page.reload();
    await page.waitForFunction(() => document.querySelector('.page-summary')?.textContent === 'Erased');
    // The account is closed: nothing lies ahead of the member, neither a tier, nor a prediction, nor a product to offer.
    expect(await text('tier-closed')).toBe('Points account closed at erasure');
    expect(await page.getByTestId('tier-progress').count()).toBe(0);
    expect(await text('points-next-expiry')).toBe('Closed at erasure: nothing is left to expire');
    expect(await page.getByTestId('member-churn').count()).toBe(0);
    expect(await page.getByTestId('member-value').count()).toBe(0);
    expect(await page.getByTestId('member-recommendations').count()).toBe(0);
    // Erasure deleted the member's challenge progress and badges: the card reads closed, not "none joined yet".
    expect(await text('challenges-closed')).toBe("Closed at erasure: the member's challenge progress and badges were deleted");
    expect(await page.getByTestId('challenges-empty').count()).toBe(0);
    // What happened stays: the order, and one ledger row that forfeits the available and the pending points alike.
    await page.getByTestId('order-row').first().waitFor();
    await page.getByTestId('timeline-entry').first().waitFor();
    const timeline = await page.getByTestId('timeline-entry').allTextContents();
    expect(timeline.filter((entry) => entry.includes('Erasure forfeit'))).toEqual([expect.stringMatching(/Erasure forfeit: −50 available, −712 pending$/)]);
    expect(timeline.some((entry) => entry.includes('Adjustment: +50 available'))).toBe(true);
  });

  it('an admin downloads a member\'s data export as JSON, before and after erasure', async () => {
    const { page } = session;
    const alan = await b.member().named('Alan', 'Turing').withEmail('alan@bletchley.example').save();
    await signIn(AdminRole.ADMIN, `/members/${alan.id}`);
    await page.getByTestId('member-export').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('member-export').click()]);
    expect(download.suggestedFilename()).toBe(`member-${alan.id}.json`);
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(file).toMatchObject({ format: 'loyalty-member-export/1', memberId: alan.id, recordIds: [alan.id] });
    expect(file.sections.profile).toEqual([expect.objectContaining({ email: 'alan@bletchley.example', first_name: 'Alan' })]);
    expect(Object.keys(file.sections)).toEqual(expect.arrayContaining(['orders', 'points', 'plugin:activities', 'plugin:challenges']));

    await h.gql(admin.auth, ERASE, { input: { id: alan.id, reason: 'DSR-7' } });
    await page.reload();
    await page.getByTestId('member-export').waitFor();
    const [after] = await Promise.all([page.waitForEvent('download'), page.getByTestId('member-export').click()]);
    const erased = JSON.parse(readFileSync((await after.path())!, 'utf8'));
    expect(erased.sections.profile).toEqual([expect.objectContaining({ status: 'ERASED', email: null, first_name: null })]);
    const exports = await h.sql(`select actor from audit_entry where action = 'member.export' and entity_id = ?`, [alan.id]);
    expect(exports).toHaveLength(2);
  });
});
