import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { checkPageSize } from '../../base/pagination';
import { AuditEntry } from './audit-entry.entity';

@Resolver()
export class AuditResolver {
  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [AuditEntry], { description: 'Newest first.' })
  async auditLog(
    @Ctx() ctx: Context,
    @Arg('entityType', () => String, { nullable: true }) entityType: string | null,
    @Arg('entityId', () => String, { nullable: true }) entityId: string | null,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
  ): Promise<AuditEntry[]> {
    checkPageSize(first);
    const where = { ...(entityType ? { entityType } : {}), ...(entityId ? { entityId } : {}) };
    return ctx.em.find(AuditEntry, where, { orderBy: { id: 'desc' }, limit: first });
  }
}
