import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Member, type Context, type PluginServices } from '@loyalty/api/extension-api';
import { Challenge, ChallengeBadge, ChallengeProgress, ChallengeStatus } from './challenge.entity';
import { ChallengeService } from './challenge.service';
import { ChallengeResults, CreateChallengeInput, UpdateChallengeInput } from './challenge.types';
import { Permissions } from './declarations';

/** The core's permission to read members; a channel key with members:read shows a member their challenges. */
const MEMBERS_READ = 'members:read';

/** Per request (the context object): members' rows in one query however many members a page lists. */
const loaders = new WeakMap<object, { progress: DataLoader<string, ChallengeProgress[]>; badges: DataLoader<string, ChallengeBadge[]> }>();

function loadersOf(ctx: Context, service: ChallengeService) {
  let found = loaders.get(ctx);
  if (!found) {
    const group = <T extends { memberId: string }>(rows: T[], ids: readonly string[]) => ids.map((id) => rows.filter((r) => r.memberId === id));
    found = {
      progress: new DataLoader(async (ids) => group(await service.progressOf(ctx.em, ids), ids)),
      badges: new DataLoader(async (ids) => group(await service.badgesOf(ctx.em, ids), ids)),
    };
    loaders.set(ctx, found);
  }
  return found;
}

@Resolver(() => Challenge)
export class ChallengeResolver {
  private readonly service: ChallengeService;

  constructor(services: PluginServices) {
    this.service = new ChallengeService(services);
  }

  @Authorized(Permissions.READ)
  @Query(() => [Challenge], { description: 'Every challenge, latest start first (challenges plugin).' })
  challenges(@Ctx() ctx: Context): Promise<Challenge[]> {
    return this.service.list(ctx.em);
  }

  @Authorized(Permissions.READ)
  @Query(() => Challenge)
  challenge(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Challenge> {
    return this.service.get(ctx.em, id);
  }

  @Authorized(Permissions.READ)
  @Query(() => Int, { description: 'Members a challenge for this audience would count now: the saved segment’s, or every active member when null (the builder’s live count).' })
  challengeAudienceCount(@Arg('segmentId', () => ID, { nullable: true }) segmentId: string | null, @Ctx() ctx: Context): Promise<number> {
    return this.service.audienceCount(ctx.em, segmentId ?? null);
  }

  @Authorized(Permissions.MANAGE)
  @Mutation(() => Challenge, { description: 'Inactive (DRAFT) unless isActive; CHALLENGE_WINDOW_INVALID, CHALLENGE_CODE_TAKEN, BAD_USER_INPUT, NOT_FOUND write nothing.' })
  createChallenge(@Arg('input', () => CreateChallengeInput) input: CreateChallengeInput, @Ctx() ctx: Context): Promise<Challenge> {
    return this.service.create(ctx, input);
  }

  @Authorized(Permissions.MANAGE)
  @Mutation(() => Challenge, { description: 'Once members have progress, only name, description, endsAt and isActive change (CHALLENGE_NOT_EDITABLE).' })
  updateChallenge(@Arg('input', () => UpdateChallengeInput) input: UpdateChallengeInput, @Ctx() ctx: Context): Promise<Challenge> {
    return this.service.update(ctx, input);
  }

  @FieldResolver(() => ChallengeStatus)
  status(@Root() challenge: Challenge): ChallengeStatus {
    return challenge.statusAt(new Date());
  }

  @Authorized(Permissions.READ)
  @FieldResolver(() => ChallengeResults, { description: 'One evaluation per challenge: ask for it on a single challenge, not a list.' })
  results(@Root() challenge: Challenge, @Ctx() ctx: Context): Promise<ChallengeResults> {
    return this.service.results(ctx.em, challenge);
  }
}

@Resolver(() => ChallengeProgress)
export class MemberChallengeResolver {
  @FieldResolver(() => Challenge)
  challenge(@Root() row: ChallengeProgress): Promise<Challenge> {
    return row.challenge.load({ dataloader: true }) as Promise<Challenge>;
  }

  @FieldResolver(() => Float, { description: 'progress / goal as a percentage, at most 100.' })
  percent(@Root() row: ChallengeProgress): number {
    return Math.min(100, (100 * row.progress) / row.goal);
  }
}

@Resolver(() => Member)
export class MemberChallengesResolver {
  private readonly service: ChallengeService;

  constructor(services: PluginServices) {
    this.service = new ChallengeService(services);
  }

  @Authorized(MEMBERS_READ)
  @FieldResolver(() => [ChallengeProgress], { description: 'Challenges the member has joined (not the ones they are held out of): running first, then by completion (challenges plugin).' })
  challenges(@Root() member: Member, @Ctx() ctx: Context): Promise<ChallengeProgress[]> {
    return loadersOf(ctx, this.service).progress.load(member.id);
  }

  @Authorized(MEMBERS_READ)
  @FieldResolver(() => [ChallengeBadge], { description: 'Badges the member holds, newest first (challenges plugin).' })
  badges(@Root() member: Member, @Ctx() ctx: Context): Promise<ChallengeBadge[]> {
    return loadersOf(ctx, this.service).badges.load(member.id);
  }
}
