import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { authChecker } from '../modules/auth/auth-checker';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { ActorDirectoryKeysResolver, ChannelResolver } from '../modules/channels/channel.resolver';
import { MemberConnectionResolver, MemberResolver } from '../modules/members/member.resolver';
import { MemberExportResolver } from '../modules/members/member-export.resolver';
import type { MemberExportService } from '../modules/members/member-export';
import type { AdminAuthService } from '../modules/auth/admin-auth.service';
import type { ApiKeyService } from '../modules/channels/api-key.service';
import type { AuditService } from '../modules/audit/audit.service';
import type { MemberService } from '../modules/members/member.service';
import type { OrderService } from '../modules/orders/order.service';
import type { PointsService } from '../modules/ledger/points.service';
import type { TierService } from '../modules/tiers/tier.service';
import type { ProgrammeService } from '../modules/programme/programme.service';
import type { PlanService } from '../modules/plans/plan.service';
import type { EarningRuleService } from '../modules/earning/earning-rule.service';
import type { RewardService } from '../modules/rewards/reward.service';
import type { ModelService } from '../modules/models/model.service';
import type { AnalyticsService } from '../modules/analytics/analytics.service';
import type { SegmentService } from '../modules/segments/segment.service';
import type { WebhookService } from '../modules/webhooks/webhook.service';
import type { FeedbackService } from '../modules/feedback/feedback.service';
import type { QueueHealthService } from '../modules/queues/queue-health.service';
import type { TimelineService } from '../modules/timeline/timeline.service';
import type { CampaignService } from '../modules/campaigns/campaign.service';
import type { ReferralService } from '../modules/referrals/referral.service';
import type { EventService } from '../modules/events/event.service';
import { withRegistries } from './registries';
import { withValidationErrorPaths } from './validation-errors';
import { withBoundedDates } from './date-bounds';
import { MemberOrdersResolver, OrderConnectionResolver, OrderResolver } from '../modules/orders/order.resolver';
import { PointsResolver } from '../modules/ledger/points.resolver';
import { PointsJobsResolver } from '../modules/jobs/points-jobs.resolver';
import type { PointsJobsService } from '../modules/jobs/points-jobs.service';
import { TierResolver } from '../modules/tiers/tier.resolver';
import { MemberPlanResolver, PlanResolver } from '../modules/plans/plan.resolver';
import { EarningResolver } from '../modules/earning/earning.resolver';
import { RedemptionResolver, RewardResolver } from '../modules/rewards/reward.resolver';
import { AnalyticsModelResolver, MemberModelResolver, ModelResolver, ProductModelResolver } from '../modules/models/model.resolver';
import { AnalyticsResolver, MemberRfmResolver } from '../modules/analytics/analytics.resolver';
import { SegmentResolver } from '../modules/segments/segment.resolver';
import { WebhookResolver } from '../modules/webhooks/webhook.resolver';
import { MemberTimelineResolver } from '../modules/timeline/timeline.resolver';
import { MemberReferralResolver, ReferralResolver } from '../modules/referrals/referral.resolver';
import { FeedbackAnalyticsResolver, FeedbackResolver, MemberFeedbackResolver } from '../modules/feedback/feedback.resolver';
import { QueueHealthResolver } from '../modules/queues/queue-health.resolver';
import { CampaignConnectionResolver, CampaignResolver } from '../modules/campaigns/campaign.resolver';

