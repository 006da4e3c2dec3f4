import { Arg, Authorized, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import type { TimelineService } from './timeline.service';
import { TimelineConnection } from './timeline.types';

@Resolver(() => Member)
export class MemberTimelineResolver {
  constructor(private readonly timelineService: TimelineService) {}

  @Authorized(Permission.ORDERS_READ)
  @FieldResolver(() => TimelineConnection, {
    description: "Orders, ledger rows, redemptions, tier changes and feedback (with feedback:read), newest first, including merged records'.",
  })
  timeline(
    @Root() member: Member,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<TimelineConnection> {
    return this.timelineService.page(ctx.em, ctx.principal, member.id, first, after);
  }
}
