import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../base/context';
import type { Logger } from '../../base/logger';
import { SalesChannelKind } from '../../base/enums';
import type { ChannelPrincipal } from '../../base/principal';
import type { Services } from '../services';
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
 * Demo data of the distribution's plugins (their activity types, a challenge), run after the core's steps with the
 * same context: a plugin's step records through the plugin's own services, as the core's steps do through theirs.
 */
export function pluginDemoSteps(): DemoSeedStep[] {
  return [];
}

export interface DemoSeedOptions {
  /** Less of the history, for tests (same code path). */
  history?: DemoHistoryOptions & { file?: string };
  /** Replaces CORE_DEMO_STEPS + pluginDemoSteps(). */
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
  for (const step of options.steps ?? [...CORE_DEMO_STEPS, ...pluginDemoSteps()]) {
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
