import { DataloaderType, DefaultLogger, type LoggerOptions, MikroORM } from '@mikro-orm/core';
import { defineConfig, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Member } from '../members/member.entity';
import { MemberIdentifier } from '../members/member-identifier.entity';
import { MemberConsent } from '../members/member-consent.entity';
import { MemberMerge } from '../members/member-merge.entity';
import { AdminUser } from '../auth/admin-user.entity';
import { SalesChannel } from '../channels/sales-channel.entity';
import { ApiKey } from '../channels/api-key.entity';
import { AuditEntry } from '../audit/audit-entry.entity';
import { migrations } from '../migrations';
import type { Config } from './config';
import { countDbQuery } from './request-scope';

export const entities = [Member, MemberIdentifier, MemberConsent, MemberMerge, AdminUser, SalesChannel, ApiKey, AuditEntry];

/** Counts each query against the current request, so tests can prove there is no N+1. */
class CountingLogger extends DefaultLogger {
  constructor(options: LoggerOptions) {
    super(options);
  }

  override log(namespace: Parameters<DefaultLogger['log']>[0], message: string, context?: Parameters<DefaultLogger['log']>[2]) {
    if (namespace === 'query') countDbQuery();
  }
}

export function ormOptions(config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_MAX' | 'isProduction'>): Options {
  return defineConfig({
    clientUrl: config.DATABASE_URL,
    entities,
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    dataloader: DataloaderType.ALL,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: config.DB_POOL_MAX },
    extensions: [Migrator],
    migrations: {
      migrationsList: migrations,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
    debug: config.isProduction ? false : ['query'],
    loggerFactory: (options) => new CountingLogger(options),
  });
}

export async function createOrm(config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_MAX' | 'isProduction'>): Promise<MikroORM<PostgreSqlDriver>> {
  return MikroORM.init<PostgreSqlDriver>(ormOptions(config));
}

export type Orm = MikroORM<PostgreSqlDriver>;
