import { useHarness } from '../support/harness';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';
import { describeInBrowser, screenshot, useAdminBrowser } from '../support/browser';
import { build, AdminRole } from '../fixtures/build';
import { orderInput, RECORD_ORDER } from '../support/orders';

// The admin app is built for the distribution's plugins (the member page reads their fields): load them.
const h = useHarness({ PORT: '0', HOST: '127.0.0.1' }, { plugins: DISTRIBUTION_PLUGINS });
const b = build(h);

const ENROL = `mutation E($input: EnrolMemberInput!) { enrolMember(input: $input) { id referralCode } }`;
const RECORD_FEEDBACK = `mutation F($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id } }`;
const UPSERT = `mutation($input: UpsertRewardInput!) { upsertReward(input: $input) { id } }`;
const ADJUST = `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }`;
const REDEEM = `mutation($input: RedeemRewardInput!) { redeemReward(input: $input) { voucherCode } }`;
const CONSUME = `mutation($input: ConsumeVoucherInput!) { consumeVoucher(input: $input) { status } }`;
const POINTS = `query($id: ID!) { member(id: $id) { points { available } } }`;

describeInBrowser('admin app: referrals, feedback inbox, voucher lookup', () => {
  const session = useAdminBrowser(async () => `http://127.0.0.1:${await h.app.listen()}`, (role) => b.admin(role));
  const { signIn, text } = session;
  let referrer: { id: string; referralCode: string };
  let credited: { id: string };
  let holder: { id: string };
  let voucherCode: string;
  let admin: { token: string };
  let rewardId: string;

  beforeAll(async () => {
    admin = (await b.admin()).auth;
    await b.baseRate(1, 100);
    const web = await b.apiKey();
    referrer = (await h.gql(admin, ENROL, { input: { email: 'ref@service.example' } })).data.enrolMember;
    credited = (await h.gql(admin, ENROL, { input: { email: 'friend1@service.example', referralCode: referrer.referralCode } })).data.enrolMember;
    await h.gql(admin, ENROL, { input: { email: 'friend2@service.example', referralCode: referrer.referralCode } });
    const order = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(credited.id, [{ unitPriceMinor: 3000 }]) });
    expect(order.errors).toBeUndefined();

    for (const [memberId, kind, score, comment] of [
      [credited.id, 'NPS', 3, 'Parcel was late'],
      [referrer.id, 'NPS', 10, 'Love it'],
      [referrer.id, 'CSAT', 5, null],
    ] as const) {
      const res = await h.gql(admin, RECORD_FEEDBACK, { input: { memberId, kind, score, comment, channelId: web.channelId } });
      expect(res.errors).toBeUndefined();
    }

    const reward = (await h.gql(admin, UPSERT, { input: { code: 'COFFEE', name: 'Free coffee', kind: 'FREE_PRODUCT', sku: 'COFFEE', costPoints: 100 } })).data.upsertReward;
    rewardId = reward.id;
    holder = await b.member().named('Vera', 'Voucher').save();
    await h.gql(admin, ADJUST, { i: { memberId: holder.id, points: 100, reason: 'test', idempotencyKey: `seed-${holder.id}` } });
    voucherCode = (await h.gql(admin, REDEEM, { input: { memberId: holder.id, rewardId: reward.id, idempotencyKey: 'svc-1' } })).data.redeemReward.voucherCode;
  });

  it('a marketer follows referrals by status, reads detractors with their comments, and looks up a voucher read out loud', async () => {
    const { page } = session;
    await signIn(AdminRole.MARKETER, '/operations');
    await page.waitForURL(/\/operations\/referrals$/);
    const tabs = await page.getByRole('navigation', { name: 'Operations' }).getByRole('link').allTextContents();
    expect(tabs).toEqual(['Referrals', 'Feedback inbox', 'Voucher lookup']);
    await page.getByTestId('referral-row').nth(1).waitFor();
    await page.getByTestId('referral-status-filter').selectOption('CREDITED');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="referral-row"]').length === 1);
    expect(await text('referral-status')).toBe('Credited');
    expect(await text('referral-row')).toContain(referrer.referralCode);
    expect(await text('referral-row')).toContain('500 + 500');
    await screenshot(page, 'referrals');
    await page.getByTestId('referral-referred').click();
    await page.waitForURL(`**/members/${credited.id}`);

    await page.goto(new URL('/operations/feedback', page.url()).toString());
    await page.getByTestId('inbox-row').nth(2).waitFor();
    await page.getByLabel('NPS band').selectOption('DETRACTOR');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="inbox-row"]').length === 1);
    expect(await text('inbox-answer')).toBe('NPS 3/10 Detractor');
    expect(await text('inbox-comment')).toBe('Parcel was late');
    await page.getByLabel('NPS band').selectOption('');
    await page.getByLabel('With a comment').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="inbox-row"]').length === 2);

    await page.getByRole('link', { name: 'Voucher lookup' }).click();
    await page.getByLabel('Voucher code').fill(`  ${voucherCode.slice(0, 4).toLowerCase()} ${voucherCode.slice(4).toLowerCase()}`);
    await page.getByTestId('voucher-find').click();
    await page.getByTestId('voucher-result').waitFor();
    expect(await text('voucher-result')).toContain('Free coffee');
    expect(await text('voucher-result')).toContain('Issued');
    expect(await text('voucher-result')).toContain(voucherCode);
    expect(await text('voucher-member')).toBe(`…${holder.id.slice(-8)}`);
    await screenshot(page, 'voucher-lookup');

    // Cancelled on the customer's request: two steps, the voucher stops working and the points come back.
    expect((await h.gql(admin, POINTS, { id: holder.id })).data.member.points.available).toBe(0);
    await page.getByTestId('voucher-cancel').click();
    await page.getByTestId('voucher-cancel-confirm').click();
    await page.getByTestId('voucher-cancelled').waitFor();
    expect(await text('voucher-result')).toContain('Cancelled');
    expect(await page.getByTestId('voucher-cancel').count()).toBe(0);
    expect((await h.gql(admin, POINTS, { id: holder.id })).data.member.points.available).toBe(100);
    const web = await b.apiKey();
    expect((await h.gql(web.auth, CONSUME, { input: { voucherCode } })).errors?.[0]?.extensions?.code).toBeDefined();

    // A voucher used at a till while the page still shows it issued: the cancel is refused and nothing is returned.
    const used = (await h.gql(admin, REDEEM, { input: { memberId: holder.id, rewardId, idempotencyKey: 'svc-2' } })).data.redeemReward.voucherCode;
    await page.getByLabel('Voucher code').fill(used);
    await page.getByTestId('voucher-find').click();
    await page.getByTestId('voucher-cancel').waitFor();
    expect((await h.gql(web.auth, CONSUME, { input: { voucherCode: used, orderRef: 'TILL-9' } })).data.consumeVoucher.status).toBe('CONSUMED');
    await page.getByTestId('voucher-cancel').click();
    await page.getByTestId('voucher-cancel-confirm').click();
    await page.getByTestId('voucher-cancel-error').waitFor();
    expect(await text('voucher-cancel-error')).toBe('This voucher was used, cancelled or expired in the meantime, so its points cannot be returned.');
    expect((await h.gql(admin, POINTS, { id: holder.id })).data.member.points.available).toBe(0);

    await page.getByLabel('Voucher code').fill('NOPE1234');
    await page.getByTestId('voucher-find').click();
    await page.getByTestId('voucher-not-found').waitFor();
  });

  it("a service agent reads a member's vouchers on the member page and cancels the unused one, and the points come back", async () => {
    const { page } = session;
    const member = await b.member().named('Otto', 'Owner').save();
    await h.gql(admin, ADJUST, { i: { memberId: member.id, points: 300, reason: 'test', idempotencyKey: `seed-${member.id}` } });
    const usedCode = (await h.gql(admin, REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: `m360-1-${member.id}` } })).data.redeemReward.voucherCode;
    const openCode = (await h.gql(admin, REDEEM, { input: { memberId: member.id, rewardId, idempotencyKey: `m360-2-${member.id}` } })).data.redeemReward.voucherCode;
    const web = await b.apiKey();
    expect((await h.gql(web.auth, CONSUME, { input: { voucherCode: usedCode, orderRef: 'TILL-42' } })).data.consumeVoucher.status).toBe('CONSUMED');

    await signIn(AdminRole.MARKETER, `/members/${member.id}`);
    const rows = page.getByTestId('member-voucher-row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    // Newest first: the open voucher, then the one used at the till.
    const [open, used] = [rows.nth(0), rows.nth(1)];
    expect(await open.textContent()).toContain(openCode);
    expect(await open.textContent()).toContain('Issued');
    expect(await open.textContent()).toContain('100 points');
    expect(await used.textContent()).toContain(usedCode);
    expect(await used.textContent()).toContain('on order TILL-42');
    expect(await used.getByTestId('voucher-cancel').count()).toBe(0);
    expect(await text('points-available-value')).toBe('100');
    const ledgerRows = await page.getByTestId('ledger-row').count();

    await open.getByTestId('voucher-cancel').click();
    await open.getByTestId('voucher-cancel-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="member-voucher-row"]')?.textContent?.includes('Cancelled'));
    expect(await open.getByTestId('voucher-cancel').count()).toBe(0);
    // The balance and the ledger follow without a reload: the returned points as a new, highlighted row.
    await page.waitForFunction(() => document.querySelector('[data-testid="points-available-value"]')?.textContent === '200');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="ledger-row"]').length === n + 1, ledgerRows);
    expect(await page.locator('[data-testid="ledger-row"].is-new').count()).toBe(1);
    await screenshot(page, 'member-vouchers');
    expect((await h.gql(admin, POINTS, { id: member.id })).data.member.points.available).toBe(200);
    expect((await h.gql(web.auth, CONSUME, { input: { voucherCode: openCode } })).errors?.[0]?.extensions).toMatchObject({ code: 'VOUCHER_UNUSABLE', reason: 'CANCELLED' });
  });

  it("a service agent cancels a member's running paid plan from the member page, and the member earns the base rate again", async () => {
    const { page } = session;
    const plan = await h.gql(admin, `mutation($input: UpsertMembershipPlanInput!) { upsertMembershipPlan(input: $input) { code } }`, {
      input: { code: 'PLUS', name: 'Plus', currency: 'GBP', durationDays: 30, feeMinor: 499, earnMultiplierPercent: 200 },
    });
    expect(plan.errors).toBeUndefined();
    const member = await b.member().named('Petra', 'Plan').save();
    const SUBSCRIBE = `mutation($input: SubscribeMemberInput!) { subscribeMemberToPlan(input: $input) { id startsAt } }`;
    const running = (await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'PLUS' } })).data.subscribeMemberToPlan;
    // Paid again before the first ended: a renewal from its end.
    const renewal = (await h.gql(admin, SUBSCRIBE, { input: { memberId: member.id, planCode: 'PLUS' } })).data.subscribeMemberToPlan;
    expect(Date.parse(renewal.startsAt)).toBeGreaterThan(Date.now());

    await signIn(AdminRole.MARKETER, `/members/${member.id}`);
    const rows = page.getByTestId('member-plan-row');
    await rows.nth(1).waitFor();
    expect(await text('member-tier')).toContain('Earns 200% of base points');
    // Newest first: the renewal, then the running one.
    expect(await rows.nth(0).textContent()).toContain('Starts later');
    expect(await rows.nth(1).textContent()).toContain('Running');
    expect(await rows.nth(1).textContent()).toContain('£4.99');
    await rows.nth(1).getByTestId('plan-cancel').click();
    await rows.nth(1).getByTestId('plan-cancel-confirm').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="member-plan-row"]')[1]?.textContent?.includes('Cancelled'));
    await page.waitForFunction(() => document.querySelector('[data-testid="member-tier"]')?.textContent?.includes('Earns 100% of base points'));
    expect(await rows.nth(1).getByTestId('plan-cancel').count()).toBe(0);
    expect(await rows.nth(0).getByTestId('plan-cancel').count()).toBe(1);
    const [stored] = await h.sql(`select cancelled_at from member_plan where id = ?`, [running.id]);
    expect(stored.cancelled_at).not.toBeNull();
    await screenshot(page, 'member-plans');
  });

  it('an analyst reads the inbox without comments and has no voucher lookup', async () => {
    const { page } = session;
    await signIn(AdminRole.ANALYST, '/operations/feedback');
    await page.getByTestId('inbox-row').nth(2).waitFor();
    const tabs = await page.getByRole('navigation', { name: 'Operations' }).getByRole('link').allTextContents();
    expect(tabs).toEqual(['Import', 'Referrals', 'Feedback inbox']);
    expect(await page.getByTestId('inbox-comment').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain('Parcel was late');

    // On a member's page the analyst sees what was redeemed, without the codes, and cannot cancel.
    await page.goto(new URL(`/members/${holder.id}`, page.url()).toString());
    await page.getByTestId('member-voucher-row').nth(1).waitFor();
    const rows = await page.getByTestId('member-voucher-row').allTextContents();
    expect(rows.every((r) => r.includes('Free coffee'))).toBe(true);
    expect(rows.join(' ')).not.toContain(voucherCode);
    expect(await page.getByTestId('voucher-cancel').count()).toBe(0);
  });
});
