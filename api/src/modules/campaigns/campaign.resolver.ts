import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Segment } from '../segments/segment.entity';
import { Campaign, CampaignGroup, CampaignStatus } from './campaign.entity';
import type { CampaignService } from './campaign.service';
import type { CampaignLoaders } from './campaign.loaders';
import { CampaignConnection, CampaignCounts, CampaignMemberConnection, CampaignResults, CreateCampaignInput, UpdateCampaignInput } from './campaign.types';

@Resolver(() => Campaign)
export class CampaignResolver {
  constructor(private readonly service: CampaignService) {}

  @Authorized(Permission.CAMPAIGNS_READ)
  @Query(() => CampaignConnection, { description: 'Campaigns, newest first; status filters on the status now.' })
  campaigns(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => CampaignStatus, { nullable: true }) status: CampaignStatus | null,
  ): Promise<CampaignConnection> {
    return this.service.list(ctx.em, { first, after, status });
  }

  @Authorized(Permission.CAMPAIGNS_READ)
  @Query(() => Campaign)
  campaign(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Campaign> {
    return this.service.get(ctx.em, id);
  }

  @Authorized(Permission.CAMPAIGNS_MANAGE)
  @Mutation(() => Campaign, { description: 'A DRAFT; nothing reaches members until launchCampaign.' })
  createCampaign(@Arg('input', () => CreateCampaignInput) input: CreateCampaignInput, @Ctx() ctx: Context): Promise<Campaign> {
    return this.service.create(ctx, input);
  }

  @Authorized(Permission.CAMPAIGNS_MANAGE)
  @Mutation(() => Campaign, { description: 'Drafts only (CAMPAIGN_NOT_EDITABLE otherwise).' })
  updateCampaign(@Arg('input', () => UpdateCampaignInput) input: UpdateCampaignInput, @Ctx() ctx: Context): Promise<Campaign> {
    return this.service.update(ctx, input);
  }

  @Authorized(Permission.CAMPAIGNS_MANAGE)
  @Mutation(() => Campaign, { description: 'Assigns the segment’s members to TREATED/HOLDOUT, contacts treated ones if started, records campaign.launched.' })
  launchCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Campaign> {
    return this.service.launch(ctx, id);
  }

  @Authorized(Permission.CAMPAIGNS_MANAGE)
  @Mutation(() => Campaign, { description: 'Stops a draft or running campaign: no more bonuses, undelivered messages cancelled.' })
  cancelCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Campaign> {
    return this.service.cancel(ctx, id);
  }

  @FieldResolver(() => Segment, { description: 'The targeted segment (also when deleted since).' })
  segment(@Root() campaign: Campaign): Promise<Segment> {
    return campaign.segment.load({ dataloader: true }) as Promise<Segment>;
  }

  @FieldResolver(() => CampaignCounts, { description: 'Members by group, contacts and message deliveries.' })
  counts(@Root() campaign: Campaign, @Ctx() ctx: ResolverContext<CampaignLoaders>): Promise<CampaignCounts> {
    return ctx.loaders.campaignCounts.load(campaign.id);
  }

  @FieldResolver(() => CampaignMemberConnection, { description: 'Targeted members by id, with their group; ids only, no personal data.' })
  members(
    @Root() campaign: Campaign,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('group', () => CampaignGroup, { nullable: true }) group: CampaignGroup | null,
  ): Promise<CampaignMemberConnection> {
    return this.service.members(ctx.em, campaign, first, after, group);
  }

  @FieldResolver(() => CampaignResults, { nullable: true, description: 'Treated vs holdout with 95% intervals (docs/concepts/campaigns.md); null before launch. One evaluation per campaign: ask for it on a single campaign, not a list.' })
  results(@Root() campaign: Campaign, @Ctx() ctx: Context): Promise<CampaignResults | null> {
    return this.service.results(ctx.em, campaign);
  }
}

@Resolver(() => CampaignConnection)
export class CampaignConnectionResolver {
  @FieldResolver(() => Int, { description: 'Campaigns matching the filter.' })
  totalCount(@Root() connection: CampaignConnection): Promise<number> {
    return connection.countTotal();
  }
}
