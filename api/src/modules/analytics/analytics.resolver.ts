import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import type { AnalyticsService } from './analytics.service';
import { rfmLoader } from './analytics.loaders';
import {
  Analytics,
  AnalyticsFilterInput,
  AnalyticsKpis,
  CohortMatrix,
  MemberRfm,
  PurchaseIntervals,
  RfmSegment,
  RfmSummary,
  SegmentProducts,
} from './analytics.types';

@Resolver(() => Analytics)
export class AnalyticsResolver {
  constructor(private readonly service: AnalyticsService) {}

  @Authorized(Permission.ANALYTICS_READ)
  @Query(() => Analytics, { description: 'CRM analytics: KPIs, RFM, cohorts, purchase intervals, top products.' })
  analytics(): Analytics {
    return new Analytics();
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => AnalyticsKpis, { description: 'Programme KPIs over [from, to), with a breakdown by channel and by country.' })
  kpis(@Arg('input', () => AnalyticsFilterInput) input: AnalyticsFilterInput, @Ctx() ctx: Context): Promise<AnalyticsKpis> {
    return this.service.kpis(ctx.analyticsEm ?? ctx.em, input);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => RfmSummary, { description: 'Members per RFM segment as of a moment (orders placed before it).' })
  rfm(@Arg('asOf', () => DateTimeISOResolver) asOf: Date, @Ctx() ctx: Context): Promise<RfmSummary> {
    return this.service.rfm(ctx.analyticsEm ?? ctx.em, asOf);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => MemberRfm, { nullable: true, description: "A member's RFM scores and segment; null without an order before asOf." })
  memberRfm(
    @Arg('memberId', () => ID) memberId: string,
    @Arg('asOf', () => DateTimeISOResolver) asOf: Date,
    @Ctx() ctx: Context,
  ): Promise<MemberRfm | null> {
    return this.service.memberRfm(ctx.em, memberId, asOf);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => CohortMatrix, { description: 'Monthly retention of cohorts by month of first order.' })
  cohorts(@Arg('input', () => AnalyticsFilterInput) input: AnalyticsFilterInput, @Ctx() ctx: Context): Promise<CohortMatrix> {
    return this.service.cohorts(ctx.analyticsEm ?? ctx.em, input);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => PurchaseIntervals, { description: "Distribution of days between a member's consecutive orders." })
  purchaseIntervals(@Arg('input', () => AnalyticsFilterInput) input: AnalyticsFilterInput, @Ctx() ctx: Context): Promise<PurchaseIntervals> {
    return this.service.purchaseIntervals(ctx.analyticsEm ?? ctx.em, input);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => [SegmentProducts], { description: 'Best-selling products (by revenue net of returns) of each RFM segment.' })
  topProductsBySegment(
    @Arg('asOf', () => DateTimeISOResolver) asOf: Date,
    @Arg('limit', () => Int, { defaultValue: 5 }) limit: number,
    @Arg('segment', () => RfmSegment, { nullable: true }) segment: RfmSegment | null,
    @Ctx() ctx: Context,
  ): Promise<SegmentProducts[]> {
    return this.service.topProducts(ctx.analyticsEm ?? ctx.em, asOf, limit, segment ?? null);
  }
}

@Resolver(() => Member)
export class MemberRfmResolver {
  constructor(private readonly service: AnalyticsService) {}

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => MemberRfm, { nullable: true, description: 'RFM scores and segment (as of now by default); null without an order before then.' })
  rfm(
    @Root() member: Member,
    @Ctx() ctx: Context,
    @Arg('asOf', () => DateTimeISOResolver, { nullable: true }) asOf: Date | null,
  ): Promise<MemberRfm | null> {
    return rfmLoader(ctx, this.service, asOf ?? null).loader.load(member.id);
  }
}
