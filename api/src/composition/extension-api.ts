/**
 * The public extension API: everything a plugin may import from the platform, in one place. A plugin that imports
 * only from here (types, and the few helpers below) keeps working when modules move or change inside; anything else
 * is internal. docs/guides/extending.md describes each point; examples/brand-bonus-plugin uses it.
 */
export { definePlugin, type LoyaltyPlugin, type PluginDemo, type PluginServices } from './plugin';

// Earning: rule kinds (a rule's extra points) and contributors (a stage of the earning pipeline).
export type { EarningLine, EarningRuleKindDefinition, RuleKindInput, RuleParamSpec } from '../modules/earning/rule-kinds';
export {
  EarningEventKind,
  EarningStage,
  type ActivityEarningEvent,
  type ContributorTools,
  type CreditLine,
  type CreditableOrder,
  type EarningContributor,
  type EarningEvent,
  type EarningRun,
  type MemberRead,
  type OrderEarningEvent,
  type ReturnEarningEvent,
} from '../modules/earning/pipeline';
// A member's non-purchase event (an activity): one transaction on the live member, through the pipeline.
export type { MemberEventRequest, MemberEventService, MemberEventTx, MemberRef } from '../modules/earning/member-events';
export { LedgerReason } from '../modules/ledger/ledger-entry.entity';

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
export { AppError, defineErrorCode, type DeclaredErrorCode, type ErrorCode, type ErrorCodeDefinition, type FieldProblem } from '../base/errors';


// GraphQL types a plugin's schema refers to: the member (to add fields to it) and how callers name one.
export { Member } from '../modules/members/member.entity';
export { MemberRefInput } from '../modules/orders/order.types';
export { ValueType } from '../modules/segments/segment-grammar';
export { AdminRole } from '../modules/auth/permissions';
// Where a caller records from: a channel key's kind (WEB, APP, STORE, ...), for rules on which channels may send what.
export { SalesChannelKind } from '../base/enums';

// Results against a holdout: 95% intervals (Welch's t, Wald, Wilson) and their GraphQL types, as campaigns report them.
export {
  differenceOfProportions,
  meanSampleOfSums,
  RateInterval,
  UpliftEstimate,
  welch,
  wilson,
  type Bounds,
  type Estimate,
  type MeanSample,
  type ProportionSample,
} from '../base/intervals';

// Small helpers: time-ordered ids, and the programme's calendar (its time zone's days and weeks).
export { newId } from '../base/ids';
export { rowsForMembers } from '../base/member-rows';
export { DAY_MS, isTimeZone, localDay, localDayNumber, localWeekNumber, startOfLocalDayNumber, type Clock } from '../base/time';
