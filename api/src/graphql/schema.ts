import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { AuthResolver } from '../auth/auth.resolver';
import { AuditResolver } from '../audit/audit.resolver';
import { ChannelResolver } from '../channels/channel.resolver';
import { MemberConnectionResolver, MemberResolver } from '../members/member.resolver';
import type { Services } from '../services';
import { validationErrorPaths } from './validation-errors';
import { MemberOrdersResolver, OrderConnectionResolver, OrderResolver } from '../orders/order.resolver';
import { PointsResolver } from '../ledger/points.resolver';
import { TierResolver } from '../tiers/tier.resolver';
import { MemberPlanResolver, PlanResolver } from '../plans/plan.resolver';
import { EarningResolver } from '../earning/earning.resolver';
import { RedemptionResolver, RewardResolver } from '../rewards/reward.resolver';
import { MemberModelResolver, ModelResolver, ProductModelResolver } from '../models/model.resolver';
import { AnalyticsResolver, MemberRfmResolver } from '../analytics/analytics.resolver';
import { SegmentResolver } from '../segments/segment.resolver';
import { WebhookResolver } from '../webhooks/webhook.resolver';
import { MemberTimelineResolver } from '../timeline/timeline.resolver';
import { MemberReferralResolver, ReferralResolver } from '../referrals/referral.resolver';
import { FeedbackAnalyticsResolver, FeedbackResolver, MemberFeedbackResolver } from '../feedback/feedback.resolver';
import { QueueHealthResolver } from '../queues/queue-health.resolver';
import { CampaignConnectionResolver, CampaignResolver } from '../campaigns/campaign.resolver';

const resolvers = [
  AuthResolver,
  AuditResolver,
  ChannelResolver,
  MemberResolver,
  MemberConnectionResolver,
  OrderResolver,
  MemberOrdersResolver,
  OrderConnectionResolver,
  PointsResolver,
  TierResolver,
  PlanResolver,
  MemberPlanResolver,
  EarningResolver,
  RewardResolver,
  RedemptionResolver,
  ModelResolver,
  MemberModelResolver,
  ProductModelResolver,
  AnalyticsResolver,
  MemberRfmResolver,
  SegmentResolver,
  WebhookResolver,
  FeedbackResolver,
  MemberFeedbackResolver,
  FeedbackAnalyticsResolver,
  QueueHealthResolver,
  MemberTimelineResolver,
  CampaignResolver,
  CampaignConnectionResolver,
  ReferralResolver,
  MemberReferralResolver,
] as const;

/** Resolvers are built once with their services; the container hands type-graphql those instances. */
function containerFor(services: Services | null): ContainerType {
  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(services?.adminAuth as never)],
    [AuditResolver, new AuditResolver()],
    [ChannelResolver, new ChannelResolver(services?.apiKeys as never)],
    [MemberResolver, new MemberResolver(services?.members as never)],
    [MemberConnectionResolver, new MemberConnectionResolver()],
    [OrderResolver, new OrderResolver(services?.orders as never)],
    [MemberOrdersResolver, new MemberOrdersResolver()],
    [OrderConnectionResolver, new OrderConnectionResolver()],
    [PointsResolver, new PointsResolver(services?.points as never)],
    [TierResolver, new TierResolver(services?.tiers as never, services?.programme as never)],
    [PlanResolver, new PlanResolver(services?.plans as never)],
    [MemberPlanResolver, new MemberPlanResolver()],
    [EarningResolver, new EarningResolver(services?.earningRules as never, services?.programme as never)],
    [RewardResolver, new RewardResolver(services?.rewards as never)],
    [RedemptionResolver, new RedemptionResolver()],
    [ModelResolver, new ModelResolver(services?.models as never)],
    [MemberModelResolver, new MemberModelResolver(services?.models as never)],
    [ProductModelResolver, new ProductModelResolver()],
    [AnalyticsResolver, new AnalyticsResolver(services?.analytics as never)],
    [MemberRfmResolver, new MemberRfmResolver(services?.analytics as never)],
    [SegmentResolver, new SegmentResolver(services?.segments as never)],
    [WebhookResolver, new WebhookResolver(services?.webhooks as never)],
    [FeedbackResolver, new FeedbackResolver(services?.feedback as never)],
    [MemberFeedbackResolver, new MemberFeedbackResolver(services?.feedback as never)],
    [FeedbackAnalyticsResolver, new FeedbackAnalyticsResolver(services?.feedback as never)],
    [QueueHealthResolver, new QueueHealthResolver(services?.queueHealth as never)],
    [MemberTimelineResolver, new MemberTimelineResolver(services?.timeline as never)],
    [CampaignResolver, new CampaignResolver(services?.campaigns as never)],
    [CampaignConnectionResolver, new CampaignConnectionResolver()],
    [ReferralResolver, new ReferralResolver(services?.referrals as never)],
    [MemberReferralResolver, new MemberReferralResolver(services?.referrals as never)],
  ]);
  return { get: (cls) => instances.get(cls) };
}

/** `services` may be null when only the SDL is needed (npm run schema). */
export function buildGraphQLSchema(services: Services | null): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    container: containerFor(services),
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false, skipMissingProperties: false },
    globalMiddlewares: [validationErrorPaths],
  });
}