const resolvers = [
  AuthResolver,
  AuditResolver,
  ChannelResolver,
  ActorDirectoryKeysResolver,
  MemberResolver,
  MemberExportResolver,
  MemberConnectionResolver,
  OrderResolver,
  MemberOrdersResolver,
  OrderConnectionResolver,
  PointsResolver,
  PointsJobsResolver,
  TierResolver,
  PlanResolver,
  MemberPlanResolver,
  EarningResolver,
  RewardResolver,
  RedemptionResolver,
  ModelResolver,
  MemberModelResolver,
  ProductModelResolver,
  AnalyticsModelResolver,
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

/** The services the resolvers call, as composition hands them over (services.ts builds them). */
export interface SchemaServices {
  adminAuth: AdminAuthService;
  audit: AuditService;
  apiKeys: ApiKeyService;
  members: MemberService;
  memberExport: MemberExportService;
  orders: OrderService;
  points: PointsService;
  pointsJobs: PointsJobsService;
  tiers: TierService;
  programme: ProgrammeService;
  plans: PlanService;
  earningRules: EarningRuleService;
  rewards: RewardService;
  models: ModelService;
  analytics: AnalyticsService;
  segments: SegmentService;
  webhooks: WebhookService;
  feedback: FeedbackService;
  queueHealth: QueueHealthService;
  timeline: TimelineService;
  campaigns: CampaignService;
  referrals: ReferralService;
  events: EventService;
}

/** Resolvers are built once with their services; the container hands type-graphql those instances. A plugin's
 * resolver, which the map does not know, is built on first use with the services as its one argument. */
function containerFor(services: SchemaServices | null): ContainerType {
  const instances = new Map<unknown, unknown>([
    [AuthResolver, new AuthResolver(services?.adminAuth as never)],
    [AuditResolver, new AuditResolver(services?.audit as never)],
    [ChannelResolver, new ChannelResolver(services?.apiKeys as never)],
    [ActorDirectoryKeysResolver, new ActorDirectoryKeysResolver(services?.apiKeys as never)],
    [MemberResolver, new MemberResolver(services?.members as never)],
    [MemberExportResolver, new MemberExportResolver(services?.memberExport as never)],
    [MemberConnectionResolver, new MemberConnectionResolver()],
    [OrderResolver, new OrderResolver(services?.orders as never)],
    [MemberOrdersResolver, new MemberOrdersResolver()],
    [OrderConnectionResolver, new OrderConnectionResolver()],
    [PointsResolver, new PointsResolver(services?.points as never)],
    [PointsJobsResolver, new PointsJobsResolver(services?.pointsJobs as never)],
    [TierResolver, new TierResolver(services?.tiers as never, services?.programme as never)],
    [PlanResolver, new PlanResolver(services?.plans as never)],
    [MemberPlanResolver, new MemberPlanResolver()],
    [EarningResolver, new EarningResolver(services?.earningRules as never, services?.programme as never)],
    [RewardResolver, new RewardResolver(services?.rewards as never)],
    [RedemptionResolver, new RedemptionResolver()],
    [ModelResolver, new ModelResolver(services?.models as never)],
    [MemberModelResolver, new MemberModelResolver(services?.models as never)],
    [ProductModelResolver, new ProductModelResolver()],
    [AnalyticsModelResolver, new AnalyticsModelResolver(services?.models as never)],
    [AnalyticsResolver, new AnalyticsResolver(services?.analytics as never)],
    [MemberRfmResolver, new MemberRfmResolver(services?.analytics as never)],
    [SegmentResolver, new SegmentResolver(services?.segments as never)],
    [WebhookResolver, new WebhookResolver(services?.webhooks as never, services?.events as never)],
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
  return {
    get: (cls) => {
      if (!instances.has(cls)) instances.set(cls, new (cls as new (s: SchemaServices | null) => unknown)(services));
      return instances.get(cls);
    },
  };
}

/**
 * `services` may be null when only the SDL is needed (npm run schema): the core schema. A running app passes its
 * services, whose registries may hold plugins' earning-rule kinds, event types, API-key scopes and timeline sources;
 * the enums and unions that list those are built from the registries here, once per schema.
 */
export async function buildGraphQLSchema(services: SchemaServices | null, pluginResolvers: readonly Function[] = []): Promise<GraphQLSchema> {
  const timeline = services?.timeline.sources;
  const schema = await buildSchema({
    resolvers: [...resolvers, ...pluginResolvers] as unknown as typeof resolvers,
    orphanedTypes: [...(timeline?.pluginNodeTypes() ?? [])],
    container: containerFor(services),
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false, skipMissingProperties: false },
  });
  const plugin = <T extends { isCore: boolean }>(list: T[] | undefined) => (list ?? []).filter((x) => !x.isCore);
  // Plugin values join the enums that list a registry, so that operations written with the core's literals
  // (`kind: BASE_RATE`) stay valid and a plugin's value is one like any other; without plugins, the core SDL.
  const withPlugins = withRegistries(
    schema,
    {
      EarningRuleKind: (services?.earningRules.kinds.list() ?? [])
        .filter((k) => services?.earningRules.kinds.isPluginKind(k.kind))
        .map((k) => ({ key: k.kind, value: k.kind, description: `${k.label}: ${k.description}` })),
      RewardKind: (services?.rewards.kinds.added() ?? []).map((k) => ({ key: k.kind, value: k.kind, description: k.description })),
      EventType: plugin(services?.events.types.list()).map((t) => ({ key: t.key, value: t.name, description: t.description })),
      ApiKeyScope: plugin(services?.apiKeys.access.listScopes()).map((s) => ({ key: s.key, value: s.scope, description: s.description })),
      TimelineEntryType: (timeline?.pluginKinds() ?? []).map((k) => ({ key: k.kind, value: k.kind, description: k.description })),
    },
    { TimelineNode: timeline?.pluginNodeTypes() ?? [] },
    // A stored value whose plugin is gone is answered as stored: rules and rewards of a removed kind still list (the
    // engine skips the rule; redeeming the reward is refused), as do its events and keys' scopes.
    ['EventType', 'ApiKeyScope', 'EarningRuleKind', 'RewardKind'],
  );
  return withBoundedDates(withValidationErrorPaths(withPlugins));
}
