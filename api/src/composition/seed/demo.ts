import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { Logger } from '../../base/logger';
import { SalesChannelKind } from '../../base/enums';
import type { Services } from '../services';
import { AdminRole, ApiKeyScope } from '../../modules/auth/permissions';
import { ApiKey } from '../../modules/channels/api-key.entity';
import { SalesChannel } from '../../modules/channels/sales-channel.entity';
import { Member } from '../../modules/members/member.entity';
import { ConsentMedium } from '../../modules/members/member-consent.entity';
import { EarningRule, EarningRuleKind } from '../../modules/earning/earning-rule.entity';
import { Tier } from '../../modules/tiers/tier.entity';
import { Reward, RewardKind } from '../../modules/rewards/reward.entity';
import { Order } from '../../modules/orders/order.entity';
import { TransactionImporter } from '../../modules/import/importer';
import { demoTransactions } from './demo-transactions';
import { DAY_MS } from '../../base/time';

export const DEMO_ADMIN = { email: 'admin@demo.loyalty', password: 'demo-admin-password' } as const;
const DEMO_CHANNELS = [
  { name: 'Demo web shop', kind: SalesChannelKind.WEB },
  { name: 'Demo store POS', kind: SalesChannelKind.STORE },
];
const DEMO_KEY_NAME = 'demo key (re-issued at every npm start)';
/** What the demo web-shop key may do: the storefront journey (README, docs/guides/quick-start.md), from enrolment to a redeemed voucher and feedback. */
export const DEMO_KEY_SCOPES: readonly ApiKeyScope[] = [
  ApiKeyScope.MEMBERS_READ,
  ApiKeyScope.MEMBERS_WRITE,
  ApiKeyScope.MEMBERS_MERGE,
  ApiKeyScope.ORDERS_WRITE,
  ApiKeyScope.ORDERS_READ,
  ApiKeyScope.REWARDS_REDEEM,
  ApiKeyScope.FEEDBACK_WRITE,
];

const FIRST = ['Olivia', 'Noah', 'Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Arthur', 'Mia', 'Leo', 'Ivy', 'Harry'];
const LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Wright'];
const COUNTRIES = ['GB', 'GB', 'GB', 'FR', 'DE', 'NL', 'IE', 'ES'];

export interface DemoSeedResult {
  adminEmail: string;
  adminPassword: string;
  channelName: string;
  apiKey: string;
  apiKeyScopes: string[];
  members: number;
  /** Where the demo orders came from: a slice of the real Online Retail file, or generated rows. */
  transactions: 'online-retail' | 'generated';
  ordersImported: number;
}

/**
 * Idempotent demo programme for `npm start`: a known admin login, two channels, a fresh web-shop key
 * (keys are stored hashed, so the previous one cannot be shown again and is revoked) and sample members.
 */
export async function seedDemo(rootEm: EntityManager, services: Services, log: Logger): Promise<DemoSeedResult> {
  const em = rootEm.fork();
  const ctx: Context = { em, principal: null, authError: null, requestId: 'seed', log };
  await services.adminAuth.upsertAdminUser(em, DEMO_ADMIN.email, DEMO_ADMIN.password, AdminRole.ADMIN);

  const channels: SalesChannel[] = [];
  for (const def of DEMO_CHANNELS) {
    channels.push((await em.findOne(SalesChannel, { name: def.name })) ?? (await services.apiKeys.createChannel(em, null, def)));
  }
  const web = channels[0];
  await em.nativeUpdate(ApiKey, { channel: web.id, name: DEMO_KEY_NAME, revokedAt: null }, { revokedAt: new Date() });
  const { key } = await services.apiKeys.createKey(em, null, {
    channelId: web.id,
    name: DEMO_KEY_NAME,
    scopes: [...DEMO_KEY_SCOPES],
  });

  if ((await em.count(Member, {})) === 0) {
    for (let i = 0; i < 36; i++) {
      const firstName = FIRST[i % FIRST.length];
      const lastName = LAST[(i * 7) % LAST.length];
      await services.members.enrol(ctx, {
        firstName,
        lastName,
        email: `${firstName}.${lastName}${i}@example.com`.toLowerCase(),
        phone: i % 3 === 0 ? `+447911123${String(100 + i).slice(-3)}` : null,
        country: COUNTRIES[i % COUNTRIES.length],
        consents: [{ medium: ConsentMedium.EMAIL, isGranted: i % 4 !== 0 }],
      });
    }
  }
  await seedProgramme(ctx, services, web);
  const imported = await importTransactions(rootEm, services, log, web);

  return {
    adminEmail: DEMO_ADMIN.email,
    adminPassword: DEMO_ADMIN.password,
    channelName: web.name,
    apiKey: key,
    apiKeyScopes: [...DEMO_KEY_SCOPES],
    members: await em.count(Member, {}),
    transactions: imported.source,
    ordersImported: imported.orders,
  };
}

