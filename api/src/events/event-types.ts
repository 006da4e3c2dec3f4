import { registerEnumType } from 'type-graphql';

/** Every domain event. Values are the wire names (`x-loyalty-event`); GraphQL shows the keys. */
export enum EventType {
  MEMBER_ENROLLED = 'member.enrolled',
  MEMBER_MERGED = 'member.merged',
  MEMBER_ERASED = 'member.erased',
  ORDER_RECORDED = 'order.recorded',
  ORDER_RETURNED = 'order.returned',
  POINTS_EARNED = 'points.earned',
  POINTS_EXPIRED = 'points.expired',
  POINTS_EXPIRING = 'points.expiring',
  TIER_CHANGED = 'tier.changed',
  TIER_AT_RISK = 'tier.at_risk',
  REWARD_REDEEMED = 'reward.redeemed',
  CAMPAIGN_LAUNCHED = 'campaign.launched',
  FEEDBACK_RECORDED = 'feedback.recorded',
}
registerEnumType(EventType, { name: 'EventType', description: 'A domain event a webhook can subscribe to; the wire name is lower.dotted (MEMBER_ENROLLED is member.enrolled).' });

/** Timestamps are ISO-8601 strings so that a payload is the JSON a receiver gets. Ids and facts only, never personal data. */
export interface EventPayloads {
  [EventType.MEMBER_ENROLLED]: { memberId: string; enrolmentChannel: string; enrolledAt: string };
  [EventType.MEMBER_MERGED]: { survivorId: string; absorbedId: string; movedIdentifiers: number };
  [EventType.MEMBER_ERASED]: { memberId: string; erasedAt: string };
  [EventType.ORDER_RECORDED]: {
    orderId: string;
    memberId: string | null;
    channelId: string;
    channelKind: string;
    externalOrderId: string;
    currency: string;
    totalMinor: number;
    pointsEarned: number;
    placedAt: string;
  };
  [EventType.ORDER_RETURNED]: {
    orderId: string;
    returnId: string;
    memberId: string | null;
    externalReturnId: string;
    valueMinor: number;
    pointsClawedBack: number;
    orderStatus: string;
  };
  [EventType.POINTS_EARNED]: {
    memberId: string;
    points: number;
    sourceType: string;
    sourceId: string;
    lotId: string;
    isPending: boolean;
    availableAt: string;
    expiresAt: string;
  };
  [EventType.POINTS_EXPIRED]: { memberId: string; lotId: string; points: number; expiredAt: string };
  [EventType.POINTS_EXPIRING]: { memberId: string; lotId: string; points: number; expiresAt: string; daysAhead: number };
  [EventType.TIER_CHANGED]: { memberId: string; fromTier: string | null; toTier: string | null; reason: string };
  [EventType.TIER_AT_RISK]: {
    memberId: string;
    tier: string;
    expectedTier: string | null;
    retainUntil: string;
    metric: string;
    current: number;
    threshold: number;
  };
  [EventType.REWARD_REDEEMED]: { memberId: string; redemptionId: string; rewardId: string; points: number; status: string; expiresAt: string | null };
  /** Recorded by campaigns (issue 7) when a campaign is launched. */
  [EventType.CAMPAIGN_LAUNCHED]: {
    campaignId: string;
    segmentId: string;
    actionKind: string;
    targetedMembers: number;
    holdoutMembers: number;
    budgetPoints: number | null;
    startsAt: string;
    endsAt: string | null;
  };
  /** No comment: it is free text and may hold personal data. */
  [EventType.FEEDBACK_RECORDED]: {
    feedbackId: string;
    memberId: string;
    kind: string;
    score: number;
    npsCategory: string | null;
    orderId: string | null;
    channelId: string;
    storeCode: string | null;
    givenAt: string;
  };
}

export const EVENT_TYPES: readonly EventType[] = Object.values(EventType);
