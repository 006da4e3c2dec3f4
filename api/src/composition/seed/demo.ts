import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { Logger } from '../../base/logger';
import { SalesChannelKind } from '../../base/enums';
import type { ChannelPrincipal } from '../../base/principal';
import type { Services } from '../services';
import type { LoyaltyPlugin } from '../plugin';
import { AdminRole, ApiKeyScope } from '../../modules/auth/permissions';
import { ApiKey } from '../../modules/channels/api-key.entity';
import { SalesChannel } from '../../modules/channels/sales-channel.entity';
import { Member } from '../../modules/members/member.entity';
import type { DemoSeedContext, DemoSeedStep } from './demo-context';
import type { DemoHistoryOptions } from './demo-transactions';
import { programmeStep } from './demo-programme';
import { historyStep } from './demo-history';
import { DEMO_MEMBER, profilesStep, referralsStep } from './demo-members';
import { churnSegmentsStep, feedbackStep, redemptionsStep, runningCampaignStep, webhookStep } from './demo-engagement';

export const DEMO_ADMIN = { email: 'admin@demo.loyalty', password: 'demo-admin-password' } as const;
const DEMO_CHANNELS = [
  { name: 'Demo web shop', kind: SalesChannelKind.WEB },
  { name: 'Demo store POS', kind: SalesChannelKind.STORE },
];
const DEMO_KEY_NAME = 'demo key (re-issued at every npm start)';
/** The core's channel scopes. The printed demo key holds these and every scope a loaded plugin declares (demoKeyScopes). */
export const DEMO_KEY_SCOPES: readonly ApiKeyScope[] = Object.values(ApiKeyScope);

/** Every channel scope the running app knows, the plugins' included: the demo key may do whatever a channel may. */
export function demoKeyScopes(services: Services): string[] {
  return services.apiKeys.access.listScopes().map((s) => s.scope);
}

/** The core's demo data, in order: each step may use what the ones before it wrote. */
export const CORE_DEMO_STEPS: readonly DemoSeedStep[] = [
  programmeStep,
  historyStep,
  profilesStep,
  referralsStep,
  runningCampaignStep,
  churnSegmentsStep,
  webhookStep,
  redemptionsStep,
  feedbackStep,
];

/**
 * The demo's steps: the core's, with each loaded plugin's demo (LoyaltyPlugin.demo) in its place: its programme (an
 * activity type, a challenge) once the core's programme exists and before the history is imported, so that the history
 * earns and counts with it; its activity after every core step. A plugin step records through the plugin's own services.
 */
export function demoSteps(plugins: readonly LoyaltyPlugin[]): DemoSeedStep[] {
  const pluginStep = (plugin: LoyaltyPlugin, phase: 'programme' | 'activity'): DemoSeedStep[] => {
    const run = plugin.demo?.[phase];
    if (!run) return [];
    return [
      {
        name: `${plugin.name}.${phase}`,
        run: async (demo) => {
          const memberIds = phase === 'activity' ? await recentBuyers(demo.ctx().em) : [];
          await run({ ctx: demo.ctx(), services: demo.services, now: demo.now, memberIds });
        },
      },
    ];
  };
  const at = CORE_DEMO_STEPS.indexOf(historyStep);
  return [
    ...CORE_DEMO_STEPS.slice(0, at),
    ...plugins.flatMap((p) => pluginStep(p, 'programme')),
    ...CORE_DEMO_STEPS.slice(at),
    ...plugins.flatMap((p) => pluginStep(p, 'activity')),
  ];
}

/** Demo members by their latest order, the most recent first: whom a plugin's demo activity is about. */
async function recentBuyers(em: EntityManager, limit = 300): Promise<string[]> {
  const rows = await em.execute<{ member_id: string }[]>(
    `select o.member_id from customer_order o join member m on m.id = o.member_id and m.status = 'ACTIVE'
     group by o.member_id order by max(o.placed_at) desc, o.member_id limit ?`,
    [limit],
  );
  return rows.map((r) => r.member_id);
}

export interface DemoSeedOptions {
  /** Less of the history, for tests (same code path). */
  history?: DemoHistoryOptions & { file?: string };
  /** Replaces demoSteps(the app's plugins). */
  steps?: readonly DemoSeedStep[];
  now?: Date;
}

export interface DemoSeedResult {
  adminEmail: string;
  adminPassword: string;
  channelName: string;
  apiKey: string;
  apiKeyScopes: string[];
  /** The README's journey redeems for this member. */
  demoMemberEmail: string;
  members: number;
  /** Where the demo orders came from: the Online Retail slice in data/demo. */
  transactions: 'online-retail';
  ordersImported: number;
  /** What each step added on this run (nothing on a restart). */
  counts: Record<string, number>;
}

/**
 * Idempotent demo programme for `npm start`: a known admin login, two channels, a fresh web-shop key with every channel
 * scope (keys are stored hashed, so the previous one cannot be shown again and is revoked), then the demo data steps.
 */
export async function seedDemo(rootEm: EntityManager, services: Services, log: Logger, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  const em = rootEm.fork();
  await services.adminAuth.upsertAdminUser(em, DEMO_ADMIN.email, DEMO_ADMIN.password, AdminRole.ADMIN);

  const channels: SalesChannel[] = [];
  for (const def of DEMO_CHANNELS) {
    channels.push((await em.findOne(SalesChannel, { name: def.name })) ?? (await services.apiKeys.createChannel(em, null, def)));
  }
  const web = channels[0];
  await em.nativeUpdate(ApiKey, { channel: web.id, name: DEMO_KEY_NAME, revokedAt: null }, { revokedAt: new Date() });
  const scopes = demoKeyScopes(services);
  const { key, apiKey } = await services.apiKeys.createKey(em, null, { channelId: web.id, name: DEMO_KEY_NAME, scopes });

  const webShop: ChannelPrincipal = {
    kind: 'channel',
    apiKeyId: apiKey.id,
    channelId: web.id,
    channelKind: web.kind,
    permissions: services.apiKeys.access.forScopes(scopes),
  };
  const contextAs = (principal: ChannelPrincipal | null): Context => ({ em: rootEm.fork(), principal, authError: null, requestId: 'seed', log });
  const demo: DemoSeedContext = {
    rootEm,
    services,
    log,
    now: options.now ?? new Date(),
    web,
    history: options.history ?? {},
    ctx: () => contextAs(null),
    asWebShop: () => contextAs(webShop),
    counts: {},
  };
  for (const step of options.steps ?? demoSteps(services.plugins)) {
    const started = performance.now();
    await step.run(demo);
    log.info({ step: step.name, seconds: Math.round((performance.now() - started) / 100) / 10 }, 'seed.step');
  }

  return {
    adminEmail: DEMO_ADMIN.email,
    adminPassword: DEMO_ADMIN.password,
    channelName: web.name,
    apiKey: key,
    apiKeyScopes: scopes,
    demoMemberEmail: DEMO_MEMBER.email,
    members: await em.count(Member, {}),
    transactions: 'online-retail',
    ordersImported: demo.counts.ordersImported ?? 0,
    counts: demo.counts,
  };
}