/**
 * Real customers, orders, returns and points for the demo: the last three months of the Online Retail file for a few
 * hundred of its customers when it is beside the checkout (generated rows otherwise), through the importer with dates
 * moved so the newest order was yesterday, then the points jobs, so that pending, available and tiers look live.
 * Idempotent: a restart finds every invoice stored and adds nothing.
 */
async function importTransactions(rootEm: EntityManager, services: Services, log: Logger, web: SalesChannel) {
  const demo = await demoTransactions();
  const summary = await new TransactionImporter(rootEm, services, log).run(demo.records, {
    channelName: web.name,
    channelKind: web.kind,
    currency: 'GBP',
    batchInvoices: 500,
    shiftMs: demo.shiftMs,
  });
  await services.points.runJobs(rootEm, log);
  log.info({ source: demo.source, orders: summary.orders, returns: summary.returns, members: summary.membersCreated, seconds: summary.seconds }, 'seed.transactions');
  return { source: demo.source, orders: summary.orders };
}

/** A small programme so the demo shows points: base rates, two tiers, rewards and a few orders per member. */
async function seedProgramme(ctx: Context, services: Services, web: SalesChannel): Promise<void> {
  const em = ctx.em;
  if ((await em.count(EarningRule, {})) === 0) {
    for (const currency of ['GBP', 'EUR']) {
      await services.earningRules.create(ctx, { name: `1 point per ${currency} 1`, kind: EarningRuleKind.BASE_RATE, priority: 0, currency, points: 1, perMinor: 100 });
    }
    await services.earningRules.create(ctx, {
      name: 'Double points at weekends',
      kind: EarningRuleKind.BONUS,
      priority: 0,
      multiplierPercent: 200,
      daysOfWeek: [0, 6],
    });
  }
  if ((await em.count(Tier, {})) === 0) {
    await services.tiers.upsert(ctx, { code: 'GREEN', name: 'Green', threshold: 0, earnMultiplierPercent: 100, benefitFlags: [] });
    await services.tiers.upsert(ctx, { code: 'GOLD', name: 'Gold', threshold: 500, earnMultiplierPercent: 150, benefitFlags: ['FREE_DELIVERY'] });
  }
  if ((await em.count(Reward, {})) === 0) {
    const rewards = [
      { code: 'FREE-COFFEE', name: 'Free coffee', kind: RewardKind.FREE_PRODUCT, sku: 'COFFEE', costPoints: 150 },
      { code: 'FIVE-OFF', name: '£5 off your next order', kind: RewardKind.FIXED_DISCOUNT, valueMinor: 500, currency: 'GBP', costPoints: 500 },
      { code: 'GOLD-20', name: '20% off for Gold members', kind: RewardKind.PERCENT_DISCOUNT, percentOff: 20, costPoints: 800, tierCodes: ['GOLD'] },
      { code: 'FOOD-BANK', name: 'Give 100 points to the food bank', kind: RewardKind.DONATION, partner: 'Local food bank', costPoints: 100 },
    ];
    for (const r of rewards) await services.rewards.upsert(ctx, { tierCodes: [], isActive: true, ...r } as never);
  }
  if ((await em.count(Order, {})) === 0) {
    const members = await em.find(Member, {}, { orderBy: { id: 'asc' }, limit: 12 });
    let n = 0;
    for (const [i, member] of members.entries()) {
      for (let k = 0; k <= i % 3; k++) {
        const price = 450 + ((i * 7 + k * 13) % 20) * 250;
        await services.orders.record(ctx, {
          externalOrderId: `DEMO-${++n}`,
          channelId: web.id,
          member: { id: member.id },
          placedAt: new Date(Date.now() - (i + k) * DAY_MS),
          currency: 'GBP',
          lines: [
            { sku: 'COFFEE', name: 'Coffee beans 1kg', category: 'Coffee', quantity: 1 + (k % 2), unitPriceMinor: price, discountMinor: 0 },
            { sku: 'MUG', name: 'Enamel mug', category: 'Kitchen', quantity: 1, unitPriceMinor: 899, discountMinor: 0 },
          ],
          orderDiscountMinor: 0,
          totalMinor: (1 + (k % 2)) * price + 899,
        });
      }
    }
  }
}
