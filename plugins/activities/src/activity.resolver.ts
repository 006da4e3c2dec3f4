import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { Member, type Context, type PluginServices } from '@loyalty/api/extension-api';
import { Activity } from './activity.entity';
import { ActivityType } from './activity-type.entity';
import { ActivityService } from './activity.service';
import { ActivityPage, ActivityTypeStats, CreateActivityTypeInput, RecordActivityInput, UpdateActivityTypeInput } from './activity.types';
import { ActivityPermission } from './access';

/** Per request (the context object) and page size: the members of a list get their first pages in one query. */
const loaders = new WeakMap<object, Map<number, DataLoader<string, ActivityPage>>>();

function firstPages(ctx: Context, service: ActivityService, first: number): DataLoader<string, ActivityPage> {
  let bySize = loaders.get(ctx);
  if (!bySize) loaders.set(ctx, (bySize = new Map()));
  let loader = bySize.get(first);
  if (!loader) bySize.set(first, (loader = new DataLoader((ids) => service.firstPagesOf(ctx.em, ids, first))));
  return loader;
}

@Resolver(() => Activity)
export class ActivityResolver {
  private readonly activities: ActivityService;

  constructor(services: PluginServices) {
    this.activities = new ActivityService(services);
  }

  @Authorized(ActivityPermission.WRITE)
  @Mutation(() => Activity, {
    description:
      "Records a member's activity and credits its type's points unless a cap, the gap or eligibility says otherwise (outcome). Idempotent per channel and idempotencyKey: replays return the stored activity and credit once.",
  })
  recordActivity(@Arg('input', () => RecordActivityInput) input: RecordActivityInput, @Ctx() ctx: Context): Promise<Activity> {
    return this.activities.record(ctx, input);
  }

  @Authorized(ActivityPermission.MANAGE, ActivityPermission.WRITE, 'analytics:read')
  @Query(() => [ActivityType], { description: 'The activity types the programme declares, by code (inactive ones included).' })
  activityTypes(@Ctx() ctx: Context): Promise<ActivityType[]> {
    return this.activities.listTypes(ctx.em);
  }

  @Authorized(ActivityPermission.MANAGE)
  @Mutation(() => ActivityType, { description: 'Declares an activity type; a code already taken is CONFLICT/IDENTIFIER_TAKEN.' })
  createActivityType(@Arg('input', () => CreateActivityTypeInput) input: CreateActivityTypeInput, @Ctx() ctx: Context): Promise<ActivityType> {
    return this.activities.createType(ctx, input);
  }

  @Authorized(ActivityPermission.MANAGE)
  @Mutation(() => ActivityType, { description: 'Changes an activity type; activities already recorded keep their outcome and points.' })
  updateActivityType(@Arg('input', () => UpdateActivityTypeInput) input: UpdateActivityTypeInput, @Ctx() ctx: Context): Promise<ActivityType> {
    return this.activities.updateType(ctx, input);
  }

  @Authorized('analytics:read')
  @Query(() => [ActivityTypeStats], { description: 'Per activity type: recorded, credited, points and members, for activities that occurred in [from, to) (at most 366 days).' })
  activityStats(
    @Arg('from', () => DateTimeISOResolver) from: Date,
    @Arg('to', () => DateTimeISOResolver) to: Date,
    @Ctx() ctx: Context,
  ): Promise<ActivityTypeStats[]> {
    return this.activities.stats(ctx.analyticsEm ?? ctx.em, from, to);
  }
}

@Resolver(() => Member)
export class MemberActivitiesResolver {
  private readonly service: ActivityService;

  constructor(services: PluginServices) {
    this.service = new ActivityService(services);
  }

  @Authorized('members:read')
  @FieldResolver(() => ActivityPage, { description: "The member's activities (with those of members merged into them), newest first." })
  activities(
    @Root() member: Member,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ActivityPage> {
    // A first page is batched across the members of a list; a later page is one member's own query.
    if (after) return this.service.ofMember(ctx.em, member.id, first, after);
    return firstPages(ctx, this.service, first).load(member.id);
  }
}
