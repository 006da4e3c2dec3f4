import { DataloaderType, DefaultLogger, type LoggerOptions, MikroORM } from '@mikro-orm/core';
import { defineConfig, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Member } from '../modules/members/member.entity';
import { MemberIdentifier } from '../modules/members/member-identifier.entity';
import { MemberConsent } from '../modules/members/member-consent.entity';
import { MemberMerge } from '../modules/members/member-merge.entity';
import { AdminUser } from '../modules/auth/admin-user.entity';
import { AdminLoginSession } from '../modules/auth/admin-session.entity';
import { SalesChannel } from '../modules/channels/sales-channel.entity';
import { ApiKey } from '../modules/channels/api-key.entity';
import { AuditEntry } from '../modules/audit/audit-entry.entity';
import { PointsJobRun } from '../modules/jobs/points-job-run.entity';
import { ProgrammeSettings } from '../modules/programme/programme-settings.entity';
import { Product } from '../modules/catalog/product.entity';
import { Order } from '../modules/orders/order.entity';
import { OrderLine } from '../modules/orders/order-line.entity';
import { OrderReturn } from '../modules/orders/order-return.entity';
import { LedgerEntry } from '../modules/ledger/ledger-entry.entity';
import { PointLot } from '../modules/ledger/point-lot.entity';
import { MemberBalance } from '../modules/ledger/member-balance.entity';
import { EarningRule } from '../modules/earning/earning-rule.entity';
import { Tier } from '../modules/tiers/tier.entity';
import { MemberTier, TierChange } from '../modules/tiers/member-tier.entity';
import { MembershipPlan, MemberPlan } from '../modules/plans/membership-plan.entity';
import { Reward } from '../modules/rewards/reward.entity';
import { Redemption } from '../modules/rewards/redemption.entity';
import { ModelVersion } from '../modules/models/model-version.entity';
import { Segment } from '../modules/segments/segment.entity';
import { EventOutbox } from '../modules/events/event-outbox.entity';
import { OutboxSubscriberCursor } from '../modules/events/outbox-subscriber-cursor.entity';
import { Webhook, WebhookDelivery } from '../modules/webhooks/webhook.entity';
import { Feedback } from '../modules/feedback/feedback.entity';
import { Campaign, CampaignMember, CampaignMessage } from '../modules/campaigns/campaign.entity';
import { Referral } from '../modules/referrals/referral.entity';
import { migrations } from './migrations';
import type { Config } from '../base/config';
import { composePlugins, type LoyaltyPlugin } from './plugin';
import { countDbQuery } from '../base/request-scope';

export const entities = [
  Member,
  MemberIdentifier,
  MemberConsent,
  MemberMerge,
  AdminUser,
  AdminLoginSession,
  SalesChannel,
  ApiKey,
  AuditEntry,
  PointsJobRun,
  ProgrammeSettings,
  Product,
  Order,
  OrderLine,
  OrderReturn,
  LedgerEntry,
  PointLot,
  MemberBalance,
  EarningRule,
  Tier,
  MemberTier,
  TierChange,
  MembershipPlan,
  MemberPlan,
  Reward,
  Redemption,
  ModelVersion,
  Segment,
  EventOutbox,
  OutboxSubscriberCursor,
  Webhook,
  WebhookDelivery,
  Feedback,
  Campaign,
  CampaignMember,
  CampaignMessage,
  Referral,
];

/** Counts each query against the current request, so tests can prove there is no N+1. */
class CountingLogger extends DefaultLogger {
  constructor(options: LoggerOptions) {
    super(options);
  }

  override log(namespace: Parameters<DefaultLogger['log']>[0], message: string, context?: Parameters<DefaultLogger['log']>[2]) {
    if (namespace === 'query') countDbQuery();
  }
}

/** The core's entities and migrations, then each plugin's (its migrations after all of the core's). */
export function ormOptions(config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_MAX' | 'isProduction'> & Partial<Pick<Config, 'DB_POOL_IDLE_SECONDS'>>, plugins: readonly LoyaltyPlugin[] = []): Options {
  const contributed = composePlugins(plugins);
  return defineConfig({
    clientUrl: config.DATABASE_URL,
    entities: [...entities, ...contributed.entities],
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    dataloader: DataloaderType.ALL,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: config.DB_POOL_MAX, idleTimeoutMillis: (config.DB_POOL_IDLE_SECONDS ?? 300) * 1000 },
    extensions: [Migrator],
    migrations: {
      migrationsList: [...migrations, ...contributed.migrations],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
    debug: config.isProduction ? false : ['query'],
    loggerFactory: (options) => new CountingLogger(options),
  });
}

/**
 * The heavy-read pool (analytics, segment previews): on DATABASE_READ_URL when set, else on the primary, with its own
 * ANALYTICS_POOL_MAX connections. Apart from the pool that orders and lookups share with the background pollers, its
 * backends are the ones that ran the last large queries: a fresh PostgreSQL backend allocates its memory afresh, and
 * RFM at 1 M members took 1.35 s there against 0.9 s on a warm one.
 */
export function analyticsOrmOptions(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_READ_URL' | 'ANALYTICS_POOL_MAX' | 'isProduction'> & Partial<Pick<Config, 'DB_POOL_IDLE_SECONDS'>>,
  plugins: readonly LoyaltyPlugin[] = [],
): Options {
  return ormOptions({ ...config, DATABASE_URL: config.DATABASE_READ_URL ?? config.DATABASE_URL, DB_POOL_MAX: config.ANALYTICS_POOL_MAX }, plugins);
}

export async function createOrm(config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_MAX' | 'isProduction'> & Partial<Pick<Config, 'DB_POOL_IDLE_SECONDS'>>, plugins: readonly LoyaltyPlugin[] = []): Promise<MikroORM<PostgreSqlDriver>> {
  return MikroORM.init<PostgreSqlDriver>(ormOptions(config, plugins));
}

export type { Orm } from '../base/database';

export async function createAnalyticsOrm(
  config: Parameters<typeof analyticsOrmOptions>[0],
  plugins: readonly LoyaltyPlugin[] = [],
): Promise<MikroORM<PostgreSqlDriver>> {
  return MikroORM.init<PostgreSqlDriver>(analyticsOrmOptions(config, plugins));
}
