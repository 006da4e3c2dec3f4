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

/**
 * An event type a plugin declares: its wire name and what it means. `P` is the payload's shape, carried in the type
 * only, so that `EventService.recordEvent(em, type, payload, …)` checks the payload where the plugin records it.
 */
export interface EventTypeDefinition<P extends object = Record<string, unknown>> {
  /** Lower dotted, at most 64 characters (`activity.recorded`); sent as `x-loyalty-event`. */
  readonly name: string;
  readonly description: string;
  /** Never set: it carries `P`. */
  readonly payload?: P;
}

/** Declares an event type of a plugin; `P` is the payload receivers get (ids and facts, never personal data). */
export function defineEventType<P extends object>(name: string, description: string): EventTypeDefinition<P> {
  return { name, description };
}

/** A registered event type as GraphQL lists it: `key` is the EventType enum value's name (ACTIVITY_RECORDED). */
export interface EventTypeInfo {
  name: string;
  key: string;
  description: string | null;
  isCore: boolean;
}

const WIRE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** The GraphQL enum value name of a wire name: `activity.recorded` is ACTIVITY_RECORDED. */
export const eventTypeKey = (name: string) => name.replace(/\./g, '_').toUpperCase();

/**
 * Every event type of one app: the core's (the EventType enum) and those plugins declared. The outbox, webhooks and
 * subscribers work on wire names, so a plugin's type is recorded, subscribed to and delivered like a core one.
 */
export class EventTypes {
  private readonly byName = new Map<string, EventTypeInfo>();

  constructor() {
    for (const [key, name] of Object.entries(EventType)) this.byName.set(name, { name, key, description: null, isCore: true });
  }

  /** Throws when the name is malformed or taken (by the core or by `owner`'s predecessors). */
  register(def: EventTypeDefinition<object>, owner: string): void {
    const name = def?.name;
    if (typeof name !== 'string' || !WIRE_NAME.test(name) || name.length > 64) {
      throw new Error(`event type ${JSON.stringify(name)} of ${owner} must be lower.dotted (a-z, 0-9, _), at most 64 characters`);
    }
    if (typeof def.description !== 'string' || !def.description.trim()) throw new Error(`event type ${name} of ${owner} needs a description`);
    const key = eventTypeKey(name);
    const clash = [...this.byName.values()].find((t) => t.name === name || t.key === key);
    if (clash) throw new Error(`event type ${name} of ${owner} clashes with ${clash.isCore ? 'the core' : 'another plugin'}'s ${clash.name}`);
    this.byName.set(name, { name, key, description: def.description, isCore: false });
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  list(): EventTypeInfo[] {
    return [...this.byName.values()];
  }
}
