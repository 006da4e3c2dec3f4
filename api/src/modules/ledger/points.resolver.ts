import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import type { PointsService } from './points.service';
import type { PointsLoaders } from './points.loaders';
import { AdjustPointsInput, LedgerCheckResult, LedgerConnection, MemberPoints } from './points.types';

@Resolver(() => Member)
export class PointsResolver {
  constructor(private readonly pointsService: PointsService) {}

  // A write-only key (members:write, members:merge) reaches members through its mutations' results; it does not read balances.
  @Authorized(Permission.MEMBERS_READ, Permission.ORDERS_READ)
  @FieldResolver(() => MemberPoints, { description: 'The balance: needs members:read or orders:read.' })
  points(@Root() member: Member, @Ctx() ctx: ResolverContext<PointsLoaders>): Promise<MemberPoints> {
    return ctx.loaders.points.load(member.id);
  }

  @Authorized(Permission.ORDERS_READ, Permission.POINTS_ADJUST)
  @FieldResolver(() => LedgerConnection, { description: "The member's ledger, newest first by when each change happened (imported history at its own dates), ties by id." })
  ledger(
    @Root() member: Member,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<LedgerConnection> {
    return this.pointsService.history(ctx.em, member.id, first, after);
  }

  @Authorized(Permission.POINTS_ADJUST)
  @Mutation(() => MemberPoints, { description: 'A manual correction with a reason; idempotent per key.' })
  adjustPoints(@Arg('input', () => AdjustPointsInput) input: AdjustPointsInput, @Ctx() ctx: Context): Promise<MemberPoints> {
    return this.pointsService.adjust(ctx, input);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Query(() => LedgerCheckResult, { description: 'Proves every cached balance and lot equals the ledger sums.' })
  ledgerCheck(@Ctx() ctx: Context): Promise<LedgerCheckResult> {
    return this.pointsService.check(ctx.em);
  }
}
