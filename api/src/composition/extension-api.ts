/**
 * The public extension API: everything a plugin may import from the platform, in one place. A plugin that imports
 * only from here (types, and the few helpers below) keeps working when modules move or change inside; anything else
 * is internal. docs/extending.md describes each point; examples/brand-bonus-plugin uses it.
 */
export { definePlugin, type LoyaltyPlugin } from './plugin';

// Earning: rule kinds (a rule's extra points) and contributors (a stage of the earning pipeline).
export type { EarningLine, EarningRuleKindDefinition, RuleKindInput, RuleParamSpec } from '../modules/earning/rule-kinds';
export {
  EarningEventKind,
  EarningStage,
  type ActivityEarningEvent,
  type CreditLine,
  type CreditableOrder,
  type EarningContributor,
  type EarningEvent,
  type EarningRun,
  type MemberRead,
  type OrderEarningEvent,
  type ReturnEarningEvent,
} from '../modules/earning/pipeline';

// Rewards, messages and events.
export type { RewardFulfilContext, RewardKindDefinition } from '../modules/rewards/reward-kinds';
export { PermanentDeliveryError, type MessageDeliveryAdapter, type OutboundMessage } from '../modules/campaigns/campaign-delivery';
export type { DeliveryAdapterDeps, DeliveryAdapterFactory } from '../modules/campaigns/delivery/registry';
export type { OutboxEvent, OutboxSubscriber, OutboxSubscriberTools } from '../modules/events/subscribers';
export { defineEventType, type EventTypeDefinition } from '../modules/events/event-types';

// Segments, access and the member timeline.
export type { SegmentAttributeDefinition, SegmentSqlParams } from '../modules/segments/segment-attributes';
export type { ApiKeyScopeDefinition, PermissionDefinition } from '../modules/auth/permissions';
export type { TimelineSourceDefinition } from '../modules/timeline/timeline-sources';

// What a service call and a resolver receive, and the errors a plugin throws for expected failures.
export type { Context, ResolverContext } from '../base/context';
export type { RequestContext } from '../graphql/context';
export { AppError, type ErrorCode, type FieldProblem } from '../base/errors';
