import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { MemberPlan, MembershipPlan } from './membership-plan.entity';
import type { PlanService } from './plan.service';
import { CancelMemberPlanInput, SubscribeMemberInput, UpsertMembershipPlanInput } from './plan.types';

@Resolver(() => Member)
export class PlanResolver {
  constructor(private readonly planService: PlanService) {}

  @Authorized()
  @Query(() => [MembershipPlan])
  membershipPlans(@Ctx() ctx: Context): Promise<MembershipPlan[]> {
    return this.planService.list(ctx.em);
  }

  @Authorized(Permission.PROGRAMME_MANAGE)
  @Mutation(() => MembershipPlan)
  upsertMembershipPlan(@Arg('input', () => UpsertMembershipPlanInput) input: UpsertMembershipPlanInput, @Ctx() ctx: Context) {
    return this.planService.upsert(ctx, input);
  }

  @Authorized(Permission.MEMBERS_WRITE)
  @Mutation(() => MemberPlan, { description: 'Records a paid plan (paid for in the channel); a second one of the same plan renews it.' })
  subscribeMemberToPlan(@Arg('input', () => SubscribeMemberInput) input: SubscribeMemberInput, @Ctx() ctx: Context) {
    return this.planService.subscribe(ctx, input);
  }

  @Authorized(Permission.MEMBERS_WRITE)
  @Mutation(() => MemberPlan)
  cancelMemberPlan(@Arg('input', () => CancelMemberPlanInput) input: CancelMemberPlanInput, @Ctx() ctx: Context) {
    return this.planService.cancel(ctx, input);
  }

  @FieldResolver(() => [MemberPlan], { description: 'Newest first, including ended and cancelled ones.' })
  plans(@Root() member: Member, @Ctx() ctx: Context): Promise<MemberPlan[]> {
    return this.planService.memberPlans(ctx.em, member.id);
  }
}

@Resolver(() => MemberPlan)
export class MemberPlanResolver {
  @FieldResolver(() => MembershipPlan)
  plan(@Root() memberPlan: MemberPlan): Promise<MembershipPlan> {
    return memberPlan.plan.load({ dataloader: true }) as Promise<MembershipPlan>;
  }
}
