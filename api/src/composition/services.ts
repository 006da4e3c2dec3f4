import { ImportJobs } from '../modules/import/import-jobs';
import type { RedisClient } from '../base/redis';
import type { Config } from '../base/config';
import type { Logger } from '../base/logger';
import { LoginThrottle } from '../modules/auth/login-throttle';
import { AuditService } from '../modules/audit/audit.service';
import { AdminAuthService } from '../modules/auth/admin-auth.service';
import { ApiKeyService } from '../modules/channels/api-key.service';
import { MemberService } from '../modules/members/member.service';
import { MemberExportService } from '../modules/members/member-export';
import { pointsPersonalData } from '../modules/ledger/personal-data';
import { ordersPersonalData } from '../modules/orders/personal-data';
import { rewardsPersonalData } from '../modules/rewards/personal-data';
import { plansPersonalData } from '../modules/plans/personal-data';
import { tiersPersonalData } from '../modules/tiers/personal-data';
import { feedbackPersonalData } from '../modules/feedback/personal-data';
import { referralsPersonalData } from '../modules/referrals/personal-data';
import { campaignsPersonalData } from '../modules/campaigns/personal-data';
import { modelsPersonalData } from '../modules/models/personal-data';
import { segmentsPersonalData } from '../modules/segments/personal-data';
import { auditPersonalData } from '../modules/audit/personal-data';
import { LedgerService } from '../modules/ledger/ledger.service';
import { PointsService } from '../modules/ledger/points.service';
import { PointsJobsService } from '../modules/jobs/points-jobs.service';
import { ProgrammeService } from '../modules/programme/programme.service';
import { EarningRuleService } from '../modules/earning/earning-rule.service';
import { TierService } from '../modules/tiers/tier.service';
import { PlanService } from '../modules/plans/plan.service';
import { OrderService } from '../modules/orders/order.service';
import { orderHistoryMismatches } from '../modules/orders/order-history';
import { RewardService } from '../modules/rewards/reward.service';
import { RewardKindRegistry } from '../modules/rewards/reward-kinds';
import { MemberPlan } from '../modules/plans/membership-plan.entity';
import { Redemption } from '../modules/rewards/redemption.entity';
import { ModelService } from '../modules/models/model.service';
import { AnalyticsService } from '../modules/analytics/analytics.service';
import { SegmentService } from '../modules/segments/segment.service';
import { EventService } from '../modules/events/event.service';
import { WebhookService } from '../modules/webhooks/webhook.service';
import { FeedbackService } from '../modules/feedback/feedback.service';
import { QueueHealthService } from '../modules/queues/queue-health.service';
import { TimelineService } from '../modules/timeline/timeline.service';
import { CampaignService } from '../modules/campaigns/campaign.service';
import { campaignBonusContributor } from '../modules/campaigns/campaign-bonus';
import { CampaignOfferService } from '../modules/campaigns/campaign-offers';
import { builtInDeliveryAdapters } from '../modules/campaigns/delivery/registry';
import { createLogger } from '../base/logger';
import { ReferralService } from '../modules/referrals/referral.service';
import { EarningRuleKinds } from '../modules/earning/rule-kinds';
import { composePlugins, PluginError, type LoyaltyPlugin } from './plugin';
import { referralContributor } from '../modules/referrals/referral-earning';
import { EarningPipeline } from '../modules/earning/pipeline';
import { baseRulesContributor } from '../modules/earning/base-earning';
import { tierContributor } from '../modules/tiers/tier-earning';
import { planContributor } from '../modules/plans/plan-earning';
import { MemberEventService } from '../modules/earning/member-events';
import { systemClock, type Clock } from '../base/time';
import { AppError } from '../base/errors';
import { pluginRegistries, type PluginRegistries } from './plugin-registries';

/** Domain services are stateless singletons; each call gets the request's context. */
export interface Services {
  audit: AuditService;
  adminAuth: AdminAuthService;
  apiKeys: ApiKeyService;
  members: MemberService;
  /** A member's data export for subject access and portability requests (modules/members/member-export.ts). */
  memberExport: MemberExportService;
  ledger: LedgerService;
  points: PointsService;
  /** Runs the points jobs one at a time on the database and records each run (modules/jobs). */
  pointsJobs: PointsJobsService;
  programme: ProgrammeService;
  earningRules: EarningRuleService;
  tiers: TierService;
  plans: PlanService;
  orders: OrderService;
  rewards: RewardService;
  models: ModelService;
  analytics: AnalyticsService;
  segments: SegmentService;
  events: EventService;
  webhooks: WebhookService;
  feedback: FeedbackService;
  queueHealth: QueueHealthService;
  timeline: TimelineService;
  campaigns: CampaignService;
  referrals: ReferralService;
  /** Every earning event runs through it; `register` adds a contributor (docs/concepts/earning-pipeline.md). */
  earning: EarningPipeline;
  /** A plugin's non-purchase member events, run through the earning pipeline (docs/guides/extending.md). */
  memberEvents: MemberEventService;
  /** Transaction files uploaded from the admin app and imported in the background (modules/import/import-jobs.ts). */
  imports: ImportJobs;
  /** The plugins the services were built with, in their order (the demo seed runs their demo steps). */
  plugins: readonly LoyaltyPlugin[];
}

