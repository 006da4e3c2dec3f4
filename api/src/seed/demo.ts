import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../shared/context';
import type { Logger } from '../shared/logger';
import { SalesChannelKind } from '../shared/enums';
import type { Services } from '../services';
import { createLoaders } from '../shared/loaders';
import { AdminRole, ApiKeyScope } from '../auth/permissions';
import { ApiKey } from '../channels/api-key.entity';
import { SalesChannel } from '../channels/sales-channel.entity';
import { Member } from '../members/member.entity';
import { ConsentMedium } from '../members/member-consent.entity';

export const DEMO_ADMIN = { email: 'admin@demo.loyalty', password: 'demo-admin-password' } as const;
const DEMO_CHANNELS = [
  { name: 'Demo web shop', kind: SalesChannelKind.WEB },
  { name: 'Demo store POS', kind: SalesChannelKind.STORE },
];
const DEMO_KEY_NAME = 'demo key (re-issued at every npm start)';

const FIRST = ['Olivia', 'Noah', 'Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Arthur', 'Mia', 'Leo', 'Ivy', 'Harry'];
const LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Wright'];
const COUNTRIES = ['GB', 'GB', 'GB', 'FR', 'DE', 'NL', 'IE', 'ES'];

export interface DemoSeedResult {
  adminEmail: string;
  adminPassword: string;
  channelName: string;
  apiKey: string;
  members: number;
}

/**
 * Idempotent demo programme for `npm start`: a known admin login, two channels, a fresh web-shop key
 * (keys are stored hashed, so the previous one cannot be shown again and is revoked) and sample members.
 */
export async function seedDemo(rootEm: EntityManager, services: Services, log: Logger): Promise<DemoSeedResult> {
  const em = rootEm.fork();
  const ctx: Context = { em, principal: null, authError: null, requestId: 'seed', log, loaders: createLoaders(em, services) };
  await services.adminAuth.upsertAdminUser(em, DEMO_ADMIN.email, DEMO_ADMIN.password, AdminRole.ADMIN);

  const channels: SalesChannel[] = [];
  for (const def of DEMO_CHANNELS) {
    channels.push((await em.findOne(SalesChannel, { name: def.name })) ?? (await services.apiKeys.createChannel(null, em, def)));
  }
  const web = channels[0];
  await em.nativeUpdate(ApiKey, { channel: web.id, name: DEMO_KEY_NAME, revokedAt: null }, { revokedAt: new Date() });
  const { key } = await services.apiKeys.createKey(null, em, {
    channelId: web.id,
    name: DEMO_KEY_NAME,
    scopes: [ApiKeyScope.MEMBERS_READ, ApiKeyScope.MEMBERS_WRITE, ApiKeyScope.MEMBERS_MERGE, ApiKeyScope.ORDERS_WRITE],
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
  return {
    adminEmail: DEMO_ADMIN.email,
    adminPassword: DEMO_ADMIN.password,
    channelName: web.name,
    apiKey: key,
    members: await em.count(Member, {}),
  };
}
