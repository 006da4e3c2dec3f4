import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { Referral, ReferralStatus } from './referral.entity';
import type { ReferralService } from './referral.service';
import { ApplyReferralCodeInput, ReferralConnection } from './referral.types';

@Resolver(() => Referral)
export class ReferralResolver {
  constructor(private readonly referralService: ReferralService) {}

  @Authorized(Permission.MEMBERS_WRITE)
  @Mutation(() => Referral, { description: "Records who referred a member who enrolled without a code, before the member's first order." })
  applyReferralCode(@Arg('input', () => ApplyReferralCodeInput) input: ApplyReferralCodeInput, @Ctx() ctx: Context): Promise<Referral> {
    return this.referralService.apply(ctx, input);
  }

  @Authorized(Permission.MEMBERS_READ)
  @Query(() => ReferralConnection, { description: "The programme's referrals, newest first; status filters on the status now." })
  referrals(
    @Ctx() ctx: Context,
    @Arg('status', () => ReferralStatus, { nullable: true }) status: ReferralStatus | null,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ReferralConnection> {
    return this.referralService.list(ctx.em, status, first, after);
  }

  @FieldResolver(() => ID)
  referrerId(@Root() referral: Referral): string {
    return referral.referrer.id;
  }

  @FieldResolver(() => ID)
  referredId(@Root() referral: Referral): string {
    return referral.referred.id;
  }
}

@Resolver(() => Member)
export class MemberReferralResolver {
  constructor(private readonly referralService: ReferralService) {}

  @FieldResolver(() => Referral, { nullable: true, description: 'Who referred this member, and whether the bonus was credited.' })
  referral(@Root() member: Member, @Ctx() ctx: Context): Promise<Referral | null> {
    return this.referralService.referralOf(ctx.em, member.id);
  }

  @FieldResolver(() => [Referral], { description: 'Members this member referred, newest first.' })
  referrals(@Root() member: Member, @Ctx() ctx: Context, @Arg('first', () => Int, { defaultValue: 20 }) first: number): Promise<Referral[]> {
    return this.referralService.referralsBy(ctx.em, member.id, first);
  }
}
