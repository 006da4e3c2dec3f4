import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { checkPageSize } from '../../base/pagination';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { Reward } from './reward.entity';
import { Redemption } from './redemption.entity';
import type { RewardService } from './reward.service';
import type { PointsLoaders } from '../ledger/points.loaders';
import type { RewardLoaders } from './reward.loaders';
import { CancelRedemptionInput, ConsumeVoucherInput, RedeemRewardInput, RewardKindInfo, UpsertRewardInput } from './reward.types';

@Resolver(() => Member)
export class RewardResolver {
  constructor(private readonly rewardService: RewardService) {}

  @Authorized()
  @Query(() => [Reward])
  rewards(@Arg('activeOnly', () => Boolean, { defaultValue: true }) activeOnly: boolean, @Ctx() ctx: Context) {
    return this.rewardService.list(ctx.em, activeOnly);
  }

  @Authorized()
  @Query(() => [RewardKindInfo], { description: 'Every reward kind, built in and added by plugins, with the fields each requires.' })
  rewardKinds(): RewardKindInfo[] {
    return this.rewardService.kinds.all().map((k) => ({ kind: k.kind, label: k.label, description: k.description, completion: k.completion, requires: [...(k.requires ?? [])] }));
  }

  @Authorized(Permission.REWARDS_MANAGE)
  @Mutation(() => Reward)
  upsertReward(@Arg('input', () => UpsertRewardInput) input: UpsertRewardInput, @Ctx() ctx: Context) {
    return this.rewardService.upsert(ctx, input);
  }

  @Authorized(Permission.REWARDS_REDEEM)
  @Mutation(() => Redemption, { description: 'Spends points and issues a voucher; idempotent per key.' })
  redeemReward(@Arg('input', () => RedeemRewardInput) input: RedeemRewardInput, @Ctx() ctx: Context) {
    return this.rewardService.redeem(ctx, input);
  }

  @Authorized(Permission.REWARDS_REDEEM)
  @Mutation(() => Redemption, { description: 'Returns the points of an unused voucher to the member.' })
  cancelRedemption(@Arg('input', () => CancelRedemptionInput) input: CancelRedemptionInput, @Ctx() ctx: Context) {
    return this.rewardService.cancel(ctx, input);
  }

  @Authorized(Permission.ORDERS_WRITE)
  @Mutation(() => Redemption, { description: 'Uses a voucher at checkout, once.' })
  consumeVoucher(@Arg('input', () => ConsumeVoucherInput) input: ConsumeVoucherInput, @Ctx() ctx: Context) {
    return this.rewardService.consume(ctx, input);
  }

  @Authorized(Permission.REWARDS_REDEEM)
  @Query(() => Redemption, { nullable: true, description: 'The redemption a voucher code belongs to (any case, spaces ignored); null when none has it.' })
  voucher(@Arg('code', () => String) code: string, @Ctx() ctx: Context): Promise<Redemption | null> {
    return this.rewardService.findVoucher(ctx.em, code);
  }

  @FieldResolver(() => [Redemption], { description: 'Newest first, at most `first` (1 to 100).' })
  redemptions(
    @Root() member: Member,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Ctx() ctx: ResolverContext<RewardLoaders>,
  ): Promise<Redemption[]> {
    checkPageSize(first);
    return ctx.loaders.rewards.redemptions(first).load(member.id);
  }

  // Tells the balance within a reward's cost, so it needs what Member.points needs.
  @Authorized(Permission.MEMBERS_READ, Permission.ORDERS_READ)
  @FieldResolver(() => [Reward], { description: 'Rewards this member can redeem now with their available points.' })
  async affordableRewards(@Root() member: Member, @Ctx() ctx: ResolverContext<PointsLoaders>): Promise<Reward[]> {
    const points = await ctx.loaders.points.load(member.id);
    return this.rewardService.affordable(ctx.em, member.id, points.available);
  }
}

@Resolver(() => Redemption)
export class RedemptionResolver {
  @FieldResolver(() => ID, { description: 'Whose voucher it is (after a merge, the surviving member).' })
  memberId(@Root() redemption: Redemption): string {
    return redemption.member.id;
  }

  @FieldResolver(() => Reward)
  reward(@Root() redemption: Redemption): Promise<Reward> {
    return redemption.reward.load({ dataloader: true }) as Promise<Reward>;
  }
}
