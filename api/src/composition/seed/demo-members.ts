import { ConsentMedium } from '../../modules/members/member-consent.entity';
import { Member } from '../../modules/members/member.entity';
import { Referral } from '../../modules/referrals/referral.entity';
import { DAY_MS, HOUR_MS } from '../../base/time';
import { demoName, inParallel, seededRandom, type DemoSeedStep } from './demo-context';

/** The README's demo member: the imported customer with the most orders, under a name the README can use. */
export const DEMO_MEMBER = { firstName: 'Olivia', lastName: 'Taylor', email: 'olivia.taylor@example.com' } as const;
/** New members who enrol at the web shop with a referral code; the first ones also place their first order. */
const REFERRED_MEMBERS = 24;
const REFERRED_WHO_ORDERED = 16;

/**
 * Names, emails and marketing consents for the imported customers (the file has none), through the member service as
 * a CRM sync would: seven in ten grant email consent.
 */
export const profilesStep: DemoSeedStep = {
  name: 'member-profiles',
  async run({ rootEm, services, ctx, counts, web }) {
    // The demo web shop's customers only: an import into another channel (the README's `npm run import` on the demo's
    // database) may hold the same customer ids, whose made-up emails the web shop's members already have.
    const unnamed = await rootEm.fork().execute<{ id: string; customer_id: string; orders: number }[]>(
      `select m.id, i.value as customer_id, (select count(*) from customer_order o where o.member_id = m.id)::int as orders
         from member m join member_identifier i on i.member_id = m.id and i.type = 'CHANNEL_CUSTOMER_ID' and i.scope = ?
        where m.status = 'ACTIVE' and m.email is null and m.first_name is null
        order by i.value`,
      [web.id],
    );
    const showcase = unnamed.reduce<(typeof unnamed)[number] | null>((best, m) => (!best || m.orders > best.orders ? m : best), null);
    const hasShowcase = (await rootEm.fork().count(Member, { email: DEMO_MEMBER.email })) > 0;
    await inParallel(unnamed, async (m, n) => {
      const isShowcase = m === showcase && !hasShowcase;
      const { firstName, lastName } = isShowcase ? DEMO_MEMBER : demoName(Number(m.customer_id) || n);
      await services.members.update(ctx(), {
        id: m.id,
        firstName,
        lastName,
        email: isShowcase ? DEMO_MEMBER.email : `${firstName}.${lastName}.${m.customer_id}@example.com`.toLowerCase(),
        consents: [{ medium: ConsentMedium.EMAIL, isGranted: isShowcase || n % 10 < 7 }],
      });
    });
    counts.membersNamed = unnamed.length;
  },
};

/**
 * Referrals as the storefront makes them: new members enrol at the web shop with a regular customer's code, and most
 * of them then place a first order of the shop's best sellers, which completes the referral and credits both.
 */
export const referralsStep: DemoSeedStep = {
  name: 'referrals',
  async run({ rootEm, services, asWebShop, now, historyEnd, counts }) {
    const em = rootEm.fork();
    if ((await em.count(Referral, {})) > 0) return;
    const referrers = await em.execute<{ referral_code: string }[]>(
      `select m.referral_code from member m join member_balance b on b.member_id = m.id
        where m.status = 'ACTIVE' and m.email is not null order by b.lifetime desc, m.id limit 8`,
    );
    const bestSellers = await em.execute<{ sku: string; name: string; price: number }[]>(
      `select p.sku, p.name, percentile_disc(0.5) within group (order by l.unit_price_minor) as price
         from order_line l join product p on p.id = l.product_id
        group by p.sku, p.name order by count(*) desc, p.sku limit 30`,
    );
    if (referrers.length === 0 || bestSellers.length === 0) return;
    const random = seededRandom(2_011_12_09);
    // Within the history's last week: an order after its last day would move the first models' holdout window.
    const lastOrderAt = historyEnd ?? new Date(now.getTime() - 2 * DAY_MS);
    for (let i = 0; i < REFERRED_MEMBERS; i++) {
      const { firstName, lastName } = demoName(1000 + i * 7);
      const member = await services.members.enrol(asWebShop(), {
        firstName,
        lastName,
        email: `${firstName}.${lastName}.${i + 1}@example.net`.toLowerCase(),
        phone: i % 3 === 0 ? `+447911123${String(100 + i).slice(-3)}` : null,
        country: 'GB',
        consents: [{ medium: ConsentMedium.EMAIL, isGranted: i % 4 !== 3 }],
        referralCode: referrers[i % referrers.length].referral_code,
      });
      if (i >= REFERRED_WHO_ORDERED) continue;
      const lines = Array.from({ length: 2 + (i % 3) }, () => {
        const product = bestSellers[Math.floor(random() * bestSellers.length)];
        return { sku: product.sku, name: product.name, quantity: 12, unitPriceMinor: product.price, discountMinor: 0 };
      });
      // A first order large enough to qualify the referral (referralMinOrderMinor, £20 by default).
      while (lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0) < 3000) for (const l of lines) l.quantity *= 2;
      await services.orders.record(asWebShop(), {
        externalOrderId: `DEMO-WEB-${i + 1}`,
        member: { id: member.id },
        placedAt: new Date(lastOrderAt.getTime() - (REFERRED_WHO_ORDERED - 1 - i) * 9 * HOUR_MS),
        currency: 'GBP',
        lines,
        orderDiscountMinor: 0,
        totalMinor: lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0),
      });
    }
    counts.referrals = REFERRED_MEMBERS;
  },
};
