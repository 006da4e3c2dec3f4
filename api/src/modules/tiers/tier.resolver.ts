import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import type { ProgrammeService } from '../programme/programme.service';
import { Tier, type TierFields } from './tier.entity';
import { TierChange } from './member-tier.entity';
import type { TierService } from './tier.service';
import type { TierLoaders } from './tier.loaders';
import { MemberBenefits, TierProgress, UpsertTierInput } from './tier.types';

@Resolver(() => Member)
export class TierResolver {
  constructor(
    private readonly tierService: TierService,
    private readonly programme: ProgrammeService,
  ) {}

  @Authorized()
  @Query(() => [Tier], { description: 'Lowest threshold first.' })
  tiers(@Ctx() ctx: Context): Promise<Tier[]> {
    return this.tierService.list(ctx.em);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => Tier)
  upsertTier(@Arg('input', () => UpsertTierInput) input: UpsertTierInput, @Ctx() ctx: Context): Promise<Tier> {
    return this.tierService.upsert(ctx, input);
  }

  @FieldResolver(() => Tier, { nullable: true })
  tier(@Root() member: Member, @Ctx() ctx: ResolverContext<TierLoaders>): Promise<TierFields | null> {
    return ctx.loaders.tiers.load(member.id);
  }

  @FieldResolver(() => TierProgress, { description: 'For one member at a time (it sums the qualification window).' })
  async tierProgress(@Root() member: Member, @Ctx() ctx: Context): Promise<TierProgress> {
    return this.tierService.progress(ctx.em, member.id, await this.programme.settings(ctx.em), new Date());
  }

  @FieldResolver(() => MemberBenefits)
  benefits(@Root() member: Member, @Ctx() ctx: Context): Promise<MemberBenefits> {
    return this.tierService.benefits(ctx.em, member.id, new Date());
  }

  @FieldResolver(() => [TierChange], { description: 'Newest first.' })
  tierHistory(@Root() member: Member, @Ctx() ctx: Context): Promise<TierChange[]> {
    return ctx.em.find(TierChange, { member: member.id }, { orderBy: { changedAt: 'desc', id: 'desc' } });
  }
}
