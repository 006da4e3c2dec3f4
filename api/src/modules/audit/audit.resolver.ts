import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import type { Context } from '../../base/context';
import { Permission } from '../auth/permissions';
import { AuditEntry } from './audit-entry.entity';
import type { AuditService } from './audit.service';

@Resolver()
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [AuditEntry], { description: 'Newest first; every filter is optional and they combine.' })
  auditLog(
    @Ctx() ctx: Context,
    @Arg('entityType', () => String, { nullable: true }) entityType: string | null,
    @Arg('entityId', () => String, { nullable: true }) entityId: string | null,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Arg('actor', () => String, { nullable: true, description: 'admin:<id>, apiKey:<id>, system or import, exactly.' }) actor: string | null,
    @Arg('action', () => String, { nullable: true, description: 'The use case, e.g. apiKey.rotate.' }) action: string | null,
    @Arg('since', () => DateTimeISOResolver, { nullable: true, description: 'From this instant, inclusive.' }) since: Date | null,
    @Arg('until', () => DateTimeISOResolver, { nullable: true, description: 'Before this instant.' }) until: Date | null,
    @Arg('olderThan', () => ID, { nullable: true, description: "The last entry's id of the page before: the next page." }) olderThan: string | null,
  ): Promise<AuditEntry[]> {
    return this.audit.search(ctx.em, { actor, entityType, entityId, action, since, until, olderThan, first });
  }
}