/**
 * With `redis` (the API process), logins are throttled per email and IP; scripts pass nothing. `plugins` add to the
 * registries (earning-rule kinds, earning contributors, reward kinds, delivery adapters, outbox subscribers): what they contribute is read
 * here, once; `registries` hold what they add to the other modules' registries (pluginRegistries), built from
 * `plugins` when not given. `clock`: the time the earning use cases are stamped with (the real time unless a test sets it).
 */
export function createServices(
  config: Config,
  infra: { redis?: RedisClient; log?: Logger; plugins?: readonly LoyaltyPlugin[]; clock?: Clock } = {},
  { registries = pluginRegistries(infra.plugins) }: { registries?: PluginRegistries } = {},
): Services {
  const contributed = composePlugins(infra.plugins);
  const ruleKinds = new EarningRuleKinds(contributed.earningRuleKinds, (infra.log ?? createLogger(config.LOG_LEVEL, 'api')).child({ module: 'earning' }));
  const deliveryAdapters = builtInDeliveryAdapters(config, createLogger(config.LOG_LEVEL, 'campaigns'));
  for (const { name, factory } of contributed.deliveryAdapters) deliveryAdapters.register(name, factory);
  const audit = new AuditService();
  const events = new EventService(config, registries.eventTypes, contributed.subscribers);
  const members = new MemberService(config, audit, events);
  const ledger = new LedgerService();
  const programme = new ProgrammeService(audit);
  const earningRules = new EarningRuleService(audit, ruleKinds);
  const tiers = new TierService(audit, events);
  const referrals = new ReferralService(members, ledger);
  // The earning pipeline's stages, each owned by its module. Benefits (multipliers) are listed in this order.
  const earning = new EarningPipeline(ledger, events)
    .register(baseRulesContributor(ruleKinds))
    .register(tierContributor(tiers))
    .register(planContributor())
    .register(campaignBonusContributor())
    .register(referralContributor(referrals));
  // Plugins' stages after the core's: a stage number places them, registration order breaks ties.
  for (const { plugin, contributor } of contributed.earningContributors) {
    try {
      earning.register(contributor, `plugin "${plugin}"`);
    } catch (err) {
      throw new PluginError(`plugin "${plugin}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const orders = new OrderService(members, ledger, events, earning, infra.clock ?? systemClock);
  const segments = new SegmentService(audit, registries.segmentAttributes);
  const rewardKinds = new RewardKindRegistry(contributed.rewardKinds);
  const rewards = new RewardService(members, ledger, programme, tiers, audit, events, new CampaignOfferService(), rewardKinds);
  const feedback = new FeedbackService(members, events);

  // A merge moves every domain's rows in the member merge's own transaction.
  members.registerMergeStep((em, survivor, absorbed) => orders.mergeInto(em, survivor, absorbed));
  members.registerMergeStep(async (em, survivor, absorbed) => tiers.merge(em, survivor.id, absorbed.id, await programme.settings(em), new Date()));
  members.registerMergeStep(async (em, survivor, absorbed) => {
    await em.nativeUpdate(Redemption, { member: absorbed.id }, { member: survivor.id });
    await em.nativeUpdate(MemberPlan, { member: absorbed.id }, { member: survivor.id });
  });
  members.registerMergeStep((em, survivor, absorbed) => feedback.mergeInto(em, survivor, absorbed));
  members.registerEraseStep((em, memberIds) => feedback.erase(em, memberIds));
  // Erasure closes the points account: what the member's records still hold is forfeited (docs/concepts/ledger.md).
  members.registerEraseStep(async (em, memberIds, erasure) => {
    await ledger.closeAccounts(em, memberIds, erasure);
  });
  // And with it the plans that have not ended (docs/concepts/plans.md).
  const plans = new PlanService(members, audit);
  members.registerEraseStep((em, memberIds, erasure) => plans.cancelForErasure(em, memberIds, erasure.at));
  members.registerMergeStep((em, survivor, absorbed) => referrals.mergeInto(em, survivor, absorbed));
  members.registerEnrolStep(async (em, member, input) => {
    if (input.referralCode) await referrals.referAtEnrolment(em, member, input.referralCode);
  });

  // What the earning contributors may ask of other modules (a plugin's challenge granting a catalogue reward, say).
  earning.lend({
    grantReward: async (em, input) => {
      const granted = await rewards.grant(em, input);
      return granted && { id: granted.id, voucherCode: granted.voucherCode };
    },
    inSegment: async (em, segmentId, memberId, asOf) => {
      let q;
      try {
        q = await segments.memberIdsQuery(em, { segmentId }, asOf);
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND') return false;
        throw err;
      }
      const [row] = await em.execute<{ found: boolean }[]>(`select exists (select 1 from (${q.sql}) q where q.member_id = ?::uuid) as found`, [...q.params, memberId]);
      return row.found;
    },
    tierOf: async (em, memberId) => (await tiers.currentOf(em, [memberId]))[0]?.code ?? null,
    purchaseHistory: (em, memberId, from, to) => orders.historyOf(em, memberId, from, to),
  });
  // Plugins' own member rows move with a merge and go with an erasure, in the same transaction as the core's.
  for (const plugin of contributed.plugins) {
    const steps = plugin.memberSteps;
    if (steps?.merge) members.registerMergeStep((em, survivor, absorbed) => steps.merge!(em, survivor.id, absorbed.id));
    if (steps?.erase) members.registerEraseStep((em, memberIds) => steps.erase!(em, memberIds));
  }

  const models = new ModelService(config, audit, rewards);
  const campaigns = new CampaignService(audit, events, segments, models, programme, deliveryAdapters.create(config.MESSAGE_DELIVERY), config.CAMPAIGN_MESSAGE_MAX_ATTEMPTS);
  members.registerMergeStep((em, survivor, absorbed) => campaigns.mergeInto(em, survivor.id, absorbed.id));
  members.registerMergeStep((em, _survivor, absorbed) => models.forgetMembers(em, [absorbed.id]));
  members.registerEraseStep((em, memberIds) => models.forgetMembers(em, memberIds));

  // A member's data export: each module's section of its own rows, then each plugin's.
  const memberExport = new MemberExportService(audit);
  memberExport.register('points', pointsPersonalData);
  memberExport.register('orders', ordersPersonalData);
  memberExport.register('redemptions', rewardsPersonalData);
  memberExport.register('plans', plansPersonalData);
  memberExport.register('tiers', tiersPersonalData);
  memberExport.register('feedback', feedbackPersonalData);
  memberExport.register('referrals', referralsPersonalData);
  memberExport.register('campaigns', campaignsPersonalData);
  memberExport.register('models', modelsPersonalData);
  memberExport.register('segments', segmentsPersonalData);
  memberExport.register('changes', auditPersonalData);
  for (const plugin of contributed.plugins) {
    const section = plugin.memberSteps?.export;
    if (section) memberExport.register(`plugin:${plugin.name}`, (em, memberIds) => section(em, memberIds));
  }

  const apiKeys = new ApiKeyService(audit, config.API_KEY_CACHE_SECONDS * 1000, registries.access);
  const points = new PointsService(ledger, members, programme, tiers, audit, events, rewards, { orderHistory: (em) => orderHistoryMismatches(em) });
  return {
    audit,
    adminAuth: new AdminAuthService(config, audit, infra.redis && infra.log ? new LoginThrottle(infra.redis, config, infra.log) : null, registries.access),
    apiKeys,
    members,
    memberExport,
    ledger,
    points,
    pointsJobs: new PointsJobsService(points, config.POINTS_JOBS_CRON),
    programme,
    earningRules,
    tiers,
    plans,
    orders,
    rewards,
    models,
    analytics: new AnalyticsService(members),
    segments,
    events,
    webhooks: new WebhookService(config, audit),
    feedback,
    queueHealth: new QueueHealthService(config, events.subscribers),
    timeline: new TimelineService(registries.timelineSources),
    campaigns,
    referrals,
    earning,
    memberEvents: new MemberEventService(members, ledger, earning, events, infra.clock ?? systemClock),
    imports: new ImportJobs(
      config.IMPORT_DIR,
      config.IMPORT_MAX_BYTES,
      { apiKeys, programme, earningRules, orders, ledger, earning },
      (infra.log ?? createLogger(config.LOG_LEVEL, 'api')).child({ module: 'import' }),
      { runsImports: config.IMPORT_RUNNER },
    ),
    plugins: contributed.plugins,
  };
}
