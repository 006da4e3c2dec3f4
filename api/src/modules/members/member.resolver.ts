import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { ChurnBand } from '../models/churn-band';
import { ValueBand } from '../models/value-band';
import { Permission } from '../auth/permissions';
import { AppError } from '../../base/errors';
import { Member, MemberStatus } from './member.entity';
import { IdentifierType, MemberIdentifier } from './member-identifier.entity';
import { MemberConsent } from './member-consent.entity';
import type { MemberService } from './member.service';
import type { MemberCard } from './member-card';
import type { PointsLoaders } from '../ledger/points.loaders';
import type { TierLoaders } from '../tiers/tier.loaders';
import {
  EnrolMemberInput,
  EraseMemberInput,
  MemberConnection,
  MemberOrder,
  MergeMembersInput,
  MergeMembersResult,
  UpdateMemberInput,
} from './member.types';

type CardLoaders = PointsLoaders & TierLoaders;

/** Hands the balance and tier a member card statement read (member-card.ts) to the request's loaders. */
function primeCard(loaders: CardLoaders): (card: MemberCard) => void {
  return (card) => {
    loaders.points.prime(card.memberId, card.points);
    loaders.tiers.prime(card.memberId, card.tier);
  };
}

@Resolver(() => Member)
export class MemberResolver {
  constructor(private readonly memberService: MemberService) {}

  @Authorized(Permission.MEMBERS_READ)
  @Query(() => Member, { description: 'A member by id; an id absorbed by a merge returns the survivor.' })
  member(@Arg('id', () => ID) id: string, @Ctx() ctx: ResolverContext<CardLoaders>): Promise<Member> {
    return this.memberService.read(ctx, id, primeCard(ctx.loaders));
  }

  @Authorized(Permission.MEMBERS_READ)
  @Query(() => Member, { nullable: true, description: 'Exact lookup by a normalised identifier; null when nobody has it.' })
  memberByIdentifier(
    @Arg('type', () => IdentifierType) type: IdentifierType,
    @Arg('value', () => String) value: string,
    @Arg('channelId', () => ID, { nullable: true, description: 'For CHANNEL_CUSTOMER_ID by admin callers.' })
    channelId: string | null,
    @Ctx() ctx: ResolverContext<CardLoaders>,
  ): Promise<Member | null> {
    if (type !== IdentifierType.CHANNEL_CUSTOMER_ID && !ctx.principal?.permissions.has(Permission.MEMBERS_PII)) {
      // A hit would tie an email or phone number to a member for a caller not allowed to read either.
      throw AppError.forbidden('Looking members up by email or phone requires members:pii');
    }
    return this.memberService.findByIdentifier(ctx, type, value, channelId, primeCard(ctx.loaders));
  }

  @Authorized(Permission.MEMBERS_READ)
  @Query(() => MemberConnection, { description: 'Members page by page; search matches every word against name, email and phone digits; a phone number in it, in any format (national numbers in DEFAULT_PHONE_REGION), also matches that number, with the other words matched as usual.' })
  members(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('search', () => String, { nullable: true }) search: string | null,
    @Arg('status', () => MemberStatus, { nullable: true, description: 'Default ACTIVE.' }) status: MemberStatus | null,
    @Arg('country', () => String, { nullable: true }) country: string | null,
    @Arg('orderBy', () => MemberOrder, { defaultValue: MemberOrder.NEWEST_FIRST }) orderBy: MemberOrder,
    @Arg('churnBand', () => ChurnBand, { nullable: true, description: "Only members in this band of the active churn model." }) churnBand: ChurnBand | null,
    @Arg('valueBand', () => ValueBand, { nullable: true, description: 'Only members in this band of the active customer-value model.' }) valueBand: ValueBand | null,
  ): Promise<MemberConnection> {
    return this.memberService.search(ctx, { first, after, search, status, country, orderBy, churnBand, valueBand });
  }

  @Authorized(Permission.MEMBERS_WRITE)
  @Mutation(() => Member)
  enrolMember(@Arg('input', () => EnrolMemberInput) input: EnrolMemberInput, @Ctx() ctx: Context): Promise<Member> {
    return this.memberService.enrol(ctx, input);
  }

  @Authorized(Permission.MEMBERS_WRITE)
  @Mutation(() => Member)
  updateMember(@Arg('input', () => UpdateMemberInput) input: UpdateMemberInput, @Ctx() ctx: Context): Promise<Member> {
    return this.memberService.update(ctx, input);
  }

  @Authorized(Permission.MEMBERS_MERGE)
  @Mutation(() => MergeMembersResult)
  mergeMembers(@Arg('input', () => MergeMembersInput) input: MergeMembersInput, @Ctx() ctx: Context): Promise<MergeMembersResult> {
    return this.memberService.merge(ctx, input);
  }

  @Authorized(Permission.MEMBERS_ERASE)
  @Mutation(() => Member, { description: 'GDPR erasure: anonymises personal data, keeps financial history. Idempotent.' })
  eraseMember(@Arg('input', () => EraseMemberInput) input: EraseMemberInput, @Ctx() ctx: Context): Promise<Member> {
    return this.memberService.erase(ctx, input);
  }

  @Authorized(Permission.MEMBERS_PII)
  @FieldResolver(() => [MemberIdentifier])
  identifiers(@Root() member: Member): Promise<MemberIdentifier[]> {
    return member.identifiers.loadItems({ dataloader: true });
  }

  @FieldResolver(() => [MemberConsent])
  consents(@Root() member: Member): Promise<MemberConsent[]> {
    return member.consents.loadItems({ dataloader: true });
  }

  @FieldResolver(() => ID, { nullable: true, description: 'Set on a MERGED record: the member it now belongs to.' })
  mergedIntoId(@Root() member: Member): string | null {
    return member.mergedInto?.id ?? null;
  }
}

@Resolver(() => MemberConnection)
export class MemberConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() connection: MemberConnection): Promise<number> {
    return connection.countTotal();
  }
}
